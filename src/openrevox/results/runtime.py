"""Assemble the webhook deliverer from settings."""

from __future__ import annotations

from openrevox.domain.clock import Clock
from openrevox.results.webhook_delivery import WebhookDeliverer, schedule_from_text
from openrevox.settings import Settings
from openrevox.store.db import Database


def build_deliverer(settings: Settings, db: Database, clock: Clock) -> WebhookDeliverer:
    return WebhookDeliverer(
        db=db,
        clock=clock,
        allow_hosts=settings.webhook_allow_hosts,
        timeout=settings.webhook_timeout_seconds,
        schedule=schedule_from_text(settings.webhook_retry_schedule),
    )
