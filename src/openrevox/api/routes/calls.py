"""The call routes: create, retrieve, cancel, pause, resume, search, export, history,
and the legacy ``GET /call`` of SDK 0.1.1."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from openrevox.api.deps import Auth, Services
from openrevox.api.legacy_clients import call_for, status_filter_for
from openrevox.api.responses import JSON, success
from openrevox.api.schemas.call import CallCreate, CallExportIn, CallFilters
from openrevox.domain.call_rows import CallRows
from openrevox.domain.clock import iso
from openrevox.errors import InvalidField, NotFound
from openrevox.results.export import calls_csv
from openrevox.services import calls as service
from openrevox.store.repositories import call_search, calls
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calls import attempt_from_row
from openrevox.wire import attempt_wire, call_rows, call_rows_wire, call_wire

router = APIRouter(tags=["calls"])

EXPORT_LIMIT = 100_000


# First of the router: routes are tried in order, and each one tried costs the most
# frequent request of the API a match attempt in FastAPI's routing.
#
# GET /call/{id} takes its id from the matched path itself: FastAPI resolves a declared
# path parameter anew on each request (checks of its annotation, a pydantic validation)
# for a string the route's pattern has already cut out. The document
# declares the parameter exactly as FastAPI would.
_GET_CALL_DOCUMENT: dict[str, Any] = {
    "parameters": [
        {
            "name": "call_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "title": "Call Id"},
        }
    ],
    "responses": {
        "422": {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        }
    },
}


@router.get(
    "/call/{call_id}",
    summary="Get a call order with its attempts",
    openapi_extra=_GET_CALL_DOCUMENT,
)
async def get_call(request: Request, principal: Auth, services: Services) -> JSON:
    call_id: str = request.path_params["call_id"]
    # The most frequent read reads straight on the driver (store/sqlite_reads.py and
    # store/pg_reads.py), into rows ready to write out (store/call_rows.py).
    rows: CallRows | None
    if services.sqlite_reader is not None:
        rows = services.sqlite_reader.view(
            organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )
    elif services.pg_reader is not None:
        rows = await services.pg_reader.view(
            organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )
    else:
        async with services.db.read() as conn:
            view = await calls.get_view(
                conn,
                organization_id=principal.organization_id,
                mode=principal.mode,
                call_id=call_id,
            )
        rows = None if view is None else call_rows(view)
    if rows is None:
        raise NotFound(f"no call with id '{call_id}'", param="id")
    urls = services.recording_links().of_rows(rows.attempts)
    return JSON({"call": call_for(request, call_rows_wire(rows, urls))})


@router.post("/call", summary="Place a call order (now, at scheduled_at, or in the next window)")
async def create_call(
    request: Request, body: CallCreate, principal: Auth, services: Services
) -> JSON:
    async with services.db.transaction() as conn:
        call_id = await service.create_call(
            conn, principal, services.settings, body, services.clock.now()
        )
        view = await calls.get_view(
            conn, organization_id=principal.organization_id, mode=principal.mode, call_id=call_id
        )
        assert view is not None
        payload = {"call": call_for(request, call_wire(view, services.recording_links()))}
    return JSON(payload)


@router.post("/call/{call_id}/cancel", summary="Cancel a running or scheduled call")
async def cancel_call(call_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.cancel_call(conn, principal, call_id, services.clock.now())
    return success()


@router.post("/call/{call_id}/pause", summary="Pause a call's retry loop")
async def pause_call(call_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.pause_call(conn, principal, call_id, services.clock.now())
    return success()


@router.post("/call/{call_id}/resume", summary="Resume a paused call")
async def resume_call(call_id: str, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await service.resume_call(conn, principal, call_id, services.clock.now())
    return success()


def _query(principal: Principal, filters: CallFilters) -> call_search.CallQuery:
    sort_by = filters.sort_by or "created_at"
    if sort_by not in call_search.SORTABLE:
        raise InvalidField(
            f"cannot sort by '{sort_by}'; use one of " + ", ".join(sorted(call_search.SORTABLE)),
            param="sort_by",
        )
    return call_search.CallQuery(
        organization_id=principal.organization_id,
        mode=principal.mode,
        assignee_ids=tuple(filters.assignee_ids),
        assistant_ids=tuple(filters.assistant_ids),
        campaign_ids=tuple(filters.campaign_ids),
        directions=tuple(filters.directions),
        from_phone_numbers=tuple(filters.from_phone_numbers),
        outcomes=tuple(filters.outcomes),
        results=tuple(filters.results),
        statuses=tuple(filters.statuses),
        call_ids=tuple(filters.call_ids) if filters.call_ids else None,
        text=filters.query.strip() if filters.query and filters.query.strip() else None,
        to_phone_number=filters.to_phone_number,
        sort_by=sort_by,
        descending=(filters.sort_direction or "desc") == "desc",
    )


@router.post("/call/search", summary="Search call orders (0-based page)")
async def search_calls(body: CallFilters, principal: Auth, services: Services) -> JSON:
    query = _query(principal, body)
    async with services.db.read() as conn:
        orders, total = await call_search.search(
            conn, query, offset=body.page * body.page_size, limit=body.page_size
        )
        views = await calls.views_of(conn, orders)
    links = services.recording_links()
    return JSON({"calls": [call_wire(view, links) for view in views], "total_count": total})


@router.post("/call/export", summary="Export call orders as CSV (all pages, up to 100,000)")
async def export_calls(body: CallExportIn, principal: Auth, services: Services) -> JSON:
    query = _query(principal, body.filters)
    async with services.db.read() as conn:
        orders, _total = await call_search.search(conn, query, offset=0, limit=EXPORT_LIMIT)
        views = await calls.views_of(conn, orders)
    now = services.clock.now()
    return JSON(
        {
            "csv": calls_csv(
                views,
                include_metadata=body.include_metadata,
                include_structured_output=body.include_structured_output_fields,
            ),
            "filename": f"calls-{now.strftime('%Y%m%d-%H%M%S')}.csv",
        }
    )


@router.get("/calls/phone-history", summary="Calls per phone number across the organization")
async def phone_history(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        history = await call_search.phone_history(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
    return JSON(
        {
            "phone_history": {
                number: {
                    "campaigns": [
                        {"id": cid, "name": name} for cid, name in (entry.campaigns or {}).items()
                    ],
                    "count": entry.count,
                    "do_not_contact": entry.do_not_contact,
                    "hot": entry.hot,
                    "last_called_at": iso(entry.last_called_at),
                    "last_outcome": entry.last_outcome,
                    "reached_human": entry.reached_human,
                }
                for number, entry in history.items()
            }
        }
    )


LEGACY_STATUSES = {
    "initializing", "queued_for_calling", "calling", "post_processing", "not_launched",
    "scheduled", "paused", "completed", "cancelled", "errored",
}  # fmt: skip


@router.get("/call", summary="Legacy (SDK <= 0.1.1): call attempts, newest first, 0-based page")
async def list_attempts_legacy(
    request: Request,
    principal: Auth,
    services: Services,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    statuses: Annotated[str | None, Query()] = None,
) -> JSON:
    wanted = tuple(s.strip() for s in (statuses or "").split(",") if s.strip())
    unknown = sorted(set(wanted) - LEGACY_STATUSES)
    if unknown:
        raise InvalidField(f"unknown status {', '.join(unknown)}", param="statuses")
    async with services.db.read() as conn:
        rows = await call_search.attempts_page(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            statuses=status_filter_for(request, wanted),
            offset=page * page_size,
            limit=page_size,
        )
    links = services.recording_links()
    attempts = [attempt_from_row(row) for row in rows]
    return JSON({"calls": [attempt_wire(attempt, links(attempt)) for attempt in attempts]})
