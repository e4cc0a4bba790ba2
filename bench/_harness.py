"""What the benches that drive real ``openrevox worker`` processes share.

``engine_throughput``, ``text_calls`` and ``campaign_import_drain`` import it as a
sibling (``from _harness import ...``): seeding one organization whose concurrency limit
is raised so that limits never cap a drain, a seeded database per backend with a fresh
copy per scenario, the worker subprocesses, making orders due and waiting for them to
drain, and the CPU figures (processes, PostgreSQL backends, the whole machine).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa

from openrevox.api.schemas.assistant import InlineAssistant
from openrevox.services.assistants import inline_snapshot
from openrevox.services.calls import order_values
from openrevox.services.organizations import create_organization_with_keys
from openrevox.settings import normalize_database_url
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head
from openrevox.store.repositories import accounts, phone_numbers
from openrevox.store.repositories.calls import insert_orders, insert_snapshot
from openrevox.store.tables import call_orders, organizations

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ORG_LIMIT = 1_000_000
ALL_WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def all_week_retry(max_attempts: int) -> dict[str, Any]:
    """A ``call_retry_config`` that lets a call go out at any moment of any day, retried
    at once: the benches measure the platform, never a calling window."""
    return {
        "allowed_days": ALL_WEEK,
        "call_twice_in_a_row": False,
        "calling_windows": [
            {
                "calling_window_start_time": "00:00",
                "calling_window_end_time": "24:00",
                "retry_delay_seconds": 0,
            }
        ],
        "max_retry_attempts": max_attempts,
    }


def add_pg_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OPENREVOX_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL),
    )


def add_scenario_arguments(parser: argparse.ArgumentParser, profile_help: str) -> None:
    """The options of the benches that run scenarios on copies of a seeded database."""
    parser.add_argument("--timeout", type=float, default=1800.0)
    add_pg_argument(parser)
    parser.add_argument("--keep", action="store_true", help="keep the scenario databases")
    parser.add_argument("--profile", type=Path, default=None, help=profile_help)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")


# --------------------------------------------------------------------------------------
# Databases and seeding
# --------------------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    return normalize_database_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def pg_admin(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def pg_url(admin_url: str, name: str) -> str:
    return normalize_database_url(admin_url).rsplit("/", 1)[0] + f"/{name}"


@dataclass(frozen=True)
class Orders:
    """What a bench seeds: ``count`` orders of one assistant, waiting ``scheduled`` a
    day ahead until the workers are up."""

    count: int
    assistant: dict[str, Any]
    timezone: str
    # row index -> (the number called, the prompt variables)
    fields: Callable[[int], tuple[str, dict[str, str]]]
    noun: str = "orders"  # how the progress line names them


async def _seed(url: str, orders: Orders, batch: int = 2_000) -> None:
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
            await conn.execute(  # so that limits never cap the drain
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
        assistant = InlineAssistant.model_validate(orders.assistant)
        snapshot = inline_snapshot(principal, assistant, now)
        async with db.transaction() as conn:  # one snapshot shared by every order
            snapshot_id = await insert_snapshot(
                conn, organization_id=principal.organization_id, content=snapshot, now=now
            )
        for start in range(0, orders.count, batch):
            rows = []
            for index in range(start, min(orders.count, start + batch)):
                to_number, variables = orders.fields(index)
                rows.append(
                    order_values(
                        call_id=str(uuid.uuid4()),
                        principal=principal,
                        assistant_id=None,
                        snapshot_id=snapshot_id,
                        retry_config=snapshot["call_retry_config"],
                        timezone=orders.timezone,
                        to_number=to_number,
                        from_number=line.phone_number,
                        status="scheduled",
                        due=later,
                        prompt_variables=variables,
                        metadata={"row": str(index)},
                        now=now,
                    )
                )
            async with db.transaction() as conn:
                await insert_orders(conn, rows)
        if db.dialect == "postgresql":
            async with db.engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
    finally:
        await db.dispose()
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.split(":///", 1)[1])) as conn:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Seeds:
    """One seeded database per backend (seeded when first asked for); each scenario
    gets a fresh copy: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
    PostgreSQL."""

    def __init__(self, workdir: Path, admin_url: str, orders: Orders) -> None:
        self.workdir = workdir
        self.admin_url = admin_url
        self.orders = orders
        self.template = f"openrevox_bench_tpl_{os.getpid()}"
        self._seeded: set[str] = set()
        self._copies: list[str] = []

    def _ensure(self, backend: str) -> None:
        if backend in self._seeded:
            return
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.workdir / 'seed.db'}"
        else:
            asyncio.run(pg_admin(self.admin_url, f'CREATE DATABASE "{self.template}"'))
            url = pg_url(self.admin_url, self.template)
        print(f"seeding {self.orders.count:,} {self.orders.noun} on {backend} ...", flush=True)
        started = time.perf_counter()
        upgrade_to_head(url)  # runs its own event loop: call it outside one
        asyncio.run(_seed(url, self.orders))
        print(f"  seeded in {time.perf_counter() - started:.1f} s", flush=True)
        self._seeded.add(backend)

    def copy(self, backend: str, label: str) -> str:
        self._ensure(backend)
        if backend == "sqlite":
            path = self.workdir / f"{label}.db"
            shutil.copyfile(self.workdir / "seed.db", path)
            return f"sqlite+aiosqlite:///{path}"
        name = f"openrevox_bench_{os.getpid()}_{label}"
        asyncio.run(
            pg_admin(
                self.admin_url,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"',
            )
        )
        self._copies.append(name)
        return pg_url(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        if name in self._copies:
            asyncio.run(pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self._copies.remove(name)

    def close(self, keep: bool = False) -> None:
        """Drops the databases and removes the work directory (the bench's logs too),
        unless ``keep``."""
        if keep:
            return
        for name in [*self._copies, self.template]:
            with contextlib.suppress(Exception):
                asyncio.run(
                    pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
        shutil.rmtree(self.workdir, ignore_errors=True)


# --------------------------------------------------------------------------------------
# Draining
# --------------------------------------------------------------------------------------

PENDING = ("queued_for_calling", "scheduled", "calling", "paused", "post_processing")


async def make_due(url: str) -> datetime:
    """Every order due now, in one UPDATE; returns the moment the workers may claim."""
    db = Database(create_engine(url, pool_size=1))
    try:
        async with db.transaction() as conn:
            due = datetime.now(UTC)  # as POST /call leaves an order to dial now
            await conn.execute(
                sa.update(call_orders).values(
                    status="queued_for_calling", next_attempt_at=due, scheduled_at=due
                )
            )
        return datetime.now(UTC)  # committed: the workers may claim from here on
    finally:
        await db.dispose()


async def wait_until_none(
    url: str, probe: Any, limit: float, what: str, interval: float = 0.25
) -> None:
    """Until ``probe`` (a ``LIMIT 1`` select: an index probe, not a count of the table)
    finds no row; ``what`` names the rows in the timeout's error."""
    db = Database(create_engine(url, pool_size=1))
    deadline = time.monotonic() + limit
    try:
        while True:
            async with db.read() as conn:
                if (await conn.execute(probe)).first() is None:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} still pending after {limit:.0f} s")
            await asyncio.sleep(interval)
    finally:
        await db.dispose()


async def wait_drained(url: str, limit: float) -> None:
    """Until no order is pending."""
    probe = sa.select(call_orders.c.id).where(call_orders.c.status.in_(PENDING)).limit(1)
    await wait_until_none(url, probe, limit, "orders")


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM (a worker finishes its calls' bookkeeping), SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Process:
    """An ``openrevox`` subprocess and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self) -> str:
        return self.log()[-3000:]

    def stop(self) -> None:
        stop_process(self.process, timeout=30)


def spawn(command: list[str], env: Mapping[str, str | None], log_path: Path) -> Process:
    """``python -m openrevox.cli COMMAND`` (the ``openrevox`` command) in a session of
    its own, with this environment changed by ``env`` (None: unset)."""
    full = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "openrevox.cli", *command],
            env=full,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(process, log_path)


def worker_env(url: str, sim_speed: float, capacity: int) -> dict[str, str]:
    return {
        "OPENREVOX_DATABASE_URL": url,
        "OPENREVOX_SIM_SPEED": str(sim_speed),
        "OPENREVOX_WORKER_CAPACITY": str(capacity),
        "OPENREVOX_TELEPHONY": "sim",
    }


def start_workers(
    count: int, env: Mapping[str, str | None], workdir: Path, prefix: str = ""
) -> list[Process]:
    """``openrevox worker`` processes, logging to ``{prefix}worker{n}.log``; returns once
    each has logged that it started."""
    workers = [
        spawn(["worker"], env, workdir / f"{prefix}worker{number}.log") for number in range(count)
    ]
    deadline = time.monotonic() + 60
    while not all("started" in worker.log() for worker in workers):
        for worker in workers:
            if worker.process.poll() is not None:
                raise RuntimeError(f"a worker exited:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start within 60 s")
        time.sleep(0.05)
    return workers


def start_profiler(pid: int, output: Path, flags: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """py-spy sampling a process (collapsed stacks, for flame graphs or grep)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(pid), "--rate", "250", *flags]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    return profiler


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    for profiler in profilers:
        profiler.wait(timeout=60)


# --------------------------------------------------------------------------------------
# CPU
# --------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS  # all but idle, iowait


class ProcessCpu:
    """CPU seconds that processes, and the whole machine, spent since it was made."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.before = [cpu_seconds(pid) for pid in self.pids]
        self.busy_before = machine_busy_seconds()

    def spent(self) -> list[float]:
        """Each process's, in the order given."""
        now = [cpu_seconds(pid) for pid in self.pids]
        return [after - before for before, after in zip(self.before, now, strict=True)]

    def machine_busy(self) -> float:
        return machine_busy_seconds() - self.busy_before


async def backend_pids(admin_url: str, database: str) -> list[int]:
    """The PostgreSQL backends serving ``database`` (the server's shared processes, WAL
    writer and checkpointer, are not counted)."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


def postgres_cpu(admin_url: str, url: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving the scenario's database now."""
    pids = asyncio.run(backend_pids(admin_url, url.rsplit("/", 1)[1]))
    return {pid: cpu_seconds(pid) for pid in pids}


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
        conn = await asyncpg.connect(asyncpg_dsn(self.admin_url))
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


# --------------------------------------------------------------------------------------
# The machine and the report
# --------------------------------------------------------------------------------------


def machine(load_average: bool = False) -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pg = "?"
    with contextlib.suppress(Exception):
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    load = f", load average {os.getloadavg()[0]:.2f}" if load_average else ""
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {pg}{load}"
    )


def background_load(seconds: float = 1.0) -> float:
    """Share of the machine's cores busy before the run (other people's work)."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - before) / seconds / (os.cpu_count() or 1)


def load_note() -> str:
    load = os.getloadavg()
    busy = background_load()
    return (
        f"background load before the run: {100 * busy:.0f}% of {os.cpu_count() or 1} cores "
        f"busy (1 s sample), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def table_lines(
    head: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool, right: bool = False
) -> list[str]:
    """The report's table, as Markdown or as aligned columns (``right``: right-aligned)."""
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    return [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width in zip(row, widths, strict=True)
        )
        for row in [head, *rows]
    ]
