"""The organization's do-not-contact list: the one place its query is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.tables import do_not_contact


def listed(organization_id: Any, mode: Any, phone_number: Any) -> sa.ColumnElement[bool]:
    """ "This number is on the list", for values or for columns of another table (as a
    correlated ``EXISTS``, which either side's (organization, number) index serves)."""
    return sa.exists().where(
        do_not_contact.c.organization_id == organization_id,
        do_not_contact.c.mode == mode,
        do_not_contact.c.phone_number == phone_number,
    )


async def is_listed(
    conn: AsyncConnection, *, organization_id: str, mode: str, phone_number: str
) -> bool:
    found = await conn.execute(sa.select(listed(organization_id, mode, phone_number)))
    return bool(found.scalar())


async def add(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: str,
    phone_number: str,
    reason: str,
    now: datetime,
) -> None:
    """Put the number on the list (once: a number already listed keeps its entry)."""
    if not await is_listed(
        conn, organization_id=organization_id, mode=mode, phone_number=phone_number
    ):
        await conn.execute(
            sa.insert(do_not_contact).values(
                organization_id=organization_id,
                mode=mode,
                phone_number=phone_number,
                reason=reason,
                created_at=now,
            )
        )


async def numbers(conn: AsyncConnection, *, organization_id: str, mode: str) -> list[str]:
    """Every number on the organization's list in that mode."""
    rows = await conn.execute(
        sa.select(do_not_contact.c.phone_number).where(
            do_not_contact.c.organization_id == organization_id, do_not_contact.c.mode == mode
        )
    )
    return [number for (number,) in rows]
