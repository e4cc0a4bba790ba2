"""Campaigns: create (rows become not_launched call orders), update, launch, pause,
resume, cancel, delete. Dialling is the lifecycle engine's; this records the changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.schemas.campaign import CampaignCreate, CampaignPatch, LaunchIn
from openrevox.api.wire import assistant_wire
from openrevox.domain.lifecycle import OrderEvent, OrderStatus, is_terminal
from openrevox.domain.retry_config import policy_from_wire, recipient_timezone
from openrevox.domain.schedule import first_dial_time
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services import order_status
from openrevox.services.calls import caller_id, is_do_not_contact, resume_order
from openrevox.services.campaign_rows import add_rows, check_contacts
from openrevox.services.order_status import move
from openrevox.store.repositories import calls, campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calls import CallOrderRecord
from openrevox.store.repositories.campaigns import CampaignRecord

ACTIVE = {"initializing", "queued_for_calling", "scheduled", "calling", "post_processing", "paused"}


async def get_or_404(
    conn: AsyncConnection, principal: Principal, campaign_id: str, *, lock: bool = False
) -> CampaignRecord:
    record = await campaigns.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        campaign_id=campaign_id,
        lock=lock,
    )
    if record is None:
        raise NotFound(f"no campaign with id '{campaign_id}'", param="id")
    return record


async def create(
    conn: AsyncConnection, principal: Principal, body: CampaignCreate, now: datetime
) -> tuple[str, bool]:
    """The new campaign's id, and whether the body asked an older client's launch-at-create."""
    try:
        assistant = await assistant_service.get_or_404(conn, principal, body.assistant_id)
    except NotFound as error:
        raise InvalidField(error.message, param="assistant_id") from None
    snapshot = assistant_wire(assistant)
    retry_config = (
        body.call_retry_config.model_dump(mode="json")
        if body.call_retry_config is not None
        else snapshot["call_retry_config"]
    )
    from_number = (
        await assistant_service.owned_number(
            conn, principal, body.from_phone_number, param="from_phone_number"
        )
        if body.from_phone_number
        else await caller_id(conn, principal, snapshot)
    )
    texts = (snapshot.get("prompt"), snapshot.get("first_sentence"))
    checked = check_contacts(
        ((i, c.to_phone_number, c.prompt_variables) for i, c in enumerate(body.contacts)),
        country=principal.country,
        prompt_texts=texts,
    )
    if checked.problems:
        first = checked.problems[0]
        field = "prompt_variables" if first.reason.startswith("missing") else "to_phone_number"
        raise InvalidField(
            f"contact {first.where}: {first.reason}", param=f"contacts.{first.where}.{field}"
        )
    campaign_id = str(uuid.uuid4())
    await campaigns.insert(
        conn,
        {
            "id": campaign_id,
            "organization_id": principal.organization_id,
            "mode": principal.mode,
            "assistant_id": assistant.id,
            "name": body.name,
            "status": "running",
            "is_cancelled": False,
            "call_retry_config": retry_config,
            "from_phone_number": from_number,
            "max_concurrent_calls": body.max_concurrent_calls,
            "scheduled_at": body.scheduled_at,
            "created_by": principal.user_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    await add_rows(
        conn,
        principal,
        campaign_id=campaign_id,
        assistant_id=assistant.id,
        snapshot=snapshot,
        retry_config=retry_config,
        from_number=from_number,
        contacts=checked.valid,
        first_index=0,
        now=now,
    )
    legacy_launch = body.launch is True or "scheduled_at" in body.given()
    return campaign_id, legacy_launch


async def update(
    conn: AsyncConnection,
    principal: Principal,
    campaign_id: str,
    body: CampaignPatch,
    now: datetime,
) -> None:
    """Name, caller id, retry config and cap; applied to the orders not yet completed."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    values: dict[str, Any] = {}
    order_changes: dict[str, Any] = {}
    given = body.given()
    if "name" in given:
        if body.name is None:
            raise InvalidField("name cannot be null", param="name")
        values["name"] = body.name
    if "from_phone_number" in given:
        number = (
            await assistant_service.owned_number(
                conn, principal, body.from_phone_number, param="from_phone_number"
            )
            if body.from_phone_number
            else None
        )
        values["from_phone_number"] = number
        if number:
            order_changes["from_phone_number"] = number
    if "max_concurrent_calls" in given:
        values["max_concurrent_calls"] = body.max_concurrent_calls  # read by dispatch
    if "call_retry_config" in given:
        config = body.call_retry_config.model_dump(mode="json") if body.call_retry_config else None
        values["call_retry_config"] = config
        if config is not None:
            order_changes["call_retry_config"] = config
    if not values:
        return
    await campaigns.update(conn, campaign.id, {**values, "updated_at": now})
    if order_changes:
        for order in await _orders(conn, campaign.id):
            if not is_terminal(OrderStatus(order.status)):
                await calls.update_order(conn, order.id, {**order_changes, "updated_at": now})


async def _orders(conn: AsyncConnection, campaign_id: str) -> list[CallOrderRecord]:
    """The campaign's orders, locked: every caller here changes them."""
    return (await campaigns.orders_of(conn, [campaign_id], lock=True))[campaign_id]


@dataclass(slots=True)
class LaunchReport:
    launched: int = 0
    active: int = 0
    attempts_exhausted: int = 0
    cancelled: int = 0
    do_not_contact: int = 0
    launched_ids: list[str] = field(default_factory=list)


def _selected(order: CallOrderRecord, body: LaunchIn) -> bool:
    filters, rows = body.selection.filters, body.selection.rows
    listed = order.id in set(rows.call_ids)
    if (rows.mode == "only") != listed:
        return False
    if filters.assignee_ids:
        return False
    if filters.statuses and order.status not in filters.statuses:
        return False
    if filters.directions and order.direction not in filters.directions:
        return False
    if filters.results and (order.last_result or "none") not in filters.results:
        return False
    if filters.outcomes and (order.outcome or "none") not in filters.outcomes:
        return False
    if filters.query:
        text = filters.query.lower()
        haystack = " ".join(
            [order.to_phone_number, *(order.prompt_variables or {}).values()]
        ).lower()
        if text not in haystack:
            return False
    return True


async def launch(
    conn: AsyncConnection, principal: Principal, campaign_id: str, body: LaunchIn, now: datetime
) -> LaunchReport:
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    if body.mode == "speed_dial":
        raise InvalidField(
            "speed_dial needs a live operator console (not offered): use ai_first",
            param="mode",
        )
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    report = LaunchReport()
    paused = campaign.status == "paused"
    skipped_dnc: list[str] = []
    for order in await _orders(conn, campaign.id):
        if not _selected(order, body):
            continue
        if order.status == OrderStatus.CANCELLED:
            report.cancelled += 1
            continue
        if order.status in ACTIVE:
            report.active += 1
            continue
        if order.status != OrderStatus.NOT_LAUNCHED:
            report.attempts_exhausted += 1
            continue
        if await is_do_not_contact(conn, principal, order.to_phone_number):
            report.do_not_contact += 1
            skipped_dnc.append(order.id)
            await order_status.apply(conn, order, OrderEvent.CANCEL, now)
            continue
        policy = policy_from_wire(
            order.call_retry_config,
            recipient_timezone(order.call_retry_config, order.to_phone_number),
        )
        due = first_dial_time(policy, now=now, requested_at=body.scheduled_at, skip_window=False)
        status = move(
            OrderStatus.NOT_LAUNCHED,
            OrderEvent.LAUNCH_FUTURE if due > now else OrderEvent.LAUNCH_DUE,
        )
        if paused:  # launched into a paused campaign: held until resume
            status = move(status, OrderEvent.PAUSE)
        await calls.update_order(
            conn,
            order.id,
            {
                "status": status.value,
                "scheduled_at": due,
                "next_attempt_at": due,
                "updated_at": now,
            },
        )
        report.launched += 1
        report.launched_ids.append(order.id)
    await campaigns.mark_skipped(conn, skipped_dnc, "do_not_contact")
    await campaigns.update(
        conn,
        campaign.id,
        {"updated_at": now, "scheduled_at": body.scheduled_at or campaign.scheduled_at},
    )
    return report


async def pause(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """No further calls are placed; in-progress calls finish; planned times keep counting."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    await campaigns.update(conn, campaign.id, {"status": "paused", "updated_at": now})
    for order in await _orders(conn, campaign.id):
        if order.status in ("scheduled", "queued_for_calling", "calling"):
            await calls.update_order(
                conn,
                order.id,
                {
                    "status": move(OrderStatus(order.status), OrderEvent.PAUSE).value,
                    "updated_at": now,
                },
            )


async def resume(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """Held calls go on; those whose time passed during the pause go at the next window."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    await campaigns.update(conn, campaign.id, {"status": "running", "updated_at": now})
    for order in await _orders(conn, campaign.id):
        if order.status == OrderStatus.PAUSED:
            await resume_order(conn, order, now)


async def cancel(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """Pending and queued calls are aborted; in-progress ones finish; rows are kept."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    await campaigns.update(conn, campaign.id, {"is_cancelled": True, "updated_at": now})
    await _cancel_pending(conn, campaign.id, now)


async def _cancel_pending(conn: AsyncConnection, campaign_id: str, now: datetime) -> None:
    for order in await _orders(conn, campaign_id):
        if not is_terminal(OrderStatus(order.status)):
            await order_status.apply(conn, order, OrderEvent.CANCEL, now, next_attempt_at=None)


async def delete(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """Delete with its rows; no new call is placed, in-progress calls are not affected."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    await _cancel_pending(conn, campaign.id, now)
    await campaigns.delete(conn, campaign.id)
