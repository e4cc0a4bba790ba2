"""Importing contacts into campaigns: from CSV or JSON, bad rows reported one by one
with the reason, duplicates collapsed, never failing the whole import for one row."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.wire import assistant_wire
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services.calls import caller_id
from openrevox.services.campaign_rows import (
    RowProblem,
    add_rows,
    check_contacts,
    next_row_index,
    numbers_in,
    read_csv,
)
from openrevox.store.repositories import campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.campaigns import CampaignRecord

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


async def append(
    conn: AsyncConnection,
    principal: Principal,
    campaign: CampaignRecord,
    raw: Iterable[tuple[int, str, dict[str, Any] | None]],
    now: datetime,
) -> ImportReport:
    """Add contacts to an existing campaign (not launched: launch-calls sends them)."""
    if campaign.is_cancelled:
        raise Conflict(f"campaign '{campaign.id}' is cancelled")
    try:
        assistant = await assistant_service.get_or_404(conn, principal, campaign.assistant_id)
    except NotFound:
        raise Conflict("the campaign's assistant was deleted; rows cannot be added") from None
    snapshot = assistant_wire(assistant)
    checked = check_contacts(
        raw,
        country=principal.country,
        prompt_texts=(snapshot.get("prompt"), snapshot.get("first_sentence")),
        known_numbers=await numbers_in(conn, campaign.id),
    )
    order_ids = await add_rows(
        conn,
        principal,
        campaign_id=campaign.id,
        assistant_id=assistant.id,
        snapshot=snapshot,
        retry_config=campaign.call_retry_config or snapshot["call_retry_config"],
        from_number=campaign.from_phone_number or await caller_id(conn, principal, snapshot),
        contacts=checked.valid,
        first_index=await next_row_index(conn, campaign.id),
        now=now,
    )
    await campaigns.update(conn, campaign.id, {"updated_at": now})
    return ImportReport(
        campaign_id=campaign.id,
        imported=len(checked.valid),
        duplicates=checked.duplicates,
        problems=checked.problems,
        order_ids=order_ids,
    )


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
    if not name.strip():
        raise InvalidField("name cannot be empty", param="name")
    try:
        assistant = await assistant_service.get_or_404(conn, principal, assistant_id)
    except NotFound as error:
        raise InvalidField(error.message, param="assistant_id") from None
    snapshot = assistant_wire(assistant)
    campaign_id = str(uuid.uuid4())
    await campaigns.insert(
        conn,
        {
            "id": campaign_id,
            "organization_id": principal.organization_id,
            "mode": principal.mode,
            "assistant_id": assistant.id,
            "name": name.strip()[:500],
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
