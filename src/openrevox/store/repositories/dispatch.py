"""All the SQL of dispatch: claiming due orders with their concurrency slots, leases,
finishing attempts and recovering the attempts of lost workers.

Everything here works on batches: one claim starts many attempts, one finish ends many,
with a constant number of statements per batch (see "bulk writes"), so the engine's cost
per attempt does not grow with the number of round trips to the database.

Lock order, so that concurrent transactions never wait on each other in a cycle: due
orders are taken with SKIP LOCKED (never waited for); slots are inserted in key order;
ending attempts writes them, then locks their orders in id order; lease renewal and
recovery skip attempts someone else holds."""

from __future__ import annotations

import functools
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.lifecycle import OrderEvent, OrderStatus, transition
from openrevox.domain.retry_config import (
    dialable_at,
    policy_for,
    policy_from_text,
)
from openrevox.domain.schedule import RetryPolicy, next_dial_time
from openrevox.store import attempt_facts
from openrevox.store.bulk import grouped_by_columns, in_list, insert_rows, unnest_arrays
from openrevox.store.repositories import calls
from openrevox.store.repositories.calls import CallOrderRecord
from openrevox.store.tables import (
    assistants,
    call_attempts,
    call_orders,
    campaigns,
    concurrency_keys,
    concurrency_slots,
    faq_items,
    organizations,
)

LIVE_ATTEMPT_STATUSES = ("queued", "ringing", "ongoing")
DUE_STATUSES = ("scheduled", "queued_for_calling")
# "The attempt is live" without an expanding IN, which executemany cannot take.
_IS_LIVE = sa.or_(*(call_attempts.c.status == status for status in LIVE_ATTEMPT_STATUSES))


@dataclass(frozen=True, slots=True)
class ClaimedAttempt:
    attempt_id: str
    attempt_number: int
    order: CallOrderRecord
    policy: RetryPolicy
    started_at: datetime
    snapshot_id: str  # the order's assistant snapshot when claimed (``order.assistant``)


# -- policies ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _config_from_text(config: str) -> dict[str, Any]:
    # Shared by the records of every order with this configuration: never mutate it.
    loaded: dict[str, Any] = orjson.loads(config)
    return loaded


def policy_of(order: CallOrderRecord) -> RetryPolicy:
    return policy_for(order.call_retry_config, order.timezone)


# -- claiming ---------------------------------------------------------------------------


def _scopes(row: sa.RowMapping, default_key_limit: int) -> list[tuple[str, int]]:
    organization_id = row["organization_id"]
    scopes = [(f"org:{organization_id}", int(row["org_limit"]))]
    if row["concurrency_key"]:
        limit = row["concurrency_max"] or row["key_limit"] or default_key_limit
        scopes.append((f"key:{organization_id}:{row['mode']}:{row['concurrency_key']}", int(limit)))
    if row["campaign_id"] and row["campaign_limit"]:
        scopes.append((f"campaign:{row['campaign_id']}", int(row["campaign_limit"])))
    return scopes


class _Slots:
    """The free slot indices of one scope under one limit. Scans from a random offset so
    that workers claiming at the same moment rarely pick the same index."""

    __slots__ = ("limit", "scanned", "start", "taken")

    def __init__(self, limit: int, taken: set[int]) -> None:
        self.limit = limit
        self.taken = taken  # shared by every limit of the scope
        self.start = random.randrange(limit) if limit > 0 else 0
        self.scanned = 0

    def peek(self) -> int | None:
        while self.scanned < self.limit:
            index = (self.start + self.scanned) % self.limit
            if index not in self.taken:
                return index
            self.scanned += 1
        return None

    def take(self, index: int) -> None:
        self.taken.add(index)
        self.scanned += 1


def _new_attempt(
    attempt_id: str,
    row: sa.RowMapping,
    phone_number: str,
    number: int,
    *,
    worker_id: str,
    now: datetime,
    started: datetime,
    lease: datetime,
) -> dict[str, Any]:
    # The columns left out (results, transcript, answered_at, ended_at...) start NULL.
    return {
        "id": attempt_id,
        "call_order_id": row["id"],
        "organization_id": row["organization_id"],
        "attempt_number": number,
        "status": "queued",
        "phone_number": phone_number,
        "handled_by_ai": False,
        "handled_by_human": False,
        "worker_id": worker_id,
        "lease_expires_at": lease,
        "created_at": now,
        "started_at": started,
    }


def _due_query(now: datetime, limit: int, postgres: bool) -> sa.Select[Any]:
    """The first ``limit`` due orders by ``next_attempt_at`` (locked on PostgreSQL, those
    another worker holds skipped), with the limits of their scopes.

    Each due status is read in index order ((status, next_attempt_at): no sort of the
    whole queue, however long) and the two are merged; the few rows found are then
    joined with their limits. Equal times come in index order."""
    branches = []
    for status in DUE_STATUSES:
        branch = (
            sa.select(call_orders.c.id, call_orders.c.next_attempt_at)
            .where(call_orders.c.status == status, call_orders.c.next_attempt_at <= now)
            .order_by(call_orders.c.next_attempt_at)
            .limit(limit)
        )
        if postgres:
            branch = branch.with_for_update(skip_locked=True)
        branches.append(sa.select(branch.subquery()))
    merged = sa.union_all(*branches).subquery()
    due = (
        sa.select(merged.c.id, merged.c.next_attempt_at)
        .order_by(merged.c.next_attempt_at)
        .limit(limit)
        .subquery("due")
    )
    return sa.select(
        *(column for column in call_orders.c if column.name != "call_retry_config"),
        campaigns.c.name.label("campaign_name"),
        # As stored text too: the policy cache is keyed by it, a hit decodes nothing.
        sa.cast(call_orders.c.call_retry_config, sa.Text).label("retry_config_text"),
        organizations.c.concurrency_limit.label("org_limit"),
        campaigns.c.max_concurrent_calls.label("campaign_limit"),
        concurrency_keys.c.max_concurrent_calls.label("key_limit"),
    ).select_from(
        due.join(call_orders, call_orders.c.id == due.c.id)
        .join(organizations, organizations.c.id == call_orders.c.organization_id)
        .outerjoin(campaigns, campaigns.c.id == call_orders.c.campaign_id)
        .outerjoin(
            concurrency_keys,
            sa.and_(
                concurrency_keys.c.organization_id == call_orders.c.organization_id,
                concurrency_keys.c.mode == call_orders.c.mode,
                concurrency_keys.c.key == call_orders.c.concurrency_key,
            ),
        )
    )


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    worker_id: str,
    capacity: int,
    lease_seconds: float,
    default_key_limit: int,
    stamp: Callable[[], datetime] | None = None,
) -> list[ClaimedAttempt]:
    """Start up to ``capacity`` due attempts whose slots are free; the rest wait queued.

    A due order outside its calling window (it waited too long for a slot) is moved to
    the next window opening. Slots are rows whose primary key makes every limit exact
    across processes: a slot another worker took in the meantime leaves its order queued
    for the next claim instead of failing the claim. ``stamp`` (default: ``now``) reads
    the clock for the attempts' ``started_at`` once their slots are held, so an attempt's
    [started_at, ended_at) always lies inside the time it held its slots."""
    postgres = conn.dialect.name == "postgresql"
    # A few more than it can start, for orders whose slots are full.
    fetch = capacity + max(10, capacity // 4)
    rows = sorted(
        (await conn.execute(_due_query(now, fetch, postgres))).mappings(),
        key=lambda row: row["next_attempt_at"],
    )
    if not rows:
        return []
    candidate_scopes = [_scopes(row, default_key_limit) for row in rows]
    names = {name for scopes in candidate_scopes for name, _ in scopes}
    taken: dict[str, set[int]] = {name: set() for name in names}
    for scope, slot in await conn.execute(
        sa.select(concurrency_slots.c.scope, concurrency_slots.c.slot).where(
            in_list(concurrency_slots.c.scope, names, conn.dialect.name)
        )
    ):
        taken[scope].add(slot)
    free: dict[tuple[str, int], _Slots] = {}

    expires = now + timedelta(seconds=lease_seconds)
    chosen: list[tuple[sa.RowMapping, str, RetryPolicy]] = []
    slots: list[dict[str, Any]] = []
    waiting: dict[str, dict[str, Any]] = {}
    blocked: list[sa.RowMapping] = []
    for row, scopes in zip(rows, candidate_scopes, strict=True):
        policy = policy_from_text(row["retry_config_text"], row["timezone"])
        first_skips_window = row["skip_calling_window"] and row["calls_count"] == 0
        if not first_skips_window and not dialable_at(policy, now):
            later = next_dial_time(policy, now)
            status = OrderStatus(row["status"])
            if status == OrderStatus.QUEUED_FOR_CALLING:
                status = transition(status, OrderEvent.RESCHEDULED)
            waiting[row["id"]] = {
                "status": status.value,
                "next_attempt_at": later,
                "scheduled_at": later,
            }
            continue
        if len(chosen) >= capacity:
            continue  # left for the next claim, untouched
        picks = []
        for scope, limit in scopes:
            pool = free.get((scope, limit))
            if pool is None:
                pool = free[(scope, limit)] = _Slots(limit, taken[scope])
            index = pool.peek()
            if index is None:
                break
            picks.append((pool, scope, index))
        else:
            attempt_id = str(uuid.uuid4())
            for pool, scope, index in picks:
                pool.take(index)
                slots.append(
                    {"scope": scope, "slot": index, "attempt_id": attempt_id, "expires_at": expires}
                )
            chosen.append((row, attempt_id, policy))
            continue
        blocked.append(row)

    if slots:
        # In key order, so that two claims racing for the same slots never deadlock.
        slots.sort(key=lambda slot: (slot["scope"], slot["slot"]))
        # The slots we got, counted by attempt: an attempt needs all of its scopes'.
        got = Counter(
            await insert_rows(
                conn,
                concurrency_slots,
                slots,
                skip_conflicts=True,
                returning=concurrency_slots.c.attempt_id,
            )
        )
        wanted = Counter(slot["attempt_id"] for slot in slots)
        lost = {a for a, count in wanted.items() if got.get(a, 0) != count}
        if lost:  # another worker took one of its slots first: it waits for the next claim
            await release_slots(conn, sorted(lost))
            blocked.extend(row for row, attempt_id, _ in chosen if attempt_id in lost)
            chosen = [item for item in chosen if item[1] not in lost]

    for row in blocked:
        if row["status"] == OrderStatus.SCHEDULED:  # due, but no slot yet
            queued = transition(OrderStatus.SCHEDULED, OrderEvent.BECAME_DUE)
            waiting[row["id"]] = {
                "status": queued.value,
                "next_attempt_at": row["next_attempt_at"],
                "scheduled_at": row["scheduled_at"],
            }

    claimed: list[ClaimedAttempt] = []
    if chosen:
        started = stamp() if stamp is not None else now
        contents = await calls.snapshot_contents(conn, (row["snapshot_id"] for row, _, _ in chosen))
        attempts: list[dict[str, Any]] = []
        moved: dict[str, dict[str, Any]] = {}
        for row, attempt_id, policy in chosen:
            snapshot_id = row["snapshot_id"]
            order = calls.order_record(
                row,
                contents[snapshot_id],
                call_retry_config=_config_from_text(row["retry_config_text"]),
            )
            number = row["calls_count"] + 1
            attempts.append(
                _new_attempt(
                    attempt_id,
                    row,
                    order.to_phone_number,
                    number,
                    worker_id=worker_id,
                    now=now,
                    started=started,
                    lease=expires,
                )
            )
            status = OrderStatus(row["status"])
            if status == OrderStatus.SCHEDULED:
                status = transition(status, OrderEvent.BECAME_DUE)
            dialing = transition(status, OrderEvent.SLOT_CLAIMED)
            moved[row["id"]] = {
                "status": dialing.value,
                "calls_count": number,
                "last_attempt_at": started,
                "updated_at": started,
            }
            claimed.append(ClaimedAttempt(attempt_id, number, order, policy, started, snapshot_id))
        await insert_rows(conn, call_attempts, attempts)
        await _update_by_id(conn, call_orders, moved, also={"next_attempt_at": None})
    if waiting:
        await _update_by_id(conn, call_orders, waiting, also={"updated_at": now})
    return claimed


# -- bulk writes ------------------------------------------------------------------------
#
# A batch is written with one statement per set of columns. On PostgreSQL the values go
# as one array per column through unnest(): one prepared statement, one executor run for
# the whole batch, no per-row parameter processing. SQLite runs executemany in-process.


async def _update_by_id(
    conn: AsyncConnection,
    table: sa.Table,
    changes: Mapping[str, Mapping[str, Any]],
    *,
    live_of: str | None = None,
    also: Mapping[str, Any] | None = None,
) -> set[str]:
    """Set each row's values (rows keyed by id); ``also``: constants set on every row.
    ``live_of``: only call attempts still live and carried by that worker. An attempt's
    ``openrevox`` object is merged into the stored one (``store/attempt_facts.py``).
    Returns the ids of the rows written."""
    written: set[str] = set()
    if live_of is not None and conn.dialect.name != "postgresql" and changes:
        # SQLite: writers are serialised, what is live now stays live until we write.
        live = await conn.execute(
            sa.select(table.c.id).where(
                in_list(table.c.id, changes, conn.dialect.name),
                table.c.worker_id == live_of,
                _IS_LIVE,
            )
        )
        found = {r.id for r in live}
        changes = {key: values for key, values in changes.items() if key in found}

    def merged(key: str) -> bool:
        return attempt_facts.merges(table, key)

    for keys, (ids, rows) in grouped_by_columns(changes).items():
        if conn.dialect.name == "postgresql":
            columns = {"id": ids, **{key: [row[key] for row in rows] for key in keys}}
            source, values, params = unnest_arrays(table, columns)
            # Every value is a bound parameter; the only names in the text are the
            # table's own columns (looked up in its metadata), quoted by the dialect.
            quote = conn.dialect.identifier_preparer.quote_identifier
            sets = [
                f"{quote(table.c[key].name)} = "
                + (
                    attempt_facts.pg_merged(f"t.{quote(table.c[key].name)}", value)
                    if merged(key)
                    else value
                )
                for key, value in zip(keys, values[1:], strict=True)
            ]
            for index, (key, value) in enumerate((also or {}).items()):
                sets.append(f"{quote(table.c[key].name)} = :c{index}")
                params[f"c{index}"] = value
            where = 't.id = v."id"'
            if live_of is not None:
                where += " AND t.worker_id = :worker AND t.status = ANY(CAST(:live AS TEXT[]))"
                params["worker"] = live_of
                params["live"] = list(LIVE_ATTEMPT_STATUSES)
            target = conn.dialect.identifier_preparer.format_table(table)
            sql = f"UPDATE {target} AS t SET {', '.join(sets)} FROM {source} WHERE {where}"
            result = await conn.execute(sa.text(sql + " RETURNING t.id"), params)
            written.update(result.scalars())
            continue
        if any(merged(key) for key in keys):
            rows = await attempt_facts.merged_rows(conn, ids, rows)
        bound: dict[str, Any] = {k: sa.bindparam(f"b_{k}") for k in keys}
        await conn.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values({**bound, **(also or {})}),
            [
                {"b_id": row_id, **{f"b_{k}": row[k] for k in keys}}
                for row_id, row in zip(ids, rows, strict=True)
            ],
        )
        written.update(ids)
    return written


# -- live attempts ----------------------------------------------------------------------


async def mark_attempts(
    conn: AsyncConnection, worker_id: str, marks: Mapping[str, Mapping[str, Any]]
) -> None:
    """Progress of live attempts (ringing, answered). An attempt that already ended (or
    is no longer ours) is left alone."""
    await _update_by_id(conn, call_attempts, marks, live_of=worker_id)


async def renew_leases(
    conn: AsyncConnection, *, worker_id: str, attempt_ids: list[str], until: datetime
) -> None:
    """Extend the leases of our live attempts and of their slots. An attempt locked by
    someone else (being ended at this moment) is skipped rather than waited for: two
    transactions locking the same attempts in different orders would deadlock."""
    if not attempt_ids:
        return
    query = sa.select(call_attempts.c.id).where(
        in_list(call_attempts.c.id, attempt_ids, conn.dialect.name),
        call_attempts.c.worker_id == worker_id,
        call_attempts.c.status.in_(LIVE_ATTEMPT_STATUSES),
    )
    if conn.dialect.name == "postgresql":
        query = query.order_by(call_attempts.c.id).with_for_update(skip_locked=True)
    renewed = [r.id for r in await conn.execute(query)]
    if not renewed:
        return
    await conn.execute(
        sa.update(call_attempts)
        .where(in_list(call_attempts.c.id, renewed, conn.dialect.name))
        .values(lease_expires_at=until)
    )
    await conn.execute(
        sa.update(concurrency_slots)
        .where(in_list(concurrency_slots.c.attempt_id, renewed, conn.dialect.name))
        .values(expires_at=until)
    )


# -- ending attempts --------------------------------------------------------------------


async def end_attempts(conn: AsyncConnection, ends: Mapping[str, Mapping[str, Any]]) -> None:
    """Write the end of live attempts this transaction holds (their lease goes)."""
    await _update_by_id(conn, call_attempts, ends, also={"lease_expires_at": None})


async def add_attempt_facts(conn: AsyncConnection, facts: Mapping[str, Mapping[str, Any]]) -> None:
    """Merge facts into attempts' ``openrevox`` objects (attempt id -> facts)."""
    await _update_by_id(
        conn, call_attempts, {key: {"openrevox": dict(value)} for key, value in facts.items()}
    )


async def end_live_attempts(
    conn: AsyncConnection, ends: Mapping[str, Mapping[str, Any]], worker_id: str
) -> set[str]:
    """Write the end of those attempts still live and carried by ``worker_id`` (their
    lease goes); the others (recovery ended them) are left alone. Returns the ids
    written, whose rows stay locked until the transaction ends."""
    return await _update_by_id(
        conn, call_attempts, ends, live_of=worker_id, also={"lease_expires_at": None}
    )


async def release_slots(conn: AsyncConnection, attempt_ids: list[str]) -> None:
    if attempt_ids:
        await conn.execute(
            sa.delete(concurrency_slots).where(
                in_list(concurrency_slots.c.attempt_id, attempt_ids, conn.dialect.name)
            )
        )


async def lock_orders(
    conn: AsyncConnection,
    order_ids: list[str],
    known: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, CallOrderRecord]:
    """The orders, locked (PostgreSQL) in id order until the transaction ends. ``known``:
    snapshot contents the caller already holds, by snapshot id."""
    found = await calls.orders_with_snapshots(conn, order_ids, lock=True, known=known)
    return {order_id: record for order_id, (record, _) in found.items()}


@dataclass(frozen=True, slots=True)
class OrderState:
    """What ending an attempt needs to know of its order, read under its lock."""

    status: str
    snapshot_id: str
    contact: dict[str, Any]


async def lock_order_states(
    conn: AsyncConnection, order_ids: Iterable[str], *, with_contact: Iterable[str] = ()
) -> dict[str, OrderState]:
    """Lock the orders (PostgreSQL, in id order) and read their status and snapshot id;
    their contact only for ``with_contact`` (the others get an empty dict)."""
    query = (
        sa.select(call_orders.c.id, call_orders.c.status, call_orders.c.snapshot_id)
        .where(in_list(call_orders.c.id, set(order_ids), conn.dialect.name))
        .order_by(call_orders.c.id)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = list(await conn.execute(query))
    contacts: dict[str, dict[str, Any]] = {}
    wanted = set(with_contact)
    if wanted:
        found = await conn.execute(
            sa.select(call_orders.c.id, call_orders.c.contact).where(
                in_list(call_orders.c.id, wanted, conn.dialect.name)
            )
        )
        contacts = {r.id: r.contact for r in found}
    return {r.id: OrderState(r.status, r.snapshot_id, contacts.get(r.id, {})) for r in rows}


async def update_orders(conn: AsyncConnection, changes: Mapping[str, Mapping[str, Any]]) -> None:
    """Write each order's changes."""
    await _update_by_id(conn, call_orders, changes)


async def expired_attempts(
    conn: AsyncConnection, *, now: datetime, limit: int
) -> list[tuple[str, str, datetime]]:
    """(attempt id, order id, started_at) of live attempts whose lease ran out, locked."""
    query = (
        sa.select(call_attempts.c.id, call_attempts.c.call_order_id, call_attempts.c.started_at)
        .where(
            call_attempts.c.status.in_(LIVE_ATTEMPT_STATUSES),
            call_attempts.c.lease_expires_at < now,
        )
        .order_by(call_attempts.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [(r.id, r.call_order_id, r.started_at) for r in await conn.execute(query)]


async def drop_stale_slots(conn: AsyncConnection, *, now: datetime) -> None:
    """Forget expired slots whose attempt is no longer live (or gone). A live attempt
    keeps its slots until it ends or recovery ends it, even past its lease: a worker
    late with its heartbeat must not let another call take its place."""
    live = sa.exists().where(
        call_attempts.c.id == concurrency_slots.c.attempt_id,
        call_attempts.c.status.in_(LIVE_ATTEMPT_STATUSES),
    )
    await conn.execute(
        sa.delete(concurrency_slots).where(concurrency_slots.c.expires_at < now, ~live)
    )


async def add_pending_faq(
    conn: AsyncConnection, *, assistant_id: str, questions: tuple[str, ...], now: datetime
) -> None:
    """Questions the agent could not answer become FAQ items awaiting a human answer."""
    exists = await conn.execute(sa.select(assistants.c.id).where(assistants.c.id == assistant_id))
    if exists.first() is None or not questions:
        return
    last = (
        await conn.execute(
            sa.select(sa.func.max(faq_items.c.position)).where(
                faq_items.c.assistant_id == assistant_id
            )
        )
    ).scalar()
    start = (last or 0) + 1
    await conn.execute(
        sa.insert(faq_items),
        [
            {
                "id": str(uuid.uuid4()), "assistant_id": assistant_id, "position": start + i,
                "question": question, "answer": "", "needs_human_answer": True, "source": "ai",
                "created_at": now,
            }
            for i, question in enumerate(questions)
        ],
    )  # fmt: skip
