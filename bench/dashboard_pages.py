"""Benchmark: the dashboard's pages with 100k call orders seeded, 4 concurrent requests.

    .venv/bin/python bench/dashboard_pages.py [--backend sqlite|postgresql|both]
        [--orders 100000] [--seconds 10] [--concurrency 4] [--turns 40]

For each backend:

1. seed a fresh database exactly as ``bench/get_call.py`` does (one organization, one
   assistant, ``--orders`` orders of 3 attempts each, created over 90 days), then give the
   organization's user a dashboard password, give the sample call's 3 attempts ``--turns``
   transcript turns each (tool calls among them) and one webhook event with 2 deliveries;
2. start ``openrevox api`` (the real server: one process, access log off, rate limiter off)
   in a subprocess and sign in through the form (session cookie);
3. load each page with ``--concurrency`` keep-alive connections (httpx, in this process)
   for ``--seconds`` after a warm-up, one page after the other, and print p50/p95/p99 of
   the response times, the requests per second and the server process's CPU time per
   request (user + system, from /proc: what the page costs, whatever else the machine
   runs).

Pages: the calls list (first page of 50, counted up to 1,000), filtered (status, result,
assistant and a 30-day range), a text search (a CRM id in the metadata: one match, so the
whole organization is searched), the list's 200th page by keyset, and one call page.
The load generator shares the machine with the server (and PostgreSQL): figures include
that contention. This prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from get_call import DEFAULT_PG_ADMIN_URL, Seeded, fresh_database, seed

from openrevox.domain.passwords import hash_password
from openrevox.store.db import Database, create_engine
from openrevox.store.tables import (
    call_attempts,
    call_orders,
    users,
    webhook_deliveries,
    webhook_events,
)

PASSWORD = "bench password, not secret"
EMAIL = "bench@openrevox.local"


def _turns(count: int, attempt: int) -> list[dict[str, object]]:
    turns: list[dict[str, object]] = []
    for index in range(count):
        if index % 10 == 9:
            turns.append(
                {
                    "role": "tool",
                    "content": "ok",
                    "tool_name": "lookup_slot",
                    "tool_arguments": {"day": "thursday", "turn": index},
                    "tool_is_error": False,
                }
            )
        else:
            turns.append(
                {
                    "role": "assistant" if index % 2 == 0 else "user",
                    "content": f"Attempt {attempt}, turn {index}: a sentence of about the "
                    "length people say on the phone, give or take a few words.",
                }
            )
    return turns


async def _prepare(url: str, seeded: Seeded, turns: int) -> tuple[str, str]:
    """The password, the sample call's long transcripts and webhook log; returns the
    sample call's assistant id and a CRM id to search for."""
    db = Database(create_engine(url, pool_size=1))
    now = datetime.now(UTC)
    try:
        async with db.transaction() as conn:
            await conn.execute(
                sa.update(users).where(users.c.email == EMAIL).values(
                    password_hash=hash_password(PASSWORD)
                )
            )  # fmt: skip
            attempts = (
                await conn.execute(
                    sa.select(call_attempts.c.id, call_attempts.c.attempt_number).where(
                        call_attempts.c.call_order_id == seeded.sample_id
                    )
                )
            ).all()
            for attempt_id, number in attempts:
                await conn.execute(
                    sa.update(call_attempts)
                    .where(call_attempts.c.id == attempt_id)
                    .values(transcript=_turns(turns, number))
                )
            order = (
                await conn.execute(
                    sa.select(
                        call_orders.c.organization_id, call_orders.c.assistant_id,
                        call_orders.c.metadata,
                    ).where(call_orders.c.id == seeded.sample_id)
                )
            ).one()  # fmt: skip
            event_id = "msg_" + uuid.uuid4().hex
            await conn.execute(
                sa.insert(webhook_events).values(
                    id=event_id, organization_id=order.organization_id, mode="live",
                    event_type="call.completed", call_order_id=seeded.sample_id,
                    attempt_id=None, url="https://example.com/hook", payload={"bench": True},
                    status="delivered", tries=2, next_attempt_at=None, last_error=None,
                    created_at=now, delivered_at=now,
                )
            )  # fmt: skip
            for number, code in ((1, 500), (2, 200)):
                await conn.execute(
                    sa.insert(webhook_deliveries).values(
                        id=str(uuid.uuid4()), event_id=event_id, try_number=number,
                        attempted_at=now, status_code=code, error=None, duration_ms=40,
                        response_excerpt="",
                    )
                )  # fmt: skip
        if db.dialect == "postgresql":
            # As autovacuum would have by now (inserts trigger it): the visibility map set,
            # so the narrow indexes are read without visiting the table.
            async with db.engine.connect() as conn:
                autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql("VACUUM ANALYZE")
        return str(order.assistant_id), str(order.metadata["crm_id"])
    finally:
        await db.dispose()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(url: str, workdir: Path) -> Server:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "OPENREVOX_DATABASE_URL": url,
        "OPENREVOX_DATA_DIR": str(workdir / "data"),
        "OPENREVOX_RATE_LIMIT_PER_SECOND": "0",
    }
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "openrevox.cli", "api", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/app/sign-in", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise SystemExit(f"server not ready:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def sign_in(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        page = client.get("/app/sign-in")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found
        answer = client.post(
            "/app/sign-in",
            data={"csrf": found.group(1), "email": EMAIL, "password": PASSWORD, "next": ""},
        )
        assert answer.status_code == 303, answer.text[:300]
        client.post("/app/mode", data={"csrf": _csrf(client), "mode": "live"})
        return dict(client.cookies)


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/app/calls").text)
    assert found
    return found.group(1)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    base: str, cookies: dict[str, str], path: str, seconds: float, concurrency: int
) -> list[float]:
    timings: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = await client.get(path)
                elapsed = time.perf_counter() - started
                if answer.status_code != 200:
                    raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
                timings.append(elapsed)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def older_page_path(base: str, cookies: dict[str, str], pages: int) -> str:
    """The list's ``pages``-th page, reached by following its "Older" links."""
    path = "/app/calls"
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        for _ in range(pages - 1):
            found = re.search(r'href="(\?[^"]+)" rel="next"', client.get(path).text)
            assert found, "ran out of pages"
            path = "/app/calls" + found.group(1).replace("&amp;", "&")
    return path


def run_backend(backend: str, args: argparse.Namespace) -> list[tuple[str, list[float], float]]:
    with tempfile.TemporaryDirectory(prefix="openrevox-dash-bench-") as tmp:
        workdir = Path(tmp)
        with fresh_database(backend, workdir, args.pg_admin_url) as url:
            seeded = seed(url, args.orders, 5_000)
            assistant_id, crm_id = asyncio.run(_prepare(url, seeded, args.turns))
            server = start(url, workdir)
            try:
                cookies = sign_in(server.url)
                since = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
                pages = {
                    "list (default)": "/app/calls",
                    "list (filtered)": (
                        f"/app/calls?status=completed&result=human&assistant={assistant_id}"
                        f"&from={since}"
                    ),
                    "list (text search)": f"/app/calls?q={crm_id}",
                    "list (page 200)": older_page_path(server.url, cookies, 200),
                    f"call (3 attempts x {args.turns} turns)": f"/app/calls/{seeded.sample_id}",
                }
                results = []
                for name, path in pages.items():
                    asyncio.run(load(server.url, cookies, path, 1.0, args.concurrency))  # warm-up
                    cpu = cpu_seconds(server.process.pid)
                    timings = asyncio.run(
                        load(server.url, cookies, path, args.seconds, args.concurrency)
                    )
                    cpu_ms = (cpu_seconds(server.process.pid) - cpu) / len(timings) * 1000
                    results.append((name, timings, cpu_ms))
                    line = _line(timings, args.seconds)
                    print(f"  {name}: {line}  server CPU {cpu_ms:.1f} ms/req", flush=True)
                print(f"  machine load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
                return results
            finally:
                server.stop()


def _line(timings: list[float], seconds: float) -> str:
    return (
        f"p50 {percentile(timings, 0.50):6.1f} ms  p95 {percentile(timings, 0.95):6.1f} ms  "
        f"p99 {percentile(timings, 0.99):6.1f} ms  {len(timings) / seconds:6.1f} req/s"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--turns", type=int, default=40, help="per attempt of the call page")
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    table = []
    for backend in backends:
        print(f"{backend}: {args.orders:,} orders, {args.concurrency} concurrent requests")
        for name, timings, cpu_ms in run_backend(backend, args):
            table.append((backend, name, timings, cpu_ms))
    print("\n| backend | page | p50 ms | p95 ms | p99 ms | req/s | server CPU ms/req |")
    print("|---|---|---|---|---|---|---|")
    for backend, name, timings, cpu_ms in table:
        print(
            f"| {backend} | {name} | {percentile(timings, 0.5):.1f} | "
            f"{percentile(timings, 0.95):.1f} | {percentile(timings, 0.99):.1f} | "
            f"{len(timings) / args.seconds:.1f} | {cpu_ms:.1f} |"
        )


if __name__ == "__main__":
    main()
