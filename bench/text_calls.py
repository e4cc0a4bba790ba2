"""Benchmark: text-fidelity simulated calls per second, with full results.

    .venv/bin/python bench/text_calls.py [--calls 5000] [--agent sandbox|llm|both]
        [--backend sqlite|postgresql|both] [--workers 1|2]
        [--capacity sandbox=400,llm=80] [--sim-speed sandbox=20,llm=10]
        [--no-webhook] [--markdown] [--profile DIR]

Every call is a whole conversation with persona 00 of the simulated network
(docs/sandbox.md: a cooperative person who gives name and email): "Hello?", the
assistant's static first sentence, a question per field, the answers, the closing
sentence, the ``end_call`` tool; then the results: transcript, structured output,
outcome, order completed, webhook delivered.

For each backend, then each agent (side by side in one run):

1. seed once per backend (as ``engine_throughput`` does: a migrated database, one
   organization whose concurrency limit is raised to 1,000,000 by SQL, one shared
   assistant snapshot, ``--calls`` orders inserted in bulk, waiting ``scheduled`` a day
   ahead) with ``+1 415 555 0100`` (persona 00) and an assistant that has a static first
   sentence, a closing sentence, a ``structured_output_config`` of two fields (full name,
   email) and, unless ``--no-webhook``, a ``webhook_url`` on a local sink that answers
   204 (``OPENREVOX_WEBHOOK_ALLOW_HOSTS`` admits 127.0.0.1). Each scenario runs on a copy
   (a file copy, or ``CREATE DATABASE ... TEMPLATE``);
2. start ``--workers`` real ``openrevox worker`` processes with ``OPENREVOX_SIM_SPEED``,
   ``OPENREVOX_WORKER_CAPACITY`` and, for ``--agent llm`` only,
   ``OPENREVOX_LLM_BASE_URL``/``OPENREVOX_LLM_API_KEY`` on the fake OpenAI-compatible
   server of ``tests/agent/fake_openai.py`` (chat completions and tool calls streamed in
   OpenAI's wire format, a JSON completion for the post-call extraction), served by
   uvicorn in a subprocess of its own (this script with ``--serve``). With no LLM endpoint
   the worker picks the rule-based sandbox agent;
3. make every order due in one UPDATE, wait until none is pending, then until no
   webhook event is pending;
4. report calls / (the last order's completion - the moment they became due), the
   seconds until the last webhook was delivered, how busy the workers were while
   draining (in cores), and the CPU per call of each process: workers, the PostgreSQL
   backends of the bench database (sampled every 0.1 s), the fake LLM server, the
   webhook sink, and everything else busy on the machine meanwhile ("other": other
   people's work, and this script). Then check every call: order ``completed`` with
   outcome ``completed``, one attempt, answered (``human``), ended by the ``end_call``
   tool, a transcript of at least 6 entries ending with that tool, a structured output
   with both fields as persona 00 gave them, and exactly one ``call.completed`` webhook
   delivered. It prints PASS or FAIL.

The simulated speed is moderate, not 1e9, because ``OPENREVOX_SIM_SPEED`` divides every
simulated duration, the callee's patience included: persona 00 hangs up after 30
simulated seconds without hearing the agent, which at 1e9 is 30 ns, less than one turn of
the event loop, let alone an HTTP round trip to an LLM. A worker that carries C calls at R
calls/s answers each turn in about C / (5 R) real seconds, so the speed S and capacity C
must keep 30 / S several times above that while C / (20 / S) (the most calls/s the
simulated durations allow) stays above R. The defaults do on this machine; too high a
speed or capacity shows as FAIL (``participant_removed``), not as a faster figure.

The first sentence ends with a comma and the closing is one sentence, so that each turn
of the LLM agent is one utterance: persona 00 answers any utterance at once, even a
statement, so a two-sentence turn lets it answer the first sentence while the agent still
streams the second; the barge-in then cuts the agent off and the conversation runs a turn
late (the email is given after the goodbye and lost).

Workers, PostgreSQL, the fake servers and this script share the machine's cores. This
prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from engine_throughput import (
    DEFAULT_PG_ADMIN_URL,
    ORG_LIMIT,
    Seeds,
    _asyncpg_dsn,
    _make_due,
    _pg_admin,
    _pg_url,
    _wait_drained,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    start_workers,
)

from openrevox.api.schemas.assistant import InlineAssistant
from openrevox.services.assistants import inline_snapshot
from openrevox.services.calls import order_values
from openrevox.services.organizations import create_organization_with_keys
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head
from openrevox.store.repositories import accounts, phone_numbers
from openrevox.store.repositories.calls import insert_orders, insert_snapshot
from openrevox.store.tables import call_attempts, call_orders, organizations, webhook_events

ROOT = Path(__file__).resolve().parent.parent
AGENTS = ("sandbox", "llm")
PERSONA_00 = "+14155550100"  # docs/sandbox.md: a cooperative person, name and email
NAME, EMAIL = "Alex Martin", "alex.martin@example.com"  # what persona 00 answers
FAKE_API_KEY = "sk-fake-openai-0123456789"  # tests.agent.fake_openai.FakeOpenAI.api_key
ALL_WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
FIELDS = [
    {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    {"name": "email", "required": True, "type": "string", "description": "email address"},
]
ASSISTANT: dict[str, Any] = {
    "name": "Acme details check",
    "prompt": "You call {{first_name}} on behalf of Acme to confirm their contact details.",
    "first_sentence": "Hello {{first_name}}, this is Acme calling to confirm your details,",
    "first_sentence_mode": "static",
    "end_of_call_sentence": "Thank you for your time, goodbye!",
    "structured_output_config": FIELDS,
    "call_retry_config": {
        "allowed_days": ALL_WEEK,
        "call_twice_in_a_row": False,
        "calling_windows": [
            {
                "calling_window_start_time": "00:00",
                "calling_window_end_time": "24:00",
                "retry_delay_seconds": 0,
            }
        ],
        "max_retry_attempts": 3,
    },
}


# --------------------------------------------------------------------------------------
# The fake servers (this script run with --serve, in a subprocess of their own)
# --------------------------------------------------------------------------------------


def _fake_openai_app() -> Any:
    """``tests.agent.fake_openai.FakeOpenAI``'s app, without its request log: the log is
    kept for assertions in tests and would grow by four requests a call (and the fault
    check scans it on each request)."""
    sys.path.insert(0, str(ROOT))
    from starlette.requests import Request
    from tests.agent.fake_openai import FakeOpenAI
    from tests.voices.fake_server import RecordedRequest

    class UnloggedFakeOpenAI(FakeOpenAI):
        async def record(self, request: Request) -> RecordedRequest:
            return RecordedRequest(
                method=request.method,
                path=request.url.path,
                query={},
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.body(),
            )

        def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
            return []  # no fault is ever set here

    fake = UnloggedFakeOpenAI()
    assert fake.api_key == FAKE_API_KEY
    return fake.app()


async def _webhook_sink(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 204 to every webhook (the platform records the delivery)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def serve(kind: str, port_file: Path) -> None:
    import uvicorn

    app = _fake_openai_app() if kind == "fake-openai" else _webhook_sink
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=4096,
        timeout_keep_alive=120,  # never closes a connection the client is about to reuse
    )
    server = uvicorn.Server(config)
    port_file.write_text(str(sock.getsockname()[1]))
    server.run(sockets=[sock])


@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(kind: str, workdir: Path) -> Server:
    port_file = workdir / f"{kind}.port"
    log_path = workdir / f"{kind}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve", kind, "--port-file", str(port_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} server exited:\n{log_path.read_text()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the {kind} server did not start within 30 s")
        if port_file.exists() and port_file.read_text():
            port = int(port_file.read_text())
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return Server(kind, process, f"http://127.0.0.1:{port}", log_path)
        time.sleep(0.05)


# --------------------------------------------------------------------------------------
# Seeding (as engine_throughput seeds, with this benchmark's assistant and number)
# --------------------------------------------------------------------------------------


async def _seed(url: str, calls: int, webhook_url: str | None, batch: int = 2_000) -> None:
    db = Database(create_engine(url, pool_size=1))
    now = datetime.now(UTC)
    later = now + timedelta(days=1)  # made due when the workers are up
    try:
        async with db.transaction() as conn:
            org = await create_organization_with_keys(
                conn,
                name="Bench organization",
                email="bench@openrevox.local",
                country="US",
                now=now,
            )
            await conn.execute(
                sa.update(organizations)
                .where(organizations.c.id == org.organization.id)
                .values(concurrency_limit=ORG_LIMIT)
            )
            assert org.test_key is not None
            principal = await accounts.find_principal(conn, org.test_key)
            assert principal is not None
            line = await phone_numbers.default_for(
                conn, organization_id=principal.organization_id, mode=principal.mode
            )
            assert line is not None
        config = {**ASSISTANT, "webhook_url": webhook_url} if webhook_url else ASSISTANT
        snapshot = inline_snapshot(principal, InlineAssistant.model_validate(config), now)
        async with db.transaction() as conn:  # one snapshot shared by every order
            snapshot_id = await insert_snapshot(
                conn, organization_id=principal.organization_id, content=snapshot, now=now
            )
        for start in range(0, calls, batch):
            rows = [
                order_values(
                    call_id=str(uuid.uuid4()),
                    principal=principal,
                    assistant_id=None,
                    snapshot_id=snapshot_id,
                    retry_config=snapshot["call_retry_config"],
                    timezone="America/Los_Angeles",
                    to_number=PERSONA_00,
                    from_number=line.phone_number,
                    status="scheduled",
                    due=later,
                    prompt_variables={"first_name": "Alex"},
                    metadata={"row": str(index)},
                    now=now,
                )
                for index in range(start, min(calls, start + batch))
            ]
            async with db.transaction() as conn:
                await insert_orders(conn, rows)
        if db.dialect == "postgresql":
            async with db.engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await db.dispose()
    if url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(url.split(":///", 1)[1])) as conn:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class CallSeeds(Seeds):
    """``engine_throughput.Seeds`` (one seeded database per backend, a fresh copy per
    scenario) seeding this benchmark's calls."""

    def __init__(self, workdir: Path, admin_url: str, calls: int, webhook_url: str | None):
        super().__init__(workdir, admin_url, calls, "00")
        self.webhook_url = webhook_url

    def _ensure(self, backend: str) -> None:
        if backend in self._seeded:
            return
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.workdir / 'seed.db'}"
        else:
            asyncio.run(_pg_admin(self.admin_url, f'CREATE DATABASE "{self.template}"'))
            url = _pg_url(self.admin_url, self.template)
        print(f"seeding {self.orders:,} call orders on {backend} ...", flush=True)
        started = time.perf_counter()
        upgrade_to_head(url)  # runs its own event loop: call it outside one
        asyncio.run(_seed(url, self.orders, self.webhook_url))
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        self._seeded.add(backend)


# --------------------------------------------------------------------------------------
# One scenario
# --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    agent: str
    workers: int
    calls: int
    seconds: float  # due -> last order completed
    webhook_seconds: float | None  # due -> last webhook delivered
    worker_cpu: list[float]
    worker_drain_cpu: list[float]  # until the orders were drained
    postgres_cpu: float
    llm_cpu: float
    sink_cpu: float
    machine_busy: float
    problems: list[str]

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0

    @property
    def worker_cores(self) -> float:
        """How busy the workers were while draining, in cores (1.00: one full core)."""
        return sum(self.worker_drain_cpu) / self.seconds if self.seconds > 0 else 0.0

    @property
    def other_cpu(self) -> float:
        own = sum(self.worker_cpu) + self.postgres_cpu + self.llm_cpu + self.sink_cpu
        return max(0.0, self.machine_busy - own)


async def _pending_webhooks(url: str) -> int:
    db = Database(create_engine(url, pool_size=1))
    query = sa.select(sa.func.count()).where(webhook_events.c.status == "pending")
    try:
        async with db.read() as conn:
            return int((await conn.execute(query)).scalar_one())
    finally:
        await db.dispose()


async def _wait_webhooks(url: str, limit: float) -> None:
    db = Database(create_engine(url, pool_size=1))
    deadline = time.monotonic() + limit
    query = sa.select(webhook_events.c.id).where(webhook_events.c.status == "pending").limit(1)
    try:
        while True:
            async with db.read() as conn:
                if (await conn.execute(query)).first() is None:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"webhooks still pending after {limit:.0f} s")
            await asyncio.sleep(0.25)
    finally:
        await db.dispose()


async def _verify(
    url: str, due_at: datetime, webhook: bool
) -> tuple[int, float, float | None, list[str]]:
    """Every call checked; returns (orders, seconds to drain, seconds to the last
    webhook, problems)."""
    db = Database(create_engine(url, pool_size=1))
    try:
        async with db.read() as conn:
            orders = (
                await conn.execute(
                    sa.select(
                        call_orders.c.id,
                        call_orders.c.status,
                        call_orders.c.outcome,
                        call_orders.c.calls_count,
                        call_orders.c.updated_at,
                    )
                )
            ).all()
            attempts = (
                await conn.execute(
                    sa.select(
                        call_attempts.c.call_order_id,
                        call_attempts.c.status,
                        call_attempts.c.result,
                        call_attempts.c.end_reason,
                        call_attempts.c.transcript,
                        call_attempts.c.structured_output,
                    )
                )
            ).all()
            events = (
                await conn.execute(
                    sa.select(
                        webhook_events.c.call_order_id,
                        webhook_events.c.event_type,
                        webhook_events.c.status,
                        webhook_events.c.delivered_at,
                    )
                )
            ).all()
    finally:
        await db.dispose()
    problems: Counter[str] = Counter()
    by_order: dict[str, list[Any]] = {}
    for attempt in attempts:
        by_order.setdefault(attempt.call_order_id, []).append(attempt)
    delivered = Counter(
        e.call_order_id
        for e in events
        if e.event_type == "call.completed" and e.status == "delivered"
    )
    for order in orders:
        if order.status != "completed":
            problems[f"order {order.status}"] += 1
        if order.outcome != "completed":
            problems[f"outcome {order.outcome}"] += 1
        mine = by_order.get(order.id, [])
        if len(mine) != 1 or order.calls_count != 1:
            problems[f"{len(mine)} attempts"] += 1
        for attempt in mine[:1]:
            if attempt.status != "completed" or attempt.result != "human":
                problems[f"attempt {attempt.status}/{attempt.result}"] += 1
            if attempt.end_reason != "tool_end_call":
                problems[f"end_reason {attempt.end_reason}"] += 1
            transcript = attempt.transcript or []
            if len(transcript) < 6:
                problems["transcript < 6 entries"] += 1
            elif transcript[-1].get("tool_name") != "end_call":
                problems["transcript not ending with end_call"] += 1
            if (attempt.structured_output or {}) != {"full_name": NAME, "email": EMAIL}:
                problems["structured_output without both fields"] += 1
        if webhook and delivered[order.id] != 1:
            problems[f"{delivered[order.id]} call.completed webhooks delivered"] += 1
    if not webhook and events:
        problems[f"{len(events)} webhook events with no webhook_url"] += 1
    ends = [o.updated_at for o in orders if o.status == "completed"]
    seconds = (max(ends) - due_at).total_seconds() if ends else 0.0
    sent = [e.delivered_at for e in events if e.delivered_at is not None]
    webhook_seconds = (max(sent) - due_at).total_seconds() if webhook and sent else None
    return len(orders), seconds, webhook_seconds, [f"{n} x {p}" for p, n in problems.items()]


class PostgresSampler:
    """CPU seconds of the PostgreSQL backends serving the scenario's database, sampled
    every 0.1 s from a thread over one connection: a pool's overflow connections come and
    go during a run, and a backend gone before the end would be missed by a last look."""

    def __init__(self, admin_url: str, url: str) -> None:
        self.admin_url, self.database = admin_url, url.rsplit("/", 1)[1]
        self.before: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _sample(self, pids: list[int]) -> None:
        for pid in pids:
            self.seen[pid] = max(cpu_seconds(pid), self.seen.get(pid, 0.0))

    async def _run(self) -> None:
        conn = await asyncpg.connect(_asyncpg_dsn(self.admin_url))
        query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
        try:
            self._sample([row["pid"] for row in await conn.fetch(query, self.database)])
            self.before = dict(self.seen)
            self._ready.set()
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
                self._sample([row["pid"] for row in await conn.fetch(query, self.database)])
        finally:
            self._ready.set()
            await conn.close()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def start_profiler(process: subprocess.Popen[bytes], output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the process's threads while they hold the GIL (collapsed stacks,
    one line per thread and stack, for flame graphs or grep)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(process.pid), "--rate", "250", "--gil"]
    command += ["--threads", "--format", "raw", "--output", str(output), "--nonblocking"]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    return profiler


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(timeout=60)


@contextlib.contextmanager
def environment(values: dict[str, str | None]) -> Iterator[None]:
    """``os.environ`` changed for the duration (``start_workers`` copies it)."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_scenario(
    seeds: CallSeeds,
    backend: str,
    agent: str,
    count: int,
    args: argparse.Namespace,
    workdir: Path,
    llm: Server | None,
    sink: Server | None,
) -> Outcome:
    label = f"{backend}-{agent}-{count}w"
    url = seeds.copy(backend, label.replace("-", "_"))
    print(f"{label}: starting {count} worker process(es) ...", flush=True)
    env: dict[str, str | None] = {
        "OPENREVOX_LLM_BASE_URL": f"{llm.url}/v1" if llm and agent == "llm" else None,
        "OPENREVOX_LLM_API_KEY": FAKE_API_KEY if agent == "llm" else None,
        "OPENREVOX_LLM_ENDPOINTS": None,
        "OPENREVOX_OPENROUTER_API_KEY": None,
        "OPENREVOX_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
    }
    settings = argparse.Namespace(
        **{**vars(args), "capacity": args.capacity[agent], "sim_speed": args.sim_speed[agent]}
    )
    with environment(env):
        workers = start_workers(url, count, settings, workdir, label)
    servers = [server for server in (llm, sink) if server]
    try:
        time.sleep(0.5)  # let them settle into their idle poll
        pg = PostgresSampler(args.pg_admin_url, url) if backend == "postgresql" else None
        cpu_before = [cpu_seconds(w.process.pid) for w in workers]
        server_before = {s.kind: cpu_seconds(s.process.pid) for s in servers}
        busy_before = machine_busy_seconds()
        profiled = [(f"worker{n}", w.process) for n, w in enumerate(workers)]
        if llm and agent == "llm":
            profiled.append(("fake-openai", llm.process))

        def profile(phase: str) -> list[subprocess.Popen[bytes]]:
            if not args.profile:
                return []
            return [
                start_profiler(process, args.profile / f"{label}-{name}-{phase}.txt")
                for name, process in profiled
            ]

        profilers = profile("drain")
        due_at = asyncio.run(_make_due(url))
        asyncio.run(_wait_drained(url, args.timeout))
        drained_cpu = [cpu_seconds(w.process.pid) for w in workers]
        stop_profilers(profilers)
        tail = (0, 0.0, 0.0)  # webhooks left at the drain, seconds and worker CPU to send them
        if sink:
            left, started = asyncio.run(_pending_webhooks(url)), time.monotonic()
            profilers = profile("webhooks")
            asyncio.run(_wait_webhooks(url, args.timeout))
            stop_profilers(profilers)
            tail_cpu = sum(cpu_seconds(w.process.pid) for w in workers) - sum(drained_cpu)
            tail = (left, time.monotonic() - started, tail_cpu)
        cpu_after = [cpu_seconds(w.process.pid) for w in workers]
        server_cpu = {s.kind: cpu_seconds(s.process.pid) - server_before[s.kind] for s in servers}
        busy = machine_busy_seconds() - busy_before
        pg_cpu = pg.stop() if pg else 0.0
    finally:
        for worker in workers:
            worker.stop()
    for n, worker in enumerate(workers):
        text = worker.log_path.read_text(errors="replace")
        if "Traceback" in text or " ERROR " in text:
            print(f"  worker{n} logged errors: see {worker.log_path}", flush=True)
    calls, seconds, webhook_seconds, problems = asyncio.run(
        _verify(url, due_at, webhook=sink is not None)
    )
    outcome = Outcome(
        backend=backend,
        agent=agent,
        workers=count,
        calls=calls,
        seconds=seconds,
        webhook_seconds=webhook_seconds,
        worker_cpu=[after - before for before, after in zip(cpu_before, cpu_after, strict=True)],
        worker_drain_cpu=[
            after - before for before, after in zip(cpu_before, drained_cpu, strict=True)
        ],
        postgres_cpu=pg_cpu,
        llm_cpu=server_cpu.get("fake-openai", 0.0) if agent == "llm" else 0.0,
        sink_cpu=server_cpu.get("webhook-sink", 0.0),
        machine_busy=busy,
        problems=problems,
    )
    if tail[0]:
        print(
            f"  webhooks: {tail[0]:,} still pending when the orders were drained, sent in "
            f"{tail[1]:.1f} s ({tail[0] / tail[1]:,.0f}/s) at {1000 * tail[2] / tail[0]:.1f} ms "
            "of worker CPU each",
            flush=True,
        )
    verdict = "PASS" if not problems else "FAIL: " + "; ".join(problems)
    print(f"  {calls:,} calls in {seconds:.2f} s: {outcome.rate:,.1f} calls/s ({verdict})")
    if not args.keep:
        seeds.drop(url)
    return outcome


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def report(outcomes: list[Outcome], markdown: bool) -> str:
    head = (
        "backend", "agent", "workers", "calls", "seconds", "calls/s", "webhooks done s",
        "worker cores", "worker ms/call", "PostgreSQL ms/call", "fake LLM ms/call",
        "webhook sink ms/call", "other ms/call", "checks",
    )  # fmt: skip

    def per_call(seconds: float, calls: int) -> str:
        return f"{1000 * seconds / calls:.2f}" if calls else "-"

    rows = [
        (
            o.backend,
            o.agent,
            str(o.workers),
            f"{o.calls:,}",
            f"{o.seconds:.2f}",
            f"{o.rate:,.1f}",
            f"{o.webhook_seconds:.2f}" if o.webhook_seconds is not None else "-",
            f"{o.worker_cores:.2f}",
            " + ".join(per_call(c, o.calls) for c in o.worker_cpu),
            per_call(o.postgres_cpu, o.calls) if o.backend == "postgresql" else "-",
            per_call(o.llm_cpu, o.calls) if o.agent == "llm" else "-",
            per_call(o.sink_cpu, o.calls) if o.webhook_seconds is not None else "-",
            per_call(o.other_cpu, o.calls),
            "PASS" if not o.problems else "FAIL",
        )
        for o in outcomes
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]
        ]
    for o in outcomes:
        if o.problems:
            lines.append(f"FAIL {o.backend}/{o.agent}: " + "; ".join(o.problems))
    lines += ["", "PASS" if all(not o.problems for o in outcomes) else "FAIL"]
    return "\n".join(lines)


def load_note() -> str:
    load = os.getloadavg()
    before = machine_busy_seconds()
    time.sleep(1.0)
    busy = machine_busy_seconds() - before
    cores = os.cpu_count() or 1
    return (
        f"background load before the run: {100 * busy / cores:.0f}% of {cores} cores busy "
        f"(1 s sample), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def per_agent(cast: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
    """``N`` for both agents, or ``sandbox=N,llm=M``."""

    def parse(text: str) -> dict[str, Any]:
        if "=" not in text:
            return dict.fromkeys(AGENTS, cast(text))
        values = {}
        for item in text.split(","):
            agent, _, value = item.partition("=")
            if agent.strip() not in AGENTS:
                raise argparse.ArgumentTypeError(f"unknown agent {agent!r}")
            values[agent.strip()] = cast(value)
        if set(values) != set(AGENTS):
            raise argparse.ArgumentTypeError("give a value for each agent: sandbox=..,llm=..")
        return values

    return parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--agent", choices=("sandbox", "llm", "both"), default="both")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--capacity",
        type=per_agent(int),
        default="sandbox=400,llm=80",
        help="OPENREVOX_WORKER_CAPACITY: N, or per agent as sandbox=N,llm=M",
    )
    parser.add_argument(
        "--sim-speed",
        type=per_agent(float),
        default="sandbox=20,llm=10",
        help="OPENREVOX_SIM_SPEED: S, or per agent as sandbox=S,llm=T",
    )
    parser.add_argument("--no-webhook", action="store_true", help="no webhook_url on the assistant")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OPENREVOX_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL),
    )
    parser.add_argument("--keep", action="store_true", help="keep the scenario databases")
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy the workers and the fake LLM here"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--serve", choices=("fake-openai", "webhook-sink"), help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port_file)
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    agents = ["sandbox", "llm"] if args.agent == "both" else [args.agent]

    print(machine(), flush=True)
    print(load_note(), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="openrevox-text-calls-"))
    llm = start_server("fake-openai", workdir) if "llm" in agents else None
    sink = None if args.no_webhook else start_server("webhook-sink", workdir)
    seeds = CallSeeds(
        workdir, args.pg_admin_url, args.calls, f"{sink.url}/webhook" if sink else None
    )
    settings = ", ".join(
        f"{agent}: OPENREVOX_WORKER_CAPACITY={args.capacity[agent]} "
        f"OPENREVOX_SIM_SPEED={args.sim_speed[agent]:g}"
        for agent in agents
    )
    print(
        f"{args.calls:,} calls to persona 00 per scenario, {args.workers} worker process(es); "
        f"{settings}; webhook {'on a local sink' if sink else 'off'}",
        flush=True,
    )
    outcomes = []
    try:
        for backend in backends:
            for agent in agents:
                outcomes.append(
                    run_scenario(seeds, backend, agent, args.workers, args, workdir, llm, sink)
                )
    finally:
        for server in (llm, sink):
            if server:
                server.stop()
        seeds.close(keep=args.keep)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(outcomes, args.markdown))


if __name__ == "__main__":
    main()
