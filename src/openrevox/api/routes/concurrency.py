"""Ours (not in the Revox SDK): the server-side limits of concurrency keys.

``POST /call`` groups a call with ``concurrency: {key}``; the key's limit is set here
(default: OPENREVOX_CONCURRENCY_KEY_DEFAULT_LIMIT). Older clients' ``concurrency.max``
still wins for the call that sends it."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import Field

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.common import WireModel
from openrevox.domain.clock import iso
from openrevox.errors import NotFound
from openrevox.store.tables import concurrency_keys

router = APIRouter(prefix="/concurrency-keys", tags=["concurrency keys (openrevox)"])


class KeyLimitIn(WireModel):
    max_concurrent_calls: Annotated[int, Field(ge=1, le=10_000)]


def _where(organization_id: str, mode: str, key: str | None = None) -> list[sa.ColumnElement[bool]]:
    clauses = [
        concurrency_keys.c.organization_id == organization_id,
        concurrency_keys.c.mode == mode,
    ]
    if key is not None:
        clauses.append(concurrency_keys.c.key == key)
    return clauses


@router.get("", summary="List concurrency keys with a limit set")
async def list_keys(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        rows = await conn.execute(
            sa.select(concurrency_keys)
            .where(*_where(principal.organization_id, principal.mode))
            .order_by(concurrency_keys.c.key)
        )
        items = [
            {
                "key": r.key,
                "max_concurrent_calls": r.max_concurrent_calls,
                "updated_at": iso(r.updated_at),
            }
            for r in rows
        ]
    return JSON(
        {
            "concurrency_keys": items,
            "default_limit": services.settings.concurrency_key_default_limit,
        }
    )


@router.put("/{key}", summary="Set the limit of a concurrency key")
async def set_key(key: str, body: KeyLimitIn, principal: Auth, services: Services) -> JSON:
    now = services.clock.now()
    async with services.db.transaction() as conn:
        found = await conn.execute(
            sa.update(concurrency_keys)
            .where(*_where(principal.organization_id, principal.mode, key))
            .values(max_concurrent_calls=body.max_concurrent_calls, updated_at=now)
        )
        if not found.rowcount:
            await conn.execute(
                sa.insert(concurrency_keys).values(
                    organization_id=principal.organization_id,
                    mode=principal.mode,
                    key=key,
                    max_concurrent_calls=body.max_concurrent_calls,
                    updated_at=now,
                )
            )
    return JSON(
        {"key": key, "max_concurrent_calls": body.max_concurrent_calls, "updated_at": iso(now)}
    )


@router.delete("/{key}", summary="Forget a key's limit (back to the default)")
async def delete_key(key: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        result = await conn.execute(
            sa.delete(concurrency_keys).where(
                *_where(principal.organization_id, principal.mode, key)
            )
        )
    if not result.rowcount:
        raise NotFound(f"no limit is set for concurrency key '{key}'", param="key")
    return success()
