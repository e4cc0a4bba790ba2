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
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _harness import (
    Orders,
    ProcessCpu,
    Seeds,
    add_scenario_arguments,
    all_week_retry,
    machine,
    make_due,
    postgres_cpu,
    start_profiler,
    start_workers,
    stop_profilers,
    table_lines,
    wait_drained,
    worker_env,
)

from openrevox.store.db import Database, create_engine
from openrevox.store.tables import call_attempts, call_orders, sim_ledger

ASSISTANT: dict[str, Any] = {
    "prompt": "You call on behalf of Acme Dental to confirm {{first_name}}'s appointment.",
    "first_sentence": "Hi {{first_name}}, this is Acme Dental.",
    "first_sentence_mode": "static",
    "call_retry_config": all_week_retry(3),
}


def seeded_orders(count: int, code: str) -> Orders:
    """``count`` orders to ``+1 212 555 01XX``, XX the sandbox behaviour ``code``."""
    number = f"+1212555{100 + int(code):04d}"
    return Orders(
        count, ASSISTANT, "America/New_York", lambda i: (number, {"first_name": f"Contact {i}"})
    )


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
    env = worker_env(url, args.sim_speed, args.capacity)
    workers = start_workers(count, env, workdir, prefix=f"{label}-")
    try:
        time.sleep(0.5)  # let them settle into their idle poll
        pg_before = postgres_cpu(args.pg_admin_url, url) if backend == "postgresql" else {}
        cpu = ProcessCpu([w.process.pid for w in workers])
        profilers = [
            start_profiler(worker.process.pid, args.profile / f"{label}-worker{n}.txt")
            for n, worker in enumerate(workers)
            if args.profile
        ]
        due_at = asyncio.run(make_due(url))
        asyncio.run(wait_drained(url, args.timeout))
        stop_profilers(profilers)
        worker_cpu, busy = cpu.spent(), cpu.machine_busy()
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
        worker_cpu=worker_cpu,
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
    lines = table_lines(head, rows, markdown)
    one = next((o for o in outcomes if o.backend == "postgresql" and o.workers == 1), None)
    two = next((o for o in outcomes if o.backend == "postgresql" and o.workers == 2), None)
    if one and two and one.rate:
        lines += ["", f"PostgreSQL, 2 worker processes vs 1: {two.rate / one.rate:.2f}x"]
    return "\n".join(lines)


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
    add_scenario_arguments(parser, profile_help="py-spy each worker into this directory")
    args = parser.parse_args()
    scenarios = []
    for item in args.scenarios.split(","):
        backend, _, count = item.strip().partition(":")
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
        scenarios.append((backend, int(count or 1)))

    print(machine(), flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="openrevox-engine-bench-"))
    seeds = Seeds(workdir, args.pg_admin_url, seeded_orders(args.orders, args.code))
    outcomes = []
    try:
        for backend, count in scenarios:
            outcomes.append(run_scenario(seeds, backend, count, args, workdir))
    finally:
        seeds.close(keep=args.keep)  # the work directory too
    print()
    print(report(outcomes, args.markdown))


if __name__ == "__main__":
    main()
