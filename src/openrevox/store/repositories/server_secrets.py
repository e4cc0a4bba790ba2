"""Secrets the server keeps in its database (the recording-link signing key)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from openrevox.store.db import Database
from openrevox.store.tables import server_secrets


async def get_or_create(db: Database, name: str, make: str, now: datetime) -> str:
    """The secret called ``name``; ``make`` is stored when there is none yet. Whichever
    process asks first creates it; the others read what it stored."""
    query = sa.select(server_secrets.c.value).where(server_secrets.c.name == name)
    async with db.read() as conn:
        value = (await conn.execute(query)).scalar_one_or_none()
    if value is None:
        try:
            async with db.transaction() as conn:
                value = (await conn.execute(query)).scalar_one_or_none()
                if value is None:
                    value = make
                    await conn.execute(
                        sa.insert(server_secrets).values(name=name, value=value, created_at=now)
                    )
        except IntegrityError:  # another process created it at the same moment
            async with db.read() as conn:
                value = (await conn.execute(query)).scalar_one()
    return str(value)
