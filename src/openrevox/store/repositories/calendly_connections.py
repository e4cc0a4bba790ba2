"""An organization's Calendly connections; tokens come and go encrypted (the store never
sees one in clear)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.tables import calendly_connections as table


@dataclass(frozen=True, slots=True)
class CalendlyConnectionRecord:
    id: str
    organization_id: str
    mode: str
    name: str
    token_encrypted: str
    token_hint: str
    created_at: datetime


def _record(row: sa.RowMapping) -> CalendlyConnectionRecord:
    return CalendlyConnectionRecord(**{key: row[key] for key in CalendlyConnectionRecord.__slots__})


async def insert(conn: AsyncConnection, record: CalendlyConnectionRecord) -> None:
    await conn.execute(
        sa.insert(table).values(
            {key: getattr(record, key) for key in CalendlyConnectionRecord.__slots__}
        )
    )


async def list_for(
    conn: AsyncConnection, *, organization_id: str, mode: str
) -> list[CalendlyConnectionRecord]:
    rows = await conn.execute(
        sa.select(table)
        .where(table.c.organization_id == organization_id, table.c.mode == mode)
        .order_by(table.c.created_at, table.c.id)
    )
    return [_record(row) for row in rows.mappings()]


async def get(
    conn: AsyncConnection, *, organization_id: str, connection_id: str, mode: str | None = None
) -> CalendlyConnectionRecord | None:
    """The organization's connection; of ``mode`` only when given (a call knows its
    organization; the API also its mode)."""
    query = sa.select(table).where(
        table.c.organization_id == organization_id, table.c.id == connection_id
    )
    if mode is not None:
        query = query.where(table.c.mode == mode)
    row = (await conn.execute(query)).mappings().first()
    return _record(row) if row is not None else None


async def delete(
    conn: AsyncConnection, *, organization_id: str, mode: str, connection_id: str
) -> bool:
    result = await conn.execute(
        sa.delete(table).where(
            table.c.organization_id == organization_id,
            table.c.mode == mode,
            table.c.id == connection_id,
        )
    )
    return bool(result.rowcount)
