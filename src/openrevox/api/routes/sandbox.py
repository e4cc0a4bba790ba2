"""Ours: the simulated network places inbound calls to the organization's numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON
from openrevox.api.schemas.common import WireModel
from openrevox.errors import Conflict, InvalidField
from openrevox.services.inbound import CALLER_PERSONAS, persona_number, place_inbound_call
from openrevox.store.repositories import calls
from openrevox.wire import call_wire

router = APIRouter(prefix="/sandbox", tags=["sandbox (openrevox)"])


class CallInIn(WireModel):
    to: Annotated[str, Field(min_length=1, description="One of your numbers")]
    persona: Annotated[str, Field(description="SANDBOX.md code of the caller, 00-09")] = "00"
    area_code: Annotated[str, Field(pattern=r"^[2-9]\d\d$")] = "212"


@router.post("/call-in", summary="A sandbox persona calls one of your numbers")
async def call_in(body: CallInIn, principal: Auth, services: Services) -> JSON:
    if body.persona not in CALLER_PERSONAS:
        raise InvalidField(
            "persona must be a person of SANDBOX.md: " + ", ".join(CALLER_PERSONAS), param="persona"
        )
    if services.settings.carriers and principal.mode != "test":
        raise Conflict("sandbox calls need a test key or the simulated network")
    now = services.clock.now()
    async with services.db.transaction() as conn:
        call_id = await place_inbound_call(
            conn,
            principal,
            to_number=body.to,
            from_number=persona_number(body.persona, body.area_code),
            now=now,
        )
        view = await calls.get_view(
            conn, organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )
        assert view is not None
        payload = {"call": call_wire(view, services.recording_links())}
    return JSON(payload)
