"""A worker: claims due attempts, carries them through the telephony provider while
holding a lease, writes their end, and recovers the attempts of lost workers.

Its writes are batched: the progress marks (ringing, answered) and the ends of all the
attempts that moved in the same moment go to the database in one transaction
(``_Writer``), so its cost per attempt stays flat however many calls it carries.

All SQL lives in ``store.repositories.dispatch``; the policy in ``domain``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openrevox.dispatch.finish import Finished, finish_in, recover_lost_attempts
from openrevox.domain.api_keys import Mode
from openrevox.domain.attempt_plan import OrderPlan
from openrevox.domain.clock import Clock
from openrevox.domain.end_reasons import NO_ROUTE
from openrevox.domain.routing import carriers_of, route_call
from openrevox.domain.sandbox_numbers import is_fictional
from openrevox.store.db import Database
from openrevox.store.repositories import dispatch as repo
from openrevox.store.repositories import phone_numbers
from openrevox.store.repositories.dispatch import ClaimedAttempt
from openrevox.telephony.base import (
    CallRequest,
    CallResult,
    ConversationFactory,
    TelephonyProvider,
    TranscriptEntry,
)

log = logging.getLogger("openrevox.worker")

# Waits before trying a failed batch write again; then each attempt is written alone.
WRITE_RETRY_DELAYS = (0.05, 0.5)
RECOVERY_BATCH = 200  # lost attempts ended per recovery transaction


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    capacity: int = 200  # live attempts one worker carries at once
    poll_seconds: float = 0.2
    lease_seconds: float = 30.0
    recovery_seconds: float = 5.0
    default_key_limit: int = 1
    drain_seconds: float = 30.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Writer:
    """Collects progress marks and attempt ends and writes what accumulated in one
    transaction, one batch after the other (in order: an attempt's marks are never
    written after its end)."""

    def __init__(self, db: Database, clock: Clock, worker_id: str) -> None:
        self._db = db
        self._clock = clock
        self._worker_id = worker_id
        self._marks: dict[str, dict[str, Any]] = {}
        self._ends: list[tuple[Finished, asyncio.Future[OrderPlan | None]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self.batches = 0
        self.ends_written = 0

    def mark(self, attempt_id: str, values: dict[str, Any]) -> None:
        self._marks.setdefault(attempt_id, {}).update(values)
        self._kick()

    async def finish(self, finished: Finished) -> OrderPlan | None:
        future: asyncio.Future[OrderPlan | None] = asyncio.get_running_loop().create_future()
        self._ends.append((finished, future))
        self._kick()
        return await future

    def _kick(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._marks or self._ends:
            marks, self._marks = self._marks, {}
            ends, self._ends = self._ends, []
            ending = {item.attempt.attempt_id for item, _ in ends}
            # An attempt that ends in this batch gets its progress with its end.
            marks = {key: values for key, values in marks.items() if key not in ending}
            try:
                plans = await self._write_with_retries(marks, [item for item, _ in ends])
            except Exception:
                log.exception("writing a batch of %d end(s) failed; one by one now", len(ends))
                await self._write_one_by_one(marks, ends)
                continue
            self.batches += 1
            self.ends_written += len(ends)
            for (_, future), plan in zip(ends, plans, strict=True):
                if not future.done():
                    future.set_result(plan)

    async def _write_with_retries(
        self, marks: dict[str, dict[str, Any]], ends: list[Finished]
    ) -> list[OrderPlan | None]:
        for delay in (*WRITE_RETRY_DELAYS, None):
            try:
                return await self._write(marks, ends)
            except Exception as error:
                if delay is None:
                    raise
                log.warning("batch write failed (%s); trying again", error)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _write_one_by_one(
        self,
        marks: dict[str, dict[str, Any]],
        ends: list[tuple[Finished, asyncio.Future[OrderPlan | None]]],
    ) -> None:
        for key, values in marks.items():
            try:
                await self._write({key: values}, [])
            except Exception:
                log.exception("could not mark attempt %s", key)
        for item, future in ends:
            try:
                plan = (await self._write({}, [item]))[0]
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(plan)

    async def _write(
        self, marks: dict[str, dict[str, Any]], ends: list[Finished]
    ) -> list[OrderPlan | None]:
        async with self._db.transaction() as conn:
            if marks:
                await repo.mark_attempts(conn, self._worker_id, marks)
            if not ends:
                return []
            return await finish_in(conn, ends, worker_id=self._worker_id, now=self._clock.now())


class _Events:
    """Progress of one attempt, handed to the writer as it happens."""

    def __init__(self, writer: _Writer, attempt_id: str) -> None:
        self._writer = writer
        self._attempt_id = attempt_id
        self.rang_at: datetime | None = None

    async def ringing(self, at: datetime) -> None:
        self.rang_at = at
        self._writer.mark(self._attempt_id, {"status": "ringing", "started_at": at})

    async def answered(self, at: datetime) -> None:
        self._writer.mark(
            self._attempt_id, {"status": "ongoing", "answered_at": at, "handled_by_ai": True}
        )

    def transcript_changed(self, entries: list[TranscriptEntry]) -> None:
        self._writer.mark(self._attempt_id, {"transcript": [entry.wire() for entry in entries]})


class Worker:
    def __init__(
        self,
        *,
        db: Database,
        providers: Mapping[str, TelephonyProvider],
        conversations: ConversationFactory,
        clock: Clock,
        config: WorkerConfig | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        # By name (OPENREVOX_TELEPHONY): routing picks one per attempt.
        self.providers = dict(providers)
        self.carriers = carriers_of(self.providers)
        self.conversations = conversations
        self.clock = clock
        self.config = config or WorkerConfig()
        self.worker_id = worker_id or new_worker_id()
        self._live: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._freed = asyncio.Event()  # a live attempt ended: capacity or a slot came back
        self._writer = _Writer(db, clock, self.worker_id)
        self._claims = 0
        self._claimed = 0

    def stop(self) -> None:
        """Claim nothing more; ``run`` returns once live calls are drained."""
        self._stopping.set()

    async def run(self) -> None:
        log.info("worker %s started", self.worker_id)
        heartbeat = asyncio.create_task(self._heartbeat())
        next_recovery = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not self._stopping.is_set():
                if loop.time() >= next_recovery:
                    await self._recover()
                    next_recovery = loop.time() + self.config.recovery_seconds
                free = self.config.capacity - len(self._live)
                self._freed.clear()
                claimed = await self._claim(free) if free > 0 else []
                if claimed:
                    self._claims += 1
                    self._claimed += len(claimed)
                for attempt in claimed:
                    self._start(attempt)
                if free <= 0 or len(claimed) < free:
                    # Full, or nothing more is due or free: wait for an end or the poll.
                    await self._wait(self.config.poll_seconds)
        finally:
            await self._drain()
            heartbeat.cancel()
            log.info(
                "worker %s stopped: %d attempts in %d claims, %d ends in %d writes",
                self.worker_id,
                self._claimed,
                self._claims,
                self._writer.ends_written,
                self._writer.batches,
            )

    async def _wait(self, seconds: float) -> None:
        stopping = asyncio.ensure_future(self._stopping.wait())
        freed = asyncio.ensure_future(self._freed.wait())
        try:
            await asyncio.wait((stopping, freed), timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            stopping.cancel()
            freed.cancel()

    def _start(self, attempt: ClaimedAttempt) -> None:
        key = attempt.attempt_id
        task = asyncio.create_task(self._carry(attempt))
        self._live[key] = task
        task.add_done_callback(lambda _task: self._ended(key))

    def _ended(self, key: str) -> None:
        self._live.pop(key, None)
        self._freed.set()

    async def _drain(self) -> None:
        if self._live:
            log.info("draining %d live call(s)", len(self._live))
            await asyncio.wait(list(self._live.values()), timeout=self.config.drain_seconds)

    async def _claim(self, free: int) -> list[ClaimedAttempt]:
        try:
            async with self.db.transaction() as conn:
                return await repo.claim_due(
                    conn,
                    now=self.clock.now(),
                    worker_id=self.worker_id,
                    capacity=free,
                    lease_seconds=self.config.lease_seconds,
                    default_key_limit=self.config.default_key_limit,
                    stamp=self.clock.now,
                )
        except Exception as error:  # e.g. a deadlock victim, a dropped connection
            log.warning("claim failed, trying again: %s", error)
            await asyncio.sleep(self.config.poll_seconds)
            return []

    async def _recover(self) -> None:
        try:
            while (
                await recover_lost_attempts(self.db, now=self.clock.now(), batch=RECOVERY_BATCH)
                >= RECOVERY_BATCH
            ):
                pass  # a full batch: there may be more
        except Exception:
            log.exception("recovery failed; will try again")

    async def _heartbeat(self) -> None:
        interval = self.config.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            until = self.clock.now() + timedelta(seconds=self.config.lease_seconds)
            try:
                async with self.db.transaction() as conn:
                    await repo.renew_leases(
                        conn, worker_id=self.worker_id, attempt_ids=list(self._live), until=until
                    )
                interval = self.config.lease_seconds / 3
            except Exception:
                log.exception("lease renewal failed; trying again soon")
                interval = self.config.lease_seconds / 10

    async def _provider_for(
        self, request: CallRequest, mode: Mode
    ) -> tuple[TelephonyProvider | None, str | None]:
        """The provider routing picks for this attempt (domain/routing.py, as at the
        call's creation: the configuration may have changed since), or None and why."""
        remote = request.remote_number
        line = request.from_number if request.direction == "outbound" else request.to_number
        line_provider = None
        if mode == "live" and self.carriers and not is_fictional(remote):
            async with self.db.read() as conn:
                line_provider = await phone_numbers.line_provider(
                    conn, organization_id=request.organization_id, mode=mode, number=line
                )
        route = route_call(
            mode=mode,
            remote_number=remote,
            carriers=self.carriers,
            line_number=line,
            line_provider=line_provider,
        )
        if route.provider is None:
            return None, route.refusal
        provider = self.providers.get(route.provider)
        if provider is None:
            return None, f"the telephony provider {route.provider} is not available here"
        return provider, None

    async def _carry(self, attempt: ClaimedAttempt) -> None:
        order = attempt.order
        request = CallRequest(
            attempt_id=attempt.attempt_id,
            call_order_id=order.id,
            organization_id=order.organization_id,
            to_number=order.to_phone_number,
            from_number=order.from_phone_number,
            attempt_number=attempt.attempt_number,
            max_attempts=attempt.policy.max_attempts,
            assistant=order.assistant,
            prompt_variables=order.prompt_variables or {},
            direction="inbound" if order.direction == "inbound" else "outbound",
            mode="live" if order.mode == "live" else "test",
            timezone=order.timezone or "UTC",
        )
        events = _Events(self._writer, attempt.attempt_id)
        platform_error: str | None = None
        try:
            provider, refusal = await self._provider_for(request, order.mode)
            if provider is None:  # nothing is dialled: the attempt ends error, retry applies
                log.warning("attempt %s not dialled: %s", attempt.attempt_id, refusal)
                result = CallResult(
                    ended_at=self.clock.now(), end_reason=NO_ROUTE, ended_by="system"
                )
                platform_error = refusal
            else:
                result = await provider.place_call(request, events, self.conversations)
                platform_error = result.platform_error
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("attempt %s failed in the provider", attempt.attempt_id)
            result = CallResult(ended_at=self.clock.now())
            platform_error = f"{type(error).__name__}: {error}"
        started = events.rang_at or attempt.started_at
        try:
            await self._writer.finish(Finished(attempt, result, started, platform_error))
        except Exception:
            # Its lease stops being renewed: recovery ends it ``worker_lost``.
            log.exception("could not write the end of attempt %s", attempt.attempt_id)
