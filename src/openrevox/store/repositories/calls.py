"""Call orders and their attempts."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.domain.records import record
from openrevox.store.bulk import in_list
from openrevox.store.tables import assistant_snapshots, call_attempts, call_orders, campaigns

TERMINAL_STATUSES = ("completed", "cancelled", "errored")


@record
class AttemptRecord:
    id: str
    call_order_id: str
    attempt_number: int
    status: str
    phone_number: str
    dial_error: str | None
    result: str | None
    ended_by: str | None
    end_reason: str | None
    handled_by_ai: bool
    handled_by_human: bool
    transcript: list[dict[str, Any]] | None
    structured_output: dict[str, Any] | None
    recording_key: str | None
    openrevox: dict[str, Any] | None  # openrevox's own facts (domain/attempt_extension.py)
    speech_events: list[dict[str, Any]] | None
    created_at: datetime
    started_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    # Made by the decorator (field names, in order): declared for the type checker.
    __slots__: ClassVar[tuple[str, ...]]


@record
class CallOrderRecord:
    id: str
    organization_id: str
    mode: Mode
    assistant_id: str | None
    campaign_id: str | None
    campaign_name: str | None
    direction: str
    status: str
    to_phone_number: str
    from_phone_number: str
    assistant: dict[str, Any]
    call_retry_config: dict[str, Any]
    timezone: str
    prompt_variables: dict[str, str] | None
    metadata: dict[str, str] | None
    concurrency_key: str | None
    concurrency_max: int | None
    skip_calling_window: bool
    scheduled_at: datetime | None
    next_attempt_at: datetime | None
    calls_count: int
    last_result: str | None
    last_attempt_at: datetime | None
    outcome: str | None
    outcome_summary: str | None
    contact: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    __slots__: ClassVar[tuple[str, ...]]  # as AttemptRecord's


@dataclass(frozen=True, slots=True)
class CallView:
    """An order with its attempts, newest first: what GET /call/{id} shows."""

    order: CallOrderRecord
    attempts: tuple[AttemptRecord, ...]


ORDER_COLUMNS = [*call_orders.c, assistant_snapshots.c.content.label("assistant")]
# Orders with their snapshot: join this, then select ORDER_COLUMNS.
ORDERS_WITH_SNAPSHOT = call_orders.join(
    assistant_snapshots, assistant_snapshots.c.id == call_orders.c.snapshot_id
)
_SELECT_ORDERS = sa.select(*ORDER_COLUMNS, campaigns.c.name.label("campaign_name")).select_from(
    ORDERS_WITH_SNAPSHOT.outerjoin(campaigns, campaigns.c.id == call_orders.c.campaign_id)
)
_ORDER_FIELDS = CallOrderRecord.__slots__
_ATTEMPT_FIELDS = AttemptRecord.__slots__


def order_from_row(row: sa.RowMapping) -> CallOrderRecord:
    return CallOrderRecord(**{name: row[name] for name in _ORDER_FIELDS})


def attempt_from_row(row: sa.RowMapping) -> AttemptRecord:
    return AttemptRecord(**{name: row[name] for name in _ATTEMPT_FIELDS})


def snapshot_values(
    snapshot_id: str, *, organization_id: str, content: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """An assistant_snapshots row: the content, and the two values of it a call shows at
    its top level (400 ms when the snapshot has no first-sentence delay)."""
    return {
        "id": snapshot_id,
        "organization_id": organization_id,
        "content": content,
        "first_sentence_delay_ms": content.get("first_sentence_delay_ms", 400),
        "llm_model": content.get("llm_model"),
        "created_at": now,
    }


async def insert_snapshot(
    conn: AsyncConnection, *, organization_id: str, content: dict[str, Any], now: datetime
) -> str:
    snapshot_id = str(uuid.uuid4())
    values = snapshot_values(snapshot_id, organization_id=organization_id, content=content, now=now)
    await conn.execute(sa.insert(assistant_snapshots).values(**values))
    return snapshot_id


async def insert_order(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(call_orders).values(**values))


async def insert_orders(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(sa.insert(call_orders), rows)


# Built once: the hot read path pays no statement construction or cache-key cost.
_ORDER_BY_ID = _SELECT_ORDERS.where(
    call_orders.c.id == sa.bindparam("call_id"),
    call_orders.c.organization_id == sa.bindparam("organization_id"),
    call_orders.c.mode == sa.bindparam("mode"),
)
_ORDER_BY_ID_LOCKED = _ORDER_BY_ID.with_for_update(of=call_orders)
_ATTEMPTS_OF = (
    sa.select(call_attempts)
    .where(call_attempts.c.call_order_id.in_(sa.bindparam("order_ids", expanding=True)))
    .order_by(call_attempts.c.call_order_id, call_attempts.c.attempt_number.desc())
)


async def get_order(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, call_id: str, lock: bool = False
) -> CallOrderRecord | None:
    query = _ORDER_BY_ID_LOCKED if lock and conn.dialect.name == "postgresql" else _ORDER_BY_ID
    params = {"call_id": call_id, "organization_id": organization_id, "mode": mode}
    row = (await conn.execute(query, params)).mappings().first()
    return order_from_row(row) if row else None


async def attempts_of(
    conn: AsyncConnection, order_ids: list[str]
) -> dict[str, list[AttemptRecord]]:
    grouped: dict[str, list[AttemptRecord]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return grouped
    for start in range(0, len(order_ids), 5000):  # bounded IN lists
        rows = await conn.execute(_ATTEMPTS_OF, {"order_ids": order_ids[start : start + 5000]})
        for row in rows.mappings():
            grouped[row["call_order_id"]].append(attempt_from_row(row))
    return grouped


async def get_view(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, call_id: str
) -> CallView | None:
    order = await get_order(conn, organization_id=organization_id, mode=mode, call_id=call_id)
    if order is None:
        return None
    attempts = await attempts_of(conn, [order.id])
    return CallView(order=order, attempts=tuple(attempts[order.id]))


async def views_of(conn: AsyncConnection, orders: list[CallOrderRecord]) -> list[CallView]:
    attempts = await attempts_of(conn, [order.id for order in orders])
    return [CallView(order=order, attempts=tuple(attempts[order.id])) for order in orders]


async def update_order(conn: AsyncConnection, call_id: str, values: dict[str, Any]) -> None:
    await conn.execute(sa.update(call_orders).where(call_orders.c.id == call_id).values(**values))


async def pending_for_assistant(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, assistant_id: str
) -> list[CallOrderRecord]:
    """Orders of this assistant that have not reached a terminal status."""
    rows = await conn.execute(
        _SELECT_ORDERS.where(
            call_orders.c.organization_id == organization_id,
            call_orders.c.mode == mode,
            call_orders.c.assistant_id == assistant_id,
            call_orders.c.status.not_in(TERMINAL_STATUSES),
        )
    )
    return [order_from_row(row) for row in rows.mappings()]


async def orders_by_ids(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, call_ids: list[str]
) -> list[CallOrderRecord]:
    if not call_ids:
        return []
    rows = await conn.execute(
        _SELECT_ORDERS.where(
            call_orders.c.id.in_(call_ids),
            call_orders.c.organization_id == organization_id,
            call_orders.c.mode == mode,
        )
    )
    return [order_from_row(row) for row in rows.mappings()]


async def repoint_snapshot(
    conn: AsyncConnection,
    order_ids: list[str],
    snapshot_id: str,
    retry_config: dict[str, Any],
    now: datetime,
) -> None:
    """Give these orders a new assistant snapshot (and its retry config)."""
    for start in range(0, len(order_ids), 1000):
        await conn.execute(
            sa.update(call_orders)
            .where(call_orders.c.id.in_(order_ids[start : start + 1000]))
            .values(snapshot_id=snapshot_id, call_retry_config=retry_config, updated_at=now)
        )


# Snapshots never change (a PATCH makes a new one): their decoded content is kept by id
# and shared by the records of every order that uses it. Never mutate ``order.assistant``.
_SNAPSHOT_CACHE: OrderedDict[str, dict[str, Any]] = OrderedDict()
_SNAPSHOT_CACHE_SIZE = 256


async def snapshot_contents(
    conn: AsyncConnection, ids: Iterable[str], known: Mapping[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """The content of assistant snapshots by id: from ``known``, the cache, else read."""
    found: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for snapshot_id in set(ids):
        content = (known or {}).get(snapshot_id)
        if content is None:
            content = _SNAPSHOT_CACHE.get(snapshot_id)
        if content is None:
            missing.append(snapshot_id)
        else:
            found[snapshot_id] = content
    if missing:
        query = sa.select(assistant_snapshots.c.id, assistant_snapshots.c.content).where(
            in_list(assistant_snapshots.c.id, missing, conn.dialect.name)
        )
        for row in await conn.execute(query):
            found[row.id] = row.content
            _SNAPSHOT_CACHE[row.id] = row.content
            if len(_SNAPSHOT_CACHE) > _SNAPSHOT_CACHE_SIZE:
                _SNAPSHOT_CACHE.popitem(last=False)
    return found


_ROW_FIELDS = tuple(name for name in CallOrderRecord.__slots__ if name != "assistant")


def order_record(row: sa.RowMapping, assistant: dict[str, Any], **given: Any) -> CallOrderRecord:
    """The order of ``row`` with its assistant snapshot; ``given``: fields not in the row."""
    fields = {name: row[name] for name in _ROW_FIELDS if name not in given}
    return CallOrderRecord(**fields, assistant=assistant, **given)


async def orders_with_snapshots(
    conn: AsyncConnection,
    ids: Iterable[str],
    *,
    lock: bool,
    known: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, tuple[CallOrderRecord, str]]:
    """Orders by id with their snapshot id; locked (PostgreSQL, in id order) if asked.
    The snapshots come from ``snapshot_contents``."""
    query = (
        sa.select(*call_orders.c, campaigns.c.name.label("campaign_name"))
        .select_from(call_orders.outerjoin(campaigns, campaigns.c.id == call_orders.c.campaign_id))
        .where(in_list(call_orders.c.id, set(ids), conn.dialect.name))
        .order_by(call_orders.c.id)
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=call_orders)
    rows = list((await conn.execute(query)).mappings())
    contents = await snapshot_contents(conn, (row["snapshot_id"] for row in rows), known)
    return {
        row["id"]: (order_record(row, contents[row["snapshot_id"]]), row["snapshot_id"])
        for row in rows
    }
