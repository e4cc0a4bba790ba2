"""GET /phone-numbers, PATCH and DELETE /phone-numbers/{id}."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.common import WireModel
from openrevox.domain.clock import iso
from openrevox.errors import InvalidField
from openrevox.services import number_settings
from openrevox.services import phone_numbers as number_imports
from openrevox.store.repositories import accounts, assistants, phone_numbers
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.assistants import Member
from openrevox.store.repositories.phone_numbers import PhoneNumberRecord
from openrevox.wire import assistant_wire, member_wire

router = APIRouter(prefix="/phone-numbers", tags=["phone numbers"])


class PhoneNumberPatch(WireModel):
    inbound_assistant_id: str | None = None
    label: Annotated[str, Field(max_length=200)] | None = None


async def phone_number_wire(
    conn: AsyncConnection, principal: Principal, record: PhoneNumberRecord
) -> dict[str, Any]:
    assistant = None
    if record.inbound_assistant_id:
        found = await assistants.get(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            assistant_id=record.inbound_assistant_id,
        )
        assistant = assistant_wire(found) if found else None
    creator = None
    if record.created_by:
        user = await accounts.get_user(conn, record.created_by)
        if user:
            creator = Member(user.id, user.email, user.first_name, user.last_name)
    return {
        "id": record.id,
        "created_at": iso(record.created_at),
        "created_by": member_wire(creator),
        "inbound_assistant": assistant,
        "inbound_sip_uri": None,
        "label": record.label,
        "livekit_outbound_trunk_id": None,
        "phone_number": record.phone_number,
        "provider": record.provider,
        "source": record.source,
        "type": record.type,
    }


@router.get("", summary="Get the organization's phone numbers")
async def list_phone_numbers(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        records = await phone_numbers.list_for(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
        items = [await phone_number_wire(conn, principal, record) for record in records]
    return JSON({"phone_numbers": items})


class ProvisionIn(WireModel):
    label: Annotated[str, Field(max_length=200)] | None = None
    inbound_assistant_id: str | None = None


class ImportIn(WireModel):
    phone_number: Annotated[str, Field(max_length=32)]
    provider: Annotated[str, Field(max_length=10)] = "twilio"
    label: Annotated[str, Field(max_length=200)] | None = None


@router.post(
    "/import",
    summary="Ours: register a number of your carrier account (Twilio) as a caller ID",
)
async def import_phone_number(body: ImportIn, principal: Auth, services: Services) -> JSON:
    number, kind = await number_imports.checked_number(
        principal, services.carriers, body.phone_number, body.provider
    )
    async with services.db.transaction() as conn:
        record = await number_imports.import_number(
            conn,
            principal,
            number=number,
            provider=body.provider,
            kind=kind,
            now=services.clock.now(),
            label=body.label,
        )
        payload = {"phone_number": await phone_number_wire(conn, principal, record)}
    return JSON(payload)


@router.post(
    "/sandbox",
    summary="Ours: provision one more sandbox line (+1 NPA 555 0190-0198) for inbound calls",
)
async def provision_sandbox_number(
    principal: Auth, services: Services, body: ProvisionIn | None = None
) -> JSON:
    body = body or ProvisionIn()
    async with services.db.transaction() as conn:
        if body.inbound_assistant_id is not None:
            found = await assistants.get(
                conn,
                organization_id=principal.organization_id,
                mode=principal.mode,
                assistant_id=body.inbound_assistant_id,
            )
            if found is None:
                raise InvalidField(
                    f"no assistant with id '{body.inbound_assistant_id}'",
                    param="inbound_assistant_id",
                )
        record = await phone_numbers.provision_sandbox_line(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            now=services.clock.now(),
            created_by=principal.user_id,
            label=body.label,
        )
        if body.inbound_assistant_id is not None:
            await phone_numbers.update(
                conn,
                phone_number_id=record.id,
                changes={"inbound_assistant_id": body.inbound_assistant_id},
            )
            record = await number_settings.get_or_404(conn, principal, record.id)
        payload = {"phone_number": await phone_number_wire(conn, principal, record)}
    return JSON(payload)


@router.patch("/{phone_number_id}", summary="Update a phone number's label or inbound assistant")
async def update_phone_number(
    phone_number_id: str, principal: Auth, services: Services, body: PhoneNumberPatch | None = None
) -> JSON:
    body = body or PhoneNumberPatch()
    given = body.given()
    async with services.db.transaction() as conn:
        updated = await number_settings.update(
            conn,
            principal,
            phone_number_id,
            label=body.label if "label" in given else number_settings.UNSET,
            inbound_assistant_id=(
                body.inbound_assistant_id
                if "inbound_assistant_id" in given
                else number_settings.UNSET
            ),
        )
        payload = {"phone_number": await phone_number_wire(conn, principal, updated)}
    return JSON(payload)


@router.delete("/{phone_number_id}", summary="Delete a phone number")
async def delete_phone_number(phone_number_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        record = await number_settings.get_or_404(conn, principal, phone_number_id)
        await phone_numbers.delete(conn, phone_number_id=record.id)
    return success()
