"""A worker: claims due attempts, carries them through the telephony provider while
holding a lease, writes their end, and recovers the attempts of lost workers.

All SQL lives in ``store.repositories.dispatch``; the policy in ``domain``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openrevox.dispatch.finish import finish_attempt, recover_lost_attempts
from openrevox.domain.clock import Clock
from openrevox.store.db import Database
from openrevox.store.repositories import dispatch as repo
from openrevox.store.repositories.dispatch import ClaimedAttempt
from openrevox.telephony.base import (
    CallRequest,
    CallResult,
    ConversationFactory,
    TelephonyProvider,
)

log = logging.getLogger("openrevox.worker")


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


class _Events:
    """Persist ringing and answer as they happen."""

    def __init__(self, worker: Worker, attempt_id: str) -> None:
        self._worker = worker
        self._attempt_id = attempt_id

    async def ringing(self, at: datetime) -> None:
        await self._worker.mark(self._attempt_id, {"status": "ringing", "started_at": at})

    async def answered(self, at: datetime) -> None:
        await self._worker.mark(
            self._attempt_id, {"status": "ongoing", "answered_at": at, "handled_by_ai": True}
        )


class Worker:
    def __init__(
        self,
        *,
        db: Database,
        provider: TelephonyProvider,
        conversations: ConversationFactory,
        clock: Clock,
        config: WorkerConfig | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.provider = provider
        self.conversations = conversations
        self.clock = clock
        self.config = config or WorkerConfig()
        self.worker_id = worker_id or new_worker_id()
        self._live: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()

    async def mark(self, attempt_id: str, values: dict[str, Any]) -> None:
        async with self.db.transaction() as conn:
            await repo.mark_attempt(conn, attempt_id, self.worker_id, values)

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
                claimed = await self._claim()
                for attempt in claimed:
                    self._start(attempt)
                if not claimed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.config.poll_seconds)
        finally:
            await self._drain()
            heartbeat.cancel()
            log.info("worker %s stopped", self.worker_id)

    def _start(self, attempt: ClaimedAttempt) -> None:
        key = attempt.attempt_id
        task = asyncio.create_task(self._carry(attempt))
        self._live[key] = task
        task.add_done_callback(lambda _task: self._live.pop(key, None))

    async def _drain(self) -> None:
        if self._live:
            log.info("draining %d live call(s)", len(self._live))
            await asyncio.wait(list(self._live.values()), timeout=self.config.drain_seconds)

    async def _claim(self) -> list[ClaimedAttempt]:
        free = self.config.capacity - len(self._live)
        if free <= 0:
            return []
        try:
            async with self.db.transaction() as conn:
                return await repo.claim_due(
                    conn,
                    now=self.clock.now(),
                    worker_id=self.worker_id,
                    capacity=free,
                    lease_seconds=self.config.lease_seconds,
                    default_key_limit=self.config.default_key_limit,
                )
        except Exception as error:  # a slot race with another worker: try again next turn
            log.debug("claim failed, retrying: %s", error)
            await asyncio.sleep(self.config.poll_seconds)
            return []

    async def _recover(self) -> None:
        try:
            await recover_lost_attempts(self.db, now=self.clock.now())
        except Exception:
            log.exception("recovery failed; will try again")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.config.lease_seconds / 3)
            until = self.clock.now() + timedelta(seconds=self.config.lease_seconds)
            try:
                async with self.db.transaction() as conn:
                    await repo.renew_leases(
                        conn, worker_id=self.worker_id, attempt_ids=list(self._live), until=until
                    )
            except Exception:
                log.exception("lease renewal failed")

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
        )
        try:
            result = await self.provider.place_call(
                request, _Events(self, attempt.attempt_id), self.conversations
            )
            platform_error = None
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("attempt %s failed in the provider", attempt.attempt_id)
            result, platform_error = CallResult(ended_at=self.clock.now()), str(error)[:40]
        await finish_attempt(
            self.db,
            attempt=attempt,
            result=result,
            worker_id=self.worker_id,
            now=self.clock.now(),
            platform_error=platform_error,
        )
