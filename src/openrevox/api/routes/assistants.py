"""The six assistant routes."""

from __future__ import annotations

from fastapi import APIRouter

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.assistant import AssistantCreate, AssistantUpdateIn
from openrevox.services import assistants as service
from openrevox.store.repositories import assistants as repository
from openrevox.wire import assistant_wire

router = APIRouter(prefix="/assistants", tags=["assistants"])


@router.post("", summary="Create an assistant")
async def create_assistant(body: AssistantCreate, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        record = await service.create(
            conn,
            principal,
            body,
            services.clock.now(),
            services.settings.webhook_allow_hosts,
            calendly_server=services.settings.calendly_api_key is not None,
        )
    return JSON({"assistant": assistant_wire(record)})


@router.get("", summary="List assistants")
async def list_assistants(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        records = await repository.list_visible(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
    return JSON({"assistants": [assistant_wire(record) for record in records]})


@router.get("/{assistant_id}", summary="Get an assistant (the bare object, no envelope)")
async def get_assistant(assistant_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        record = await service.get_or_404(conn, principal, assistant_id)
    return JSON(assistant_wire(record))


@router.patch("/{assistant_id}", summary="Update an assistant (only the keys given change)")
async def update_assistant(
    assistant_id: str, principal: Auth, services: Services, body: AssistantUpdateIn | None = None
) -> JSON:
    async with services.db.transaction() as conn:
        result = await service.update(
            conn,
            principal,
            assistant_id,
            body or AssistantUpdateIn(),
            services.clock.now(),
            services.settings.webhook_allow_hosts,
            calendly_server=services.settings.calendly_api_key is not None,
        )
    notice = (
        {"count": result.unpatched_count, "variables": result.unpatched_variables}
        if result.unpatched_count
        else None
    )
    return JSON({"assistant": assistant_wire(result.assistant), "unpatchedCallsNotice": notice})


@router.delete("/{assistant_id}", summary="Delete an assistant; its pending calls error")
async def delete_assistant(assistant_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.delete(conn, principal, assistant_id, services.clock.now())
    return success()


@router.post("/{assistant_id}/clone", summary="Clone an assistant with its FAQ")
async def clone_assistant(assistant_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        record = await service.clone(conn, principal, assistant_id, services.clock.now())
    return JSON({"assistant": assistant_wire(record)})
