"""The campaign routes (and the legacy ``POST /campaigns/{id}/launch`` of SDK 0.3.0)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.deps import Auth, Services
from openrevox.api.legacy_clients import call_for, is_sdk_0_1, status_filter_for
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.campaign import (
    CampaignCreate,
    CampaignPatch,
    ContactsIn,
    LaunchIn,
    Selection,
)
from openrevox.errors import InvalidField, NotFound
from openrevox.services import assistants as assistant_service
from openrevox.services import campaign_import, campaign_stats
from openrevox.services import campaigns as service
from openrevox.services.campaign_rows import export_csv
from openrevox.store.repositories import calls, campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.campaigns import CampaignRecord
from openrevox.wire import assistant_wire, call_wire, campaign_wire

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

ROWS_DEFAULT_PAGE_SIZE = 1000
ROWS_MAX_PAGE_SIZE = 5000


async def campaign_wires(
    conn: AsyncConnection, principal: Principal, records: list[CampaignRecord]
) -> list[dict[str, Any]]:
    ids = [record.id for record in records]
    counts = await campaigns.status_counts(conn, ids)
    skipped = await campaigns.skipped_counts(conn, ids)
    funnels = await campaign_stats.funnel_counts(conn, ids)
    wires: list[dict[str, Any]] = []
    assistant_cache: dict[str, dict[str, Any] | None] = {}
    for record in records:
        if record.assistant_id not in assistant_cache:
            try:
                found = await assistant_service.get_or_404(conn, principal, record.assistant_id)
                assistant_cache[record.assistant_id] = assistant_wire(found)
            except NotFound:
                assistant_cache[record.assistant_id] = None
        wires.append(
            campaign_wire(
                record,
                status=campaign_stats.campaign_status(record, counts[record.id]),
                assistant=assistant_cache[record.assistant_id],
                funnel_stats=funnels[record.id],
                row_stats=campaign_stats.row_stats(counts[record.id], skipped[record.id]),
            )
        )
    return wires


async def _one(conn: AsyncConnection, principal: Principal, campaign_id: str) -> dict[str, Any]:
    record = await service.get_or_404(conn, principal, campaign_id)
    return (await campaign_wires(conn, principal, [record]))[0]


@router.post("", summary="Create a campaign: each contact becomes a not_launched call")
async def create_campaign(
    request: Request, body: CampaignCreate, principal: Auth, services: Services
) -> JSON:
    async with services.db.read() as conn:  # the checks, before the write transaction
        checked = await service.check_create(
            conn, principal, body, carriers=services.settings.carriers
        )
    now = services.clock.now()
    async with services.db.transaction() as conn:
        campaign_id, legacy_launch = await service.create(conn, principal, body, checked, now)
        # SDK 0.1.1 (its headers, or a scheduled_at) and 0.2-0.3 (launch): it starts at once
        if legacy_launch or is_sdk_0_1(request):
            everything = LaunchIn(
                mode="ai_first", selection=Selection(), scheduled_at=body.scheduled_at
            )
            await service.launch(
                conn, principal, campaign_id, everything, now, carriers=services.settings.carriers
            )
        payload = {"campaign": await _one(conn, principal, campaign_id)}
    return JSON(payload)


CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


async def _contacts_from(request: Request) -> list[tuple[int, str, dict[str, Any] | None]]:
    """CSV text (``text/csv``), or JSON ``{"contacts": [{to_phone_number, prompt_variables}]}``."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            parsed = ContactsIn.model_validate_json(body or b"{}")
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise InvalidField(f"{where}: {first.get('msg')}", param=where or None) from None
        return [(i, c.to_phone_number, c.prompt_variables) for i, c in enumerate(parsed.contacts)]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidField("the CSV must be UTF-8", param="body") from None
    return campaign_import.parse_csv(text)


@router.post(
    "/import",
    summary="Ours: create a campaign from a CSV (one row per contact, a phone column)",
    openapi_extra=CSV_BODY,
)
async def import_campaign(
    request: Request,
    principal: Auth,
    services: Services,
    name: Annotated[str, Query(min_length=1, max_length=500)],
    assistant_id: Annotated[str, Query(min_length=1)],
    launch: Annotated[bool, Query()] = False,
    max_concurrent_calls: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> JSON:
    contacts = await _contacts_from(request)
    # The checks (CPU) before the write transaction: it holds the lock for the inserts only.
    async with services.db.read() as conn:
        prepared = await campaign_import.prepare_new(
            conn, principal, name=name, assistant_id=assistant_id, raw=contacts,
            carriers=services.settings.carriers,
        )  # fmt: skip
    now = services.clock.now()
    async with services.db.transaction() as conn:
        campaign = await campaign_import.create_campaign(
            conn, principal, name=name, assistant_id=assistant_id, now=now,
            max_concurrent_calls=max_concurrent_calls,
        )  # fmt: skip
        report = await campaign_import.write_all(conn, principal, campaign, prepared, now)
        if launch:
            everything = LaunchIn(mode="ai_first", selection=Selection())
            await service.launch(
                conn, principal, campaign.id, everything, now, carriers=services.settings.carriers
            )
        payload = {"campaign": await _one(conn, principal, campaign.id), **report.wire()}
    return JSON(payload)


@router.post(
    "/{campaign_id}/rows",
    summary="Add contacts to a campaign (CSV or JSON); they wait for launch-calls",
    openapi_extra=CSV_BODY,
)
async def add_campaign_rows(
    campaign_id: str, request: Request, principal: Auth, services: Services
) -> JSON:
    contacts = await _contacts_from(request)
    async with services.db.read() as conn:  # the checks, before the write transaction
        campaign = await service.get_or_404(conn, principal, campaign_id)
        prepared = await campaign_import.prepare(
            conn, principal, campaign, contacts, carriers=services.settings.carriers
        )
    now = services.clock.now()
    async with services.db.transaction() as conn:
        campaign = await service.get_or_404(conn, principal, campaign_id, lock=True)
        report = await campaign_import.write_all(conn, principal, campaign, prepared, now)
    return JSON(report.wire())


@router.get("", summary="List campaigns")
async def list_campaigns(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        records = await campaigns.list_for(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
        items = await campaign_wires(conn, principal, records)
    return JSON({"campaigns": items})


@router.get("/{campaign_id}", summary="Get a campaign")
async def get_campaign(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        payload = {"campaign": await _one(conn, principal, campaign_id)}
    return JSON(payload)


@router.patch("/{campaign_id}", summary="Update name, caller id, retry config, concurrency cap")
async def update_campaign(
    campaign_id: str, principal: Auth, services: Services, body: CampaignPatch | None = None
) -> JSON:
    async with services.db.transaction() as conn:
        await service.update(
            conn, principal, campaign_id, body or CampaignPatch(), services.clock.now()
        )
        payload = {"campaign": await _one(conn, principal, campaign_id)}
    return JSON(payload)


@router.delete("/{campaign_id}", summary="Delete a campaign and its rows")
async def delete_campaign(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.delete(conn, principal, campaign_id, services.clock.now())
    return success()


@router.post("/{campaign_id}/cancel", summary="Cancel: pending calls are aborted, rows kept")
async def cancel_campaign(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.cancel(conn, principal, campaign_id, services.clock.now())
    return success()


@router.post("/{campaign_id}/pause", summary="Pause: no further calls are placed")
async def pause_campaign(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.pause(conn, principal, campaign_id, services.clock.now())
    return success()


@router.post("/{campaign_id}/resume", summary="Resume a paused campaign")
async def resume_campaign(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.resume(conn, principal, campaign_id, services.clock.now())
    return success()


@router.post(
    "/{campaign_id}/launch-calls", summary="Send the campaign's calls matching a selection"
)
async def launch_calls(
    campaign_id: str, body: LaunchIn, principal: Auth, services: Services
) -> JSON:
    async with services.db.transaction() as conn:
        report = await service.launch(
            conn, principal, campaign_id, body, services.clock.now(),
            carriers=services.settings.carriers,
        )  # fmt: skip
    return JSON(
        {
            "launched": report.launched,
            "skipped": {
                "active": report.active,
                "attempts_exhausted": report.attempts_exhausted,
                "cancelled": report.cancelled,
                "do_not_contact": report.do_not_contact,
                "no_route": report.no_route,  # ours: routing refuses them (no carrier)
            },
            "session": None,
        }
    )


@router.post("/{campaign_id}/launch", summary="Legacy (SDK 0.3.0): launch every row now")
async def launch_legacy(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.launch(
            conn,
            principal,
            campaign_id,
            LaunchIn(mode="ai_first", selection=Selection()),
            services.clock.now(),
            carriers=services.settings.carriers,
        )
        payload = {"campaign": await _one(conn, principal, campaign_id)}
    return JSON(payload)


@router.get("/{campaign_id}/statistics", summary="The campaign's statistics report")
async def campaign_statistics(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        record = await service.get_or_404(conn, principal, campaign_id)
        wire = (await campaign_wires(conn, principal, [record]))[0]
        report = await campaign_stats.statistics(
            conn, record, wire["status"], wire["assistant"], wire["row_stats"]["total"]
        )
    return JSON({"statistics": report})


@router.get(
    "/{campaign_id}/rows",
    summary="Contact rows, paged (ours: page is 0-based, page_size up to 5000, default 1000)",
)
async def campaign_rows(
    request: Request,
    campaign_id: str,
    principal: Auth,
    services: Services,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    page_size: Annotated[int, Query(ge=1, le=ROWS_MAX_PAGE_SIZE)] = ROWS_DEFAULT_PAGE_SIZE,
    query: Annotated[str | None, Query()] = None,
    result: Annotated[str | None, Query()] = None,
    statuses: Annotated[str | None, Query()] = None,
) -> JSON:
    wanted_results: tuple[str, ...] = ()
    if result and result != "all":
        valid = {"IVR", "voicemail", "human", "unknown", "ios-screening-filter", "none"}
        if result not in valid:
            raise InvalidField(f"unknown result '{result}'", param="result")
        wanted_results = (result,)
    wanted_statuses = status_filter_for(
        request, (s.strip() for s in (statuses or "").split(",") if s.strip())
    )
    async with services.db.read() as conn:
        record = await service.get_or_404(conn, principal, campaign_id)
        rows, total = await campaigns.rows_page(
            conn,
            campaign_id=record.id,
            offset=page * page_size,
            limit=page_size,
            statuses=wanted_statuses,
            results=wanted_results,
            text=query,
        )
        found = await calls.orders_by_ids(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            call_ids=[row.call_order_id for row in rows if row.call_order_id],
        )
        orders = {view.order.id: view for view in await calls.views_of(conn, found)}
    return JSON(
        {
            "rows": [
                {
                    "id": row.id,
                    "input_data": row.input_data,
                    "phone_number": row.phone_number,
                    "row_index": row.row_index,
                    "call": call_for(
                        request, call_wire(orders[row.call_order_id], services.recording_links())
                    )
                    if row.call_order_id in orders
                    else None,
                }
                for row in rows
            ],
            "page": page,
            "page_size": page_size,
            "total": total,
        }
    )


@router.get("/{campaign_id}/export", summary="Export all rows as CSV")
async def export_rows(campaign_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        record = await service.get_or_404(conn, principal, campaign_id)
        lines = await campaigns.export_lines(conn, record.id)
    safe = "".join(ch if ch.isalnum() else "-" for ch in record.name).strip("-") or "campaign"
    return JSON({"csv": export_csv(lines), "filename": f"{safe}-rows.csv"})
