"""Assemble the background work of a worker process: webhook delivery, housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from openrevox.domain.clock import Clock
from openrevox.results.blobstore import build_blob_store
from openrevox.results.recording_links import RecordingSigner, links_signed_when_used
from openrevox.results.recordings import prune_recordings
from openrevox.results.webhook_delivery import WebhookDeliverer, schedule_from_text
from openrevox.settings import Settings
from openrevox.store.db import Database

log = logging.getLogger("openrevox.housekeeping")


def build_deliverer(
    settings: Settings, db: Database, clock: Clock, signer: RecordingSigner
) -> WebhookDeliverer:
    return WebhookDeliverer(
        db=db,
        clock=clock,
        allow_hosts=settings.webhook_allow_hosts,
        timeout=settings.webhook_timeout_seconds,
        schedule=schedule_from_text(settings.webhook_retry_schedule),
        # Links inside payloads are signed when each delivery is made.
        recording_link=links_signed_when_used(signer, clock.now, settings.recording_retention_days),
    )


class Housekeeper:
    """Periodic chores of a worker process: recordings past their retention are deleted."""

    def __init__(
        self, settings: Settings, db: Database, clock: Clock, *, every_seconds: float = 3600
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.every_seconds = every_seconds
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        if self.settings.recording_retention_days is None:
            return  # keep recordings forever: nothing to do
        store = build_blob_store(self.settings)
        while not self._stopping.is_set():
            try:
                deleted = await prune_recordings(
                    self.db, store, self.clock.now(), self.settings.recording_retention_days
                )
                if deleted:
                    log.info("deleted %d recording(s) past retention", deleted)
            except Exception:
                log.exception("pruning recordings failed; will try again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_seconds)
