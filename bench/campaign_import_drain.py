"""Benchmark: a campaign of 100,000 contacts, from a CSV file to the simulator's ledger.

    .venv/bin/python bench/campaign_import_drain.py [--contacts 100000]
        [--backend sqlite|postgresql|both] [--workers 1] [--markdown]

For each backend, on a fresh database (a SQLite file in a temporary directory, or a
PostgreSQL database created here and dropped after):

1. write a CSV of ``--contacts`` lines: a phone column and five prompt-variable columns.
   Most lines are distinct contacts; 1 % repeat an earlier number in another format (the
   import collapses them) and 0.5 % are bad (not a number, too short, no number, an empty
   prompt variable: the import rejects them line by line). The numbers are the sandbox's
   (docs/sandbox.md): the reserved ``+1 NPA 555 01XX`` numbers of 40 behaviours over every
   valid area code, and, since that range holds too few numbers for 100,000 distinct
   contacts, other ``+1 NPA 555 XXXX`` numbers, which the sandbox answers as ``00``;
2. start the real server, ``openrevox api`` (uvicorn), on that database. Its first start
   bootstraps the default organization with ``OPENREVOX_BOOTSTRAP_API_KEY`` and a
   concurrency limit from ``OPENREVOX_ORGANIZATION_CONCURRENCY_LIMIT``, raised so that
   no limit caps the drain. Then start ``--workers`` ``openrevox worker`` processes with
   ``OPENREVOX_SIM_SPEED`` huge: every simulated duration (ringing, speech, maximum
   duration) is divided by it, so each call ends as soon as it is dialled and the drain
   measures the platform, not simulated time;
3. create the assistant with the official SDK, then time the import: the CSV posted to
   ``POST /campaigns/import`` (text/csv), the route a user's script calls;
4. put 0.1 % of the imported numbers on the organization's do-not-contact list (the
   table a "stop calling me" fills), then time the launch (``campaigns.launch``, every
   row) and the drain: until no order of the campaign is pending, measured to the last
   attempt's ``ended_at``;
5. read ``GET /campaigns/{id}/statistics`` and ``GET /campaigns/{id}`` and check them
   against the expected figures of the CSV, the attempts and the ``sim_ledger`` table:
   every dial in the ledger once, one per attempt, each with the behaviour its number
   and attempt number give in docs/sandbox.md, and the dial errors in the numbers the
   retry rules of docs/behaviour.md give. It prints PASS or FAIL with every figure.

The server, the workers, PostgreSQL and this script share the machine's cores. This
prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import random
import secrets
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import revox
import sqlalchemy as sa
from _harness import (
    Process,
    add_pg_argument,
    all_week_retry,
    backend_pids,
    background_load,
    cpu_seconds,
    machine,
    machine_busy_seconds,
    pg_admin,
    pg_url,
    spawn,
    start_workers,
    table_lines,
    wait_until_none,
)

from openrevox.store.db import Database, create_engine
from openrevox.store.repositories.dispatch import add_do_not_contact
from openrevox.store.tables import call_attempts, call_orders, sim_ledger

SIM_SPEED = 1e9
MAX_ATTEMPTS = 2
ASSISTANT: dict[str, Any] = {
    "name": "Acme Dental reminders",
    "prompt": (
        "You call {{first_name}} {{last_name}} on behalf of Acme Dental to confirm the "
        "appointment of {{appointment}} at the {{city}} clinic."
    ),
    "first_sentence": "Hi {{first_name}}, this is Acme Dental.",
    "first_sentence_mode": "static",
    "call_retry_config": all_week_retry(MAX_ATTEMPTS),
}
LAUNCH_EVERYTHING: Any = {
    "filters": {
        "assignee_ids": [],
        "directions": [],
        "outcomes": [],
        "results": [],
        "statuses": [],
    },
    "rows": {"call_ids": [], "mode": "all_except"},
}

# --------------------------------------------------------------------------------------
# The sandbox's contract (docs/sandbox.md, docs/behaviour.md), written out here so that
# the check does not trust the code it checks.
# --------------------------------------------------------------------------------------

DIAL_ERRORS = {
    "40": "busy",
    "41": "no_answer",
    "42": "number_non_attributed",
    "43": "temporarily_unavailable",
    "44": "too_many_calls",
    "45": "no_international_permission",
    "46": "precondition_failed",
    "47": "non_classified_error",
}
STOPPING_DIAL_ERRORS = {
    "number_non_attributed",
    "no_international_permission",
    "precondition_failed",
}
PERSONAS = ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "20", "21", "30", "48")
FAILING_FIRST = tuple(f"{kind}{n}" for kind in "56" for n in range(1, 10))
RESERVED_CODES = (*DIAL_ERRORS, *FAILING_FIRST, *PERSONAS)


def behaviour(number: str, attempt_number: int) -> str:
    """What the sandbox does on this dial: a dial error, or ``persona:XX``."""
    code = number[-2:] if number[-4:-2] == "01" and number[5:8] == "555" else "00"
    if code in DIAL_ERRORS:
        return DIAL_ERRORS[code]
    if code in FAILING_FIRST:
        if attempt_number <= int(code[1]):
            return "no_answer" if code[0] == "5" else "busy"
        return "persona:00"
    return f"persona:{code}" if code in PERSONAS else "persona:00"


def dial_errors_expected(number: str) -> Counter[str]:
    """The dial errors this number's order must show. A retrying dial error is followed
    by another dial while attempts remain; a stopping one ends the order. What follows
    an answered call depends on the conversation, so it is not predicted here."""
    found: Counter[str] = Counter()
    for attempt_number in range(1, MAX_ATTEMPTS + 1):
        outcome = behaviour(number, attempt_number)
        if outcome.startswith("persona:"):
            break
        found[outcome] += 1
        if outcome in STOPPING_DIAL_ERRORS:
            break
    return found


# --------------------------------------------------------------------------------------
# The contacts
# --------------------------------------------------------------------------------------

FIRST_NAMES = ("Alex", "Sam", "Maria", "Chen", "Fatima", "Noah", "Olga", "Ravi", "Lea", "Tom")
LAST_NAMES = ("Martin", "Garcia", "Nguyen", "Smith", "Kowalski", "Haddad", "Okafor", "Rossi")
CITIES = ("Brooklyn", "Oakland", "Austin", "Denver", "Tampa", "Boise", "Reno", "Salem")
HEADER = ("phone_number", "first_name", "last_name", "company", "city", "appointment")
DUPLICATE_SHARE = 0.01
BAD_SHARE = 0.005
DO_NOT_CONTACT_SHARE = 0.001
RESERVED_SHARE = 0.2


def valid_area_codes() -> list[str]:
    """North American area codes whose 555 numbers are valid (451 of them)."""
    found = []
    for npa in range(200, 1000):
        parsed = phonenumbers.parse(f"+1{npa}5550100")
        if phonenumbers.is_valid_number(parsed):
            found.append(str(npa))
    return found


def national(number: str) -> str:
    """``+12125550140`` as a person types it: ``(212) 555-0140``."""
    return f"({number[2:5]}) {number[5:8]}-{number[8:]}"


@dataclass
class Contacts:
    """The CSV and what importing and dialling it must give."""

    csv_text: str
    lines: int
    distinct: list[str]  # E.164, in file order
    duplicates: int
    bad_lines: list[int]
    do_not_contact: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return len(self.distinct)

    @property
    def launched(self) -> list[str]:
        skipped = set(self.do_not_contact)
        return [number for number in self.distinct if number not in skipped]


def _numbers(count: int, rng: random.Random) -> Iterator[str]:
    """``count`` distinct numbers: reserved ones (every behaviour used here, each area
    code) up to RESERVED_SHARE, then other 555 numbers the sandbox answers as 00."""
    areas = valid_area_codes()
    reserved = [f"+1{area}55501{code}" for area in areas for code in RESERVED_CODES]
    rng.shuffle(reserved)
    taken = reserved[: min(len(reserved), round(count * RESERVED_SHARE))]
    others = (f"+1{area}555{line:04d}" for line in range(200, 10_000) for area in areas)
    needed = count - len(taken)
    taken += [number for number, _ in zip(others, range(needed), strict=False)]
    rng.shuffle(taken)
    return iter(taken)


def _variables(rng: random.Random, index: int) -> list[str]:
    return [
        rng.choice(FIRST_NAMES),
        rng.choice(LAST_NAMES),
        f"Company {index % 997}",
        rng.choice(CITIES),
        f"2027-0{1 + index % 9}-{10 + index % 18} {9 + index % 8}:30",
    ]


def _bad_row(kind: int, spare: str, rng: random.Random, index: int) -> list[str]:
    variables = _variables(rng, index)
    if kind == 0:
        return ["not a number", *variables]
    if kind == 1:
        return [spare[:-3], *variables]  # too short to be valid
    if kind == 2:
        return ["", *variables]  # no number, other cells filled
    variables[0] = ""  # an empty cell the prompt needs
    return [spare, *variables]


def make_contacts(lines: int, seed: int = 6) -> Contacts:
    rng = random.Random(seed)
    bad = round(lines * BAD_SHARE)
    duplicates = round(lines * DUPLICATE_SHARE)
    distinct = lines - bad - duplicates
    numbers = _numbers(distinct + bad, rng)  # bad rows get numbers of their own
    kinds = ["good"] * distinct + ["duplicate"] * duplicates + ["bad"] * bad
    rng.shuffle(kinds)
    first_good = kinds.index("good")
    kinds.insert(0, kinds.pop(first_good))  # a duplicate needs an earlier number
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    seen: list[str] = []
    bad_lines: list[int] = []
    for index, kind in enumerate(kinds):
        line = index + 2  # the header is line 1
        if kind == "good":
            number = next(numbers)
            seen.append(number)
            writer.writerow([number, *_variables(rng, index)])
        elif kind == "duplicate":
            writer.writerow([national(rng.choice(seen)), *_variables(rng, index)])
        else:
            bad_lines.append(line)
            writer.writerow(_bad_row(len(bad_lines) % 4, next(numbers), rng, index))
    contacts = Contacts(
        csv_text=out.getvalue(),
        lines=lines,
        distinct=seen,
        duplicates=duplicates,
        bad_lines=bad_lines,
    )
    # Do-not-contact numbers among those the sandbox answers: dial-error counts stay exact.
    answered = [n for n in seen if behaviour(n, 1) == "persona:00" and n[-4:-2] != "01"]
    contacts.do_not_contact = rng.sample(answered, round(distinct * DO_NOT_CONTACT_SHARE))
    return contacts


# --------------------------------------------------------------------------------------
# Databases and processes
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(backend: str, workdir: Path, pg_admin_url: str) -> Iterator[str]:
    """The URL of a new, empty database; dropped (PostgreSQL) on the way out."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{(workdir / 'campaign.db').as_posix()}"
        return
    name = f"openrevox_bench_campaign_{os.getpid()}"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(pg_admin(pg_admin_url, drop))
    asyncio.run(pg_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(pg_admin_url, name)
    finally:
        asyncio.run(pg_admin(pg_admin_url, drop))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_api(env: dict[str, str], key: str, workdir: Path) -> tuple[Process, str]:
    """``openrevox api`` on a free port; returns once it answers an authenticated GET."""
    port = _free_port()
    api = spawn(["api", "--port", str(port)], env, workdir / "api.log")
    base = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 90
    while True:
        if api.process.poll() is not None:
            raise RuntimeError(f"the API exited:\n{api.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            answer = httpx.get(f"{base}/assistants", headers={"Authorization": f"Bearer {key}"})
            if answer.status_code == 200:
                return api, base
        if time.monotonic() > deadline:
            api.stop()
            raise RuntimeError(f"the API did not answer within 90 s:\n{api.log_tail()}")
        time.sleep(0.2)


class CpuMeter:
    """CPU seconds of the API, the workers, the PostgreSQL backends serving the bench
    database (sampled: a backend's CPU is read while it lives) and the whole machine."""

    def __init__(self, api: Process, workers: list[Process], url: str, admin_url: str) -> None:
        self.api, self.workers = api, workers
        self.database = url.rsplit("/", 1)[1] if url.startswith("postgresql") else None
        self.admin_url = admin_url
        self._pg_seen: dict[int, float] = {}

    def _pg_pids(self) -> list[int]:
        return asyncio.run(backend_pids(self.admin_url, self.database)) if self.database else []

    def postgres(self) -> float:
        for pid in self._pg_pids():
            self._pg_seen[pid] = cpu_seconds(pid) or self._pg_seen.get(pid, 0.0)
        return sum(self._pg_seen.values())

    def sample(self) -> dict[str, float]:
        return {
            "api": cpu_seconds(self.api.process.pid),
            "workers": sum(cpu_seconds(w.process.pid) for w in self.workers),
            "postgresql": self.postgres(),
            "machine": machine_busy_seconds(),
        }


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    used = {key: after[key] - before[key] for key in before}
    used["others"] = max(0.0, used["machine"] - used["api"] - used["workers"] - used["postgresql"])
    return used


# --------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------

PENDING = ("not_launched", "queued_for_calling", "scheduled", "calling", "post_processing")


@dataclass(frozen=True)
class Attempt:
    id: str
    order_id: str
    number: int
    dial_error: str | None
    result: str | None
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True)
class Dial:
    """One row of the simulator's ledger."""

    attempt_id: str
    order_id: str
    phone_number: str
    attempt_number: int
    behaviour: str


@dataclass
class Snapshot:
    """What the database holds once the campaign drained."""

    orders: dict[str, tuple[str, str]]  # id: (number, status)
    attempts: list[Attempt]
    ledger: list[Dial]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Phase:
    seconds: float
    cpu: dict[str, float]


@dataclass
class Run:
    backend: str
    contacts: Contacts
    imported: dict[str, Any]
    import_phase: Phase
    launch: dict[str, Any]
    launch_phase: Phase
    drain_phase: Phase
    drain_seconds: float  # first dial to last end
    statistics: dict[str, Any]
    statistics_seconds: float
    campaign: dict[str, Any]
    database: Snapshot
    checks: list[Check] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return len(self.database.attempts)

    @property
    def passed(self) -> bool:
        return all(check.ok for check in self.checks)


async def _add_do_not_contact(url: str, organization_id: str, numbers: list[str]) -> None:
    db = Database(create_engine(url, pool_size=1))
    try:
        async with db.transaction() as conn:
            for number in numbers:
                await add_do_not_contact(
                    conn,
                    organization_id=organization_id,
                    mode="live",
                    phone_number=number,
                    reason="stop calling me",
                    now=datetime.now(UTC),
                )
    finally:
        await db.dispose()


async def _wait_drained(url: str, limit: float) -> None:
    """Until no order is pending (an index probe on (status, next_attempt_at))."""
    probe = sa.select(call_orders.c.id).where(call_orders.c.status.in_(PENDING)).limit(1)
    await wait_until_none(url, probe, limit, "orders", interval=0.5)


async def _snapshot(url: str) -> Snapshot:
    db = Database(create_engine(url, pool_size=1))
    a, o = call_attempts.c, call_orders.c
    try:
        async with db.read() as conn:
            orders = await conn.execute(sa.select(o.id, o.to_phone_number, o.status))
            attempts = await conn.execute(
                sa.select(
                    a.id,
                    a.call_order_id,
                    a.attempt_number,
                    a.dial_error,
                    a.result,
                    a.started_at,
                    a.ended_at,
                )
            )
            ledger = await conn.execute(
                sa.select(
                    sim_ledger.c.attempt_id,
                    sim_ledger.c.call_order_id,
                    sim_ledger.c.phone_number,
                    sim_ledger.c.attempt_number,
                    sim_ledger.c.behaviour,
                )
            )
            return Snapshot(
                orders={row[0]: (row[1], row[2]) for row in orders.all()},
                attempts=[Attempt(*row) for row in attempts.all()],
                ledger=[Dial(*row) for row in ledger.all()],
            )
    finally:
        await db.dispose()


def _json(raw: Any, name: str | None = None) -> dict[str, Any]:
    """The JSON of an SDK ``with_raw_response`` answer (the models make integers floats),
    or one field of it."""
    body: dict[str, Any] = raw.json()
    found: dict[str, Any] = body[name] if name else body
    return found


def _timed(meter: CpuMeter, work: Any) -> tuple[Any, Phase]:
    before, started = meter.sample(), time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    return result, Phase(seconds, spent(before, meter.sample()))


def run_backend(backend: str, contacts: Contacts, args: argparse.Namespace, workdir: Path) -> Run:
    key = "sk_live_" + secrets.token_hex(16)
    with fresh_database(backend, workdir, args.pg_admin_url) as url:
        env = {
            "OPENREVOX_DATABASE_URL": url,
            "OPENREVOX_DATA_DIR": str(workdir / f"data-{backend}"),
            "OPENREVOX_BOOTSTRAP_API_KEY": key,
            # Organizations the server creates get this limit: no limit caps the drain.
            "OPENREVOX_ORGANIZATION_CONCURRENCY_LIMIT": "1000000",
            "OPENREVOX_TELEPHONY": "sim",
            "OPENREVOX_SIM_SPEED": str(SIM_SPEED),
            "OPENREVOX_WORKER_CAPACITY": str(args.capacity),
        }
        print(f"== {backend} ==", flush=True)
        api, base = start_api(env, key, workdir)
        workers: list[Process] = []
        try:
            workers = start_workers(args.workers, env, workdir)
            return _drive(backend, contacts, args, url, base, key, CpuMeter(
                api, workers, url, args.pg_admin_url
            ))  # fmt: skip
        finally:
            for process in [*workers, api]:
                process.stop()


def _drive(
    backend: str,
    contacts: Contacts,
    args: argparse.Namespace,
    url: str,
    base: str,
    key: str,
    meter: CpuMeter,
) -> Run:
    client = revox.Revox(api_key=key, base_url=base, timeout=3600, max_retries=0)
    assistant = client.assistants.create(**ASSISTANT).assistant

    def post_csv() -> dict[str, Any]:
        answer = httpx.post(
            f"{base}/campaigns/import",
            params={"name": "100k import bench", "assistant_id": assistant.id},
            content=contacts.csv_text.encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
            timeout=3600,
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    imported, import_phase = _timed(meter, post_csv)
    campaign_id = imported["campaign"]["id"]
    print(
        f"  imported {imported['imported']:,} of {contacts.lines:,} lines in "
        f"{import_phase.seconds:.1f} s ({imported['duplicates']:,} duplicates, "
        f"{imported['rejected']:,} rejected)",
        flush=True,
    )
    asyncio.run(
        _add_do_not_contact(url, imported["campaign"]["organization_id"], contacts.do_not_contact)
    )

    def launch() -> dict[str, Any]:
        raw = client.campaigns.with_raw_response.launch(
            campaign_id, mode="ai_first", selection=LAUNCH_EVERYTHING
        )
        return _json(raw)

    launched, launch_phase = _timed(meter, launch)
    print(f"  launched {launched['launched']:,} in {launch_phase.seconds:.1f} s", flush=True)
    _, drain_phase = _timed(meter, lambda: asyncio.run(_wait_drained(url, args.timeout)))
    database = asyncio.run(_snapshot(url))
    first = min(attempt.started_at for attempt in database.attempts)
    last = max(attempt.ended_at for attempt in database.attempts)
    drain_seconds = (last - first).total_seconds()
    print(
        f"  drained {len(database.attempts):,} attempts in {drain_seconds:.1f} s "
        f"({len(database.attempts) / drain_seconds:,.0f} attempts/s)",
        flush=True,
    )
    started = time.perf_counter()
    statistics = _json(client.campaigns.with_raw_response.statistics(campaign_id), "statistics")
    statistics_seconds = time.perf_counter() - started
    campaign = _json(client.campaigns.with_raw_response.retrieve(campaign_id), "campaign")
    run = Run(
        backend=backend,
        contacts=contacts,
        imported=imported,
        import_phase=import_phase,
        launch=launched,
        launch_phase=launch_phase,
        drain_phase=drain_phase,
        drain_seconds=drain_seconds,
        statistics=statistics,
        statistics_seconds=statistics_seconds,
        campaign=campaign,
        database=database,
    )
    run.checks = check(run)
    return run


# --------------------------------------------------------------------------------------
# Checks: the API's figures, the rows, the attempts and the ledger agree
# --------------------------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.items: list[Check] = []

    def equal(self, name: str, got: Any, wanted: Any) -> None:
        detail = f"{got}" if got == wanted else f"{got}, expected {wanted}"
        self.items.append(Check(name, got == wanted, detail))

    def holds(self, name: str, ok: bool, detail: str) -> None:
        self.items.append(Check(name, ok, detail))


def _check_import(run: Run, checks: Checks) -> None:
    contacts, report = run.contacts, run.imported
    checks.equal("import: rows imported", report["imported"], contacts.imported)
    checks.equal("import: duplicates collapsed", report["duplicates"], contacts.duplicates)
    checks.equal("import: lines rejected", report["rejected"], len(contacts.bad_lines))
    lines = [error["line"] for error in report["errors"]]
    checks.holds(
        "import: rejected lines reported one by one",
        lines == contacts.bad_lines[: len(lines)] and len(lines) == min(1000, report["rejected"]),
        f"{len(lines)} reported, lines {lines[:3]}...",
    )
    checks.equal("launch: calls launched", run.launch["launched"], len(contacts.launched))
    checks.equal(
        "launch: do-not-contact skipped",
        run.launch["skipped"]["do_not_contact"],
        len(contacts.do_not_contact),
    )


def _check_rows(run: Run, checks: Checks) -> None:
    launched, skipped = len(run.contacts.launched), len(run.contacts.do_not_contact)
    statuses = Counter(status for _, status in run.database.orders.values())
    checks.equal("orders: statuses", dict(statuses), {"completed": launched, "cancelled": skipped})
    wanted_rows = dict.fromkeys(("calling", "failed", "not_launched", "pending", "retry"), 0) | {
        "completed": launched,
        "skipped": skipped,
        "total": run.contacts.imported,
    }
    checks.equal("GET campaign: row_stats", run.campaign["row_stats"], wanted_rows)
    checks.equal("GET campaign: status", run.campaign["status"], "completed")


def _check_ledger(run: Run, checks: Checks) -> None:
    db = run.database
    by_attempt = {attempt.id: attempt for attempt in db.attempts}
    ledger_ids = [dial.attempt_id for dial in db.ledger]
    checks.equal("ledger: one dial per attempt", len(db.ledger), len(db.attempts))
    checks.equal("ledger: no attempt dialled twice", len(set(ledger_ids)), len(ledger_ids))
    checks.equal("ledger: no dial unknown to the engine", set(ledger_ids) == set(by_attempt), True)
    mismatched = [
        dial
        for dial in db.ledger
        if (attempt := by_attempt.get(dial.attempt_id)) is None
        or (attempt.order_id, attempt.number) != (dial.order_id, dial.attempt_number)
        or db.orders[dial.order_id][0] != dial.phone_number
    ]
    checks.equal("ledger: order, number and attempt number as the engine's", len(mismatched), 0)
    numbering: dict[str, list[int]] = {}
    for attempt in db.attempts:
        numbering.setdefault(attempt.order_id, []).append(attempt.number)
    gaps = [
        order
        for order, numbers in numbering.items()
        if sorted(numbers) != list(range(1, len(numbers) + 1)) or len(numbers) > MAX_ATTEMPTS
    ]
    checks.equal(f"attempts: numbered 1..n, n <= {MAX_ATTEMPTS}", len(gaps), 0)
    dialled = {dial.phone_number for dial in db.ledger}
    never = set(run.contacts.do_not_contact) & dialled
    checks.holds(
        "ledger: numbers dialled = numbers launched",
        dialled == set(run.contacts.launched),
        f"{len(dialled):,} numbers dialled, {len(never)} of them on the do-not-contact list",
    )
    wrong = [d for d in db.ledger if d.behaviour != behaviour(d.phone_number, d.attempt_number)]
    checks.equal("ledger: each dial's behaviour as docs/sandbox.md says", len(wrong), 0)
    expected: Counter[str] = Counter()
    for number in run.contacts.launched:
        expected += dial_errors_expected(number)
    in_ledger = Counter(d.behaviour for d in db.ledger if not d.behaviour.startswith("persona:"))
    in_attempts = Counter(a.dial_error for a in db.attempts if a.dial_error)
    checks.equal("ledger: dial errors per kind as the retry rules give", in_ledger, expected)
    checks.equal("attempts: dial errors per kind = ledger", in_attempts, in_ledger)


def _check_statistics(run: Run, checks: Checks) -> None:
    stats, db = run.statistics, run.database
    dials = len(db.ledger)
    effort = stats["effort"]
    checks.equal("statistics: outbound attempts = ledger dials", effort["outbound_attempts"], dials)
    checks.equal("statistics: calls total = ledger dials", effort["calls_total"], dials)
    called = {dial.phone_number for dial in db.ledger}
    checks.equal("statistics: contacts called", stats["funnel"]["called"]["count"], len(called))
    checks.equal(
        "statistics: imported rows",
        stats["funnel"]["called"]["imported_rows"],
        run.contacts.imported,
    )
    reached = {db.orders[a.order_id][0] for a in db.attempts if a.result == "human"}
    checks.equal("statistics: contacts reached", stats["funnel"]["reached"]["count"], len(reached))
    breakdown = sum(item["count"] for item in stats["outcome_breakdown"])
    checks.equal("statistics: outcome breakdown covers every order called", breakdown, len(called))
    checks.equal("statistics: status", stats["campaign"]["status"], "completed")
    checks.equal(
        "statistics: max attempts per contact",
        stats["campaign"]["max_attempts_per_contact"],
        MAX_ATTEMPTS,
    )


def check(run: Run) -> list[Check]:
    checks = Checks()
    _check_import(run, checks)
    _check_rows(run, checks)
    _check_ledger(run, checks)
    _check_statistics(run, checks)
    return checks.items


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def _cpu(phase: Phase, backend: str) -> str:
    parts = [f"API {phase.cpu['api']:.1f}", f"workers {phase.cpu['workers']:.1f}"]
    if backend == "postgresql":
        parts.append(f"PostgreSQL {phase.cpu['postgresql']:.1f}")
    parts.append(f"others {phase.cpu['others']:.1f}")
    return "CPU s: " + ", ".join(parts)


def describe(run: Run) -> str:
    contacts, attempts = run.contacts, run.attempts
    launched = run.launch["launched"]
    lines = [
        f"== {run.backend} ==",
        f"  CSV: {contacts.lines:,} lines, {len(contacts.csv_text) / 2**20:.1f} MiB",
        f"  import (POST /campaigns/import): {run.import_phase.seconds:.1f} s, "
        f"{contacts.lines / run.import_phase.seconds:,.0f} lines/s; "
        f"{run.imported['imported']:,} imported, {run.imported['duplicates']:,} duplicates, "
        f"{run.imported['rejected']:,} rejected; {_cpu(run.import_phase, run.backend)}",
        f"  launch (campaigns.launch): {run.launch_phase.seconds:.1f} s, {launched:,} launched, "
        f"{run.launch['skipped']['do_not_contact']} skipped (do not contact); "
        f"{_cpu(run.launch_phase, run.backend)}",
        f"  drain: {attempts:,} attempts in {run.drain_seconds:.1f} s (first dial to last end): "
        f"{attempts / run.drain_seconds:,.0f} attempts/s, {launched / run.drain_seconds:,.0f} "
        f"rows/s; {_cpu(run.drain_phase, run.backend)}",
        f"  GET /campaigns/{{id}}/statistics: {run.statistics_seconds:.1f} s",
        "  dials per behaviour: "
        + ", ".join(
            f"{name} {count:,}"
            for name, count in Counter(d.behaviour for d in run.database.ledger).most_common()
        ),
    ]
    lines += [f"  {'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in run.checks]
    lines.append(f"  {run.backend}: {'PASS' if run.passed else 'FAIL'}")
    return "\n".join(lines)


def table(runs: list[Run], markdown: bool) -> str:
    head = (
        "backend", "lines", "imported", "import s", "launch s", "attempts", "drain s",
        "attempts/s", "rows/s", "statistics s", "ledger check",
    )  # fmt: skip
    rows = [
        (
            run.backend,
            f"{run.contacts.lines:,}",
            f"{run.imported['imported']:,}",
            f"{run.import_phase.seconds:.1f}",
            f"{run.launch_phase.seconds:.1f}",
            f"{run.attempts:,}",
            f"{run.drain_seconds:.1f}",
            f"{run.attempts / run.drain_seconds:,.0f}",
            f"{run.launch['launched'] / run.drain_seconds:,.0f}",
            f"{run.statistics_seconds:.1f}",
            "PASS" if run.passed else "FAIL",
        )
        for run in runs
    ]
    return "\n".join(table_lines(head, rows, markdown, right=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="lines of the CSV")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="openrevox worker processes")
    parser.add_argument("--capacity", type=int, default=1000, help="OPENREVOX_WORKER_CAPACITY")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to drain")
    add_pg_argument(parser)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    if args.contacts < 1000:
        parser.error("--contacts must be 1000 or more (the mix needs room)")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]

    print(machine(load_average=True), flush=True)
    print(f"background load before the run: {background_load():.0%} of the cores", flush=True)
    contacts = make_contacts(args.contacts)
    runs = []
    with tempfile.TemporaryDirectory(prefix="openrevox-campaign-bench-") as workdir:
        for backend in backends:
            runs.append(run_backend(backend, contacts, args, Path(workdir)))
            print(describe(runs[-1]), flush=True)
    print()
    print(table(runs, args.markdown))
    passed = all(run.passed for run in runs)
    print(f"\nledger check: {'PASS' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
