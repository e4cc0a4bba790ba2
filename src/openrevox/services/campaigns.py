"""Campaigns: create (rows become not_launched call orders), update, launch, pause,
resume, cancel, delete. Dialling is the lifecycle engine's; this records the changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.schemas.campaign import CampaignCreate, CampaignPatch, LaunchIn
from openrevox.api.wire import assistant_wire
from openrevox.domain.lifecycle import OrderEvent, OrderStatus, is_terminal
from openrevox.domain.retry_config import policy_from_wire
from openrevox.domain.schedule import first_dial_time, load_timezone
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services import order_status
from openrevox.services.calls import caller_id, resume_order
from openrevox.services.campaign_rows import add_rows, check_contacts, recipient_zones
from openrevox.services.order_status import move
from openrevox.store.repositories import calls, campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calls import CallOrderRecord
from openrevox.store.repositories.campaigns import CampaignRecord, Where

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
        open_orders = campaigns.open_orders(campaign.id)
        config = order_changes.get("call_retry_config")
        if config is not None:
            override = _override(config)
            if override is not None:  # the config's timezone is every order's
                order_changes["timezone"] = override
            else:
                await _zones_from_numbers(conn, open_orders, config, now)
        await campaigns.set_where(conn, open_orders, {**order_changes, "updated_at": now})


def _override(config: dict[str, Any]) -> str | None:
    """The retry config's timezone, when it overrides the one of the number."""
    zone = config.get("timezone")
    return zone.strip() if isinstance(zone, str) and zone.strip() else None


async def _zones_from_numbers(
    conn: AsyncConnection, where: Where, config: dict[str, Any], now: datetime
) -> None:
    """Orders are given ``recipient_timezone`` of their number when added. If a former
    retry config's timezone override replaced it, the number's comes back."""
    configs = await campaigns.distinct_configs(conn, where)
    if all(_override(orjson.loads(text)) is None for text in configs):
        return  # every stored timezone is already its number's
    numbers = await campaigns.contact_numbers(conn, where)
    zones = recipient_zones((number for _, number in numbers), config)
    by_zone: dict[str, list[str]] = {}
    for (order_id, _), zone in zip(numbers, zones, strict=True):
        by_zone.setdefault(zone, []).append(order_id)
    for zone, ids in by_zone.items():
        await campaigns.set_where(
            conn, campaigns.with_ids(where, ids, conn.dialect.name), {"timezone": zone}
        )


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


async def _selection(conn: AsyncConnection, campaign_id: str, body: LaunchIn) -> Where | None:
    """The SQL conditions of the orders ``body.selection`` names, or None for none."""
    filters, rows = body.selection.filters, body.selection.rows
    if filters.assignee_ids:  # no order has an assignee (no operator console)
        return None
    if rows.mode == "only" and not rows.call_ids:
        return None
    dialect = conn.dialect.name
    where = campaigns.selection(
        dialect,
        campaign_id,
        call_ids=rows.call_ids,
        only=rows.mode == "only",
        statuses=list(filters.statuses),
        directions=list(filters.directions),
        results=list(filters.results),
        outcomes=list(filters.outcomes),
    )
    if filters.query:
        matching = await campaigns.matching_text(conn, where, filters.query)
        if not matching:
            return None
        where = campaigns.with_ids(where, matching, dialect)
    return where


def _first_dial_zone(config: dict[str, Any], stored: str) -> str:
    """The recipient's timezone: the config's override, else the one the order stores
    (``recipient_timezone`` of its number, found when the row was added)."""
    return _override(config) or stored


def _plan(
    config_text: str,
    stored_zone: str,
    *,
    now: datetime,
    requested_at: datetime | None,
    paused: bool,
) -> campaigns.LaunchPlan:
    """Status and first dial time of the orders of one (retry config, timezone) group."""
    config = orjson.loads(config_text)
    policy = policy_from_wire(config, load_timezone(_first_dial_zone(config, stored_zone)))
    due = first_dial_time(policy, now=now, requested_at=requested_at, skip_window=False)
    status = move(
        OrderStatus.NOT_LAUNCHED, OrderEvent.LAUNCH_FUTURE if due > now else OrderEvent.LAUNCH_DUE
    )
    if paused:  # launched into a paused campaign: held until resume
        status = move(status, OrderEvent.PAUSE)
    return campaigns.LaunchPlan(config_text, stored_zone, status.value, due)


async def launch(
    conn: AsyncConnection, principal: Principal, campaign_id: str, body: LaunchIn, now: datetime
) -> LaunchReport:
    """Send the selected not_launched orders; the others are counted by why they were
    skipped. Set-based: a handful of statements whatever the number of orders, the first
    dial time computed once per (retry config, timezone) group."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    if body.mode == "speed_dial":
        raise InvalidField(
            "speed_dial needs a live operator console (not offered): use ai_first",
            param="mode",
        )
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    report = LaunchReport()
    where = await _selection(conn, campaign.id, body)
    counts = await campaigns.count_by_status(conn, where) if where is not None else {}
    for status, count in counts.items():
        if status == OrderStatus.CANCELLED:
            report.cancelled += count
        elif status in ACTIVE:
            report.active += count
        elif status != OrderStatus.NOT_LAUNCHED:
            report.attempts_exhausted += count
    if where is not None and counts.get(OrderStatus.NOT_LAUNCHED):
        refused = await campaigns.do_not_contact_orders(
            conn, where, organization_id=principal.organization_id, mode=principal.mode
        )
        if refused:
            ids = [order.id for order in refused]
            cancelled = move(OrderStatus.NOT_LAUNCHED, OrderEvent.CANCEL)
            report.do_not_contact = await campaigns.set_not_launched(
                conn,
                campaigns.with_ids(where, ids, conn.dialect.name),
                {"status": cancelled.value, "updated_at": now},
            )
            for order in refused:
                await order_status.after_change(conn, order, cancelled, now)
            await campaigns.mark_skipped(conn, ids, "do_not_contact")
        plans = [
            _plan(
                config_text,
                zone,
                now=now,
                requested_at=body.scheduled_at,
                paused=campaign.status == "paused",
            )
            for config_text, zone in await campaigns.retry_groups(conn, where)
        ]
        report.launched = await campaigns.launch_groups(conn, where, plans, now)
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
