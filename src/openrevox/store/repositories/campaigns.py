"""Campaigns and their contact rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store import bulk
from openrevox.store.bulk import in_list
from openrevox.store.repositories import do_not_contact
from openrevox.store.repositories.calls import (
    _SELECT_ORDERS,
    TERMINAL_STATUSES,
    CallOrderRecord,
    order_from_row,
)
from openrevox.store.tables import (
    assistant_snapshots,
    call_attempts,
    call_orders,
    campaign_rows,
    campaigns,
)
from openrevox.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    id: str
    organization_id: str
    mode: Mode
    assistant_id: str
    name: str
    status: str  # stored: running | paused (completed is derived, see the service)
    is_cancelled: bool
    call_retry_config: dict[str, Any] | None
    from_phone_number: str | None
    max_concurrent_calls: int | None
    scheduled_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RowRecord:
    id: str
    row_index: int
    phone_number: str
    input_data: dict[str, str]
    call_order_id: str | None
    skip_reason: str | None


def _campaign(row: sa.RowMapping) -> CampaignRecord:
    return CampaignRecord(**{key: row[key] for key in CampaignRecord.__slots__})


async def insert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(sa.insert(campaigns).values(**values))


async def insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        await conn.execute(sa.insert(campaign_rows), rows[start : start + 5000])


async def get(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, campaign_id: str, lock: bool = False
) -> CampaignRecord | None:
    query = sa.select(campaigns).where(
        campaigns.c.id == campaign_id,
        campaigns.c.organization_id == organization_id,
        campaigns.c.mode == mode,
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    return _campaign(row) if row else None


async def list_for(
    conn: AsyncConnection, *, organization_id: str, mode: Mode
) -> list[CampaignRecord]:
    rows = await conn.execute(
        sa.select(campaigns)
        .where(campaigns.c.organization_id == organization_id, campaigns.c.mode == mode)
        .order_by(campaigns.c.created_at.desc(), campaigns.c.id)
    )
    return [_campaign(row) for row in rows.mappings()]


async def update(conn: AsyncConnection, campaign_id: str, values: dict[str, Any]) -> None:
    await conn.execute(sa.update(campaigns).where(campaigns.c.id == campaign_id).values(**values))


async def delete(conn: AsyncConnection, campaign_id: str) -> None:
    await conn.execute(sa.delete(campaign_rows).where(campaign_rows.c.campaign_id == campaign_id))
    await conn.execute(sa.delete(campaigns).where(campaigns.c.id == campaign_id))


async def orders_of(
    conn: AsyncConnection, campaign_ids: list[str], *, lock: bool = False
) -> dict[str, list[CallOrderRecord]]:
    """The campaigns' orders; with ``lock`` (PostgreSQL) they are locked in id order, so a
    change decided from them cannot overwrite the engine's concurrent writes."""
    grouped: dict[str, list[CallOrderRecord]] = {cid: [] for cid in campaign_ids}
    if not campaign_ids:
        return grouped
    query = _SELECT_ORDERS.where(call_orders.c.campaign_id.in_(campaign_ids))
    if lock and conn.dialect.name == "postgresql":
        query = query.order_by(call_orders.c.id).with_for_update(of=call_orders)
    rows = await conn.execute(query)
    for row in rows.mappings():
        order = order_from_row(row)
        grouped[order.campaign_id or ""].append(order)
    return grouped


async def status_counts(
    conn: AsyncConnection, campaign_ids: list[str]
) -> dict[str, dict[tuple[str, bool], int]]:
    """Per campaign: (order status, attempted at least once) -> number of orders."""
    counts: dict[str, dict[tuple[str, bool], int]] = {cid: {} for cid in campaign_ids}
    if not campaign_ids:
        return counts
    attempted = call_orders.c.calls_count > 0
    rows = await conn.execute(
        sa.select(call_orders.c.campaign_id, call_orders.c.status, attempted, sa.func.count())
        .where(call_orders.c.campaign_id.in_(campaign_ids))
        .group_by(call_orders.c.campaign_id, call_orders.c.status, attempted)
    )
    for campaign_id, status, was_attempted, count in rows:
        counts[campaign_id][(status, bool(was_attempted))] = int(count)
    return counts


async def skipped_counts(conn: AsyncConnection, campaign_ids: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(campaign_ids, 0)
    if campaign_ids:
        rows = await conn.execute(
            sa.select(campaign_rows.c.campaign_id, sa.func.count())
            .where(
                campaign_rows.c.campaign_id.in_(campaign_ids),
                campaign_rows.c.skip_reason.is_not(None),
            )
            .group_by(campaign_rows.c.campaign_id)
        )
        counts.update({cid: int(n) for cid, n in rows})
    return counts


async def rows_page(
    conn: AsyncConnection,
    *,
    campaign_id: str,
    offset: int,
    limit: int,
    statuses: tuple[str, ...] = (),
    results: tuple[str, ...] = (),
    text: str | None = None,
) -> tuple[list[RowRecord], int]:
    query = (
        sa.select(campaign_rows)
        .select_from(
            campaign_rows.outerjoin(call_orders, call_orders.c.id == campaign_rows.c.call_order_id)
        )
        .where(campaign_rows.c.campaign_id == campaign_id)
    )
    if statuses:
        query = query.where(call_orders.c.status.in_(statuses))
    if results:
        named = [r for r in results if r != "none"]
        clauses = [call_orders.c.last_result.in_(named)] if named else []
        if "none" in results:
            clauses.append(call_orders.c.last_result.is_(None))
        query = query.where(sa.or_(*clauses))
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(
            sa.or_(
                campaign_rows.c.phone_number.like(pattern),
                sa.func.lower(sa.cast(campaign_rows.c.input_data, sa.Text)).like(pattern),
            )
        )
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
    ).scalar_one()
    rows = await conn.execute(query.order_by(campaign_rows.c.row_index).offset(offset).limit(limit))
    return [
        RowRecord(
            id=r.id,
            row_index=r.row_index,
            phone_number=r.phone_number,
            input_data=r.input_data,
            call_order_id=r.call_order_id,
            skip_reason=r.skip_reason,
        )
        for r in rows
    ], int(total)


async def mark_skipped(conn: AsyncConnection, order_ids: list[str], reason: str) -> None:
    if order_ids:
        await conn.execute(
            sa.update(campaign_rows)
            .where(in_list(campaign_rows.c.call_order_id, order_ids, conn.dialect.name))
            .values(skip_reason=reason)
        )


# -- set-based changes of a campaign's orders -------------------------------------------

Where = list[Any]  # SQL conditions on call_orders, ANDed


def open_orders(campaign_id: str) -> Where:
    """The campaign's orders not in a terminal status."""
    return [
        call_orders.c.campaign_id == campaign_id,
        call_orders.c.status.not_in(TERMINAL_STATUSES),
    ]


async def set_where(conn: AsyncConnection, where: Where, values: dict[str, Any]) -> int:
    """One UPDATE of the orders of ``where``; how many were written."""
    result = await conn.execute(sa.update(call_orders).where(*where).values(**values))
    return int(result.rowcount)


async def distinct_configs(conn: AsyncConnection, where: Where) -> list[str]:
    """The distinct retry configs (as stored text) of the orders of ``where``."""
    rows = await conn.execute(sa.select(_config_text()).where(*where).distinct())
    return list(rows.scalars())


async def contact_numbers(conn: AsyncConnection, where: Where) -> list[tuple[str, str]]:
    """(id, the contact's number: callee of an outbound order, caller of an inbound one)."""
    o = call_orders.c
    contact = sa.case((o.direction == "outbound", o.to_phone_number), else_=o.from_phone_number)
    rows = await conn.execute(sa.select(o.id, contact).where(*where).order_by(contact))
    return [(order_id, number) for order_id, number in rows]


def with_statuses(campaign_id: str, statuses: list[str]) -> Where:
    return [call_orders.c.campaign_id == campaign_id, call_orders.c.status.in_(statuses)]


def planned(where: Where, *, now: datetime) -> tuple[Where, Where, Where]:
    """The orders of ``where`` with no dial planned, one planned after ``now``, and one
    planned at or before ``now``."""
    at = call_orders.c.next_attempt_at
    return [*where, at.is_(None)], [*where, at > now], [*where, at <= now]


async def lock(conn: AsyncConnection, where: Where) -> None:
    """Lock the orders of ``where`` in id order (PostgreSQL), as the engine's writers do:
    set-based changes of orders the engine also changes then wait, never deadlock."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            sa.select(call_orders.c.id).where(*where).order_by(call_orders.c.id).with_for_update()
        )


async def set_returning_ids(
    conn: AsyncConnection, where: Where, values: dict[str, Any]
) -> set[str]:
    """``set_where``, returning the ids of the orders written."""
    result = await conn.execute(
        sa.update(call_orders).where(*where).values(**values).returning(call_orders.c.id)
    )
    return set(result.scalars())


async def notified_orders(conn: AsyncConnection, where: Where) -> list[CallOrderRecord]:
    """The orders of ``where`` whose assistant snapshot has a webhook URL (those a
    terminal status is reported for); the others are not loaded."""
    snapshots = await conn.execute(
        sa.select(assistant_snapshots.c.id, assistant_snapshots.c.content).where(
            assistant_snapshots.c.id.in_(
                sa.select(call_orders.c.snapshot_id).where(*where).distinct()
            )
        )
    )
    with_url = [snapshot_id for snapshot_id, content in snapshots if content.get("webhook_url")]
    if not with_url:
        return []
    rows = await conn.execute(_SELECT_ORDERS.where(*where, call_orders.c.snapshot_id.in_(with_url)))
    return [order_from_row(row) for row in rows.mappings()]


# -- launch: set-based, a handful of statements whatever the number of orders -----------


def _config_text() -> Any:
    """The retry config as its stored text: JSON columns have no equality on PostgreSQL,
    and the text compares exactly on both databases."""
    return sa.cast(call_orders.c.call_retry_config, sa.Text)


def selection(
    dialect: str,
    campaign_id: str,
    *,
    call_ids: list[str],
    only: bool,
    statuses: list[str],
    directions: list[str],
    results: list[str],
    outcomes: list[str],
) -> Where:
    """The campaign's orders a launch selection names: ``only`` those of ``call_ids``,
    else all except them; each filter (``none``: no result / no outcome yet) narrows."""
    o = call_orders.c
    where: Where = [o.campaign_id == campaign_id]
    if only:
        where.append(in_list(o.id, call_ids, dialect))
    elif call_ids:
        where.append(sa.not_(in_list(o.id, call_ids, dialect)))
    if statuses:
        where.append(o.status.in_(statuses))
    if directions:
        where.append(o.direction.in_(directions))
    if results:
        where.append(sa.func.coalesce(o.last_result, "none").in_(results))
    if outcomes:
        where.append(sa.func.coalesce(o.outcome, "none").in_(outcomes))
    return where


def with_ids(where: Where, ids: list[str], dialect: str) -> Where:
    return [*where, in_list(call_orders.c.id, ids, dialect)]


def without_ids(where: Where, ids: list[str], dialect: str) -> Where:
    return [*where, sa.not_(in_list(call_orders.c.id, ids, dialect))]


# The reserved fictional range +1 NPA 555 01XX as a LIKE pattern (domain.sandbox_numbers
# checks it exactly): what is outside it may need a carrier.
_FICTIONAL_LIKE = "+1___55501__"


async def real_numbers(conn: AsyncConnection, where: Where) -> list[tuple[str, str, str]]:
    """(id, to_phone_number, from_phone_number) of the not_launched orders of ``where``
    whose number lies outside the reserved fictional range."""
    o = call_orders.c
    rows = await conn.execute(
        sa.select(o.id, o.to_phone_number, o.from_phone_number).where(
            *not_launched(where), sa.not_(o.to_phone_number.like(_FICTIONAL_LIKE))
        )
    )
    return [(order_id, to, line) for order_id, to, line in rows]


async def matching_text(conn: AsyncConnection, where: Where, text: str) -> list[str]:
    """Ids of the orders whose number and prompt variables, joined by spaces, contain
    ``text`` (case-insensitive, as Python lowercases)."""
    wanted = text.lower()
    rows = await conn.execute(
        sa.select(
            call_orders.c.id, call_orders.c.to_phone_number, call_orders.c.prompt_variables
        ).where(*where)
    )
    return [
        order_id
        for order_id, number, variables in rows
        if wanted in " ".join([number, *(variables or {}).values()]).lower()
    ]


async def count_by_status(conn: AsyncConnection, where: Where) -> dict[str, int]:
    rows = await conn.execute(
        sa.select(call_orders.c.status, sa.func.count())
        .where(*where)
        .group_by(call_orders.c.status)
    )
    return {status: int(count) for status, count in rows}


def not_launched(where: Where) -> Where:
    return [*where, call_orders.c.status == "not_launched"]


async def do_not_contact_orders(
    conn: AsyncConnection, where: Where, *, organization_id: str, mode: Mode
) -> list[CallOrderRecord]:
    """The not_launched orders of ``where`` whose number is on the do-not-contact list."""
    # Correlated on (organization, number) both ways, so that either side's index serves,
    # whichever the planner starts from (fresh imports have no statistics yet).
    o = call_orders.c
    listed = do_not_contact.listed(o.organization_id, o.mode, o.to_phone_number)
    mine = [o.organization_id == organization_id, o.mode == mode]
    rows = await conn.execute(_SELECT_ORDERS.where(*not_launched(where), *mine, listed))
    return [order_from_row(row) for row in rows.mappings()]


async def set_not_launched(conn: AsyncConnection, where: Where, values: dict[str, Any]) -> int:
    """Write ``values`` on the not_launched orders of ``where``; how many were written."""
    result = await conn.execute(sa.update(call_orders).where(*not_launched(where)).values(**values))
    return int(result.rowcount)


async def retry_groups(conn: AsyncConnection, where: Where) -> list[tuple[str, str]]:
    """The distinct (retry config as stored text, timezone) of the orders of ``where``:
    what their next dial time depends on (few, whatever the number of orders)."""
    rows = await conn.execute(
        sa.select(_config_text(), call_orders.c.timezone).where(*where).distinct()
    )
    return [(config, zone) for config, zone in rows]


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """What the orders of one retry group become."""

    config_text: str
    timezone: str
    status: str
    due: datetime


GROUPS_PER_STATEMENT = 100


async def write_groups(
    conn: AsyncConnection, where: Where, plans: list[GroupPlan], now: datetime
) -> int:
    """Set each group's status and next dial time on the orders of ``where``: one UPDATE
    per GROUPS_PER_STATEMENT groups. Returns the orders written."""
    written = 0
    for start in range(0, len(plans), GROUPS_PER_STATEMENT):
        chunk = plans[start : start + GROUPS_PER_STATEMENT]
        matches = [
            sa.and_(_config_text() == plan.config_text, call_orders.c.timezone == plan.timezone)
            for plan in chunk
        ]
        pairs = list(zip(matches, chunk, strict=True))
        due: Any = sa.case(*((match, sa.literal(plan.due, UTCDateTime())) for match, plan in pairs))
        status: Any = sa.case(*((match, plan.status) for match, plan in pairs))
        if len(chunk) == 1:
            due, status = chunk[0].due, chunk[0].status
        written += await set_where(
            conn,
            [*where, sa.or_(*matches)],
            {"status": status, "scheduled_at": due, "next_attempt_at": due, "updated_at": now},
        )
    return written


async def export_lines(conn: AsyncConnection, campaign_id: str) -> list[ExportLine]:
    """Each row of the campaign in order, with its order and that order's newest attempt."""
    a, o, r = call_attempts.c, call_orders.c, campaign_rows.c
    others = call_attempts.alias("others")
    newest = (
        sa.select(sa.func.max(others.c.attempt_number))
        .where(others.c.call_order_id == o.id)
        .correlate(call_orders)
        .scalar_subquery()
    )
    rows = await conn.execute(
        sa.select(
            r.row_index,
            r.phone_number,
            r.call_order_id,
            r.skip_reason,
            r.input_data,
            o.id.label("order_id"),
            o.status,
            o.calls_count,
            o.outcome,
            a.id.label("attempt_id"),
            a.result,
            a.dial_error,
            a.structured_output,
            a.openrevox,
        )
        .select_from(
            campaign_rows.outerjoin(
                call_orders, sa.and_(o.id == r.call_order_id, o.campaign_id == r.campaign_id)
            ).outerjoin(call_attempts, sa.and_(a.call_order_id == o.id, a.attempt_number == newest))
        )
        .where(r.campaign_id == campaign_id)
        .order_by(r.row_index)
    )
    return [ExportLine(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class ExportLine:
    """A row, its order (``order_id`` None: none) and its newest attempt (``attempt_id``
    None: none)."""

    row_index: int
    phone_number: str
    call_order_id: str | None
    skip_reason: str | None
    input_data: dict[str, str]
    order_id: str | None
    status: str | None
    calls_count: int | None
    outcome: str | None
    attempt_id: str | None
    result: str | None
    dial_error: str | None
    structured_output: dict[str, Any] | None
    openrevox: dict[str, Any] | None


async def row_numbers(conn: AsyncConnection, campaign_id: str) -> set[str]:
    """The phone numbers of a campaign's rows."""
    rows = await conn.execute(
        sa.select(campaign_rows.c.phone_number).where(campaign_rows.c.campaign_id == campaign_id)
    )
    return set(rows.scalars())


async def next_row_index(conn: AsyncConnection, campaign_id: str) -> int:
    found = await conn.execute(
        sa.select(sa.func.max(campaign_rows.c.row_index)).where(
            campaign_rows.c.campaign_id == campaign_id
        )
    )
    last = found.scalar()
    return 0 if last is None else int(last) + 1


async def insert_rows_with_orders(
    conn: AsyncConnection, orders: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> None:
    """Call orders (``services.calls.order_values``) and the campaign rows that point to
    them, one statement each (one unnest() on PostgreSQL)."""
    # orm_nulls: a missing metadata is JSON null, as a single call's order stores it.
    await bulk.insert_rows(conn, call_orders, orders, orm_nulls=True)
    await bulk.insert_rows(conn, campaign_rows, rows, orm_nulls=True)
