"""Call orders: accept, persist with their assistant snapshot, pause, resume, cancel."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.agent.llm.endpoints import endpoint_for
from openrevox.api.schemas.call import CallCreate
from openrevox.domain.lifecycle import OrderEvent, OrderStatus, is_terminal
from openrevox.domain.phone import normalize_e164
from openrevox.domain.prompts import missing_variables
from openrevox.domain.retry_config import policy_from_wire, recipient_timezone
from openrevox.domain.schedule import first_dial_time, next_dial_time
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services import order_status
from openrevox.services.order_status import move
from openrevox.services.routing import router_for
from openrevox.services.speech import local_speech_refusal
from openrevox.settings import Settings
from openrevox.store.repositories import calls, do_not_contact, phone_numbers
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calls import CallOrderRecord
from openrevox.wire import assistant_wire

CONTACT_KEYS = ("company", "email", "first_name", "job_title", "last_name")


def contact_from_variables(variables: dict[str, str] | None) -> dict[str, Any]:
    """The contract's "magic contact variables", read from the input data."""
    values = variables or {}
    return {key: values.get(key) or None for key in CONTACT_KEYS}


async def _snapshot_for(
    conn: AsyncConnection,
    principal: Principal,
    body: CallCreate,
    now: datetime,
    settings: Settings,
) -> tuple[str | None, dict[str, Any]]:
    if body.assistant_id is not None:
        record = await assistant_service.get_or_404(conn, principal, body.assistant_id)
        return record.id, assistant_wire(record)
    if body.assistant is not None:
        snapshot = assistant_service.inline_snapshot(principal, body.assistant, now)
        await assistant_service.check_config(
            conn,
            principal,
            snapshot,
            settings.webhook_allow_hosts,
            calendly_server=settings.calendly_api_key is not None,
        )
        return None, snapshot
    raise InvalidField("give either assistant_id or an inline assistant", param="assistant_id")


async def create_call(
    conn: AsyncConnection, principal: Principal, settings: Settings, body: CallCreate, now: datetime
) -> str:
    try:
        to_number = normalize_e164(body.phone_number, default_region=principal.country)
    except ValueError as error:
        raise InvalidField(str(error), param="phone_number") from None
    try:
        assistant_id, snapshot = await _snapshot_for(conn, principal, body, now, settings)
    except NotFound as error:
        raise InvalidField(error.message, param="assistant_id") from None

    missing = missing_variables(
        (snapshot.get("prompt"), snapshot.get("first_sentence")), body.prompt_variables
    )
    if missing:
        raise InvalidField(
            "prompt_variables lacks " + ", ".join(missing) + " used by the assistant's prompt",
            param="prompt_variables",
        )
    if body.from_phone_number:
        from_number = await assistant_service.owned_number(
            conn, principal, body.from_phone_number, param="from_phone_number"
        )
    else:
        from_number = await caller_id(conn, principal, snapshot)
    router = await router_for(conn, principal, settings.carriers, from_number)
    route = router.route(to_number)
    if route.refusal is not None:
        raise InvalidField(route.refusal, param=route.about)
    if not route.simulated and endpoint_for(snapshot.get("llm_model"), settings) is None:
        raise InvalidField(
            "no LLM serves this assistant's llm_model: the sandbox agent serves simulated "
            "calls only (use a test key, a sandbox number, or set OPENREVOX_LLM_BASE_URL)",
            param="phone_number",
        )
    if not route.simulated and (refusal := local_speech_refusal(settings, snapshot)):
        raise InvalidField(refusal, param="phone_number")
    if await do_not_contact.is_listed(
        conn, organization_id=principal.organization_id, mode=principal.mode, phone_number=to_number
    ):
        raise Conflict(f"{to_number} is on your do-not-contact list", param="phone_number")

    retry_config = snapshot["call_retry_config"]
    timezone = recipient_timezone(retry_config, to_number)
    policy = policy_from_wire(retry_config, timezone)
    skip_window = bool(body.skip_calling_window or body.force_now)
    due = first_dial_time(policy, now=now, requested_at=body.scheduled_at, skip_window=skip_window)
    event = OrderEvent.CREATED_FUTURE if due > now else OrderEvent.CREATED_DUE
    status = move(OrderStatus.INITIALIZING, event)

    call_id = str(uuid.uuid4())
    snapshot_id = await calls.insert_snapshot(
        conn, organization_id=principal.organization_id, content=snapshot, now=now
    )
    await calls.insert_order(
        conn,
        order_values(
            call_id=call_id,
            principal=principal,
            assistant_id=assistant_id,
            snapshot_id=snapshot_id,
            retry_config=retry_config,
            timezone=timezone.key,
            to_number=to_number,
            from_number=from_number,
            status=status.value,
            due=due,
            prompt_variables=body.prompt_variables,
            metadata=body.metadata,
            concurrency_key=body.concurrency.key if body.concurrency else None,
            concurrency_max=body.concurrency.max if body.concurrency else None,
            skip_calling_window=skip_window,
            now=now,
        ),
    )
    return call_id


async def caller_id(conn: AsyncConnection, principal: Principal, snapshot: dict[str, Any]) -> str:
    """The assistant's own caller id, else the organization's default line."""
    if snapshot.get("from_phone_number"):
        return str(snapshot["from_phone_number"])
    default = await phone_numbers.default_for(
        conn, organization_id=principal.organization_id, mode=principal.mode
    )
    if default is None:
        raise Conflict("your organization has no phone number to call from")
    return default.phone_number


def order_values(
    *,
    call_id: str,
    principal: Principal,
    assistant_id: str | None,
    snapshot_id: str,
    retry_config: dict[str, Any],
    timezone: str,
    to_number: str,
    from_number: str,
    status: str,
    due: datetime | None,
    prompt_variables: dict[str, str] | None,
    metadata: dict[str, str] | None,
    now: datetime,
    campaign_id: str | None = None,
    concurrency_key: str | None = None,
    concurrency_max: int | None = None,
    skip_calling_window: bool = False,
) -> dict[str, Any]:
    """The row of a new outbound call order."""
    return {
        "id": call_id,
        "organization_id": principal.organization_id,
        "mode": principal.mode,
        "assistant_id": assistant_id,
        "campaign_id": campaign_id,
        "direction": "outbound",
        "status": status,
        "to_phone_number": to_number,
        "from_phone_number": from_number,
        "snapshot_id": snapshot_id,
        "call_retry_config": retry_config,
        "timezone": timezone,
        "prompt_variables": prompt_variables,
        "metadata": metadata,
        "concurrency_key": concurrency_key,
        "concurrency_max": concurrency_max,
        "skip_calling_window": skip_calling_window,
        "scheduled_at": due,
        "next_attempt_at": due,
        "calls_count": 0,
        "last_result": None,
        "last_attempt_at": None,
        "outcome": None,
        "outcome_summary": None,
        "contact": contact_from_variables(prompt_variables),
        "created_at": now,
        "updated_at": now,
    }


async def _locked_order(
    conn: AsyncConnection, principal: Principal, call_id: str
) -> CallOrderRecord:
    order = await calls.get_order(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        call_id=call_id,
        lock=True,
    )
    if order is None:
        raise NotFound(f"no call with id '{call_id}'", param="id")
    return order


def _refuse_if_ended(order: CallOrderRecord, action: str) -> None:
    if is_terminal(OrderStatus(order.status)):
        raise Conflict(f"cannot {action} call '{order.id}': it is already {order.status}")


async def cancel_call(
    conn: AsyncConnection, principal: Principal, call_id: str, now: datetime
) -> None:
    """No new attempt will start; a live attempt is allowed to finish (see docs)."""
    order = await _locked_order(conn, principal, call_id)
    _refuse_if_ended(order, "cancel")
    await order_status.apply(conn, order, OrderEvent.CANCEL, now, next_attempt_at=None)


async def pause_call(
    conn: AsyncConnection, principal: Principal, call_id: str, now: datetime
) -> None:
    """Hold the retry loop; the planned time keeps counting down (``next_attempt_at`` kept)."""
    order = await _locked_order(conn, principal, call_id)
    _refuse_if_ended(order, "pause")
    if order.status == OrderStatus.PAUSED:
        return
    status = move(OrderStatus(order.status), OrderEvent.PAUSE)
    await calls.update_order(conn, order.id, {"status": status.value, "updated_at": now})


async def resume_call(
    conn: AsyncConnection, principal: Principal, call_id: str, now: datetime
) -> None:
    """Continue where it left off; a planned time that passed during the pause moves to
    the next calling window."""
    order = await _locked_order(conn, principal, call_id)
    _refuse_if_ended(order, "resume")
    if order.status != OrderStatus.PAUSED:
        return
    await resume_order(conn, order, now)


async def resume_order(conn: AsyncConnection, order: CallOrderRecord, now: datetime) -> None:
    """A paused order goes on: a planned time still ahead is kept, one that passed during
    the pause moves to the next calling window; a live attempt keeps it ``calling``."""
    values: dict[str, Any] = {"updated_at": now}
    due = order.next_attempt_at
    if due is not None and due <= now:
        policy = policy_from_wire(
            order.call_retry_config,
            recipient_timezone(order.call_retry_config, order.to_phone_number),
        )
        due = next_dial_time(policy, now)
        values.update(next_attempt_at=due, scheduled_at=due)
    if due is None:
        event = OrderEvent.RESUME_LIVE
    else:
        event = OrderEvent.RESUME_FUTURE if due > now else OrderEvent.RESUME_DUE
    values["status"] = move(OrderStatus.PAUSED, event).value
    await calls.update_order(conn, order.id, values)
