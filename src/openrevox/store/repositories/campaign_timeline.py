"""A campaign's results over time: its ended attempts counted per minute (UTC) and
result, summed by the database (one row per minute and result, whatever the size)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.tables import call_attempts, call_orders


async def results_per_minute(conn: AsyncConnection, campaign_id: str) -> list[tuple[str, str, int]]:
    """``(minute 'YYYY-MM-DD HH:MM', result or dial error, attempts)`` in time order."""
    bucket: sa.ColumnElement[Any]
    if conn.dialect.name == "postgresql":
        bucket = sa.func.to_char(
            sa.func.timezone("UTC", call_attempts.c.ended_at), "YYYY-MM-DD HH24:MI"
        )
    else:  # stored as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff' (store/types.py)
        bucket = sa.func.substr(call_attempts.c.ended_at, 1, 16)
    minute = sa.type_coerce(bucket, sa.String).label("minute")
    result = sa.type_coerce(
        sa.func.coalesce(call_attempts.c.result, call_attempts.c.dial_error, "none"), sa.String
    ).label("result")
    rows = await conn.execute(
        sa.select(minute, result, sa.func.count().label("n"))
        .join(call_orders, call_orders.c.id == call_attempts.c.call_order_id)
        .where(call_orders.c.campaign_id == campaign_id, call_attempts.c.ended_at.is_not(None))
        .group_by(minute, result)
        .order_by(minute)
    )
    return [(str(row.minute), str(row.result), int(row.n)) for row in rows]
