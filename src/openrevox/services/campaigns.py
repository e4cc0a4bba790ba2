"""Campaigns: create (rows become not_launched call orders), update, launch, pause,
resume, cancel, delete. Dialling is the lifecycle engine's; this records the changes."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.schemas.campaign import CampaignCreate, CampaignPatch, LaunchIn, Selection
from openrevox.domain.lifecycle import OrderEvent, OrderStatus
from openrevox.domain.retry_config import policy_from_wire
from openrevox.domain.schedule import RetryPolicy, first_dial_time, load_timezone, next_dial_time
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services import order_status
from openrevox.services.calls import caller_id
from openrevox.services.campaign_rows import Contact, add_rows, check_contacts, recipient_zones
from openrevox.services.order_status import move
from openrevox.services.routing import Router, router_for
from openrevox.store.repositories import campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.campaigns import CampaignRecord, Where
from openrevox.wire import assistant_wire

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


@dataclass(frozen=True, slots=True)
class _Inputs:
    assistant_id: str
    snapshot: dict[str, Any]
    retry_config: dict[str, Any]
    from_number: str


async def _create_inputs(
    conn: AsyncConnection, principal: Principal, body: CampaignCreate
) -> _Inputs:
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
    return _Inputs(assistant.id, snapshot, retry_config, from_number)


@dataclass(frozen=True, slots=True)
class CheckedCreate:
    """The contacts of a create body, checked and located (``check_create``)."""

    contacts: list[Contact]
    zones: list[str]
    retry_config: dict[str, Any]


def _check_and_locate(
    body: CampaignCreate,
    country: str,
    texts: tuple[str | None, ...],
    config: dict[str, Any],
    router: Router,
) -> CheckedCreate:
    checked = check_contacts(
        ((i, c.to_phone_number, c.prompt_variables) for i, c in enumerate(body.contacts)),
        country=country,
        prompt_texts=texts,
        refusal=router.refuses,
    )
    if checked.problems:
        first = checked.problems[0]
        field = "prompt_variables" if first.reason.startswith("missing") else "to_phone_number"
        raise InvalidField(
            f"contact {first.where}: {first.reason}", param=f"contacts.{first.where}.{field}"
        )
    zones = recipient_zones((contact.number for contact in checked.valid), config)
    return CheckedCreate(checked.valid, zones, config)


async def check_create(
    conn: AsyncConnection,
    principal: Principal,
    body: CampaignCreate,
    *,
    carriers: tuple[str, ...],
) -> CheckedCreate:
    """What ``create`` checks (assistant, caller id, then the contacts, the CPU part, in
    a thread: a number routing refuses, with ``carriers`` configured, is a bad contact);
    ``conn`` is only read, so that the write transaction holds its lock for the inserts
    only."""
    inputs = await _create_inputs(conn, principal, body)
    texts = (inputs.snapshot.get("prompt"), inputs.snapshot.get("first_sentence"))
    router = await router_for(conn, principal, carriers, inputs.from_number)
    return await asyncio.to_thread(
        _check_and_locate, body, principal.country, texts, inputs.retry_config, router
    )


async def create(
    conn: AsyncConnection,
    principal: Principal,
    body: CampaignCreate,
    checked: CheckedCreate,
    now: datetime,
) -> tuple[str, bool]:
    """The new campaign's id, and whether the body asked an older client's launch-at-create.
    ``checked``: ``check_create`` of the same body."""
    inputs = await _create_inputs(conn, principal, body)
    zones = checked.zones
    if inputs.retry_config != checked.retry_config:  # the assistant changed meanwhile
        zones = recipient_zones(
            (contact.number for contact in checked.contacts), inputs.retry_config
        )
    campaign_id = str(uuid.uuid4())
    await campaigns.insert(
        conn,
        {
            "id": campaign_id,
            "organization_id": principal.organization_id,
            "mode": principal.mode,
            "assistant_id": inputs.assistant_id,
            "name": body.name,
            "status": "running",
            "is_cancelled": False,
            "call_retry_config": inputs.retry_config,
            "from_phone_number": inputs.from_number,
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
        assistant_id=inputs.assistant_id,
        snapshot=inputs.snapshot,
        retry_config=inputs.retry_config,
        from_number=inputs.from_number,
        contacts=checked.contacts,
        first_index=0,
        now=now,
        zones=zones,
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


@dataclass(slots=True)
class LaunchReport:
    launched: int = 0
    active: int = 0
    attempts_exhausted: int = 0
    cancelled: int = 0
    do_not_contact: int = 0
    no_route: int = 0  # routing refuses them now: left not_launched (skip_reason no_route)


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


def _policy(config_text: str, stored_zone: str) -> RetryPolicy:
    config = orjson.loads(config_text)
    return policy_from_wire(config, load_timezone(_first_dial_zone(config, stored_zone)))


def _launch_plan(
    config_text: str,
    stored_zone: str,
    *,
    now: datetime,
    requested_at: datetime | None,
    paused: bool,
) -> campaigns.GroupPlan:
    """Status and first dial time of the orders of one (retry config, timezone) group."""
    policy = _policy(config_text, stored_zone)
    due = first_dial_time(policy, now=now, requested_at=requested_at, skip_window=False)
    status = move(
        OrderStatus.NOT_LAUNCHED, OrderEvent.LAUNCH_FUTURE if due > now else OrderEvent.LAUNCH_DUE
    )
    if paused:  # launched into a paused campaign: held until resume
        status = move(status, OrderEvent.PAUSE)
    return campaigns.GroupPlan(config_text, stored_zone, status.value, due)


def _resume_plan(config_text: str, stored_zone: str, *, now: datetime) -> campaigns.GroupPlan:
    """A paused group whose planned time passed: the next calling window (as
    ``calls.resume_order``)."""
    due = next_dial_time(_policy(config_text, stored_zone), now)
    event = OrderEvent.RESUME_FUTURE if due > now else OrderEvent.RESUME_DUE
    return campaigns.GroupPlan(config_text, stored_zone, move(OrderStatus.PAUSED, event).value, due)


async def launch(
    conn: AsyncConnection,
    principal: Principal,
    campaign_id: str,
    body: LaunchIn,
    now: datetime,
    *,
    carriers: tuple[str, ...],
) -> LaunchReport:
    """Send the selected not_launched orders; the others are counted by why they were
    skipped. Set-based: a handful of statements whatever the number of orders, the first
    dial time computed once per (retry config, timezone) group. Orders that routing
    refuses now (``carriers``: the configured ones; they were accepted under another
    configuration) stay not_launched, skipped as ``no_route``."""
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
        unroutable = await _unroutable(conn, principal, where, carriers)
        if unroutable:
            report.no_route = len(unroutable)
            await campaigns.mark_skipped(conn, unroutable, "no_route")
            where = campaigns.without_ids(where, unroutable, conn.dialect.name)
        pending = campaigns.not_launched(where)
        plans = [
            _launch_plan(
                config_text,
                zone,
                now=now,
                requested_at=body.scheduled_at,
                paused=campaign.status == "paused",
            )
            for config_text, zone in await campaigns.retry_groups(conn, pending)
        ]
        report.launched = await campaigns.write_groups(conn, pending, plans, now)
    await campaigns.update(
        conn,
        campaign.id,
        {"updated_at": now, "scheduled_at": body.scheduled_at or campaign.scheduled_at},
    )
    return report


async def launch_everything(
    conn: AsyncConnection,
    principal: Principal,
    campaign_id: str,
    now: datetime,
    *,
    carriers: tuple[str, ...],
) -> LaunchReport:
    """Launch every row now (AI first): the CLI's ``--launch``, the import's
    ``launch=true`` and the dashboard's Launch button."""
    everything = LaunchIn(mode="ai_first", selection=Selection())
    return await launch(conn, principal, campaign_id, everything, now, carriers=carriers)


async def _unroutable(
    conn: AsyncConnection, principal: Principal, where: Where, carriers: tuple[str, ...]
) -> list[str]:
    """The not_launched orders of ``where`` that routing refuses (live keys only: a test
    key's calls are always simulated), by caller ID."""
    if principal.mode == "test":
        return []
    refused: list[str] = []
    by_line: dict[str, list[tuple[str, str]]] = {}
    for order_id, to_number, from_number in await campaigns.real_numbers(conn, where):
        by_line.setdefault(from_number, []).append((order_id, to_number))
    for line, orders in by_line.items():
        router = await router_for(conn, principal, carriers, line)
        refused += [order_id for order_id, number in orders if router.refusal(number)]
    return refused


PAUSABLE = (OrderStatus.SCHEDULED, OrderStatus.QUEUED_FOR_CALLING, OrderStatus.CALLING)


async def pause(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """No further calls are placed; in-progress calls finish; planned times keep counting."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    await campaigns.update(conn, campaign.id, {"status": "paused", "updated_at": now})
    await campaigns.lock(conn, campaigns.with_statuses(campaign.id, list(PAUSABLE)))
    by_target: dict[OrderStatus, list[str]] = {}
    for status in PAUSABLE:
        by_target.setdefault(move(status, OrderEvent.PAUSE), []).append(status.value)
    for target, sources in by_target.items():
        await campaigns.set_where(
            conn,
            campaigns.with_statuses(campaign.id, sources),
            {"status": target.value, "updated_at": now},
        )


async def resume(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """Held calls go on; those whose time passed during the pause go at the next window
    (``calls.resume_order``, per (retry config, timezone) group)."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    await campaigns.update(conn, campaign.id, {"status": "running", "updated_at": now})
    paused = campaigns.with_statuses(campaign.id, [OrderStatus.PAUSED.value])
    await campaigns.lock(conn, paused)
    live, ahead, passed = campaigns.planned(paused, now=now)
    for where, event in ((live, OrderEvent.RESUME_LIVE), (ahead, OrderEvent.RESUME_FUTURE)):
        status = move(OrderStatus.PAUSED, event)
        await campaigns.set_where(conn, where, {"status": status.value, "updated_at": now})
    plans = [
        _resume_plan(config_text, zone, now=now)
        for config_text, zone in await campaigns.retry_groups(conn, passed)
    ]
    await campaigns.write_groups(conn, passed, plans, now)


async def cancel(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """Pending and queued calls are aborted; in-progress ones finish; rows are kept."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    await campaigns.update(conn, campaign.id, {"is_cancelled": True, "updated_at": now})
    await _cancel_pending(conn, campaign.id, now)


async def _cancel_pending(conn: AsyncConnection, campaign_id: str, now: datetime) -> None:
    """Every order not ended is cancelled (one UPDATE); those whose assistant has a
    webhook get their ``call.cancelled`` event."""
    pending = campaigns.open_orders(campaign_id)
    await campaigns.lock(conn, pending)
    notified = await campaigns.notified_orders(conn, pending)
    cancelled = OrderStatus.CANCELLED
    written = await campaigns.set_returning_ids(
        conn, pending, {"status": cancelled.value, "next_attempt_at": None, "updated_at": now}
    )
    for order in notified:
        if order.id in written:
            await order_status.after_change(
                conn, order, move(OrderStatus(order.status), OrderEvent.CANCEL), now
            )


async def delete(
    conn: AsyncConnection, principal: Principal, campaign_id: str, now: datetime
) -> None:
    """Delete with its rows; no new call is placed, in-progress calls are not affected."""
    campaign = await get_or_404(conn, principal, campaign_id, lock=True)
    await _cancel_pending(conn, campaign.id, now)
    await campaigns.delete(conn, campaign.id)
