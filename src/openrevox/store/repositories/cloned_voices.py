"""Voices an organization cloned at a provider (``services.voices``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.tables import cloned_voices


@dataclass(frozen=True, slots=True)
class ClonedVoice:
    id: str
    provider_voice_id: str
    name: str
    language: str
    created_at: datetime


async def list_clones(
    conn: AsyncConnection, *, organization_id: str, mode: str
) -> list[ClonedVoice]:
    """Oldest first."""
    rows = await conn.execute(
        sa.select(cloned_voices)
        .where(cloned_voices.c.organization_id == organization_id, cloned_voices.c.mode == mode)
        .order_by(cloned_voices.c.created_at)
    )
    return [ClonedVoice(r.id, r.provider_voice_id, r.name, r.language, r.created_at) for r in rows]


async def insert_clone(
    conn: AsyncConnection,
    *,
    clone: ClonedVoice,
    organization_id: str,
    mode: str,
    provider: str,
    sample_key: str,
) -> None:
    await conn.execute(
        sa.insert(cloned_voices).values(
            id=clone.id,
            organization_id=organization_id,
            mode=mode,
            provider=provider,
            provider_voice_id=clone.provider_voice_id,
            name=clone.name,
            language=clone.language,
            sample_key=sample_key,
            created_at=clone.created_at,
        )
    )


async def delete_clone(conn: AsyncConnection, clone_id: str) -> None:
    await conn.execute(sa.delete(cloned_voices).where(cloned_voices.c.id == clone_id))
