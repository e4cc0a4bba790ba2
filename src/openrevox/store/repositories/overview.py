"""The overview's figures: the call attempts of one organization and mode started in a
period, read narrowly (four columns) and summed by the caller. The index on
``call_attempts (organization_id, created_at)`` bounds the read to the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.tables import call_attempts, call_orders


@dataclass(frozen=True, slots=True)
class AttemptFacts:
    created_at: datetime
    result: str | None
    dial_error: str | None
    answered_at: datetime | None
    ended_at: datetime | None


async def attempts_between(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, start: datetime, end: datetime
) -> list[AttemptFacts]:
    rows = await conn.execute(
        sa.select(
            call_attempts.c.created_at,
            call_attempts.c.result,
            call_attempts.c.dial_error,
            call_attempts.c.answered_at,
            call_attempts.c.ended_at,
        )
        .join(call_orders, call_orders.c.id == call_attempts.c.call_order_id)
        .where(
            call_attempts.c.organization_id == organization_id,
            call_attempts.c.created_at >= start,
            call_attempts.c.created_at < end,
            call_orders.c.mode == mode,
        )
    )
    return [AttemptFacts(*row) for row in rows]
