"""A call's ``speech_events`` (the contract's per-turn timings), as the audio went.

Times are ms since the side's audio started, which is the attempt's ``answered_at`` and
the recording's start: an agent segment runs from the first to the last voiced frame the
mouth sent (``mouth.Said``), a callee segment from where the ear's VAD heard the voice
start to where it heard it stop (``ear.Heard``). The agent's LLM timings come from the
agent (``llm_replied``) and go on its next segment.
"""

from __future__ import annotations

import uuid
from typing import Any

from openrevox.audio.codec import FRAME_SECONDS, RATE
from openrevox.audio.ear import Heard
from openrevox.audio.mouth import Said


def _ms(value: float) -> float:
    return round(value, 1)


class SpeechLog:
    def __init__(self, *, with_prompts: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self._llm: tuple[float | None, str | None, str | None] | None = None
        self._with_prompts = with_prompts

    def llm_replied(
        self, ttft_ms: float | None, model: str | None, prompt: str | None = None
    ) -> None:
        """The agent's next words are an LLM reply: its first token took ``ttft_ms``."""
        self._llm = (ttft_ms, model, prompt if self._with_prompts else None)

    def agent_said(self, said: Said) -> None:
        if said.first_frame is None or said.last_frame is None:
            self._llm = None
            return
        ttft, model, prompt = self._llm or (None, None, None)
        self._llm = None
        self.events.append(
            _event(
                "agent",
                _ms(said.first_frame * FRAME_SECONDS * 1000),
                _ms((said.last_frame + 1) * FRAME_SECONDS * 1000),
                said.text,
                is_real_turn=True,
                llm_system_prompt=prompt,
                llm_ttft_ms=None if ttft is None else _ms(ttft),
                llm_winner_model=model,
                tts_ttfb_ms=None if said.ttfb_ms is None else _ms(said.ttfb_ms),
                was_cut=said.was_cut,
            )
        )

    def user_heard(self, heard: Heard) -> None:
        self.events.append(
            _event(
                "user",
                _ms(heard.start / RATE * 1000),
                _ms(heard.stop / RATE * 1000),
                heard.text or None,
                is_real_turn=bool(heard.text),
                stt_transcription_delay_ms=_ms(heard.stt_delay_ms),
            )
        )

    def wire(self) -> list[dict[str, Any]]:
        """The events in the contract's order (by start)."""
        return sorted(self.events, key=lambda event: float(event["started_speaking_at_ms"]))


def _event(
    speaker: str, start: float, stop: float, transcript: str | None, **values: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "speaker": speaker,
        "started_speaking_at_ms": start,
        "stopped_speaking_at_ms": stop,
        "transcript": transcript,
        "is_real_turn": True,
        "stt_transcription_delay_ms": None,
        "llm_system_prompt": None,
        "llm_ttft_ms": None,
        "llm_winner_model": None,
        "tts_ttfb_ms": None,
        "was_cut": None,
    }
    event.update(values)
    return event
