"""ElevenLabs TTS over its multi-context websocket
(``/v1/text-to-speech/{voice_id}/multi-stream-input``), one connection per call.

Each ``say`` is one ElevenLabs context: opened with a single space and the voice
settings (``stability``, ``similarity_boost``, ``speed`` in ElevenLabs' 0.7-1.2), each
sentence then sent with ``flush: true`` so it is generated at once; the audio is asked
for as ``ulaw_8000``, what the phone line carries, so nothing is resampled. Every audio
message carries its ``alignment`` (characters with start times and durations,
relative to that chunk): the words and their times are rebuilt from it, and they say
what was really spoken when the callee cuts in. The synthesis is over when the
alignment has covered every character sent (or ElevenLabs says ``isFinal``); the
context is then closed. A barge-in sends ``close_context`` for that context only: the
connection stays up for the next utterance. ElevenLabs has no volume setting: the
assistant's ``volume`` is applied to the decoded samples.

A small client over ``websockets``: the official ``elevenlabs`` SDK (which the tests use
to check the fake's messages) has no client for the multi-context websocket, only a
blocking one for the single-context ``stream-input``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final
from urllib.parse import quote, urlencode

import numpy as np

from openrevox.audio.codec import RATE, Samples, ulaw_decode
from openrevox.audio.providers.websocket import (
    CLOSED,
    ContextSocket,
    ContextSynthesis,
    websocket_base,
)
from openrevox.audio.speech import SpeechFault, Synthesis, WordTime

DEFAULT_MODEL: Final = "eleven_flash_v2_5"
OUTPUT_FORMAT: Final = "ulaw_8000"
SPEED_RANGE: Final = (0.7, 1.2)
END_IDLE: Final = 10.0  # a last resort: ended, text not all aligned, silent this long


def websocket_url(base_url: str, voice_id: str, model: str) -> str:
    """The multi-context websocket under an ElevenLabs base URL
    (``https://api.elevenlabs.io``)."""
    base = websocket_base(base_url)
    query = urlencode({"model_id": model, "output_format": OUTPUT_FORMAT, "auto_mode": "true"})
    return f"{base}/v1/text-to-speech/{quote(voice_id, safe='')}/multi-stream-input?{query}"


def voice_settings(
    speed: float | None, stability: float = 0.5, similarity_boost: float = 0.75
) -> dict[str, float]:
    settings = {"stability": stability, "similarity_boost": similarity_boost}
    if speed is not None:
        settings["speed"] = min(max(float(speed), SPEED_RANGE[0]), SPEED_RANGE[1])
    return settings


class ElevenLabsSpeech(ContextSocket):
    """A call's ``TextToSpeech`` on ElevenLabs."""

    name = "elevenlabs"
    who = "ElevenLabs"
    goodbye = {"close_socket": True}

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        voice_id: str,
        model: str = DEFAULT_MODEL,
        speed: float | None = None,
        volume: float | None = None,
        stability: float = 0.5,
        similarity_boost: float = 0.75,
    ) -> None:
        super().__init__(websocket_url(base_url, voice_id, model), {"xi-api-key": api_key})
        self.voice_settings = voice_settings(speed, stability, similarity_boost)
        self.volume = volume

    def _route(self, message: dict[str, Any]) -> str:
        if message.get("error") and self._fault is None:
            detail = message.get("message") or message.get("error")
            self._fault = SpeechFault("tts_error", f"ElevenLabs: {detail}")
        return str(message.get("contextId") or message.get("context_id"))

    def synthesis(self) -> Synthesis:
        return _ElevenLabsSynthesis(self)


class _ElevenLabsSynthesis(ContextSynthesis[ElevenLabsSpeech]):
    def __init__(self, speech: ElevenLabsSpeech) -> None:
        super().__init__(speech)
        self._chars: list[tuple[str, float, float]] = []  # (char, start, end) in seconds
        self._sent_chars = 0  # non-blank characters pushed
        self._played = 0  # samples received so far: the next chunk's start
        self._opened = False

    async def push(self, text: str) -> None:
        if self._cancelled or self._ended or not text.strip():
            return
        self._pushed()
        if not self._opened:
            self._opened = True
            await self._speech.send(
                {
                    "text": " ",
                    "context_id": self._context_id,
                    "voice_settings": self._speech.voice_settings,
                }
            )
        text = text.strip() + " "  # ElevenLabs wants each piece to end with a space
        self._sent_chars += sum(1 for char in text if not char.isspace())
        await self._speech.send({"text": text, "context_id": self._context_id, "flush": True})

    async def end(self) -> None:
        if self._cancelled or self._ended:
            return
        self._ended = True
        if not self._opened:
            self._queue.put_nowait(None)  # nothing was said
            return
        # Wake the reader: the whole text may already be aligned.
        self._queue.put_nowait({})

    def _aligned(self) -> int:
        return sum(1 for char, _, _ in self._chars if not char.isspace())

    async def chunks(self) -> AsyncIterator[Samples]:
        try:
            while not self._cancelled:
                if self._ended and self._opened and self._aligned() >= self._sent_chars:
                    return
                if self._ended and self._ttfb_ms is not None:
                    try:
                        message = await asyncio.wait_for(self._queue.get(), END_IDLE)
                    except TimeoutError:
                        return
                else:
                    message = await self._queue.get()
                if message is None:  # cancelled, or nothing to say
                    return
                if message is CLOSED or message.get("error"):
                    raise self._speech.fault or SpeechFault("tts_disconnected")
                audio = message.get("audio")
                if audio:
                    self._heard()
                    samples = ulaw_decode(base64.b64decode(audio))
                    self._align(message.get("alignment"))
                    self._played += len(samples)
                    if self._speech.volume is not None and self._speech.volume != 1.0:
                        scaled = samples.astype(np.float64) * self._speech.volume
                        samples = np.clip(scaled, -32768, 32767).astype(np.int16)
                    yield samples
                if message.get("isFinal") or message.get("is_final"):
                    return
        finally:
            if not self._cancelled:
                self._speech.close_context(self._context_id)
                if self._opened and self._speech.fault is None:
                    with contextlib.suppress(SpeechFault):
                        await self._speech.send(
                            {"context_id": self._context_id, "close_context": True}
                        )

    def _align(self, alignment: Any) -> None:
        """Characters timed relative to their chunk, made relative to the synthesis."""
        if not isinstance(alignment, dict):
            return
        offset = self._played / RATE
        for char, start, duration in zip(
            alignment.get("chars") or [],
            alignment.get("charStartTimesMs") or [],
            alignment.get("charDurationsMs") or [],
            strict=False,
        ):
            begin = offset + float(start) / 1000
            self._chars.append((str(char), begin, begin + float(duration) / 1000))

    def _cancel_message(self) -> dict[str, Any] | None:
        return {"context_id": self._context_id, "close_context": True} if self._opened else None

    @property
    def words(self) -> list[WordTime]:
        """Words from the aligned characters; a word is complete once a blank follows
        it, or when the whole text is aligned."""
        words: list[WordTime] = []
        text, start, end = "", 0.0, 0.0
        for char, begin, finish in self._chars:
            if char.isspace():
                if text:
                    words.append(WordTime(text, start, end))
                text = ""
                continue
            if not text:
                start = begin
            text, end = text + char, finish
        if text and self._aligned() >= self._sent_chars:
            words.append(WordTime(text, start, end))
        return words
