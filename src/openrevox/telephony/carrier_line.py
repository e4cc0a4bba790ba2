"""The agent's ``Line`` on a real carrier's media stream: the audio kit's ``AudioLine``
over the carrier's port, with speech-provider failures reported as ``LineFault`` (the
attempt ends ``error`` and the retry policy applies). Shared by every carrier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from openrevox.audio.ear import TurnPolicy
from openrevox.audio.engine import loop_engine
from openrevox.audio.line import AudioLine
from openrevox.audio.speech import SpeechFactory, SpeechFault
from openrevox.audio.turn import shared_smart_turn
from openrevox.audio.wire import Port
from openrevox.domain.answer_detection import CarrierSignal, Decision
from openrevox.telephony.base import LineFault

# A turn ends after half a second of quiet when the turn model agrees, after a second
# otherwise (as on the simulated audio line: docs/audio-fidelity.md).
_LOCAL_RECORD: Final = {
    "tts": {"provider": "local", "fallback_reason": "no speech providers configured"},
    "stt": {"provider": "local", "fallback_reason": "no speech providers configured"},
}
MIN_PAUSE: Final = 0.5
MAX_PAUSE: Final = 1.0


def carrier_turns() -> TurnPolicy:
    return TurnPolicy(model=shared_smart_turn(), min_pause=MIN_PAUSE, max_pause=MAX_PAUSE)


class CarrierLine:
    """A ``telephony.base.Line`` (and the LLM agent's ``ReplyTimings``)."""

    def __init__(self, audio: AudioLine, speech_record: dict[str, Any] | None = None) -> None:
        self.audio = audio
        # Which provider serves each side, and why (the attempt's openrevox.speech).
        self.speech_record = {
            side: dict(value) for side, value in (speech_record or _LOCAL_RECORD).items()
        }

    @classmethod
    def open(
        cls, port: Port, assistant: Mapping[str, Any], speech: SpeechFactory | None
    ) -> CarrierLine:
        """The agent's side on ``port``, attached to the process's audio engine: its
        frames flow from now on. Speech providers connect in ``connect``."""
        chosen = speech(assistant) if speech is not None else None
        audio = AudioLine.open(
            loop_engine(),
            port,
            assistant,
            turns=carrier_turns(),
            stt=chosen.stt if chosen else None,
            tts=chosen.tts if chosen else None,
        )
        audio.side.attach()
        return cls(audio, chosen.record if chosen else None)

    async def connect(self) -> None:
        try:
            await self.audio.start()
        except SpeechFault as fault:
            self.speech_failed(fault.reason, str(fault))
            raise LineFault(fault.reason, fault.detail) from fault

    def speech_failed(self, reason: str, detail: str) -> None:
        """Note a provider's failure on its side of ``speech_record``."""
        side = reason.split("_", 1)[0]  # tts_unreachable -> tts
        if side in self.speech_record:
            self.speech_record[side]["error"] = detail[:200]

    def llm_replied(self, ttft_ms: float | None, model: str | None) -> None:
        self.audio.llm_replied(ttft_ms, model)

    def speech_events(self) -> list[dict[str, Any]]:
        return self.audio.speech_log.wire()

    async def hear(self, wait: float) -> str | None:
        try:
            return await self.audio.hear(wait)
        except SpeechFault as fault:
            raise LineFault(fault.reason, fault.detail) from fault

    async def say(self, text: str) -> str:
        try:
            return await self.audio.say(text)
        except SpeechFault as fault:
            raise LineFault(fault.reason, fault.detail) from fault

    async def send_dtmf(self, digits: str) -> None:
        await self.audio.send_dtmf(digits)

    async def transfer(self, number: str) -> bool:
        return await self.audio.transfer(number)

    async def hang_up(self) -> None:
        await self.audio.hang_up()

    @property
    def callee_hung_up(self) -> bool:
        return self.audio.callee_hung_up

    @property
    def callee_speaking(self) -> bool:
        return self.audio.callee_speaking

    async def answered_by(self, ceiling: float) -> Decision:
        return await self.audio.answered_by(ceiling)

    async def heard_beep(self, wait: float) -> bool:
        return await self.audio.heard_beep(wait)

    def carrier_detected(self, signal: CarrierSignal) -> None:
        """The carrier's own answer detection (Twilio's ``AnsweredBy``...), one more
        signal for the classifier (``domain/answer_detection.py``)."""
        self.audio.answer_detection.listener.carrier(signal)

    def answer_facts(self) -> dict[str, Any]:
        """The attempt's ``openrevox.answer_detection`` (none before a decision)."""
        return self.audio.answer_detection.listener.opening.facts()
