"""Webhook events: enqueued in the transaction of the change that causes them, and the
body each consumer kind of Revox reads, rendered at delivery time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.domain.clock import iso
from openrevox.results.summary import annotate, transcript_text
from openrevox.store.repositories import calls, outbox
from openrevox.store.repositories.calls import AttemptRecord, CallOrderRecord, CallView
from openrevox.wire import attempt_wire, call_wire

RecordingLink = Callable[[AttemptRecord], str | None]


async def order_reached_terminal(
    conn: AsyncConnection, order: CallOrderRecord, status: str, now: datetime
) -> str | None:
    """One event per order when it reaches a terminal status (``call.completed``,
    ``call.cancelled``, ``call.errored``), to the snapshot's ``webhook_url``."""
    url = order.assistant.get("webhook_url")
    if not url:
        return None
    return await outbox.enqueue(
        conn,
        organization_id=order.organization_id,
        mode=order.mode,
        event_type=f"call.{status}",
        call_order_id=order.id,
        attempt_id=None,
        url=url,
        payload={"call_order_id": order.id, "status": status},
        now=now,
    )


async def attempt_ended(
    conn: AsyncConnection, order: CallOrderRecord, attempt_id: str, now: datetime
) -> str | None:
    """``call_attempt.ended``, only for organizations that opted in."""
    url = order.assistant.get("webhook_url")
    if not url or not await outbox.per_attempt_events(conn, order.organization_id, order.mode):
        return None
    return await outbox.enqueue(
        conn,
        organization_id=order.organization_id,
        mode=order.mode,
        event_type="call_attempt.ended",
        call_order_id=order.id,
        attempt_id=attempt_id,
        url=url,
        payload={"call_order_id": order.id, "attempt_id": attempt_id},
        now=now,
    )


def render(
    event: outbox.WebhookEvent, view: CallView | None, sent_at: datetime, link: RecordingLink
) -> dict[str, Any]:
    """The body: ``call`` and ``call_attempt`` (Revox's reference) plus the flat keys of
    its n8n integration, plus our ``type``; ``status`` is the order's."""
    if view is None:  # the order is gone: send what was recorded
        return {**event.payload, "type": event.event_type, "timestamp": iso(sent_at)}
    attempt: AttemptRecord | None = view.attempts[0] if view.attempts else None
    if event.attempt_id:
        attempt = next((a for a in view.attempts if a.id == event.attempt_id), attempt)
    call = call_wire(view, link)
    attempt_body = attempt_wire(attempt, link(attempt)) if attempt else None
    return {
        "type": event.event_type,
        "call": call,
        "call_attempt": attempt_body,
        "call_order_id": view.order.id,
        "call_id": attempt.id if attempt else None,
        "status": view.order.status,
        "result": attempt.result if attempt else None,
        "annotation": annotate(attempt),
        "transcript": transcript_text(attempt),
        "recording_url": attempt_body["recording_url"] if attempt_body else None,
        "started_at": iso(attempt.started_at) if attempt else None,
        "ended_at": iso(attempt.ended_at) if attempt else None,
        "calls_count": view.order.calls_count,
        "timestamp": iso(sent_at),
    }


async def load_views(
    conn: AsyncConnection, events: list[outbox.WebhookEvent]
) -> list[CallView | None]:
    """The call of each event as it is now (None: the order is gone): two statements per
    (organization, mode) among the events, whatever their number."""
    wanted: dict[tuple[str, Mode], set[str]] = {}
    for event in events:
        wanted.setdefault((event.organization_id, event.mode), set()).add(event.call_order_id)
    found: dict[tuple[str, str, str], CallView] = {}
    for (organization_id, mode), call_ids in wanted.items():
        orders = await calls.orders_by_ids(
            conn, organization_id=organization_id, mode=mode, call_ids=sorted(call_ids)
        )
        for view in await calls.views_of(conn, orders):
            found[(organization_id, mode, view.order.id)] = view
    return [found.get((e.organization_id, e.mode, e.call_order_id)) for e in events]
