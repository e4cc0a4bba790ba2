"""Cartesia TTS over its websocket (``/tts/websocket``), one connection per call.

Each ``say`` is one Cartesia context: its sentences are pushed as generation requests
with ``continue: true`` (Cartesia keeps the prosody across them), the last with
``continue: false``; the audio is asked for as raw 8 kHz mu-law, what the phone line
carries, so nothing is resampled; ``add_timestamps`` gives the words' times, which say
what was really spoken when the callee cuts in; a barge-in sends ``{context_id, cancel:
true}``. ``speed`` and ``volume`` go in ``generation_config`` (sonic-3 models), the
pronunciation dictionary as ``pronunciation_dict_id``.

A small client over ``websockets`` rather than the official ``cartesia`` SDK (which the
tests use to check the fake): the SDK's reader logs a connection lost mid-generation and
leaves the context's ``receive()`` waiting forever, and its ``send`` reconnects on its
own; on a live call a lost connection must end the generation at once with a reason.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any, Final

from openrevox.audio.codec import Samples, ulaw_decode
from openrevox.audio.providers.websocket import (
    CLOSED,
    ContextSocket,
    ContextSynthesis,
    websocket_base,
)
from openrevox.audio.speech import SpeechFault, Synthesis, WordTime

VERSION: Final = "2026-03-01"  # the Cartesia-Version this client is written against
MODELS: Final = ("sonic-3", "sonic-3.5")
DEFAULT_MODEL: Final = "sonic-3"
OUTPUT: Final = {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000}


def websocket_url(base_url: str) -> str:
    """The TTS websocket under a Cartesia base URL (``https://api.cartesia.ai``)."""
    return websocket_base(base_url) + "/tts/websocket"


class CartesiaSpeech(ContextSocket):
    """A call's ``TextToSpeech`` on Cartesia."""

    name = "cartesia"
    who = "Cartesia"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        voice_id: str,
        model: str = DEFAULT_MODEL,
        speed: float | None = None,
        volume: float | None = None,
        pronunciation_dict_id: str | None = None,
    ) -> None:
        super().__init__(
            websocket_url(base_url), {"X-API-Key": api_key, "Cartesia-Version": VERSION}
        )
        self.request: dict[str, Any] = {
            "model_id": model,
            "voice": {"mode": "id", "id": voice_id},
            "output_format": OUTPUT,
            "add_timestamps": True,
        }
        config = {"speed": speed, "volume": volume}
        if any(value is not None for value in config.values()):
            self.request["generation_config"] = {k: v for k, v in config.items() if v is not None}
        if pronunciation_dict_id:
            self.request["pronunciation_dict_id"] = pronunciation_dict_id

    def synthesis(self) -> Synthesis:
        return _CartesiaSynthesis(self)


class _CartesiaSynthesis(ContextSynthesis[CartesiaSpeech]):
    def __init__(self, speech: CartesiaSpeech) -> None:
        super().__init__(speech)
        self._words: list[WordTime] = []

    def _request(self, transcript: str, *, more: bool) -> dict[str, Any]:
        return {
            **self._speech.request,
            "context_id": self._context_id,
            "transcript": transcript,
            "continue": more,
        }

    async def push(self, text: str) -> None:
        if self._cancelled or self._ended:
            return
        self._pushed()
        # A space between pushes: Cartesia joins continued transcripts as given.
        await self._speech.send(self._request(text.strip() + " ", more=True))

    async def end(self) -> None:
        if self._cancelled or self._ended:
            return
        self._ended = True
        await self._speech.send(self._request("", more=False))

    async def chunks(self) -> AsyncIterator[Samples]:
        try:
            while not self._cancelled:
                message = await self._queue.get()
                if message is None:  # cancelled
                    return
                if message is CLOSED:
                    raise self._speech.fault or SpeechFault("tts_disconnected")
                kind = message.get("type")
                if kind == "chunk":
                    self._heard()
                    data = message.get("data") or ""
                    if data:
                        yield ulaw_decode(base64.b64decode(data))
                elif kind == "timestamps":
                    stamps = message.get("word_timestamps") or {}
                    self._words.extend(
                        WordTime(str(word), float(start), float(end))
                        for word, start, end in zip(
                            stamps.get("words") or [],
                            stamps.get("start") or [],
                            stamps.get("end") or [],
                            strict=False,
                        )
                    )
                elif kind == "done":
                    return
                elif kind == "error":
                    detail = message.get("message") or message.get("title") or "error"
                    status = message.get("status_code")
                    raise SpeechFault("tts_error", f"Cartesia {status}: {detail}")
        finally:
            if not self._cancelled:
                self._speech.close_context(self._context_id)

    def _cancel_message(self) -> dict[str, Any] | None:
        return {"context_id": self._context_id, "cancel": True}

    @property
    def words(self) -> list[WordTime]:
        return self._words
