"""Ours (not in the Revox SDK): the webhook signing secret, the delivery log, replay,
and the opt-in to per-attempt events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from openrevox.api.deps import Auth, Services
from openrevox.api.responses import JSON
from openrevox.api.schemas.common import WireModel
from openrevox.domain.clock import iso
from openrevox.errors import NotFound
from openrevox.store.repositories import outbox
from openrevox.store.repositories.accounts import Principal

router = APIRouter(prefix="/webhooks", tags=["webhooks (openrevox)"])


def event_wire(event: outbox.WebhookEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.event_type,
        "call_id": event.call_order_id,
        "call_attempt_id": event.attempt_id,
        "url": event.url,
        "status": event.status,
        "tries": event.tries,
        "next_attempt_at": iso(event.next_attempt_at) if event.status == "pending" else None,
        "last_error": event.last_error,
        "created_at": iso(event.created_at),
        "delivered_at": iso(event.delivered_at),
    }


@router.get("/secret", summary="The organization's signing secret (Standard Webhooks)")
async def signing_secret(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        secret = await outbox.secret_of(conn, principal.organization_id)
    return JSON({"secret": secret, "scheme": "standard-webhooks"})


@router.get("/events", summary="Webhook events, newest first")
async def list_events(
    principal: Auth,
    services: Services,
    call_id: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> JSON:
    async with services.db.read() as conn:
        events = await outbox.list_events(
            conn,
            organization_id=principal.organization_id,
            mode=principal.mode,
            call_order_id=call_id,
            status=status,
            limit=limit,
        )
    return JSON({"events": [event_wire(event) for event in events]})


async def _event_or_404(
    services: Services, principal: Principal, event_id: str
) -> outbox.WebhookEvent:
    async with services.db.read() as conn:
        event = await outbox.get(
            conn, organization_id=principal.organization_id, mode=principal.mode, event_id=event_id
        )
    if event is None:
        raise NotFound(f"no webhook event with id '{event_id}'", param="id")
    return event


@router.get("/events/{event_id}", summary="A webhook event with its delivery log")
async def get_event(event_id: str, principal: Auth, services: Services) -> JSON:
    event = await _event_or_404(services, principal, event_id)
    async with services.db.read() as conn:
        tries = await outbox.deliveries_of(conn, event.id)
    return JSON(
        {
            "event": event_wire(event),
            "deliveries": [
                {
                    "try": row["try_number"],
                    "attempted_at": iso(row["attempted_at"]),
                    "status_code": row["status_code"],
                    "error": row["error"],
                    "duration_ms": row["duration_ms"],
                    "response_excerpt": row["response_excerpt"],
                }
                for row in tries
            ],
        }
    )


@router.post("/events/{event_id}/replay", summary="Send an event again (same webhook-id)")
async def replay_event(event_id: str, principal: Auth, services: Services) -> JSON:
    event = await _event_or_404(services, principal, event_id)
    async with services.db.transaction() as conn:
        await outbox.replay(conn, event.id, services.clock.now())
        replayed = await outbox.get(
            conn, organization_id=principal.organization_id, mode=principal.mode, event_id=event.id
        )
    assert replayed is not None
    return JSON({"event": event_wire(replayed)})


class WebhookSettingsIn(WireModel):
    per_attempt_events: bool


@router.get("/settings", summary="Webhook preferences")
async def get_settings(principal: Auth, services: Services) -> JSON:
    async with services.db.read() as conn:
        enabled = await outbox.per_attempt_events(conn, principal.organization_id, principal.mode)
    return JSON({"per_attempt_events": enabled})


@router.put("/settings", summary="Opt in or out of per-attempt events")
async def put_settings(body: WebhookSettingsIn, principal: Auth, services: Services) -> JSON:
    async with services.db.transaction() as conn:
        await outbox.set_per_attempt_events(
            conn,
            principal.organization_id,
            principal.mode,
            body.per_attempt_events,
            services.clock.now(),
        )
    return JSON({"per_attempt_events": body.per_attempt_events})
