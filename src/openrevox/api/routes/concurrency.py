"""Ours (not in the Revox SDK): the server-side limits of concurrency keys.

``POST /call`` groups a call with ``concurrency: {key}``; the key's limit is set here
(default: OPENREVOX_CONCURRENCY_KEY_DEFAULT_LIMIT). Older clients' ``concurrency.max``
still wins for the call that sends it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.common import WireModel
from openrevox.domain.clock import iso
from openrevox.errors import NotFound
from openrevox.store.repositories import concurrency_keys

router = APIRouter(prefix="/concurrency-keys", tags=["concurrency keys (openrevox)"])


class KeyLimitIn(WireModel):
    max_concurrent_calls: Annotated[int, Field(ge=1, le=10_000)]


@router.get("", summary="List concurrency keys with a limit set")
async def list_keys(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        limits = await concurrency_keys.list_limits(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
    items = [
        {
            "key": limit.key,
            "max_concurrent_calls": limit.max_concurrent_calls,
            "updated_at": iso(limit.updated_at),
        }
        for limit in limits
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
        await concurrency_keys.set_limit(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            key=key,
            limit=body.max_concurrent_calls,
            now=now,
        )
    return JSON(
        {"key": key, "max_concurrent_calls": body.max_concurrent_calls, "updated_at": iso(now)}
    )


@router.delete("/{key}", summary="Forget a key's limit (back to the default)")
async def delete_key(key: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        deleted = await concurrency_keys.delete_limit(
            conn, organization_id=principal.organization_id, mode=principal.mode, key=key
        )
    if not deleted:
        raise NotFound(f"no limit is set for concurrency key '{key}'", param="key")
    return success()
