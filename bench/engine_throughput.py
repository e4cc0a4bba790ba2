"""Benchmark: how many call attempts per second the dispatch engine drains.

    .venv/bin/python bench/engine_throughput.py [--orders 100000]
        [--scenarios sqlite:1,postgresql:1,postgresql:2] [--capacity 1000]
        [--sim-speed 1e9] [--code 42] [--markdown]

What it does, for each scenario ``backend:workers``:

1. seed once per backend: one organization (its concurrency limit raised to 1,000,000 by
   SQL so that limits never cap the drain), then ``--orders`` call orders bulk-inserted
   with ``services.calls.order_values`` (executemany, one transaction per batch of
   2,000), each to ``+1 212 555 01XX`` with ``--code`` (default 42, "the number does not
   exist": the dial error stops the order at its first attempt) and an all-week window.
   The orders wait ``scheduled`` far in the future. Each scenario runs on a copy of the
   seeded database (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on
   PostgreSQL);
2. start ``workers`` real worker processes (``python -m openrevox.cli worker``, the
   ``openrevox worker`` command) with ``OPENREVOX_SIM_SPEED`` huge, so ringing costs
   nothing, and wait until each one logged that it started;
3. make every order due in one UPDATE, then poll until none is left pending;
4. report attempts / (last attempt's ``ended_at`` - the moment the orders became due),
   the CPU seconds of each worker, of the PostgreSQL backends serving the bench
   database and of everything else on the machine meanwhile, and check the result: one
   attempt and one ``sim_ledger`` row per order, every order completed.

Workers, PostgreSQL and this script share the machine's cores (the table says how many).
This prints figures; it is not a timed test.
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
import tempfile
import time
import uuid
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
from openrevox.store.tables import call_attempts, call_orders, organizations, sim_ledger

DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ORG_LIMIT = 1_000_000
ALL_WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ASSISTANT: dict[str, Any] = {
    "prompt": "You call on behalf of Acme Dental to confirm {{first_name}}'s appointment.",
    "first_sentence": "Hi {{first_name}}, this is Acme Dental.",
    "first_sentence_mode": "static",
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
# Databases and seeding
# --------------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return normalize_database_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _pg_admin(admin_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _pg_url(admin_url: str, name: str) -> str:
    return normalize_database_url(admin_url).rsplit("/", 1)[0] + f"/{name}"


async def _seed(url: str, orders: int, code: str, batch: int = 2_000) -> None:
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
        snapshot = inline_snapshot(principal, InlineAssistant.model_validate(ASSISTANT), now)
        async with db.transaction() as conn:  # one snapshot shared by every order
            snapshot_id = await insert_snapshot(
                conn, organization_id=principal.organization_id, content=snapshot, now=now
            )
        for start in range(0, orders, batch):
            rows = [
                order_values(
                    call_id=str(uuid.uuid4()),
                    principal=principal,
                    assistant_id=None,
                    snapshot_id=snapshot_id,
                    retry_config=snapshot["call_retry_config"],
                    timezone="America/New_York",
                    to_number=f"+1212555{100 + int(code):04d}",
                    from_number=line.phone_number,
                    status="scheduled",
                    due=later,
                    prompt_variables={"first_name": f"Contact {index}"},
                    metadata={"row": str(index)},
                    now=now,
                )
                for index in range(start, min(orders, start + batch))
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
        with contextlib.closing(sqlite3.connect(url.split(":///", 1)[1])) as conn:
            conn.execute("ANALYZE")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def seed(url: str, orders: int, code: str) -> float:
    started = time.perf_counter()
    upgrade_to_head(url)  # runs its own event loop: call it outside one
    asyncio.run(_seed(url, orders, code))
    return time.perf_counter() - started


class Seeds:
    """One seeded database per backend; each scenario gets a fresh copy."""

    def __init__(self, workdir: Path, admin_url: str, orders: int, code: str) -> None:
        self.workdir = workdir
        self.admin_url = admin_url
        self.orders = orders
        self.code = code
        self.template = f"openrevox_bench_tpl_{os.getpid()}"
        self._seeded: set[str] = set()
        self._copies: list[str] = []

    def _ensure(self, backend: str) -> None:
        if backend in self._seeded:
            return
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.workdir / 'seed.db'}"
        else:
            asyncio.run(_pg_admin(self.admin_url, f'CREATE DATABASE "{self.template}"'))
            url = _pg_url(self.admin_url, self.template)
        print(f"seeding {self.orders:,} orders on {backend} ...", flush=True)
        print(f"  seeded in {seed(url, self.orders, self.code):.1f} s", flush=True)
        self._seeded.add(backend)

    def copy(self, backend: str, label: str) -> str:
        self._ensure(backend)
        if backend == "sqlite":
            path = self.workdir / f"{label}.db"
            shutil.copyfile(self.workdir / "seed.db", path)
            return f"sqlite+aiosqlite:///{path}"
        name = f"openrevox_bench_{os.getpid()}_{label}"
        asyncio.run(
            _pg_admin(
                self.admin_url,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"',
            )
        )
        self._copies.append(name)
        return _pg_url(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        if name in self._copies:
            asyncio.run(_pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self._copies.remove(name)

    def close(self, keep: bool = False) -> None:
        for name in [] if keep else [*self._copies, self.template]:
            with contextlib.suppress(Exception):
                asyncio.run(
                    _pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )


# --------------------------------------------------------------------------------------
# Processes and CPU
# --------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


async def _backend_pids(admin_url: str, database: str) -> list[int]:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


def postgres_cpu(admin_url: str, url: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving the scenario's database (the
    server's shared processes, WAL writer and checkpointer, are not counted)."""
    pids = asyncio.run(_backend_pids(admin_url, url.rsplit("/", 1)[1]))
    return {pid: cpu_seconds(pid) for pid in pids}


def machine_busy_seconds() -> float:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def started(self) -> bool:
        return "started" in self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_workers(
    url: str, count: int, args: argparse.Namespace, workdir: Path, label: str
) -> list[WorkerProcess]:
    env = {
        **os.environ,
        "OPENREVOX_DATABASE_URL": url,
        "OPENREVOX_SIM_SPEED": str(args.sim_speed),
        "OPENREVOX_WORKER_CAPACITY": str(args.capacity),
        "OPENREVOX_TELEPHONY": "sim",
        "PYTHONUNBUFFERED": "1",
    }
    workers = []
    for number in range(count):
        log_path = workdir / f"{label}-worker{number}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "openrevox.cli", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        workers.append(WorkerProcess(process, log_path))
    deadline = time.monotonic() + 60
    while not all(worker.started() for worker in workers):
        for worker in workers:
            if worker.process.poll() is not None:
                raise RuntimeError(f"a worker exited:\n{worker.log_path.read_text()}")
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start within 60 s")
        time.sleep(0.05)
    return workers


def start_profiler(worker: WorkerProcess, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the worker (collapsed stacks, for flame graphs or grep)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(worker.process.pid), "--rate", "250"]
    command += ["--format", "raw", "--output", str(output), "--nonblocking"]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # let it attach
    return profiler


# --------------------------------------------------------------------------------------
# One scenario
# --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    workers: int
    orders: int
    attempts: int
    seconds: float
    worker_cpu: list[float]
    postgres_cpu: float
    machine_busy: float
    checks: str

    @property
    def rate(self) -> float:
        return self.attempts / self.seconds if self.seconds > 0 else 0.0


async def _make_due(url: str) -> datetime:
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


PENDING = ("queued_for_calling", "scheduled", "calling", "paused", "post_processing")


async def _pending(db: Database) -> bool:
    """Whether an order is still pending (an index probe, not a count of the table)."""
    async with db.read() as conn:
        query = sa.select(call_orders.c.id).where(call_orders.c.status.in_(PENDING)).limit(1)
        return (await conn.execute(query)).first() is not None


async def _wait_drained(url: str, limit: float) -> None:
    db = Database(create_engine(url, pool_size=1))
    deadline = time.monotonic() + limit
    try:
        while await _pending(db):
            if time.monotonic() > deadline:
                raise RuntimeError(f"orders still pending after {limit:.0f} s")
            await asyncio.sleep(0.25)
    finally:
        await db.dispose()


async def _verify(url: str, due_at: datetime) -> tuple[int, int, float, str]:
    db = Database(create_engine(url, pool_size=1))
    try:
        async with db.read() as conn:

            async def scalar(query: Any) -> Any:
                return (await conn.execute(query)).scalar_one()

            orders = await scalar(sa.select(sa.func.count()).select_from(call_orders))
            attempts = await scalar(sa.select(sa.func.count()).select_from(call_attempts))
            ledger = await scalar(sa.select(sa.func.count()).select_from(sim_ledger))
            unmatched = await scalar(
                sa.select(sa.func.count())
                .select_from(
                    call_attempts.outerjoin(
                        sim_ledger, sim_ledger.c.attempt_id == call_attempts.c.id
                    )
                )
                .where(sim_ledger.c.attempt_id.is_(None))
            )
            not_completed = await scalar(
                sa.select(sa.func.count()).where(call_orders.c.status != "completed")
            )
            last_end = await scalar(sa.select(sa.func.max(call_attempts.c.ended_at)))
    finally:
        await db.dispose()
    problems = []
    if attempts != orders:
        problems.append(f"{attempts} attempts for {orders} orders")
    if ledger != attempts or unmatched:
        problems.append(f"{ledger} ledger rows, {unmatched} attempts without one")
    if not_completed:
        problems.append(f"{not_completed} orders not completed")
    seconds = (last_end - due_at).total_seconds()
    return orders, attempts, seconds, "ok" if not problems else "; ".join(problems)


def run_scenario(
    seeds: Seeds, backend: str, count: int, args: argparse.Namespace, workdir: Path
) -> Outcome:
    label = f"{backend}-{count}w"
    url = seeds.copy(backend, label.replace("-", "_"))
    print(f"{label}: starting {count} worker process(es) ...", flush=True)
    workers = start_workers(url, count, args, workdir, label)
    try:
        time.sleep(0.5)  # let them settle into their idle poll
        pg_before = postgres_cpu(args.pg_admin_url, url) if backend == "postgresql" else {}
        cpu_before = [cpu_seconds(w.process.pid) for w in workers]
        busy_before = machine_busy_seconds()
        profilers = [
            start_profiler(worker, args.profile / f"{label}-worker{n}.txt")
            for n, worker in enumerate(workers)
            if args.profile
        ]
        due_at = asyncio.run(_make_due(url))
        asyncio.run(_wait_drained(url, args.timeout))
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        cpu_after = [cpu_seconds(w.process.pid) for w in workers]
        busy = machine_busy_seconds() - busy_before
        pg_after = postgres_cpu(args.pg_admin_url, url) if backend == "postgresql" else {}
    finally:
        for worker in workers:
            worker.stop()
    orders, attempts, seconds, checks = asyncio.run(_verify(url, due_at))
    pg_cpu = sum(max(0.0, cpu - pg_before.get(pid, 0.0)) for pid, cpu in pg_after.items())
    outcome = Outcome(
        backend=backend,
        workers=count,
        orders=orders,
        attempts=attempts,
        seconds=seconds,
        worker_cpu=[after - before for before, after in zip(cpu_before, cpu_after, strict=True)],
        postgres_cpu=pg_cpu,
        machine_busy=busy,
        checks=checks,
    )
    print(
        f"  {attempts:,} attempts in {seconds:.2f} s: {outcome.rate:,.0f} attempts/s ({checks})",
        flush=True,
    )
    if not args.keep:
        seeds.drop(url)
    return outcome


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def report(outcomes: list[Outcome], markdown: bool) -> str:
    head = (
        "backend", "worker processes", "attempts", "seconds", "attempts/s",
        "worker CPU s", "PostgreSQL CPU s", "other CPU s", "checks",
    )  # fmt: skip
    rows = [
        (
            o.backend,
            str(o.workers),
            f"{o.attempts:,}",
            f"{o.seconds:.2f}",
            f"{o.rate:,.0f}",
            " + ".join(f"{c:.1f}" for c in o.worker_cpu),
            f"{o.postgres_cpu:.1f}" if o.backend == "postgresql" else "-",
            f"{max(0.0, o.machine_busy - sum(o.worker_cpu) - o.postgres_cpu):.1f}",
            o.checks,
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
    one = next((o for o in outcomes if o.backend == "postgresql" and o.workers == 1), None)
    two = next((o for o in outcomes if o.backend == "postgresql" and o.workers == 2), None)
    if one and two and one.rate:
        lines += ["", f"PostgreSQL, 2 worker processes vs 1: {two.rate / one.rate:.2f}x"]
    return "\n".join(lines)


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pg = "?"
    with contextlib.suppress(Exception):
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {pg}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--scenarios",
        default="sqlite:1,postgresql:1,postgresql:2",
        help="comma-separated backend:worker-processes",
    )
    parser.add_argument("--capacity", type=int, default=1000, help="OPENREVOX_WORKER_CAPACITY")
    parser.add_argument("--sim-speed", type=float, default=1e9, help="OPENREVOX_SIM_SPEED")
    parser.add_argument("--code", default="42", help="sandbox behaviour XX of every number")
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("OPENREVOX_TEST_POSTGRES_URL", DEFAULT_PG_ADMIN_URL),
    )
    parser.add_argument("--keep", action="store_true", help="keep the scenario databases")
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy each worker into this directory"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    scenarios = []
    for item in args.scenarios.split(","):
        backend, _, count = item.strip().partition(":")
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
        scenarios.append((backend, int(count or 1)))

    print(machine(), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="openrevox-engine-bench-"))
    seeds = Seeds(workdir, args.pg_admin_url, args.orders, args.code)
    outcomes = []
    try:
        for backend, count in scenarios:
            outcomes.append(run_scenario(seeds, backend, count, args, workdir))
    finally:
        seeds.close(keep=args.keep)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(outcomes, args.markdown))


if __name__ == "__main__":
    main()
