"""A phone number's label and inbound assistant: the one place both
``PATCH /phone-numbers/{id}`` and the dashboard change them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.errors import InvalidField, NotFound
from openrevox.store.repositories import assistants, phone_numbers
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.phone_numbers import PhoneNumberRecord

MAX_LABEL = 200
UNSET = object()


async def get_or_404(
    conn: AsyncConnection, principal: Principal, phone_number_id: str
) -> PhoneNumberRecord:
    record = await phone_numbers.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        phone_number_id=phone_number_id,
    )
    if record is None:
        raise NotFound(f"no phone number with id '{phone_number_id}'", param="id")
    return record


async def update(
    conn: AsyncConnection,
    principal: Principal,
    phone_number_id: str,
    *,
    label: str | object | None = UNSET,
    inbound_assistant_id: str | object | None = UNSET,
) -> PhoneNumberRecord:
    """Change what is given (``UNSET``: left alone; ``None``: cleared). The inbound
    assistant must be one of the organization's in the same mode."""
    record = await get_or_404(conn, principal, phone_number_id)
    changes: dict[str, object] = {}
    if label is not UNSET:
        if isinstance(label, str) and len(label) > MAX_LABEL:
            raise InvalidField(f"a label has at most {MAX_LABEL} characters", param="label")
        changes["label"] = label
    if inbound_assistant_id is not UNSET:
        if inbound_assistant_id is not None:
            found = await assistants.get(
                conn,
                organization_id=principal.organization_id,
                mode=principal.mode,
                assistant_id=str(inbound_assistant_id),
            )
            if found is None:
                raise InvalidField(
                    f"no assistant with id '{inbound_assistant_id}'",
                    param="inbound_assistant_id",
                )
        changes["inbound_assistant_id"] = inbound_assistant_id
    if changes:
        await phone_numbers.update(conn, phone_number_id=record.id, changes=changes)
    return await get_or_404(conn, principal, record.id)
