"""The webhook outbox and its delivery log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.tables import (
    organizations,
    webhook_deliveries,
    webhook_events,
    webhook_settings,
)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    organization_id: str
    mode: Mode
    event_type: str
    call_order_id: str
    attempt_id: str | None
    url: str
    payload: dict[str, Any]
    status: str
    tries: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def _event(row: sa.RowMapping) -> WebhookEvent:
    return WebhookEvent(**{key: row[key] for key in WebhookEvent.__slots__})


async def enqueue(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: str,
    event_type: str,
    call_order_id: str,
    attempt_id: str | None,
    url: str,
    payload: dict[str, Any],
    now: datetime,
) -> str:
    event_id = "msg_" + uuid.uuid4().hex
    await conn.execute(
        sa.insert(webhook_events).values(
            id=event_id,
            organization_id=organization_id,
            mode=mode,
            event_type=event_type,
            call_order_id=call_order_id,
            attempt_id=attempt_id,
            url=url,
            payload=payload,
            status="pending",
            tries=0,
            next_attempt_at=now,
            last_error=None,
            created_at=now,
            delivered_at=None,
        )
    )
    return event_id


async def per_attempt_events(conn: AsyncConnection, organization_id: str, mode: str) -> bool:
    row = await conn.execute(
        sa.select(webhook_settings.c.per_attempt_events).where(
            webhook_settings.c.organization_id == organization_id, webhook_settings.c.mode == mode
        )
    )
    found = row.scalar()
    return bool(found)


async def set_per_attempt_events(
    conn: AsyncConnection, organization_id: str, mode: str, enabled: bool, now: datetime
) -> None:
    updated = await conn.execute(
        sa.update(webhook_settings)
        .where(
            webhook_settings.c.organization_id == organization_id, webhook_settings.c.mode == mode
        )
        .values(per_attempt_events=enabled, updated_at=now)
    )
    if not updated.rowcount:
        await conn.execute(
            sa.insert(webhook_settings).values(
                organization_id=organization_id,
                mode=mode,
                per_attempt_events=enabled,
                updated_at=now,
            )
        )


async def claim_due(
    conn: AsyncConnection, *, now: datetime, limit: int, hold_seconds: float
) -> list[WebhookEvent]:
    """Pending events due now, held for ``hold_seconds`` so no other worker sends them."""
    query = (
        sa.select(webhook_events)
        .where(webhook_events.c.status == "pending", webhook_events.c.next_attempt_at <= now)
        .order_by(webhook_events.c.next_attempt_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    events = [_event(row) for row in (await conn.execute(query)).mappings()]
    if events:
        await conn.execute(
            sa.update(webhook_events)
            .where(webhook_events.c.id.in_([e.id for e in events]))
            .values(next_attempt_at=now + timedelta(seconds=hold_seconds))
        )
    return events


async def secret_of(conn: AsyncConnection, organization_id: str) -> str:
    row = await conn.execute(
        sa.select(organizations.c.webhook_secret).where(organizations.c.id == organization_id)
    )
    return str(row.scalar_one())


@dataclass(frozen=True, slots=True)
class Try:
    """One try at delivering ``event``, and what the event becomes (``outcome``)."""

    event: WebhookEvent
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    excerpt: str | None
    outcome: dict[str, Any]


async def record_tries(conn: AsyncConnection, tries: list[Try]) -> None:
    """Log each try and move its event (delivered, pending with a new time, or dead):
    one count, one insert, then one update per event."""
    if not tries:
        return
    event_ids = [attempt.event.id for attempt in tries]
    counted = await conn.execute(
        sa.select(webhook_deliveries.c.event_id, sa.func.count())
        .where(webhook_deliveries.c.event_id.in_(event_ids))
        .group_by(webhook_deliveries.c.event_id)
    )
    earlier: dict[str, int] = {event_id: int(count) for event_id, count in counted}
    await conn.execute(
        sa.insert(webhook_deliveries),
        [
            {
                "id": str(uuid.uuid4()),
                "event_id": attempt.event.id,
                "try_number": earlier.get(attempt.event.id, 0) + 1,
                "attempted_at": attempt.attempted_at,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
                "response_excerpt": attempt.excerpt,
            }
            for attempt in tries
        ],
    )
    for attempt in tries:
        await conn.execute(
            sa.update(webhook_events)
            .where(webhook_events.c.id == attempt.event.id)
            .values(tries=attempt.event.tries + 1, last_error=attempt.error, **attempt.outcome)
        )


async def get(
    conn: AsyncConnection, *, organization_id: str, mode: str, event_id: str
) -> WebhookEvent | None:
    row = (
        (
            await conn.execute(
                sa.select(webhook_events).where(
                    webhook_events.c.id == event_id,
                    webhook_events.c.organization_id == organization_id,
                    webhook_events.c.mode == mode,
                )
            )
        )
        .mappings()
        .first()
    )
    return _event(row) if row else None


async def list_events(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: str,
    call_order_id: str | None,
    status: str | None,
    limit: int,
) -> list[WebhookEvent]:
    query = sa.select(webhook_events).where(
        webhook_events.c.organization_id == organization_id, webhook_events.c.mode == mode
    )
    if call_order_id:
        query = query.where(webhook_events.c.call_order_id == call_order_id)
    if status:
        query = query.where(webhook_events.c.status == status)
    rows = await conn.execute(query.order_by(webhook_events.c.created_at.desc()).limit(limit))
    return [_event(row) for row in rows.mappings()]


async def deliveries_of(conn: AsyncConnection, event_id: str) -> list[sa.RowMapping]:
    rows = await conn.execute(
        sa.select(webhook_deliveries)
        .where(webhook_deliveries.c.event_id == event_id)
        .order_by(webhook_deliveries.c.try_number)
    )
    return list(rows.mappings())


async def replay(conn: AsyncConnection, event_id: str, now: datetime) -> None:
    await conn.execute(
        sa.update(webhook_events)
        .where(webhook_events.c.id == event_id)
        .values(status="pending", tries=0, next_attempt_at=now, delivered_at=None)
    )
