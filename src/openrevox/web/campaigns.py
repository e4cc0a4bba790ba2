"""The campaigns pages: create one from a CSV (the same import, and the same per-row
errors, as ``openrevox campaigns import`` and ``POST /campaigns/import``), launch,
pause, resume, cancel, and a progress view that follows the calls live."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services import campaign_import, campaign_stats
from openrevox.services import campaigns as service
from openrevox.store.repositories import call_list, campaign_timeline, campaigns
from openrevox.store.repositories.campaigns import CampaignRecord
from openrevox.web.auth import Visitor, checked_form, require_visitor
from openrevox.web.context import WebServices, web_services
from openrevox.web.live import KEEPALIVE_SECONDS, MAX_STREAM_SECONDS, POLL_SECONDS, RETRY_MS, sse
from openrevox.web.templating import SECURITY_HEADERS, page, render

MAX_CSV_BYTES = 20 * 1024 * 1024  # the whole form: a CSV of about 200,000 short rows
SHOWN_PROBLEMS = 200
FUNNEL = ("total", "not_launched", "pending", "calling", "retry", "completed", "failed", "skipped")


async def _figures(
    services: WebServices, visitor: Visitor, campaign_id: str
) -> tuple[CampaignRecord, dict[str, Any]]:
    """The campaign and its counts, as ``GET /campaigns/{id}`` computes them."""
    try:
        async with services.db.read() as conn:
            record = await service.get_or_404(conn, visitor.principal, campaign_id)
            counts = await campaigns.status_counts(conn, [record.id])
            skipped = await campaigns.skipped_counts(conn, [record.id])
            funnels = await campaign_stats.funnel_counts(conn, [record.id])
            timeline = await campaign_timeline.results_per_minute(conn, record.id)
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    figures = {
        "status": campaign_stats.campaign_status(record, counts[record.id]),
        "rows": campaign_stats.row_stats(counts[record.id], skipped[record.id]),
        "funnel": funnels[record.id],
        "timeline_json": orjson.dumps(cumulative(timeline)).decode(),
    }
    return record, figures


def cumulative(rows: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Per result, the attempts ended up to each minute (for the chart)."""
    minutes = sorted({minute for minute, _, _ in rows})
    index = {minute: i for i, minute in enumerate(minutes)}
    per_result: dict[str, list[int]] = {}
    for minute, result, count in rows:
        per_result.setdefault(result, [0] * len(minutes))[index[minute]] += count
    for counts in per_result.values():
        for i in range(1, len(counts)):
            counts[i] += counts[i - 1]
    return {"minutes": minutes, "results": per_result}


def _live(record: CampaignRecord, figures: dict[str, Any]) -> bool:
    rows = figures["rows"]
    return not record.is_cancelled and (rows["pending"] + rows["calling"] + rows["retry"]) > 0


def _context(
    visitor: Visitor, record: CampaignRecord, figures: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        **visitor.context(),
        "campaign": record,
        "figures": figures,
        "funnel_keys": FUNNEL,
        "live": _live(record, figures),
        "report": None,
        **extra,
    }


async def _list_context(services: WebServices, visitor: Visitor) -> dict[str, Any]:
    principal = visitor.principal
    async with services.db.read() as conn:
        records = await campaigns.list_for(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
        ids = [record.id for record in records]
        counts = await campaigns.status_counts(conn, ids)
        skipped = await campaigns.skipped_counts(conn, ids)
        assistants = await call_list.assistant_names(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
    rows = [
        (
            record,
            campaign_stats.campaign_status(record, counts[record.id]),
            campaign_stats.row_stats(counts[record.id], skipped[record.id]),
        )
        for record in records
    ]
    return {
        **visitor.context(),
        "rows": rows,
        "assistants": assistants,
        "errors": {},
        "values": {"name": "", "assistant_id": "", "csv": "", "max_concurrent_calls": ""},
    }


def _cap(text: str) -> int | None:
    """``max_concurrent_calls`` as ``POST /campaigns/import`` takes it (1 to 10,000)."""
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise InvalidField("a whole number from 1 to 10,000", param="max_concurrent_calls")
    return int(text)


async def list_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    return page("campaigns.html", await _list_context(web_services(request), visitor))


async def create(request: Request) -> Response:
    """Check every row first (read only), then create the campaign and write the good
    rows; bad rows are reported one by one and the import goes on, as with the CLI."""
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor, MAX_CSV_BYTES)
    services = web_services(request)
    principal = visitor.principal
    name, assistant_id, text = (
        form.get("name", "").strip(),
        form.get("assistant_id", ""),
        form.get("csv", ""),
    )
    cap_text = form.get("max_concurrent_calls", "").strip()
    try:
        cap = _cap(cap_text)
        if not text.strip():
            raise InvalidField("choose a CSV file (or paste its text)", param="csv")
        try:
            raw = campaign_import.parse_csv(text)
        except InvalidField as error:
            raise InvalidField(error.message, param="csv") from None
        async with services.db.read() as conn:
            prepared = await campaign_import.prepare_new(
                conn,
                principal,
                name=name,
                assistant_id=assistant_id,
                raw=raw,
                carriers=services.settings.carriers,
            )
        now = services.clock.now()
        async with services.db.transaction() as conn:
            record = await campaign_import.create_campaign(
                conn,
                principal,
                name=name,
                assistant_id=assistant_id,
                now=now,
                max_concurrent_calls=cap,
            )
            report = await campaign_import.write_all(conn, principal, record, prepared, now)
    except InvalidField as error:
        context = await _list_context(services, visitor)
        context["errors"] = {error.param or "csv": error.message}
        context["values"] = {
            "name": name,
            "assistant_id": assistant_id,
            "csv": text,
            "max_concurrent_calls": cap_text,
        }
        return page("campaigns.html", context, status_code=400)
    record, figures = await _figures(services, visitor, record.id)
    context = _context(
        visitor, record, figures, report=report, shown_problems=report.problems[:SHOWN_PROBLEMS]
    )
    return page("campaign.html", context, status_code=201)


async def campaign_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    record, figures = await _figures(
        web_services(request), visitor, request.path_params["campaign_id"]
    )
    return page("campaign.html", _context(visitor, record, figures))


async def action(request: Request) -> Response:
    """Launch (every row, AI first), pause, resume or cancel: the API's services."""
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    services = web_services(request)
    campaign_id, verb = request.path_params["campaign_id"], request.path_params["action"]
    now = services.clock.now()
    try:
        async with services.db.transaction() as conn:
            if verb == "launch":
                await service.launch_everything(
                    conn, visitor.principal, campaign_id, now, carriers=services.settings.carriers
                )
            elif verb == "pause":
                await service.pause(conn, visitor.principal, campaign_id, now)
            elif verb == "resume":
                await service.resume(conn, visitor.principal, campaign_id, now)
            elif verb == "cancel":
                await service.cancel(conn, visitor.principal, campaign_id, now)
            else:
                raise HTTPException(404, f"no action '{verb}'")
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    except Conflict as error:
        raise HTTPException(409, error.message) from None
    return RedirectResponse(f"/app/campaigns/{campaign_id}", status_code=303)


async def progress_stream(request: Request) -> Response:
    """The progress region, re-rendered whenever its counts change (as calls end), by
    polling the database as the call page does (web/live.py)."""
    visitor = await require_visitor(request)
    services = web_services(request)
    campaign_id = request.path_params["campaign_id"]
    await _figures(services, visitor, campaign_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[bytes]:
        sent = ""
        started = last_write = time.monotonic()
        yield f"retry: {RETRY_MS}\n\n".encode()
        while time.monotonic() - started < MAX_STREAM_SECONDS:
            if await request.is_disconnected():
                return
            record, figures = await _figures(services, visitor, campaign_id)
            html = render("_campaign_progress.html", _context(visitor, record, figures))
            if html != sent:
                sent = html
                last_write = time.monotonic()
                yield sse("progress", html)
            if time.monotonic() - last_write > KEEPALIVE_SECONDS:
                last_write = time.monotonic()
                yield b": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {**SECURITY_HEADERS, "x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
