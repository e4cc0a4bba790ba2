"""Importing contacts into campaigns: from CSV or JSON, bad rows reported one by one
with the reason, duplicates collapsed, never failing the whole import for one row.

An import of 100,000 contacts is mostly CPU: phonenumbers reads and validates each number
and finds its timezone. The checks run in a thread, so the server's other requests go on
meanwhile; timezones are looked up once per block of numbers; rows go in with one
statement per batch (``store.bulk``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services.calls import caller_id
from openrevox.services.campaign_rows import (
    Contact,
    RowProblem,
    add_rows,
    check_contacts,
    read_csv,
    recipient_zones,
)
from openrevox.services.routing import Router, router_for
from openrevox.store.repositories import campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.campaigns import CampaignRecord
from openrevox.wire import assistant_wire

MAX_REPORTED_PROBLEMS = 1000


@dataclass(slots=True)
class ImportReport:
    campaign_id: str
    imported: int = 0
    duplicates: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": len(self.problems),
            "errors": [
                {"line": p.where, "reason": p.reason} for p in self.problems[:MAX_REPORTED_PROBLEMS]
            ],
        }


def parse_csv(text: str) -> list[tuple[int, str, dict[str, Any] | None]]:
    try:
        return list(read_csv(text))
    except ValueError as error:
        raise InvalidField(str(error), param="body") from None


@dataclass(slots=True)
class PreparedContacts:
    """Contacts checked (numbers, prompt variables, duplicates within the list) and
    located (timezones): the CPU part of an import, which needs no write transaction."""

    contacts: list[Contact]
    zones: list[str]
    retry_config: dict[str, Any]
    duplicates: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def part(self, start: int, stop: int) -> PreparedContacts:
        """Contacts ``start:stop``, to write in a transaction of their own."""
        return PreparedContacts(
            self.contacts[start:stop], self.zones[start:stop], self.retry_config
        )


def _check_and_locate(
    raw: list[tuple[int, str, dict[str, Any] | None]],
    *,
    country: str,
    prompt_texts: tuple[str | None, ...],
    retry_config: dict[str, Any],
    router: Router,
) -> PreparedContacts:
    checked = check_contacts(
        raw, country=country, prompt_texts=prompt_texts, refusal=router.refuses
    )
    zones = recipient_zones((contact.number for contact in checked.valid), retry_config)
    return PreparedContacts(
        checked.valid, zones, retry_config, checked.duplicates, checked.problems
    )


async def _usable_assistant(
    conn: AsyncConnection, principal: Principal, campaign: CampaignRecord
) -> dict[str, Any]:
    """The wire snapshot of the campaign's assistant, or Conflict when rows cannot be added."""
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    try:
        assistant = await assistant_service.get_or_404(conn, principal, campaign.assistant_id)
    except NotFound:
        raise Conflict("the campaign's assistant was deleted; rows cannot be added") from None
    return assistant_wire(assistant)


async def _prepare(
    principal: Principal,
    snapshot: dict[str, Any],
    retry_config: dict[str, Any],
    raw: Iterable[tuple[int, str, dict[str, Any] | None]],
    router: Router,
) -> PreparedContacts:
    # CPU-bound (phonenumbers): in a thread, so that the event loop serves other requests.
    return await asyncio.to_thread(
        _check_and_locate,
        list(raw),
        country=principal.country,
        prompt_texts=(snapshot.get("prompt"), snapshot.get("first_sentence")),
        retry_config=retry_config,
        router=router,
    )


async def prepare(
    conn: AsyncConnection,
    principal: Principal,
    campaign: CampaignRecord,
    raw: Iterable[tuple[int, str, dict[str, Any] | None]],
    *,
    carriers: tuple[str, ...],
) -> PreparedContacts:
    """Check and locate contacts for ``campaign``; ``conn`` is only read. A number that
    routing refuses (``carriers``: the configured ones) is a bad row."""
    snapshot = await _usable_assistant(conn, principal, campaign)
    retry_config = campaign.call_retry_config or snapshot["call_retry_config"]
    line = campaign.from_phone_number or await caller_id(conn, principal, snapshot)
    router = await router_for(conn, principal, carriers, line)
    return await _prepare(principal, snapshot, retry_config, raw, router)


async def prepare_new(
    conn: AsyncConnection,
    principal: Principal,
    *,
    name: str,
    assistant_id: str,
    raw: Iterable[tuple[int, str, dict[str, Any] | None]],
    carriers: tuple[str, ...],
) -> PreparedContacts:
    """Check and locate contacts for a campaign ``create_campaign`` will make (same
    checks of the name and the assistant, first); ``conn`` is only read. The write
    transaction then holds the lock for the inserts only."""
    _checked_name(name)
    snapshot = assistant_wire(await _assistant(conn, principal, assistant_id))
    router = await router_for(conn, principal, carriers, await caller_id(conn, principal, snapshot))
    return await _prepare(principal, snapshot, snapshot["call_retry_config"], raw, router)


async def write(
    conn: AsyncConnection,
    principal: Principal,
    campaign: CampaignRecord,
    prepared: PreparedContacts,
    now: datetime,
) -> ImportReport:
    """Insert prepared contacts as not_launched rows; a number the campaign already has
    is a duplicate. The report counts only what this write did."""
    snapshot = await _usable_assistant(conn, principal, campaign)
    retry_config = campaign.call_retry_config or snapshot["call_retry_config"]
    if retry_config != prepared.retry_config:  # changed since prepared: a new timezone rule
        prepared.zones = recipient_zones((c.number for c in prepared.contacts), retry_config)
    known = await campaigns.row_numbers(conn, campaign.id)
    fresh = [i for i, contact in enumerate(prepared.contacts) if contact.number not in known]
    contacts = [prepared.contacts[i] for i in fresh]
    order_ids = await add_rows(
        conn,
        principal,
        campaign_id=campaign.id,
        assistant_id=campaign.assistant_id,
        snapshot=snapshot,
        retry_config=retry_config,
        from_number=campaign.from_phone_number or await caller_id(conn, principal, snapshot),
        contacts=contacts,
        first_index=await campaigns.next_row_index(conn, campaign.id),
        zones=[prepared.zones[i] for i in fresh],
        now=now,
    )
    await campaigns.update(conn, campaign.id, {"updated_at": now})
    return ImportReport(
        campaign_id=campaign.id,
        imported=len(contacts),
        duplicates=len(prepared.contacts) - len(contacts),
        order_ids=order_ids,
    )


async def write_all(
    conn: AsyncConnection,
    principal: Principal,
    campaign: CampaignRecord,
    prepared: PreparedContacts,
    now: datetime,
) -> ImportReport:
    """``write``, and the report of the whole import: with what ``prepare`` collapsed and
    rejected."""
    report = await write(conn, principal, campaign, prepared, now)
    report.duplicates += prepared.duplicates
    report.problems = prepared.problems
    return report


async def append(
    conn: AsyncConnection,
    principal: Principal,
    campaign: CampaignRecord,
    raw: Iterable[tuple[int, str, dict[str, Any] | None]],
    now: datetime,
    *,
    carriers: tuple[str, ...],
) -> ImportReport:
    """Add contacts to an existing campaign (not launched: launch-calls sends them)."""
    prepared = await prepare(conn, principal, campaign, raw, carriers=carriers)
    return await write_all(conn, principal, campaign, prepared, now)


def _checked_name(name: str) -> str:
    if not name.strip():
        raise InvalidField("name cannot be empty", param="name")
    return name.strip()[:500]


async def _assistant(conn: AsyncConnection, principal: Principal, assistant_id: str) -> Any:
    try:
        return await assistant_service.get_or_404(conn, principal, assistant_id)
    except NotFound as error:
        raise InvalidField(error.message, param="assistant_id") from None


async def create_campaign(
    conn: AsyncConnection,
    principal: Principal,
    *,
    name: str,
    assistant_id: str,
    now: datetime,
    max_concurrent_calls: int | None = None,
) -> CampaignRecord:
    """An empty campaign, to import rows into."""
    checked_name = _checked_name(name)
    assistant = await _assistant(conn, principal, assistant_id)
    snapshot = assistant_wire(assistant)
    campaign_id = str(uuid.uuid4())
    await campaigns.insert(
        conn,
        {
            "id": campaign_id,
            "organization_id": principal.organization_id,
            "mode": principal.mode,
            "assistant_id": assistant.id,
            "name": checked_name,
            "status": "running",
            "is_cancelled": False,
            "call_retry_config": snapshot["call_retry_config"],
            "from_phone_number": await caller_id(conn, principal, snapshot),
            "max_concurrent_calls": max_concurrent_calls,
            "scheduled_at": None,
            "created_by": principal.user_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    created = await campaigns.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        campaign_id=campaign_id,
    )
    assert created is not None
    return created
