"""The server-side limits of concurrency keys (``/concurrency-keys``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.tables import concurrency_keys


@dataclass(frozen=True, slots=True)
class KeyLimit:
    key: str
    max_concurrent_calls: int
    updated_at: datetime


def _where(organization_id: str, mode: str, key: str | None = None) -> list[sa.ColumnElement[bool]]:
    clauses = [
        concurrency_keys.c.organization_id == organization_id,
        concurrency_keys.c.mode == mode,
    ]
    if key is not None:
        clauses.append(concurrency_keys.c.key == key)
    return clauses


async def list_limits(conn: AsyncConnection, *, organization_id: str, mode: str) -> list[KeyLimit]:
    rows = await conn.execute(
        sa.select(
            concurrency_keys.c.key,
            concurrency_keys.c.max_concurrent_calls,
            concurrency_keys.c.updated_at,
        )
        .where(*_where(organization_id, mode))
        .order_by(concurrency_keys.c.key)
    )
    return [KeyLimit(r.key, r.max_concurrent_calls, r.updated_at) for r in rows]


async def set_limit(
    conn: AsyncConnection, *, organization_id: str, mode: str, key: str, limit: int, now: datetime
) -> None:
    found = await conn.execute(
        sa.update(concurrency_keys)
        .where(*_where(organization_id, mode, key))
        .values(max_concurrent_calls=limit, updated_at=now)
    )
    if not found.rowcount:
        await conn.execute(
            sa.insert(concurrency_keys).values(
                organization_id=organization_id,
                mode=mode,
                key=key,
                max_concurrent_calls=limit,
                updated_at=now,
            )
        )


async def delete_limit(conn: AsyncConnection, *, organization_id: str, mode: str, key: str) -> bool:
    """Whether a limit was set (and is now forgotten)."""
    result = await conn.execute(
        sa.delete(concurrency_keys).where(*_where(organization_id, mode, key))
    )
    return bool(result.rowcount)
