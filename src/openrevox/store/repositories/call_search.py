"""Filtering, sorting and paging call orders (/call/search, /call/export, history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.repositories import do_not_contact
from openrevox.store.repositories.calls import (
    _SELECT_ORDERS,
    CallOrderRecord,
    order_from_row,
)
from openrevox.store.tables import call_attempts, call_orders, campaigns

SORTABLE = {
    "created_at": call_orders.c.created_at,
    "updated_at": call_orders.c.updated_at,
    "scheduled_at": call_orders.c.scheduled_at,
    "status": call_orders.c.status,
    "to_phone_number": call_orders.c.to_phone_number,
    "calls_count": call_orders.c.calls_count,
    "last_attempt_at": call_orders.c.last_attempt_at,
}


@dataclass(frozen=True, slots=True)
class CallQuery:
    organization_id: str
    mode: Mode
    assignee_ids: tuple[str, ...] = ()
    assistant_ids: tuple[str, ...] = ()
    campaign_ids: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    from_phone_numbers: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    call_ids: tuple[str, ...] | None = None
    text: str | None = None
    to_phone_number: str | None = None
    created_from: datetime | None = None  # inclusive (the dashboard's date range)
    created_before: datetime | None = None  # exclusive
    sort_by: str = "created_at"
    descending: bool = True


def _null_aware(column: sa.ColumnElement[Any], values: tuple[str, ...]) -> sa.ColumnElement[bool]:
    """``"none"`` in a filter list matches a null value."""
    named = [value for value in values if value != "none"]
    clauses: list[sa.ColumnElement[bool]] = []
    if named:
        clauses.append(column.in_(named))
    if "none" in values:
        clauses.append(column.is_(None))
    return sa.or_(*clauses)


def _where(query: CallQuery) -> list[sa.ColumnElement[bool]]:
    c = call_orders.c
    where: list[sa.ColumnElement[bool]] = [
        c.organization_id == query.organization_id,
        c.mode == query.mode,
    ]
    if query.assignee_ids:
        where.append(sa.false())  # nobody is assigned calls yet: no order matches
    if query.assistant_ids:
        where.append(c.assistant_id.in_(query.assistant_ids))
    if query.campaign_ids:
        where.append(c.campaign_id.in_(query.campaign_ids))
    if query.directions:
        where.append(c.direction.in_(query.directions))
    if query.from_phone_numbers:
        where.append(c.from_phone_number.in_(query.from_phone_numbers))
    if query.outcomes:
        where.append(_null_aware(c.outcome, query.outcomes))
    if query.results:
        where.append(_null_aware(c.last_result, query.results))
    if query.statuses:
        where.append(c.status.in_(query.statuses))
    if query.call_ids is not None:
        where.append(c.id.in_(query.call_ids))
    if query.to_phone_number:
        where.append(c.to_phone_number == query.to_phone_number)
    if query.created_from is not None:
        where.append(c.created_at >= query.created_from)
    if query.created_before is not None:
        where.append(c.created_at < query.created_before)
    if query.text:
        pattern = f"%{query.text.lower()}%"
        where.append(
            sa.or_(
                c.to_phone_number.like(pattern),
                c.from_phone_number.like(pattern),
                c.id == query.text,
                sa.func.lower(sa.cast(c.contact, sa.Text)).like(pattern),
                sa.func.lower(sa.cast(c.metadata, sa.Text)).like(pattern),
            )
        )
    return where


def where_of(query: CallQuery) -> list[sa.ColumnElement[bool]]:
    """The conditions of a query, for other readers of the same filters (the dashboard)."""
    return _where(query)


async def search(
    conn: AsyncConnection, query: CallQuery, *, offset: int, limit: int
) -> tuple[list[CallOrderRecord], int]:
    where = _where(query)
    total = (
        await conn.execute(sa.select(sa.func.count()).select_from(call_orders).where(*where))
    ).scalar_one()
    column = SORTABLE[query.sort_by]
    order = column.desc() if query.descending else column.asc()
    tie = call_orders.c.id.desc() if query.descending else call_orders.c.id.asc()
    rows = await conn.execute(
        _SELECT_ORDERS.where(*where).order_by(order, tie).offset(offset).limit(limit)
    )
    return [order_from_row(row) for row in rows.mappings()], int(total)


async def attempts_page(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: Mode,
    statuses: tuple[str, ...],
    offset: int,
    limit: int,
) -> list[sa.RowMapping]:
    """Attempts newest first (the legacy GET /call), filtered by their order's status."""
    query = (
        sa.select(call_attempts)
        .join(call_orders, call_orders.c.id == call_attempts.c.call_order_id)
        .where(call_orders.c.organization_id == organization_id, call_orders.c.mode == mode)
        .order_by(call_attempts.c.created_at.desc(), call_attempts.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    if statuses:
        query = query.where(call_orders.c.status.in_(statuses))
    return list((await conn.execute(query)).mappings())


@dataclass(slots=True)
class HistoryEntry:
    count: int = 0
    campaigns: dict[str, str] | None = None
    do_not_contact: bool = False
    hot: bool = False
    reached_human: bool = False
    last_called_at: Any = None
    last_outcome: str | None = None
    last_outcome_at: Any = None


async def phone_history(
    conn: AsyncConnection, *, organization_id: str, mode: Mode
) -> dict[str, HistoryEntry]:
    c = call_orders.c
    rows = await conn.execute(
        sa.select(
            c.to_phone_number,
            c.direction,
            c.from_phone_number,
            c.campaign_id,
            campaigns.c.name,
            c.outcome,
            c.updated_at,
            c.last_attempt_at,
            c.last_result,
        )
        .select_from(call_orders.outerjoin(campaigns, campaigns.c.id == c.campaign_id))
        .where(c.organization_id == organization_id, c.mode == mode)
    )
    history: dict[str, HistoryEntry] = {}
    for row in rows:
        # The contact's number: the callee of outbound calls, the caller of inbound ones.
        number = row.to_phone_number if row.direction == "outbound" else row.from_phone_number
        entry = history.setdefault(number, HistoryEntry(campaigns={}))
        entry.count += 1
        if row.campaign_id and entry.campaigns is not None:
            entry.campaigns[row.campaign_id] = row.name
        if row.outcome == "interested":
            entry.hot = True
        if row.last_result == "human":
            entry.reached_human = True
        if row.last_attempt_at and (
            entry.last_called_at is None or row.last_attempt_at > entry.last_called_at
        ):
            entry.last_called_at = row.last_attempt_at
        if row.outcome and (
            entry.last_outcome_at is None or row.updated_at > entry.last_outcome_at
        ):
            entry.last_outcome, entry.last_outcome_at = row.outcome, row.updated_at
    for number in await do_not_contact.numbers(conn, organization_id=organization_id, mode=mode):
        history.setdefault(number, HistoryEntry(campaigns={})).do_not_contact = True
    return history
