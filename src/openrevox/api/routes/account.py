"""GET /auth-status, GET and PATCH /users/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON
from openrevox.api.schemas.common import WireModel
from openrevox.errors import InvalidField, NotFound
from openrevox.store.repositories import accounts
from openrevox.wire import user_wire

router = APIRouter(tags=["account"])


@router.get("/auth-status", summary="Check if your API key is still valid")
async def auth_status(_principal: Auth) -> JSON:
    return JSON({"authenticated": True})


@router.get("/users/me", summary="Get the current authenticated user")
async def get_me(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        user = await accounts.get_user(conn, principal.user_id)
    if user is None:
        raise NotFound("the key's user no longer exists")
    return JSON({"user": user_wire(user, principal.country)})


class UserPatch(WireModel):
    first_name: Annotated[str, Field(max_length=200)] | None = None
    last_name: Annotated[str, Field(max_length=200)] | None = None
    has_completed_onboarding: bool | None = None


@router.patch("/users/me", summary="Update the current user (from Revox's TypeScript SDK)")
async def patch_me(principal: Auth, services: Services, body: UserPatch | None = None) -> JSON:
    changes = {key: getattr(body, key) for key in body.given()} if body else {}
    if changes.get("has_completed_onboarding", False) is None:
        raise InvalidField(
            "has_completed_onboarding cannot be null", param="has_completed_onboarding"
        )
    async with services.db.transaction() as conn:
        if changes:
            await accounts.update_user(conn, principal.user_id, changes, services.clock.now())
        user = await accounts.get_user(conn, principal.user_id)
    if user is None:
        raise NotFound("the key's user no longer exists")
    return JSON({"user": user_wire(user, principal.country)})
