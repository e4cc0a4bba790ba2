"""Keys and webhooks: the API keys of the session's mode (created with the secret shown
once, revoked at once), the webhook signing secret, and the mode's delivery log with
replay (the same outbox as ``POST /webhooks/events/{id}/replay``)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openrevox.store.repositories import accounts, outbox
from openrevox.web.auth import Visitor, checked_form, require_visitor
from openrevox.web.calls import EventView
from openrevox.web.context import WebServices, web_services
from openrevox.web.templating import page

MAX_NAME = 200  # api_keys.name
EVENTS_SHOWN = 50
EVENT_STATUSES = ("pending", "delivered", "dead")


async def _context(services: WebServices, visitor: Visitor, status: str | None) -> dict[str, Any]:
    principal = visitor.principal
    async with services.db.read() as conn:
        keys = [
            key
            for key in await accounts.list_api_keys(conn, principal.organization_id)
            if key.mode == principal.mode
        ]
        secret = await outbox.secret_of(conn, principal.organization_id)
        events = await outbox.list_events(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            call_order_id=None,
            status=status,
            limit=EVENTS_SHOWN,
        )
        views = [EventView(event, await outbox.deliveries_of(conn, event.id)) for event in events]
    return {
        **visitor.context(),
        "keys": sorted(keys, key=lambda key: (key.revoked_at is not None, key.created_at)),
        "webhook_secret": secret,
        "events": views,
        "event_status": status or "",
        "event_statuses": EVENT_STATUSES,
        "auth_cache_seconds": services.settings.auth_cache_seconds,
        "new_key": None,
        "name_error": None,
        "name_value": "",
    }


async def keys_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    status = request.query_params.get("status", "").strip() or None
    if status is not None and status not in EVENT_STATUSES:
        raise HTTPException(400, f"unknown delivery status '{status}'")
    return page("keys.html", await _context(web_services(request), visitor, status))


async def create_key(request: Request) -> Response:
    """A new key of the session's mode; its secret is in this response only (the page is
    ``no-store``), the database keeps its hash."""
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor)
    services = web_services(request)
    name = form.get("name", "").strip()
    error = None
    if not name:
        error = "give the key a name (where it is used)"
    elif len(name) > MAX_NAME:
        error = f"a key's name has at most {MAX_NAME} characters"
    if error:
        context = await _context(services, visitor, None)
        context.update(name_error=error, name_value=name[:MAX_NAME])
        return page("keys.html", context, status_code=400)
    principal = visitor.principal
    async with services.db.transaction() as conn:
        created = await accounts.create_api_key(
            conn,
            organization_id=principal.organization_id,
            user_id=principal.user_id,
            mode=principal.mode,
            name=name,
            now=services.clock.now(),
        )
    context = await _context(services, visitor, None)
    context["new_key"] = created
    return page("keys.html", context, status_code=201)


async def revoke_key(request: Request) -> Response:
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    services = web_services(request)
    principal = visitor.principal
    key_id = request.path_params["key_id"]
    async with services.db.transaction() as conn:
        revoked = await accounts.revoke_key_of(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            key_id=key_id,
            now=services.clock.now(),
        )
    if not revoked:
        raise HTTPException(404, f"no active key with id '{key_id}'")
    return RedirectResponse("/app/keys#keys", status_code=303)


async def replay_event(request: Request) -> Response:
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    services = web_services(request)
    principal = visitor.principal
    event_id = request.path_params["event_id"]
    async with services.db.transaction() as conn:
        event = await outbox.get(
            conn, organization_id=principal.organization_id, mode=principal.mode, event_id=event_id
        )
        if event is None:
            raise HTTPException(404, f"no webhook event with id '{event_id}'")
        await outbox.replay(conn, event.id, services.clock.now())
    return RedirectResponse("/app/keys#deliveries", status_code=303)
