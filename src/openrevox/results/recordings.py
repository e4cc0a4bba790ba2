"""Recordings of call attempts: found in the blob store, or (simulated calls at text
fidelity) synthesised from the transcript on first fetch and cached there; and their
retention.

Keys in the blob store:

- ``sim/<attempt id>.wav``: synthesised here, on demand; may be made again if lost.
- anything else a call pipeline stores (``pipeline_key`` suggests ``calls/<id>.wav``):
  a real call's pipeline puts its audio with ``BlobStore.put`` and writes the key to
  ``call_attempts.recording_key`` when it finishes the attempt; it is then served as is,
  and never replaced by a synthesised one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta

from openrevox.errors import NotFound
from openrevox.results.blobstore import BlobStore
from openrevox.results.recording_audio import beeps_of, render_recording
from openrevox.results.recording_links import has_recording, retention_cutoff
from openrevox.store.db import Database
from openrevox.store.repositories import recordings as repo
from openrevox.store.repositories.calls import AttemptRecord
from openrevox.voices.local_tts import LocalSpeech, shared_local_speech

log = logging.getLogger("openrevox.recordings")

SYNTH_PREFIX = "sim/"
PRUNE_BATCH = 500
MAX_CONCURRENT_SYNTHESES = 2


def synthesized_key(attempt_id: str) -> str:
    return f"{SYNTH_PREFIX}{attempt_id}.wav"


def pipeline_key(attempt_id: str) -> str:
    """Where a real call's pipeline should store its recording."""
    return f"calls/{attempt_id}.wav"


class Recordings:
    """Finds (or makes) the blob of an attempt's recording. Concurrent first fetches share
    one synthesis: in a process by waiting on the same task, across processes (PostgreSQL)
    by a transaction-scoped advisory lock per attempt. The store's atomic put keeps the
    file whole in any case."""

    def __init__(
        self,
        db: Database,
        store: BlobStore,
        *,
        retention_days: float | None = None,
        speech: LocalSpeech | None = None,
    ) -> None:
        self.db = db
        self.store = store
        self.retention_days = retention_days
        self._speech = speech
        self._inflight: dict[str, asyncio.Future[str]] = {}
        # Synthesis is CPU-bound and Piper runs one sentence at a time per process: more
        # at once would only hold database connections (the PostgreSQL lock) while queued.
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_SYNTHESES)
        self.synthesized = 0  # how many recordings this process has made
        self.synthesis_seconds = 0.0

    async def attempt(self, attempt_id: str) -> AttemptRecord | None:
        async with self.db.read() as conn:
            return await repo.attempt(conn, attempt_id)

    async def locate(self, attempt_id: str, now: datetime) -> str:
        """The blob key of the attempt's recording, synthesising it if need be."""
        attempt = await self.attempt(attempt_id)
        if attempt is None:
            raise NotFound(f"no call attempt with id '{attempt_id}'", param="attempt_id")
        if not has_recording(attempt, retention_cutoff(now, self.retention_days)):
            raise NotFound("this call attempt has no recording", code="no_recording")
        key = attempt.recording_key
        if key is not None:
            if await self.store.exists(key):
                return key
            if not key.startswith(SYNTH_PREFIX):
                raise NotFound("the recording is no longer stored", code="no_recording")
        return await self._single_flight(attempt)

    async def _single_flight(self, attempt: AttemptRecord) -> str:
        future = self._inflight.get(attempt.id)
        if future is None:
            future = asyncio.ensure_future(self._make(attempt))
            self._inflight[attempt.id] = future
            future.add_done_callback(lambda done: self._forget(attempt.id, done))
        # Shielded: a listener who goes away does not cancel the others' synthesis.
        return await asyncio.shield(future)

    def _forget(self, attempt_id: str, done: asyncio.Future[str]) -> None:
        self._inflight.pop(attempt_id, None)
        if not done.cancelled():
            done.exception()  # every waiter has it raised; not "never retrieved"

    async def _make(self, attempt: AttemptRecord) -> str:
        key = synthesized_key(attempt.id)
        # On PostgreSQL, one synthesis of an attempt at a time across every process.
        lock = repo.one_at_a_time(self.db, f"openrevox recording {attempt.id}")
        async with self._slots, lock:
            if not await self.store.exists(key):  # another process may have made it
                speech = self._speech or shared_local_speech()
                started = time.perf_counter()
                audio = await asyncio.to_thread(
                    render_recording, attempt.transcript, speech, beeps_of(attempt.openrevox)
                )
                elapsed = time.perf_counter() - started
                await self.store.put(key, audio)
                self.synthesized += 1
                self.synthesis_seconds += elapsed
                log.info("synthesised the recording of %s in %.1fs", attempt.id, elapsed)
        async with self.db.transaction() as conn:
            await repo.set_key_if_none(conn, attempt.id, key)
        return key


async def prune_recordings(
    db: Database, store: BlobStore, now: datetime, retention_days: float | None
) -> int:
    """Delete the recordings of attempts created more than ``retention_days`` ago and
    clear their ``recording_key``; then any blob older than that (files no attempt points
    to: a crash between put and update, deleted orders). Returns the blobs deleted.
    Nothing happens when ``retention_days`` is None (keep forever)."""
    if retention_days is None:
        return 0
    cutoff = now - timedelta(days=retention_days)
    deleted = 0
    while True:
        async with db.read() as conn:
            rows = await repo.older_than(conn, cutoff, PRUNE_BATCH)
        if not rows:
            break
        for _attempt_id, key in rows:
            deleted += await _delete(store, key)
        async with db.transaction() as conn:
            await repo.clear_keys(conn, [attempt_id for attempt_id, _ in rows])
    for blob in await store.list_older_than(cutoff):
        deleted += await _delete(store, blob.key)
    if deleted:
        log.info("pruned %d recordings older than %s", deleted, cutoff.isoformat())
    return deleted


async def _delete(store: BlobStore, key: str) -> int:
    try:
        return 1 if await store.delete(key) else 0
    except ValueError:  # a key no store could hold: nothing to delete
        return 0
