"""The recording key of call attempts (``results.recordings``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.db import Database
from openrevox.store.repositories.calls import AttemptRecord, attempt_from_row
from openrevox.store.tables import call_attempts


async def attempt(conn: AsyncConnection, attempt_id: str) -> AttemptRecord | None:
    query = sa.select(call_attempts).where(call_attempts.c.id == attempt_id)
    row = (await conn.execute(query)).mappings().first()
    return attempt_from_row(row) if row else None


async def set_key_if_none(conn: AsyncConnection, attempt_id: str, key: str) -> None:
    """A key already set (a real call's recording) is kept."""
    await conn.execute(
        sa.update(call_attempts)
        .where(call_attempts.c.id == attempt_id, call_attempts.c.recording_key.is_(None))
        .values(recording_key=key)
    )


async def older_than(conn: AsyncConnection, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
    """(attempt id, recording key) of attempts created before ``cutoff`` with a key."""
    rows = await conn.execute(
        sa.select(call_attempts.c.id, call_attempts.c.recording_key)
        .where(call_attempts.c.recording_key.is_not(None), call_attempts.c.created_at < cutoff)
        .limit(limit)
    )
    return [(attempt_id, key) for attempt_id, key in rows]


async def clear_keys(conn: AsyncConnection, attempt_ids: list[str]) -> None:
    await conn.execute(
        sa.update(call_attempts)
        .where(call_attempts.c.id.in_(attempt_ids))
        .values(recording_key=None)
    )


@asynccontextmanager
async def one_at_a_time(db: Database, name: str) -> AsyncIterator[None]:
    """On PostgreSQL, a transaction-scoped advisory lock on ``name`` across every
    process; elsewhere nothing (SQLite deployments run one process, and holding its
    write lock would stall it)."""
    if db.dialect != "postgresql":
        yield
        return
    async with db.engine.connect() as conn, conn.begin():
        lock_id = sa.func.hashtextextended(name, 0)
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))
        yield
