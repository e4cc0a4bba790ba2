"""Delivering the webhook outbox: signed, retried with exponential backoff and jitter for
at least a day, then dead-lettered; every try is logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from openrevox.domain.clock import Clock
from openrevox.results import webhook_signing, webhooks
from openrevox.results.webhook_safety import check_resolved
from openrevox.store.db import Database
from openrevox.store.repositories import outbox
from openrevox.store.repositories.calls import AttemptRecord, CallView

log = logging.getLogger("openrevox.webhooks")

# Seconds before each retry: about 27 hours in all, then the event is dead-lettered.
DEFAULT_SCHEDULE: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200)
MAX_RESPONSE_BYTES = 64 * 1024
HOLD_SECONDS = 120.0  # a claimed event is not sent by another worker meanwhile


def next_try_delay(tries: int, schedule: tuple[float, ...], rng: random.Random) -> float | None:
    """The delay after ``tries`` failed tries (±20% jitter), or None when spent."""
    if tries > len(schedule):
        return None
    return schedule[tries - 1] * rng.uniform(0.8, 1.2)


class WebhookDeliverer:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        allow_hosts: tuple[str, ...],
        timeout: float,
        recording_link: webhooks.RecordingLink | None = None,
        schedule: tuple[float, ...] = DEFAULT_SCHEDULE,
        poll_seconds: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.allow_hosts = allow_hosts
        self.schedule = schedule
        self.poll_seconds = poll_seconds
        self.recording_link: webhooks.RecordingLink = recording_link or _no_link
        self._rng = random.Random()
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                sent = 0
                try:
                    sent = await self.deliver_due()
                except Exception:
                    log.exception("webhook delivery round failed; will try again")
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)
        finally:
            await self._http.aclose()

    async def deliver_due(self, limit: int = 50) -> int:
        """One round: claim up to ``limit`` due events, read what they need in one read
        transaction, post them all at once, and record every try in one write
        transaction (a transaction per event made the writes, on SQLite serialized with
        the engine's, cost more than the posts)."""
        async with self.db.transaction() as conn:
            events = await outbox.claim_due(
                conn, now=self.clock.now(), limit=limit, hold_seconds=HOLD_SECONDS
            )
        if not events:
            return 0
        sent_at = self.clock.now()
        async with self.db.read() as conn:
            secrets = {
                organization_id: await outbox.secret_of(conn, organization_id)
                for organization_id in {event.organization_id for event in events}
            }
            views = await webhooks.load_views(conn, events)
        outcomes = await asyncio.gather(
            *(
                self._send(event, secrets[event.organization_id], view, sent_at)
                for event, view in zip(events, views, strict=True)
            ),
            return_exceptions=True,
        )
        tries: list[outbox.Try] = []
        for event, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                # A bug, not the receiver's fault: the event stays held, then is retried.
                log.error("webhook event %s could not be sent", event.id, exc_info=outcome)
            else:
                tries.append(outcome)
        async with self.db.transaction() as conn:
            await outbox.record_tries(conn, tries)
        return len(events)

    async def _send(
        self,
        event: outbox.WebhookEvent,
        secret: str,
        view: CallView | None,
        sent_at: datetime,
    ) -> outbox.Try:
        body = orjson.dumps(webhooks.render(event, view, sent_at, self.recording_link))
        started = time.monotonic()
        status_code: int | None = None
        excerpt: str | None = None
        error = await check_resolved(event.url, self.allow_hosts)
        refused = error is not None
        if not refused:
            headers = {
                "content-type": "application/json",
                "user-agent": "openrevox-webhooks/1",
                **webhook_signing.headers(secret, event.id, int(sent_at.timestamp()), body),
            }
            status_code, excerpt, error = await self._post(event.url, body, headers)
        return outbox.Try(
            event=event,
            attempted_at=sent_at,
            status_code=status_code,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000),
            excerpt=excerpt,
            outcome=self._outcome(event, status_code, refused, sent_at),
        )

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, str | None]:
        try:
            async with self._http.stream("POST", url, content=body, headers=headers) as response:
                received = b""
                async for chunk in response.aiter_bytes():
                    received += chunk
                    if len(received) >= MAX_RESPONSE_BYTES:
                        break  # never read an unbounded answer
                excerpt = received[:500].decode("utf-8", "replace")
                error = None if response.is_success else f"HTTP {response.status_code}"
                return response.status_code, excerpt, error
        except httpx.HTTPError as failure:
            return None, None, f"{type(failure).__name__}: {failure}"[:300]

    def _outcome(
        self, event: outbox.WebhookEvent, status_code: int | None, refused: bool, now: datetime
    ) -> dict[str, Any]:
        if status_code is not None and 200 <= status_code < 300:
            return {"status": "delivered", "delivered_at": now, "next_attempt_at": None}
        delay = None if refused else next_try_delay(event.tries + 1, self.schedule, self._rng)
        if delay is None:
            return {"status": "dead", "next_attempt_at": None}
        return {"status": "pending", "next_attempt_at": now + timedelta(seconds=delay)}


def _no_link(_attempt: AttemptRecord) -> str | None:
    return None


def schedule_from_text(text: str | None) -> tuple[float, ...]:
    if not text:
        return DEFAULT_SCHEDULE
    return tuple(float(part) for part in text.split(",") if part.strip())


__all__ = ["DEFAULT_SCHEDULE", "WebhookDeliverer", "next_try_delay", "schedule_from_text"]
