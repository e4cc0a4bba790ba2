"""The simulated network as a TelephonyProvider: deterministic behaviours per number,
a ledger row committed before each dial rings, durations divided by a speed factor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from openrevox.domain.clock import Clock
from openrevox.telephony.base import (
    CallEvents,
    CallRequest,
    CallResult,
    ConversationFactory,
    ConversationOutcome,
    LineFault,
    Transcript,
)
from openrevox.telephony.sim import person
from openrevox.telephony.sim.line import SimLine
from openrevox.telephony.sim.personas import behaviour_for

if TYPE_CHECKING:
    from openrevox.audio.speech import SpeechFactory
    from openrevox.telephony.sim.audio_line import AudioSimLine

log = logging.getLogger("openrevox.sim")

_LOCAL = {"provider": "local", "fallback_reason": "no speech providers configured"}

# Real-world seconds before each dial error comes back (divided by the speed factor).
RING_SECONDS = {
    "busy": 1.0,
    "no_answer": 20.0,
    "number_non_attributed": 0.5,
    "temporarily_unavailable": 0.5,
    "too_many_calls": 0.2,
    "no_international_permission": 0.2,
    "precondition_failed": 0.2,
    "non_classified_error": 0.5,
}
ANSWER_AFTER_SECONDS = 2.0  # one ring


class AlreadyDialled(RuntimeError):
    """The ledger already holds this attempt: dialling it again is refused."""


class DialStore(Protocol):
    """Where the ledger's rows are kept (``store.repositories.sim_ledger.SimLedger``,
    wired by ``dispatch.runtime``): telephony reports through it and imports no store."""

    async def insert_dials(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """Write ``rows`` (the ``sim_ledger`` columns) in one transaction of their own,
        committed on return; the attempt ids written (one already there is skipped)."""
        ...


class _Ledger:
    """The network's record of every dial. The dials of the same moment are written in
    one transaction of the ledger's own, committed before any of them rings; an attempt
    id already in the ledger is refused (``record`` returns False)."""

    def __init__(self, store: DialStore) -> None:
        self._store = store
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def record(self, row: dict[str, Any]) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                written = await self._insert([row for row, _ in batch])
            except Exception:
                log.exception("recording %d dial(s) failed; one by one now", len(batch))
                await self._one_by_one(batch)
                continue
            seen: set[str] = set()
            for row, future in batch:
                attempt_id = row["attempt_id"]
                fresh = attempt_id in written and attempt_id not in seen
                seen.add(attempt_id)
                if not future.done():
                    future.set_result(fresh)

    async def _one_by_one(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        for row, future in batch:
            try:
                fresh = row["attempt_id"] in await self._insert([row])
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(fresh)

    async def _insert(self, rows: list[dict[str, Any]]) -> set[str]:
        return await self._store.insert_dials(rows)


class SimulatedNetwork:
    def __init__(
        self,
        *,
        ledger: DialStore,
        clock: Clock,
        speed: float = 1.0,
        worker_id: str = "sim",
        fidelity: str = "text",
        speech: SpeechFactory | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("the simulated network's speed factor must be positive")
        if fidelity not in ("text", "audio"):
            raise ValueError(f"the simulated network's fidelity is text or audio, not {fidelity}")
        self.clock = clock
        self.speed = speed
        self.fidelity = fidelity
        self.speech = speech  # the agent's voice and ears per call (audio); None: local
        self.worker_id = worker_id
        self._ledger = _Ledger(ledger)

    def seconds(self, real: float) -> float:
        return real / self.speed

    async def _record_dial(self, request: CallRequest, behaviour: str) -> None:
        fresh = await self._ledger.record(
            {
                "attempt_id": request.attempt_id,
                "call_order_id": request.call_order_id,
                "phone_number": request.to_number,
                "attempt_number": request.attempt_number,
                "behaviour": behaviour,
                "worker_id": self.worker_id,
                "dialed_at": self.clock.now(),
            }
        )
        if not fresh:
            raise AlreadyDialled(f"attempt {request.attempt_id} was already dialled")

    async def place_call(
        self, request: CallRequest, events: CallEvents, conversation: ConversationFactory
    ) -> CallResult:
        behaviour = behaviour_for(
            request.remote_number,
            call_order_id=request.call_order_id,
            attempt_number=request.attempt_number,
        )
        await self._record_dial(request, behaviour.dial_error or f"persona:{behaviour.persona}")
        ringing_at = self.clock.now()
        await events.ringing(ringing_at)
        if behaviour.dial_error is not None:
            delay = self.seconds(RING_SECONDS[behaviour.dial_error])
            if delay > 0.0005:
                await asyncio.sleep(delay)
            return CallResult(
                dial_error=behaviour.dial_error, ringing_at=ringing_at, ended_at=self.clock.now()
            )

        await asyncio.sleep(self.seconds(ANSWER_AFTER_SECONDS))
        # What the callee's answering machine sounds like varies from call to call.
        seed = zlib.crc32(f"{request.call_order_id}:{request.attempt_number}".encode())
        audio: AudioSimLine | None = None
        facts: dict[str, Any] = {}
        if self.fidelity == "audio":  # real audio in real time: telephony/sim/audio_line.py
            from openrevox.telephony.sim.audio_line import AudioSimLine

            speech = self.speech(request.assistant) if self.speech else None
            # The audio starts as it returns: ``answered_at`` is the recording's start,
            # the origin of its ``speech_events``.
            audio = await AudioSimLine.open(
                request.assistant,
                stt=speech.stt if speech else None,
                tts=speech.tts if speech else None,
                seed=seed,
            )
            line: SimLine = audio
            # Which provider serves each side, and why (the attempt's openrevox.speech).
            record = speech.record if speech else {"tts": _LOCAL, "stt": _LOCAL}
            facts["speech"] = {side: dict(value) for side, value in record.items()}
        else:
            line = SimLine(speed=self.speed, seed=seed)
        answered_at = self.clock.now()
        await events.answered(answered_at)
        transcript = Transcript(events.transcript_changed)
        callee: asyncio.Task[None] | None = None
        try:
            if audio is not None:
                await audio.connect()
            callee = asyncio.create_task(person.play(behaviour.persona or "00", line))
            outcome = await conversation(request).run(request, line, line.scaled, transcript)
        except LineFault as fault:
            log.warning("attempt %s: the line failed: %s", request.attempt_id, fault)
            side = fault.reason.split("_", 1)[0]  # tts_unreachable -> tts
            if side in facts.get("speech", {}):
                facts["speech"][side]["error"] = str(fault)[:200]
            heard = any(entry.role == "user" for entry in transcript)
            outcome = ConversationOutcome(
                result="human" if heard else "unknown",
                ended_by="system",
                end_reason=fault.reason,
                transcript=transcript,
                error=fault.reason,
            )
        finally:
            if not line.agent_hung_up:
                await line.hang_up()
            if callee is not None:
                callee.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await callee
        return CallResult(
            ringing_at=ringing_at,
            answered_at=answered_at,
            ended_at=self.clock.now(),
            result=outcome.result,
            ended_by=outcome.ended_by,
            end_reason=outcome.end_reason,
            transcript=outcome.transcript,
            do_not_contact=outcome.do_not_contact,
            outcome=outcome.outcome,
            structured_output=outcome.structured_output,
            unanswered_questions=outcome.unanswered_questions,
            outcome_summary=outcome.outcome_summary,
            platform_error=outcome.error,
            speech_events=audio.agent.speech_log.wire() if audio is not None else [],
            facts={**facts, **line.answer_facts()},
        )
