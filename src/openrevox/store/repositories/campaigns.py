"""Campaigns and their contact rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.repositories.calls import (
    _SELECT_ORDERS,
    CallOrderRecord,
    order_from_row,
)
from openrevox.store.tables import call_orders, campaign_rows, campaigns


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
            .where(campaign_rows.c.call_order_id.in_(order_ids))
            .values(skip_reason=reason)
        )
