"""Inbound calls: someone calls one of the organization's numbers and its inbound
assistant answers. The simulated network places them on demand (sandbox call-in)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.lifecycle import OrderEvent, OrderStatus
from openrevox.domain.phone import normalize_e164
from openrevox.domain.retry_config import recipient_timezone
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services.calls import order_values
from openrevox.services.order_status import move
from openrevox.store.repositories import assistants, calls, phone_numbers
from openrevox.store.repositories.accounts import Principal
from openrevox.wire import assistant_wire

# Personas that can call in: people (SANDBOX.md 00-09). Machines (voicemail, IVR,
# screening) and dial errors only make sense on outbound calls.
CALLER_PERSONAS = tuple(f"0{n}" for n in range(10))
# Retries never apply to inbound calls: one attempt, whatever the assistant says.
INBOUND_RETRY_OVERRIDES = {"max_retry_attempts": 1, "call_twice_in_a_row": False}


def persona_number(persona: str, area_code: str = "212") -> str:
    """The caller's number: the reserved fictional range with the persona's code."""
    return f"+1{area_code}55501{persona}"


async def place_inbound_call(
    conn: AsyncConnection,
    principal: Principal,
    *,
    to_number: str,
    from_number: str,
    now: datetime,
) -> str:
    """An inbound order on one of our numbers, due at once; 409 (nothing created) when the
    number has no inbound assistant."""
    try:
        ours = normalize_e164(to_number, default_region=principal.country)
    except ValueError as error:
        raise InvalidField(str(error), param="to") from None
    line = await phone_numbers.find_owned(
        conn, organization_id=principal.organization_id, mode=principal.mode, phone_number=ours
    )
    if line is None:
        raise NotFound(f"{ours} is not one of your organization's numbers", param="to")
    if line.inbound_assistant_id is None:
        raise Conflict(
            f"{ours} has no inbound assistant: the call is rejected "
            "(set one with PATCH /phone-numbers/{id})",
            code="no_inbound_assistant",
        )
    assistant = await assistants.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        assistant_id=line.inbound_assistant_id,
    )
    if assistant is None:
        raise Conflict(f"{ours} has no inbound assistant: the call is rejected")
    snapshot = assistant_wire(assistant)
    retry_config = {**snapshot["call_retry_config"], **INBOUND_RETRY_OVERRIDES}
    snapshot_id = await calls.insert_snapshot(
        conn, organization_id=principal.organization_id, content=snapshot, now=now
    )
    call_id = str(uuid.uuid4())
    values = order_values(
        call_id=call_id,
        principal=principal,
        assistant_id=assistant.id,
        snapshot_id=snapshot_id,
        retry_config=retry_config,
        timezone=recipient_timezone(retry_config, from_number).key,
        to_number=ours,
        from_number=from_number,
        status=move(OrderStatus.INITIALIZING, OrderEvent.CREATED_DUE).value,
        due=now,
        prompt_variables=None,
        metadata=None,
        now=now,
        skip_calling_window=True,  # the caller decides when: no window applies
    )
    values["direction"] = "inbound"
    await calls.insert_order(conn, values)
    return call_id
