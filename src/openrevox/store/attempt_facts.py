"""Writing the ``openrevox`` object of call attempts (``domain/attempt_extension.py``):
every write merges facts into the stored object, key by key, never replaces it, so that
parts writing at different moments (the dispatcher at the end, a carrier on its
callbacks) keep each other's facts.

``repositories.dispatch``'s batched update applies this to the column whatever the
write; its ``add_attempt_facts`` is the way in for a write of facts alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.attempt_extension import KEY, merge
from openrevox.store.bulk import in_list
from openrevox.store.tables import call_attempts


def merges(table: sa.Table, column: str) -> bool:
    """Whether writes to ``table.column`` merge into the stored object."""
    return table is call_attempts and column == KEY


def pg_merged(stored: str, given: str) -> str:
    """PostgreSQL: the stored object with the given one's keys set over it (``||`` is
    the same shallow merge as ``attempt_extension.merge``); null when both are empty."""
    empty = "'{}'::jsonb"
    return f"NULLIF(COALESCE({stored}, {empty}) || COALESCE({given}, {empty}), {empty})"


async def merged_rows(
    conn: AsyncConnection, ids: list[str], rows: list[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """SQLite (writers are serialised: what is read here stays until written): the rows
    with their ``openrevox`` merged into what is stored."""
    found = await conn.execute(
        sa.select(call_attempts.c.id, call_attempts.c.openrevox).where(
            in_list(call_attempts.c.id, ids, conn.dialect.name)
        )
    )
    stored = {row.id: row.openrevox for row in found}
    return [
        {**row, KEY: merge(stored.get(row_id), row[KEY] or {})}
        for row_id, row in zip(ids, rows, strict=True)
    ]
