"""A worker dies mid-run (SIGKILL) while another keeps going: nothing is lost, nothing is
dialled twice, its live attempts end ``error`` (``worker_lost``) and count, their orders
retry after their delay, and no concurrency limit is ever exceeded.

The deployment is the real one, as separate processes on one fresh PostgreSQL database:
``openrevox orgs create``, one ``openrevox api`` and two ``openrevox worker`` processes,
driven through the official SDK with a test key. Everything is checked afterwards from
the database: the orders, their attempts and the simulated network's own ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
import revox

from tests.conftest import POSTGRES_ADMIN_URL, _create_postgres_database, _drop_postgres_database
from tests.dispatch.test_sandbox_numbers import retry_config

pytestmark = pytest.mark.slow

CALLS = 1000
SIM_SPEED = 50.0  # an answered call lasts well under a second
LEASE_SECONDS = 5.0  # a killed worker's attempts are recovered about 3-5 s after it dies
RECOVERY_SECONDS = 0.5
ORG_LIMIT = 16
SERVER_KEYS = {"alpha": 2, "beta": 3, "gamma": 5}  # PUT /concurrency-keys/{key}
LEGACY_KEY, LEGACY_MAX = "delta", 2  # concurrency.max sent with each call (SDK <= 0.3.0)
# Sandbox behaviours (SANDBOX.md): a person, busy, no answer, a number that does not
# exist (stops at once), and people reached only after 1 or 2 failed attempts.
CODES = ("00", "00", "00", "40", "41", "42", "51", "52", "61", "62")
# A few people who never stop talking, cut at max_call_duration_secs: at SIM_SPEED these
# calls outlive a lease, which their worker must renew or lose them.
LONG_CODE, LONG_CALL_SECONDS, LONG_SHARE = "06", 400.0, 0.02
TERMINAL = ("completed", "cancelled", "errored")
LIVE = ("queued", "ringing", "ongoing")
# Calls come in at a steady pace, a little under what the limits let through, so that
# when the worker dies few orders queue and a retry dials as soon as its delay allows
# (with a long queue, a retry made too early would hide behind it).
PLACE_PER_SECOND = 20.0
DRAIN_TIMEOUT = 150.0


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Deployment:
    """The processes of one deployment on one database; stopped and logged on exit."""

    def __init__(self, database_url: str, logs: Path) -> None:
        self.database_url = database_url
        self.logs = logs
        self.processes: list[Process] = []
        self.env = {
            **os.environ,
            "OPENREVOX_DATABASE_URL": database_url,
            "OPENREVOX_SIM_SPEED": str(SIM_SPEED),
            "OPENREVOX_LEASE_SECONDS": str(LEASE_SECONDS),
            "OPENREVOX_RECOVERY_SECONDS": str(RECOVERY_SECONDS),
            "OPENREVOX_RATE_LIMIT_PER_SECOND": "0",
            "OPENREVOX_DATA_DIR": str(logs / "data"),
            "PYTHONUNBUFFERED": "1",
        }

    def command(self, *args: str) -> list[str]:
        script = Path(sys.executable).with_name("openrevox")
        if script.exists():
            return [str(script), *args]
        return [sys.executable, "-m", "openrevox.cli", *args]

    def run(self, *args: str) -> str:
        done = subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, name: str, *args: str) -> Process:
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                self.command(*args), env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(condition: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _query(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def _own_reason(attempt: asyncpg.Record) -> str | None:
    """openrevox's own reason for an attempt's end (its ``openrevox`` object)."""
    facts = json.loads(attempt["openrevox"]) if attempt["openrevox"] else {}
    return facts.get("error_reason")  # type: ignore[no-any-return]


@pytest.fixture
def database() -> Iterator[str]:
    name = asyncio.run(_create_postgres_database())
    yield f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
    asyncio.run(_drop_postgres_database(name))


@dataclass(frozen=True)
class Placed:
    call_id: str
    code: str
    attempts: int
    delay: int
    key: str | None


class Caller:
    """Places CALLS calls through the SDK at PLACE_PER_SECOND, in the background."""

    def __init__(self, client: revox.Revox) -> None:
        rng = random.Random(20261124)
        keys: list[str | None] = [*SERVER_KEYS, LEGACY_KEY, None, None, None, None]
        self.client = client
        self.plans = [
            (
                LONG_CODE if rng.random() < LONG_SHARE else rng.choice(CODES),
                rng.choice((2, 3)),
                rng.choice((0, 1, 1)),
                rng.choice(keys),
            )
            for _ in range(CALLS)
        ]
        self.pool = ThreadPoolExecutor(max_workers=8)
        start = time.monotonic()
        self.futures = [
            self.pool.submit(self._place, plan, start + index / PLACE_PER_SECOND)
            for index, plan in enumerate(self.plans)
        ]

    def _place(self, plan: tuple[str, int, int, str | None], at: float) -> Placed:
        time.sleep(max(0.0, at - time.monotonic()))
        code, attempts, delay, key = plan
        extra: dict[str, Any] = {}
        long = {"max_call_duration_secs": LONG_CALL_SECONDS} if code == LONG_CODE else {}
        if key == LEGACY_KEY:
            extra["concurrency"] = {"key": key, "max": LEGACY_MAX}
        elif key is not None:
            extra["concurrency"] = {"key": key}
        call = self.client.call.create(
            phone_number=f"+1212555{100 + int(code):04d}",
            assistant={  # type: ignore[arg-type]
                "prompt": "You call on behalf of Acme to confirm an appointment.",
                "first_sentence": "Hello, this is Acme.",
                "first_sentence_mode": "static",
                "call_retry_config": retry_config(attempts, delay=delay),
                **long,
            },
            **extra,
        ).call
        return Placed(call.id, code, attempts, delay, key)

    def placed(self) -> int:
        return sum(future.done() for future in self.futures)

    def result(self) -> list[Placed]:
        try:
            return [future.result(timeout=120) for future in self.futures]
        finally:
            self.pool.shutdown(cancel_futures=True)


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals [start, end) live at one instant (an end frees its slot before
    a start at the same instant takes it)."""
    events = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    live = peak = 0
    for _, change in events:
        live += change
        peak = max(peak, live)
    return peak


def test_a_killed_worker_loses_nothing_and_breaks_no_limit(database: str, tmp_path: Path) -> None:
    started = time.monotonic()
    deployment = Deployment(database, tmp_path)
    caller: Caller | None = None
    try:
        org = json.loads(deployment.run("orgs", "create", "Crash test", "--json"))
        _query(
            database,
            "UPDATE organizations SET concurrency_limit = $1 WHERE id = $2",
            ORG_LIMIT,
            org["organization_id"],
        )
        port = _free_port()
        api = deployment.start("api", "api", "--port", str(port))
        deployment.start("worker-1", "worker")
        victim = deployment.start("worker-2", "worker")
        base = f"http://127.0.0.1:{port}"

        def api_up() -> bool:
            assert api.popen.poll() is None, api.output()
            with contextlib.suppress(httpx.TransportError):
                return httpx.get(f"{base}/docs", timeout=2).status_code == 200
            return False

        _wait_for(api_up, 60, "the API")
        headers = {"Authorization": f"Bearer {org['test_key']}"}
        for key, limit in SERVER_KEYS.items():
            response = httpx.put(
                f"{base}/api/concurrency-keys/{key}",
                json={"max_concurrent_calls": limit},
                headers=headers,
            )
            assert response.status_code == 200, response.text
        client = revox.Revox(api_key=org["test_key"], base_url=f"{base}/api", max_retries=2)
        caller = Caller(client)

        # Mid-run, while it carries live attempts and few orders wait for a slot, the
        # victim dies without a word (calls keep coming in).
        victim_tag = f"%:{victim.popen.pid}:%"

        def victim_busy() -> bool:
            assert victim.popen.poll() is None, victim.output()
            waiting, live, retryable = _query(
                database,
                "SELECT (SELECT count(*) FROM call_orders WHERE status = 'queued_for_calling'"
                "   AND concurrency_key IS NULL),"
                " count(*), count(*) FILTER (WHERE a.attempt_number"
                "   < (o.call_retry_config->>'max_retry_attempts')::int)"
                " FROM call_attempts a JOIN call_orders o ON o.id = a.call_order_id"
                " WHERE a.status = ANY($1::text[]) AND a.worker_id LIKE $2",
                list(LIVE),
                victim_tag,
            )[0]
            placed = caller.placed()
            if placed < CALLS * 0.4:
                return False
            # Some of its calls have attempts left: their retries are checked below.
            return bool(live >= 4 and retryable >= 2 and (waiting <= 2 or placed == CALLS))

        _wait_for(victim_busy, 120, "the victim to carry live attempts mid-run", 0.02)
        victim.popen.send_signal(signal.SIGKILL)
        killed_at, killed_after = datetime.now(UTC), time.monotonic() - started
        victim.popen.wait()
        time.sleep(1.0)
        deployment.start("worker-3", "worker")  # a replacement comes up
        placed = caller.result()

        def drained() -> bool:
            for process in deployment.processes:
                if process is not victim:
                    assert process.popen.poll() is None, process.output()
            pending = _query(
                database,
                "SELECT count(*) FROM call_orders WHERE NOT status = ANY($1::text[])",
                list(TERMINAL),
            )[0][0]
            return bool(pending == 0)

        _wait_for(drained, DRAIN_TIMEOUT, "every order to end", 0.25)
        run_seconds = time.monotonic() - started
    finally:
        if caller is not None:
            caller.pool.shutdown(wait=False, cancel_futures=True)
        deployment.stop_all()

    orders = {r["id"]: r for r in _query(database, "SELECT * FROM call_orders")}
    attempts = _query(
        database, "SELECT * FROM call_attempts ORDER BY call_order_id, attempt_number"
    )
    ledger = _query(database, "SELECT * FROM sim_ledger")
    by_order: dict[str, list[asyncpg.Record]] = defaultdict(list)
    for attempt in attempts:
        by_order[attempt["call_order_id"]].append(attempt)
    plans = {p.call_id: p for p in placed}
    assert set(orders) == set(plans)

    # 1. Every order ended, and completed: its attempts tell why.
    assert Counter(o["status"] for o in orders.values()) == {"completed": CALLS}

    # 2. The ledger and the attempts agree: no dial lost, none made twice.
    dialled = Counter(row["attempt_id"] for row in ledger)
    assert max(dialled.values()) == 1
    attempt_ids = {a["id"]: a for a in attempts}
    for row in ledger:
        attempt = attempt_ids.get(row["attempt_id"])
        assert attempt is not None, f"the network dialled an attempt the engine never made: {row}"
        assert (row["call_order_id"], row["attempt_number"]) == (
            attempt["call_order_id"],
            attempt["attempt_number"],
        )
    lost = [a for a in attempts if _own_reason(a) == "worker_lost"]
    never_dialled = [a for a in attempts if a["id"] not in dialled]
    for attempt in never_dialled:
        # Only an attempt claimed by the killed worker just before it died may have no
        # dial: claimed, never handed to the network. It still counts, as a lost attempt.
        assert _own_reason(attempt) == "worker_lost", dict(attempt)
    assert not [a for a in attempts if _own_reason(a) == "provider_error"]

    # 3. Only the killed worker lost attempts; they ended error/worker_lost after it died.
    victim_attempts = [a for a in attempts if f":{victim.popen.pid}:" in a["worker_id"]]
    assert lost, "the victim was killed with live attempts: some must have been recovered"
    assert {a["id"] for a in lost} <= {a["id"] for a in victim_attempts}
    for attempt in victim_attempts:
        if _own_reason(attempt) == "worker_lost":
            assert attempt["status"] == "error" and attempt["ended_by"] == "system"
            assert attempt["end_reason"] == "connection_timeout"  # the contract's value
            assert attempt["ended_at"] > killed_at
        else:
            assert attempt["status"] == "completed" and attempt["ended_at"] <= killed_at
    recovery_delays = [(a["ended_at"] - killed_at).total_seconds() for a in lost]

    # 4. Attempts count, in order, within each order's maximum; every retry (those after
    # a lost worker included) waited for its delay after the previous attempt ended.
    for order_id, order in orders.items():
        plan, its = plans[order_id], by_order[order_id]
        assert [a["attempt_number"] for a in its] == list(range(1, len(its) + 1))
        assert order["calls_count"] == len(its) <= plan.attempts
        assert all(a["status"] in ("completed", "error") and a["ended_at"] for a in its)
        for before, after in itertools.pairwise(its):
            waited = after["started_at"] - before["ended_at"]
            assert waited >= timedelta(seconds=plan.delay), (order_id, waited, plan.delay)
        last = its[-1]
        if _own_reason(last) == "worker_lost" and len(its) < plan.attempts:
            raise AssertionError(f"order {order_id} was not retried after its lost attempt")
    retried_after_loss = [
        a for a in lost if a["attempt_number"] < plans[a["call_order_id"]].attempts
    ]
    beyond_delay = sorted(
        (
            by_order[a["call_order_id"]][a["attempt_number"]]["started_at"] - a["ended_at"]
        ).total_seconds()
        - plans[a["call_order_id"]].delay
        for a in retried_after_loss
    )
    assert retried_after_loss, "some lost attempt should have had attempts left"

    # 5. No limit was ever exceeded. An attempt holds its slots at least over
    # [started_at, ended_at); a killed worker's until it was recovered.
    limits: dict[str, int] = {"org": ORG_LIMIT, **SERVER_KEYS, LEGACY_KEY: LEGACY_MAX}
    scopes: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for attempt in attempts:
        interval = (attempt["started_at"], attempt["ended_at"])
        assert interval[0] <= interval[1], dict(attempt)
        scopes["org"].append(interval)
        order = orders[attempt["call_order_id"]]
        if order["concurrency_key"]:
            scopes[order["concurrency_key"]].append(interval)
    legacy = [o for o in orders.values() if o["concurrency_key"] == LEGACY_KEY]
    assert legacy and all(o["concurrency_max"] == LEGACY_MAX for o in legacy)
    peaks = {scope: _max_overlap(intervals) for scope, intervals in scopes.items()}
    for scope, peak in peaks.items():
        assert peak <= limits[scope], f"{scope}: {peak} live at once, limit {limits[scope]}"
    assert peaks["org"] >= ORG_LIMIT // 2, f"the org limit was hardly used: {peaks}"

    # 6. The surviving processes never failed a write.
    for process in deployment.processes:
        if process is victim:
            continue
        output = process.output()
        assert "Traceback" not in output, f"{process.name}:\n{output[-5000:]}"
        assert "batch write failed" not in output, process.name

    retries = Counter(len(its) for its in by_order.values())
    print(
        f"\n{CALLS} orders, {len(attempts)} attempts ({dict(sorted(retries.items()))} orders "
        f"by attempts made), {len(ledger)} dials in the ledger; killed a worker "
        f"{killed_after:.0f} s into a {run_seconds:.0f} s run: {len(lost)} attempts lost and "
        f"recovered "
        f"{min(recovery_delays):.1f}-{max(recovery_delays):.1f} s after the kill "
        f"({len(never_dialled)} claimed but never dialled), {len(retried_after_loss)} "
        f"retried {', '.join(f'{w:.1f}' for w in beyond_delay)} s after their delay; "
        f"peak concurrency {peaks} within limits {limits}"
    )
