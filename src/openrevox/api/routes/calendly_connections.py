"""Ours (not in the Revox SDK): an organization's Calendly connections, which an
assistant's ``calendly.connection_id`` names. The token is write-only: it is stored
encrypted and only its last four characters are ever shown."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.common import WireModel
from openrevox.services import calendly_connections as service
from openrevox.services.encryption import secret_box

router = APIRouter(prefix="/calendly-connections", tags=["calendly connections (openrevox)"])


class CalendlyConnectionIn(WireModel):
    token: Annotated[
        str, Field(max_length=4000, description="Calendly personal access token (or OAuth)")
    ]
    name: Annotated[str | None, Field(max_length=200)] = None


@router.post("", summary="Connect a Calendly account (its token is stored encrypted)")
async def create_connection(
    body: CalendlyConnectionIn, principal: Auth, services: Services
) -> JSON:
    box = secret_box(services.settings)
    async with services.db.transaction() as conn:
        record = await service.create(
            conn, principal, token=body.token, name=body.name, box=box, now=services.clock.now()
        )
    return JSON({"calendly_connection": service.wire(record)})


@router.get("", summary="List the organization's Calendly connections")
async def list_connections(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        listed = await service.list_wire(conn, principal, services.settings)
    return JSON({"calendly_connections": listed})


@router.delete("/{connection_id}", summary="Delete a Calendly connection")
async def delete_connection(connection_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.delete(conn, principal, connection_id)
    return success()
