"""Benchmark: GET /call/{id} against a bare endpoint that returns the same JSON from memory.

    .venv/bin/python bench/get_call.py [--backend sqlite|postgresql|both] [--orders 100000]
        [--seconds 10] [--concurrency 32] [--rounds 2] [--loadgen auto|wrk|python]
        [--speech-turns 40] [--profile DIR]

For each backend:

1. seed a fresh database (SQLite file in a temp dir, or a PostgreSQL database created and
   dropped here), migrated with ``upgrade_to_head``: one organization with its keys, one
   real assistant, then ``--orders`` call orders with 3 attempts each, bulk-inserted with
   executemany in batches, one transaction per batch;
2. start the real app (``bench/_app_with_bare.py``: ``create_app`` plus the bare routes)
   with uvicorn in a subprocess: one worker process, uvloop/httptools when installed,
   access log off, rate limiter off (``OPENREVOX_RATE_LIMIT_PER_SECOND=0``);
3. load it with ``--concurrency`` keep-alive connections: ``wrk`` (one thread) when it is
   installed, else a raw-asyncio-streams generator in this process. Endpoints alternate in
   ``--rounds`` rounds (order rotated each round) after a warm-up, so drift and noise from
   other processes hit all of them alike; the latency histograms of the rounds are merged.

Load generator, server and (for PostgreSQL) the database server share the machine's cores:
the table says how much CPU each used. This prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa

from openrevox.api.schemas.assistant import AssistantCreate
from openrevox.services import assistants as assistant_service
from openrevox.services.calls import order_values
from openrevox.services.organizations import create_organization_with_keys
from openrevox.settings import normalize_database_url
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head
from openrevox.store.repositories import accounts, phone_numbers
from openrevox.store.repositories.calls import snapshot_values
from openrevox.store.tables import call_attempts, call_orders, metadata
from openrevox.wire import assistant_wire

# Where the order's assistant snapshot lives: its own table (one row per POST /call, shared
# by a campaign's orders) in the current schema, a JSON column of call_orders before that.
SNAPSHOTS = metadata.tables.get("assistant_snapshots")

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "wrk_get_call.lua"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NPROC = os.cpu_count() or 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------

FIRST_NAMES = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton")
COMPANIES = ("Acme Dental", "Globex", "Initech", "Umbrella Realty", "Stark Plumbing")

ASSISTANT_INPUT: dict[str, Any] = {
    "name": "Appointment confirmation",
    "prompt": (
        "You are Joe, calling on behalf of {{company}} to confirm the appointment of "
        "{{first_name}} {{last_name}}. Be brief and polite. If they want to reschedule, "
        "offer the next two open slots and collect their preferred time. If they ask to "
        "be removed from the list, apologise and end the call. Never invent prices."
    ),
    "first_sentence": "Hi {{first_name}}, this is Joe from {{company}}. Do you have a minute?",
    "first_sentence_mode": "static",
    "end_of_call_sentence": "Thanks for your time, have a great day!",
    "voicemail_message": "Hi {{first_name}}, Joe from {{company}} here, please call us back.",
    "structured_output_config": [
        {"name": "confirmed", "required": True, "type": "boolean"},
        {
            "name": "new_slot",
            "required": False,
            "type": "datetime",
            "description": "The slot they chose if they rescheduled",
        },
        {
            "name": "sentiment",
            "required": True,
            "type": "enum",
            "enum_options": ["positive", "neutral", "negative"],
        },
        {"name": "notes", "required": False, "type": "string"},
    ],
    "faq_items": [
        {"question": "Where is the office?", "answer": "12 Main Street, second floor."},
        {"question": "Can I bring a companion?", "answer": "Yes, one person."},
    ],
}


@dataclass(frozen=True, slots=True)
class Seeded:
    live_key: str
    call_ids: list[str]
    sample_id: str
    seconds: float
    orders: int
    attempts: int
    size_bytes: int


def _transcript(first_name: str, company: str, rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"role": "assistant", "content": f"Hi {first_name}, this is Joe from {company}."},
        {"role": "user", "content": "Oh hi, yes, what is it about?"},
        {
            "role": "assistant",
            "content": "I'm calling to confirm your appointment on Thursday at 10am.",
        },
        {"role": "user", "content": rng.choice(("That works, thanks.", "Can we move it?"))},
        {
            "role": "tool",
            "content": "slot confirmed",
            "tool_name": "confirm_slot",
            "tool_arguments": {"slot": "2026-03-12T10:00:00Z"},
            "tool_is_error": False,
        },
        {"role": "assistant", "content": "Perfect, you're all set. Have a great day!"},
    ]


# Turns of speech_events per attempt (``--speech-turns``; set by main before seeding).
SPEECH_TURNS = 0


def _speech_events(turns: int, rng: random.Random) -> list[dict[str, Any]]:
    """``turns`` speech segments as audio calls write them (audio/speech_log.py):
    agent and user in turn, 2-4 s each."""
    events: list[dict[str, Any]] = []
    at = 400.0
    for index in range(turns):
        agent = index % 2 == 0
        length = rng.uniform(2000, 4000)
        events.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "speaker": "agent" if agent else "user",
                "started_speaking_at_ms": round(at, 1),
                "stopped_speaking_at_ms": round(at + length, 1),
                "transcript": "I'm calling to confirm your appointment on Thursday at 10am."
                if agent
                else "That works, thanks.",
                "is_real_turn": True,
                "stt_transcription_delay_ms": None if agent else round(rng.uniform(300, 600), 1),
                "llm_system_prompt": None,
                "llm_ttft_ms": round(rng.uniform(250, 450), 1) if agent else None,
                "llm_winner_model": "gpt-4.1" if agent else None,
                "tts_ttfb_ms": round(rng.uniform(80, 160), 1) if agent else None,
                "was_cut": (rng.random() < 0.1) if agent else None,
            }
        )
        at += length + rng.uniform(300, 900)
    return events


@dataclass
class Batch:
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _add_order(
    batch: Batch,
    index: int,
    *,
    principal: accounts.Principal,
    assistant_id: str,
    snapshot: dict[str, Any],
    from_number: str,
    base: datetime,
    rng: random.Random,
) -> None:
    """One order as POST /call stores it (with its own snapshot row), then 3 attempts."""
    call_id = _uuid(rng)
    first, last, company = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.choice(COMPANIES)
    to_number = f"+1202555{index % 10_000:04d}"
    created = base - timedelta(seconds=rng.randrange(90 * 86_400))
    where: dict[str, Any] = {"snapshot": snapshot}
    if SNAPSHOTS is not None:
        where = {"snapshot_id": _uuid(rng)}
        batch.snapshots.append(
            snapshot_values(
                where["snapshot_id"],
                organization_id=principal.organization_id,
                content=snapshot,
                now=created,
            )
        )
    order = order_values(
        call_id=call_id,
        principal=principal,
        assistant_id=assistant_id,
        **where,
        retry_config=snapshot["call_retry_config"],
        timezone="America/New_York",
        to_number=to_number,
        from_number=from_number,
        status="completed",
        due=created,
        prompt_variables={"first_name": first, "last_name": last, "company": company},
        metadata={"crm_id": f"crm-{index:07d}", "source": "bench"},
        now=created,
    )
    attempts = []
    results = (("voicemail", "voicemail_left"), ("IVR", "ivr_not_navigated"), ("human", "done"))
    for number, (result, end_reason) in enumerate(results, start=1):
        started = created + timedelta(hours=4 * (number - 1), seconds=rng.randrange(60))
        attempts.append(
            {
                "id": _uuid(rng),
                "call_order_id": call_id,
                "organization_id": principal.organization_id,
                "attempt_number": number,
                "status": "completed",
                "phone_number": to_number,
                "dial_error": None,
                "result": result,
                "ended_by": "agent" if result == "human" else "user",
                "end_reason": end_reason,
                "handled_by_ai": True,
                "handled_by_human": False,
                "transcript": _transcript(first, company, rng),
                "structured_output": {
                    "confirmed": result == "human",
                    "new_slot": None,
                    "sentiment": rng.choice(("positive", "neutral", "negative")),
                    "notes": f"attempt {number} for {first} {last}",
                },
                "recording_key": f"recordings/{call_id}/{number}.ogg",
                "speech_events": _speech_events(SPEECH_TURNS, rng) if SPEECH_TURNS else None,
                "created_at": started,
                "started_at": started,
                "answered_at": started + timedelta(seconds=7),
                "ended_at": started + timedelta(seconds=7 + rng.randrange(20, 180)),
            }
        )
    last_attempt = attempts[-1]
    order.update(
        calls_count=len(attempts),
        last_result=last_attempt["result"],
        last_attempt_at=last_attempt["ended_at"],
        outcome="appointment_confirmed",
        outcome_summary=f"{first} confirmed the Thursday appointment.",
        next_attempt_at=None,
        updated_at=last_attempt["ended_at"],
    )
    batch.orders.append(order)
    batch.attempts.extend(attempts)


def _serialize_shared_once(db: Database, shared: list[dict[str, Any]]) -> None:
    """Every order (or snapshot row) carries the same assistant snapshot and retry config
    objects: encode them once. The bytes are the app's own (its engine's serializer), as
    GET /call/{id} writes stored JSON out as it is."""
    app_serializer: Callable[[Any], str] = db.engine.dialect._json_serializer  # type: ignore[attr-defined]
    encoded = {id(value): app_serializer(value) for value in shared}

    def serializer(value: Any) -> str:
        cached = encoded.get(id(value))
        return cached if cached is not None else app_serializer(value)

    # The JSON types read the dialect's serializer when they build their bind processor.
    db.engine.dialect._json_serializer = serializer  # type: ignore[attr-defined]


async def _insert_batch(db: Database, batch: Batch) -> None:
    async with db.transaction() as conn:
        if SNAPSHOTS is not None:
            await conn.execute(sa.insert(SNAPSHOTS), batch.snapshots)
        await conn.execute(sa.insert(call_orders), batch.orders)
        await conn.execute(sa.insert(call_attempts), batch.attempts)


async def _seed(url: str, orders: int, batch: int) -> Seeded:
    started = time.perf_counter()
    db = Database(create_engine(url, pool_size=1))
    now = datetime.now(UTC)
    rng = random.Random(20_260_301)
    try:
        async with db.transaction() as conn:
            org = await create_organization_with_keys(
                conn,
                name="Bench organization",
                email="bench@openrevox.local",
                country="US",
                now=now,
                with_test_key=False,
            )
            principal = await accounts.find_principal(conn, org.live_key)
            assert principal is not None
            record = await assistant_service.create(
                conn, principal, AssistantCreate.model_validate(ASSISTANT_INPUT), now
            )
            line = await phone_numbers.default_for(
                conn, organization_id=principal.organization_id, mode=principal.mode
            )
            assert line is not None
        snapshot = assistant_wire(record)
        _serialize_shared_once(db, [snapshot, snapshot["call_retry_config"]])
        call_ids: list[str] = []
        attempt_count = 0
        pending: asyncio.Task[None] | None = None
        for start in range(0, orders, batch):
            rows = Batch()
            for index in range(start, min(orders, start + batch)):
                if index % 250 == 0:
                    await asyncio.sleep(0)  # let the previous batch's insert move on
                _add_order(
                    rows,
                    index,
                    principal=principal,
                    assistant_id=record.id,
                    snapshot=snapshot,
                    from_number=line.phone_number,
                    base=now,
                    rng=rng,
                )
            if pending is not None:
                await pending
            # Insert this batch while the next one is being built.
            pending = asyncio.create_task(_insert_batch(db, rows))
            call_ids.extend(row["id"] for row in rows.orders)
            attempt_count += len(rows.attempts)
        if pending is not None:
            await pending
        # Settle the database as a running deployment would have it: planner statistics
        # gathered (PostgreSQL's autovacuum would do it), the SQLite WAL checkpointed.
        if db.dialect == "sqlite":
            await db.dispose()
            size = _settle_sqlite(url)
        else:
            async with db.transaction() as conn:
                await conn.exec_driver_sql("ANALYZE")
                size = int(
                    (
                        await conn.exec_driver_sql("SELECT pg_database_size(current_database())")
                    ).scalar_one()
                )
    finally:
        await db.dispose()
    return Seeded(
        live_key=org.live_key,
        call_ids=call_ids,
        sample_id=call_ids[len(call_ids) // 2],
        seconds=time.perf_counter() - started,
        orders=len(call_ids),
        attempts=attempt_count,
        size_bytes=size,
    )


def _settle_sqlite(url: str) -> int:
    path = url.split(":///", 1)[1]
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(path).stat().st_size


def seed(url: str, orders: int, batch: int) -> Seeded:
    migrate_started = time.perf_counter()
    upgrade_to_head(url)  # runs its own event loop: must be called outside one
    migrate_seconds = time.perf_counter() - migrate_started
    seeded = asyncio.run(_seed(url, orders, batch))
    rows = seeded.orders + seeded.attempts
    print(
        f"  seeded {seeded.orders:,} call orders + {seeded.attempts:,} attempts in "
        f"{seeded.seconds:.1f} s ({rows / seeded.seconds:,.0f} rows/s; migration "
        f"{migrate_seconds:.1f} s; database {seeded.size_bytes / 2**20:,.0f} MiB)",
        flush=True,
    )
    return seeded


# --------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _pg_admin(admin_url: str, statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(normalize_database_url(admin_url)))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, pg_admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database; dropped (PostgreSQL) on the way out."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{(workdir / 'bench.db').as_posix()}"
        return
    name = f"openrevox_bench_get_call_{os.getpid()}"
    asyncio.run(_pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
    base = normalize_database_url(pg_admin_url).rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    description: str
    pg_backends: PgBackends | None = None

    def cpu_seconds(self) -> float:
        """The uvicorn process plus its worker processes (``--workers``), all threads."""
        total = 0.0
        for pid in _process_tree(self.process.pid):
            with contextlib.suppress(OSError):  # a process that just ended
                total += _process_cpu_seconds(pid)[1]
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.pg_backends is not None:
            self.pg_backends.close()


def start_server(url: str, seeded: Seeded, workdir: Path, workers: int = 1) -> Server:
    port = _free_port()
    flags = ["--no-access-log", "--log-level", "warning"]
    parts = ["1 uvicorn worker process"]
    if workers > 1:
        flags += ["--workers", str(workers)]
        parts = [f"{workers} uvicorn worker processes"]
    if _has("uvloop"):
        flags += ["--loop", "uvloop"]
        parts.append("uvloop")
    if _has("httptools"):
        flags += ["--http", "httptools"]
        parts.append("httptools")
    env = {
        **os.environ,
        "OPENREVOX_DATABASE_URL": url,
        "OPENREVOX_DATA_DIR": str(workdir / "data"),
        "OPENREVOX_RATE_LIMIT_PER_SECOND": "0",
        "OPENREVOX_BENCH_SAMPLE_CALL_ID": seeded.sample_id,
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "_app_with_bare:create",
                "--app-dir",
                str(BENCH_DIR),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *flags,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    database = url.rsplit("/", 1)[1] if url.startswith("postgresql") else None
    server = Server(
        process,
        port,
        log_path,
        ", ".join(parts) + ", access log off",
        PgBackends(database) if database else None,
    )
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server exited early:\n{log_path.read_text()[-3000:]}")
        try:
            status, _ = http_get(port, "/bench/bare-call", seeded.live_key)
            if status == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"server not ready after 90 s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)


def _unsigned(body: bytes) -> bytes:
    """The body without the recording links' expiry and signature (fresh each minute)."""
    return re.sub(rb"expires=\d+&signature=[0-9a-f]+", b"", body)


def http_get(port: int, path: str, key: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), bytes(error.read())


# --------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    label: str
    path: str  # a prefix when random_ids
    random_ids: bool


CALL = Endpoint("GET /call/{id}", "/call/", True)
BARE = Endpoint("GET /bench/bare-call (auth)", "/bench/bare-call", False)
BARE_NOAUTH = Endpoint("GET /bench/bare-call-noauth", "/bench/bare-call-noauth", False)
ENDPOINTS = (CALL, BARE, BARE_NOAUTH)


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0  # measured load duration (req/s)
    cpu: CpuUse = field(default_factory=lambda: CpuUse())
    latency_us: Counter[int] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.seconds += other.seconds
        self.cpu = self.cpu + other.cpu
        self.latency_us.update(other.latency_us)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        total = sum(self.latency_us.values())
        if not total:
            return float("nan")
        wanted = fraction * total
        seen = 0
        for value in sorted(self.latency_us):
            seen += self.latency_us[value]
            if seen >= wanted:
                return value / 1000
        return max(self.latency_us) / 1000


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU-seconds used during a load run, by whom, over ``wall`` seconds."""

    wall: float = 0.0
    server: float = 0.0  # the uvicorn process, all its threads
    postgres: float = 0.0  # the PostgreSQL backends serving the bench database
    loadgen: float = 0.0
    machine: float = 0.0  # all cores busy, whoever

    def __add__(self, other: CpuUse) -> CpuUse:
        return CpuUse(*(getattr(self, name) + getattr(other, name) for name in CpuUse.__slots__))

    def __sub__(self, other: CpuUse) -> CpuUse:
        return CpuUse(*(getattr(self, name) - getattr(other, name) for name in CpuUse.__slots__))

    def cores(self, name: str) -> float:
        return float(getattr(self, name)) / self.wall if self.wall else 0.0

    @property
    def others(self) -> float:
        """Cores used by everything else on the machine (other users' work, this script)."""
        mine = self.server + self.postgres + self.loadgen
        return max(0.0, self.machine - mine) / self.wall if self.wall else 0.0

    @classmethod
    def now(cls, server: Server, loadgen: float) -> CpuUse:
        return cls(
            wall=time.perf_counter(),
            server=server.cpu_seconds(),
            postgres=server.pg_backends.total() if server.pg_backends else 0.0,
            loadgen=loadgen,
            machine=_machine_busy_seconds(),
        )


def _process_tree(root: int) -> list[int]:
    """``root`` and its descendants (uvicorn --workers runs the app in child processes)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, ()))
    return tree


def _process_cpu_seconds(pid: int | str) -> tuple[str, float]:
    text = Path(f"/proc/{pid}/stat").read_text()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


class PgBackends:
    """CPU used by the PostgreSQL backends connected to one database, sampled every 0.1 s
    in a thread so that connections opened and closed during a run are counted too."""

    def __init__(self, database: str) -> None:
        self._marker = f" {database} "
        self._seen: dict[str, float] = {}  # pid -> CPU-seconds, last seen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError):
                if self._marker not in (entry / "cmdline").read_text():
                    continue
                name, seconds = _process_cpu_seconds(entry.name)
                if name == "postgres":
                    with self._lock:
                        self._seen[entry.name] = max(seconds, self._seen.get(entry.name, 0.0))

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def total(self) -> float:
        self._sample()
        with self._lock:
            return sum(self._seen.values())

    def connections_seen(self) -> int:
        with self._lock:
            return len(self._seen)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def background_load(seconds: float = 1.0) -> float:
    """The share of all cores busy while this script sleeps."""
    before = _machine_busy_seconds()
    time.sleep(seconds)
    return (_machine_busy_seconds() - before) / (seconds * NPROC)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    server: Server,
    endpoint: Endpoint,
    *,
    key: str,
    ids_file: Path,
    seconds: float,
    concurrency: int,
    seed: int,
) -> Tally:
    args = [endpoint.path]
    if endpoint.random_ids:
        args += [str(ids_file), str(seed)]
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-H",
        f"Authorization: Bearer {key}",
        "-s",
        str(LUA_SCRIPT),
        f"http://127.0.0.1:{server.port}",
        "--",
        *args,
    ]
    before = CpuUse.now(server, _children_cpu())
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    tally = Tally(cpu=CpuUse.now(server, _children_cpu()) - before)
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == ["BENCH", "summary"]:
            duration_us, requests, _bytes, *errors = (int(v) for v in parts[2:])
            tally.seconds = duration_us / 1e6
            tally.requests = requests
            tally.errors = sum(errors)
        elif parts[:2] == ["BENCH", "lat"]:
            tally.latency_us[int(parts[2])] += int(parts[3])
    # wrk corrects for coordinated omission before done(): its histogram holds synthetic
    # samples for responses slower than twice the mean interval, so it counts >= requests.
    if not tally.seconds or sum(tally.latency_us.values()) < tally.requests:
        raise SystemExit(f"could not read wrk's output:\n{output[:3000]}")
    return tally


async def _python_load(
    port: int,
    endpoint: Endpoint,
    *,
    key: str,
    ids: Sequence[str],
    seconds: float,
    concurrency: int,
    seed: int,
) -> tuple[int, int, float, Counter[int]]:
    latencies: list[int] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()

    async def worker(number: int) -> None:
        nonlocal errors
        rng = random.Random(seed * 1000 + number)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                path = endpoint.path + (rng.choice(ids) if endpoint.random_ids else "")
                request = b"GET " + path.encode() + b" HTTP/1.1\r\n" + head
                sent = time.perf_counter_ns()
                writer.write(request)
                headers = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in headers.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                latencies.append((time.perf_counter_ns() - sent) // 1000)
                if headers[9:12] != b"200":
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    return len(latencies), errors, elapsed, Counter(latencies)


def run_python(
    server: Server,
    endpoint: Endpoint,
    *,
    key: str,
    ids: Sequence[str],
    seconds: float,
    concurrency: int,
    seed: int,
) -> Tally:
    before = CpuUse.now(server, _self_cpu())
    load = _python_load(
        server.port,
        endpoint,
        key=key,
        ids=ids,
        seconds=seconds,
        concurrency=concurrency,
        seed=seed,
    )
    if _has("uvloop"):
        import uvloop

        requests, errors, elapsed, histogram = uvloop.run(load)
    else:
        requests, errors, elapsed, histogram = asyncio.run(load)
    return Tally(
        requests=requests,
        errors=errors,
        seconds=elapsed,
        cpu=CpuUse.now(server, _self_cpu()) - before,
        latency_us=histogram,
    )


# --------------------------------------------------------------------------------------
# Orchestration and report
# --------------------------------------------------------------------------------------


@dataclass
class BackendResult:
    backend: str
    seeded: Seeded
    server: str
    tallies: dict[Endpoint, Tally]
    pg_connections: int | None


def _load_runner(args: argparse.Namespace) -> str:
    if args.loadgen == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    if args.loadgen == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk), use --loadgen python")
    return str(args.loadgen)


def measure(args: argparse.Namespace, backend: str, workdir: Path) -> BackendResult:
    runner = _load_runner(args)
    print(f"\n== {backend} ==", flush=True)
    with fresh_database(backend, workdir, args.pg_admin_url) as url:
        seeded = seed(url, args.orders, args.batch)
        ids_file = workdir / "call_ids.txt"
        ids_file.write_text("\n".join(seeded.call_ids) + "\n")
        server = start_server(url, seeded, workdir, args.workers)
        try:
            print(
                f"  server: {server.description}, pid {server.process.pid}, rate limiter "
                "off (OPENREVOX_RATE_LIMIT_PER_SECOND=0)",
                flush=True,
            )
            real = http_get(server.port, f"/call/{seeded.sample_id}", seeded.live_key)
            bare = http_get(server.port, "/bench/bare-call", seeded.live_key)
            if real[0] != 200 or _unsigned(real[1]) != _unsigned(bare[1]):
                raise SystemExit(
                    f"bare body differs from GET /call/{seeded.sample_id}:\n"
                    f"{real[0]} {real[1][:1500]!r}\n{bare[0]} {bare[1][:1500]!r}"
                )
            print(f"  bare body == GET /call/{{sample}} body ({len(real[1]):,} bytes)", flush=True)

            def run(endpoint: Endpoint, seconds: float, seed_: int) -> Tally:
                if runner == "wrk":
                    return run_wrk(
                        server,
                        endpoint,
                        key=seeded.live_key,
                        ids_file=ids_file,
                        seconds=seconds,
                        concurrency=args.concurrency,
                        seed=seed_,
                    )
                return run_python(
                    server,
                    endpoint,
                    key=seeded.live_key,
                    ids=seeded.call_ids,
                    seconds=seconds,
                    concurrency=args.concurrency,
                    seed=seed_,
                )

            if args.warmup > 0:
                for endpoint in ENDPOINTS:
                    run(endpoint, args.warmup, 0)
            tallies = {endpoint: Tally() for endpoint in ENDPOINTS}
            per_round = args.seconds / args.rounds
            for round_ in range(args.rounds):
                shift = round_ % len(ENDPOINTS)
                for endpoint in ENDPOINTS[shift:] + ENDPOINTS[:shift]:
                    tallies[endpoint].add(run(endpoint, per_round, round_ + 1))
            if args.profile:
                profile(args, server, run, backend)
            pg_connections = server.pg_backends.connections_seen() if server.pg_backends else None
        finally:
            server.stop()
    result = BackendResult(backend, seeded, server.description, tallies, pg_connections)
    print_result(result, args, runner)
    return result


def profile(
    args: argparse.Namespace,
    server: Server,
    run: Callable[[Endpoint, float, int], Tally],
    backend: str,
) -> None:
    """Sample the server with py-spy while GET /call/{id} is under load."""
    out_dir = Path(args.profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = out_dir / f"get_call_{backend}.txt"
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server.process.pid),
            "--subprocesses",
            "--rate",
            "1000",
            "--format",
            "raw",
            "--nonblocking",
            "--duration",
            str(int(args.seconds)),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    run(CALL, args.seconds, 99)
    spy.wait()
    print(f"  py-spy collapsed stacks: {out}", flush=True)


def print_result(result: BackendResult, args: argparse.Namespace, runner: str) -> None:
    pg = result.backend == "postgresql"
    print(
        f"\n  {result.backend}: {args.concurrency} keep-alive connections, {runner}, "
        f"{args.rounds} interleaved rounds, {args.seconds:g} s per endpoint; CPU columns in "
        f"cores of the {NPROC} this machine has (server = the uvicorn process)"
    )
    print(
        f"  {'endpoint':<28} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'errors':>6} {'server':>6} {'µs/req':>6} {'pg':>5} {'µs/req':>6} {'loadgen':>7} "
        f"{'others':>6}"
    )
    for endpoint, tally in result.tallies.items():
        cpu, requests = tally.cpu, max(tally.requests, 1)
        pg_cols = (
            f"{cpu.cores('postgres'):>5.2f} {1e6 * cpu.postgres / requests:>6,.0f}"
            if pg
            else f"{'-':>5} {'-':>6}"
        )
        others = cpu.others if pg else cpu.others + cpu.cores("postgres")
        print(
            f"  {endpoint.label:<28} {tally.requests:>8,} {tally.rate:>7,.0f} "
            f"{tally.percentile_ms(0.50):>7.1f} {tally.percentile_ms(0.99):>7.1f} "
            f"{tally.errors:>6} {cpu.cores('server'):>6.2f} {1e6 * cpu.server / requests:>6,.0f} "
            f"{pg_cols} {cpu.cores('loadgen'):>7.2f} {others:>6.2f}"
        )
    if result.pg_connections is not None:
        print(
            f"  PostgreSQL backends seen serving the bench database: {result.pg_connections} "
            "(per server process: SQLAlchemy's pool, up to 20 + 10 overflow, and GET /call's "
            "reader pool, up to 8)"
        )
    call, bare, floor = (result.tallies[e] for e in ENDPOINTS)
    ratio = call.rate / bare.rate if bare.rate else float("nan")
    p99 = call.percentile_ms(0.99)
    print(
        f"  ratio req/s GET /call/{{id}} / bare (auth) = {ratio:.3f} "
        f"(goal >= 0.6: {'met' if ratio >= 0.6 else 'MISSED'}); "
        f"p99 GET /call/{{id}} = {p99:.1f} ms (goal <= 30 ms: "
        f"{'met' if p99 <= 30 else 'MISSED'})"
    )
    print(
        f"  ratio req/s GET /call/{{id}} / bare (no auth) = "
        f"{call.rate / floor.rate if floor.rate else float('nan'):.2f}",
        flush=True,
    )


def summary(results: list[BackendResult]) -> None:
    print("\n== summary ==")
    print(
        f"  {'backend':<11} {'call req/s':>10} {'bare req/s':>10} {'ratio':>6} "
        f"{'call p50':>8} {'call p99':>8} {'bare p50':>8} {'bare p99':>8}"
    )
    for result in results:
        call, bare = result.tallies[CALL], result.tallies[BARE]
        print(
            f"  {result.backend:<11} {call.rate:>10,.0f} {bare.rate:>10,.0f} "
            f"{call.rate / bare.rate:>6.2f} {call.percentile_ms(0.5):>8.2f} "
            f"{call.percentile_ms(0.99):>8.2f} {bare.percentile_ms(0.5):>8.2f} "
            f"{bare.percentile_ms(0.99):>8.2f}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="orders per transaction")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--speech-turns", type=int, default=0, help="speech_events segments per attempt"
    )
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--profile", metavar="DIR", help="also record py-spy stacks here")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.rounds < 1 or args.seconds <= 0:
        parser.error("--orders, --rounds and --seconds must be positive")

    cpu = platform.processor() or platform.machine()
    print(
        f"openrevox GET /call/{{id}} benchmark: {NPROC} cores ({cpu}), Python "
        f"{platform.python_version()}, load generator {_load_runner(args)}"
    )
    print(
        f"  background load before the run: {background_load():.0%} of {NPROC} cores busy "
        f"(other processes; 1 s sample), load average {os.getloadavg()[0]:.2f}"
    )
    global SPEECH_TURNS
    SPEECH_TURNS = args.speech_turns
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix=f"openrevox-bench-{backend}-") as tmp:
            results.append(measure(args, backend, Path(tmp)))
    summary(results)


if __name__ == "__main__":
    main()
