"""The calls pages: the list with filters, text search and keyset paging; one call with
its attempts, recordings, data and webhook deliveries (with replay)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openrevox.domain.lifecycle import RESULTS, OrderStatus
from openrevox.domain.phone import normalize_e164
from openrevox.results.recording_links import RecordingLinks
from openrevox.store.repositories import call_list, calls, outbox
from openrevox.store.repositories.call_search import CallQuery
from openrevox.store.repositories.calls import CallView
from openrevox.web.auth import Visitor, checked_form, require_visitor
from openrevox.web.context import WebServices, web_services
from openrevox.web.templating import page
from openrevox.web.views import AttemptView, attempt_view

PAGE_SIZE = 50
STATUSES = tuple(status.value for status in OrderStatus)
DIRECTIONS = ("outbound", "inbound")
MAX_TEXT = 200


@dataclass(slots=True)
class Filters:
    """The list's filters as given (to fill the form back) and as a query."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)


def _choice(filters: Filters, name: str, allowed: tuple[str, ...] | frozenset[str]) -> None:
    value = filters.values.get(name, "")
    if not value:
        return
    if value not in allowed:
        filters.errors[name] = f"unknown {name} '{value}'"
        return
    filters.query[name] = value


def _day(filters: Filters, name: str) -> date | None:
    value = filters.values.get(name, "")
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        filters.errors[name] = f"'{value}' is not a date (YYYY-MM-DD)"
        return None


def parse_filters(request: Request, country: str) -> Filters:
    names = ("status", "result", "direction", "assistant", "campaign", "from", "to", "phone", "q")
    filters = Filters(values={n: request.query_params.get(n, "").strip() for n in names})
    _choice(filters, "status", STATUSES)
    _choice(filters, "result", RESULTS | {"none"})
    _choice(filters, "direction", DIRECTIONS)
    for name in ("assistant", "campaign"):
        if filters.values[name]:
            filters.query[name] = filters.values[name][:64]
    start, end = _day(filters, "from"), _day(filters, "to")
    if start and end and end < start:
        filters.errors["to"] = "the end date is before the start date"
    if start:
        filters.query["created_from"] = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if end:
        day_after = end + timedelta(days=1)  # "to" includes its whole day
        filters.query["created_before"] = datetime(
            day_after.year, day_after.month, day_after.day, tzinfo=UTC
        )
    if filters.values["phone"]:
        try:
            filters.query["phone"] = normalize_e164(filters.values["phone"], default_region=country)
        except ValueError as error:
            filters.errors["phone"] = str(error)
    text = filters.values["q"]
    if len(text) > MAX_TEXT:
        filters.errors["q"] = f"search text has at most {MAX_TEXT} characters"
    elif text:
        filters.query["text"] = text
    return filters


def call_query(visitor: Visitor, filters: Filters) -> CallQuery:
    q = filters.query
    return CallQuery(
        organization_id=visitor.principal.organization_id,
        mode=visitor.principal.mode,
        statuses=(q["status"],) if "status" in q else (),
        results=(q["result"],) if "result" in q else (),
        directions=(q["direction"],) if "direction" in q else (),
        assistant_ids=(q["assistant"],) if "assistant" in q else (),
        campaign_ids=(q["campaign"],) if "campaign" in q else (),
        to_phone_number=q.get("phone"),
        text=q.get("text"),
        created_from=q.get("created_from"),
        created_before=q.get("created_before"),
    )


def encode_cursor(cursor: call_list.Cursor) -> str:
    raw = f"{cursor.created_at.isoformat()}|{cursor.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None) -> call_list.Cursor | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        when, _, call_id = raw.partition("|")
        created_at = datetime.fromisoformat(when)
    except ValueError:
        raise HTTPException(400, "this page link is damaged: go back to the first page") from None
    if created_at.tzinfo is None or not call_id:
        raise HTTPException(400, "this page link is damaged: go back to the first page")
    return call_list.Cursor(created_at, call_id)


async def calls_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    services = web_services(request)
    filters = parse_filters(request, visitor.session.country)
    principal = visitor.principal
    async with services.db.read() as conn:
        assistants = await call_list.assistant_names(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
        campaigns = await call_list.campaign_names(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
        result = None
        if not filters.errors:
            result = await call_list.page(
                conn,
                call_query(visitor, filters),
                size=PAGE_SIZE,
                before=decode_cursor(request.query_params.get("before")),
                after=decode_cursor(request.query_params.get("after")),
            )
    kept = {name: value for name, value in filters.values.items() if value}
    links = {}
    if result is not None and result.newer:
        links["newer"] = "?" + urlencode({**kept, "after": encode_cursor(result.newer)})
    if result is not None and result.older:
        links["older"] = "?" + urlencode({**kept, "before": encode_cursor(result.older)})
    return page(
        "calls.html",
        {
            **visitor.context(),
            "filters": filters,
            "result": result,
            "count_cap": call_list.COUNT_CAP,
            "links": links,
            "statuses": STATUSES,
            "results": sorted(RESULTS),
            "directions": DIRECTIONS,
            "assistants": assistants,
            "campaigns": campaigns,
        },
        status_code=400 if filters.errors else 200,
    )


@dataclass(frozen=True, slots=True)
class EventView:
    event: outbox.WebhookEvent
    deliveries: list[Any]


async def load_call(
    services: WebServices, visitor: Visitor, call_id: str
) -> tuple[CallView, list[AttemptView], list[EventView]]:
    """The call, its attempts as shown and its webhook events; 404 for a call of another
    organization or mode, exactly as for one that does not exist."""
    principal = visitor.principal
    async with services.db.read() as conn:
        view = await calls.get_view(
            conn, organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )
        if view is None:
            raise HTTPException(404, f"no call with id '{call_id}'")
        events = await outbox.list_events(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            call_order_id=call_id,
            status=None,
            limit=50,
        )
        event_views = [
            EventView(event, await outbox.deliveries_of(conn, event.id)) for event in events
        ]
    now = services.clock.now()
    links = RecordingLinks(
        services.recording_signer, now, services.settings.recording_retention_days
    )
    public = services.recording_signer.public_url
    attempts = []
    for attempt in view.attempts:
        url = links(attempt)
        # Relative: the page plays it from whichever host the browser reached us by.
        attempts.append(attempt_view(attempt, url.removeprefix(public) if url else None))
    return view, attempts, event_views


def live_context(
    visitor: Visitor, view: CallView, attempts: list[AttemptView], events: list[EventView]
) -> dict[str, Any]:
    terminal = view.order.status in calls.TERMINAL_STATUSES
    pending = any(item.event.status == "pending" for item in events)
    return {
        **visitor.context(),
        "order": view.order,
        "attempts": attempts,
        "events": events,
        "terminal": terminal,
        # Still changing: the page subscribes to the live stream (web/live.py).
        "live": not terminal or pending,
    }


async def call_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    call_id = request.path_params["call_id"]
    view, attempts, events = await load_call(web_services(request), visitor, call_id)
    return page("call.html", live_context(visitor, view, attempts, events))


async def replay_event(request: Request) -> Response:
    """Send a webhook event again, through the same outbox as ``POST /webhooks/events/
    {id}/replay``: the deliverer picks it up and logs the new delivery."""
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    services = web_services(request)
    principal = visitor.principal
    call_id, event_id = request.path_params["call_id"], request.path_params["event_id"]
    async with services.db.transaction() as conn:
        event = await outbox.get(
            conn, organization_id=principal.organization_id, mode=principal.mode, event_id=event_id
        )
        if event is None or event.call_order_id != call_id:
            raise HTTPException(404, f"no webhook event with id '{event_id}' for this call")
        await outbox.replay(conn, event.id, services.clock.now())
    return RedirectResponse(f"/app/calls/{call_id}#webhooks", status_code=303)
