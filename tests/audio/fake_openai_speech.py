"""A stand-in for an OpenAI-compatible speech server (OpenAI, Speaches, vLLM, Kokoro
servers), speaking its wire format over real HTTP under ``/v1``: ``POST /audio/speech``
(JSON ``model``, ``input``, ``voice``, ``response_format``, ``speed`` in 0.25-4.0; the
audio streamed as a chunked body; ``pcm`` is raw 24 kHz 16-bit mono, ``wav`` the same in
a WAV file) and ``POST /audio/transcriptions`` (multipart ``file``, ``model``,
``prompt``, ``response_format`` ``json``/``text``; ``{"text": ...}``); errors as
``{"error": {message, type}}`` with their status; the key as ``Authorization: Bearer``.

The audio is real: the bundled Piper voice, resampled to 24 kHz, and pocketsphinx (with
the ``prompt``'s words as hints) transcribes the file sent. Knobs: ``ttfb`` (the first
audio bytes no sooner than this after the request), ``transcribe_delay`` (a
transcription no sooner than this after its request), ``canned_text`` (the text of every
transcription instead of recognition: keeps pocketsphinx's CPU out of benchmarks),
``fail_status`` (every request answers it), ``cut_after_bytes`` (a speech body ends
abruptly after that many bytes)."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from openrevox.audio.codec import RATE, resample
from openrevox.audio.stt import shared_recognizer
from openrevox.audio.tts import Style, Synthesizer
from tests.voices.fake_server import FakeProvider

PCM_RATE = 24000
CHUNK_BYTES = 4800  # 0.1 s of 24 kHz 16-bit audio


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


class FakeOpenAISpeech(FakeProvider):
    api_key = "sk-fake-speech-0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.ttfb = 0.05
        self.transcribe_delay = 0.0
        self.canned_text: str | None = None
        self.fail_status: int | None = None
        self.cut_after_bytes: int | None = None

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/audio/speech", self._speech, methods=["POST"]),
                Route("/v1/audio/transcriptions", self._transcribe, methods=["POST"]),
            ]
        )

    def speech_requests(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.requests_to("POST", "/v1/audio/speech")]

    def _refused(self, headers: dict[str, str]) -> Response | None:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided")
        if self.fail_status is not None:
            return _error(self.fail_status, "The server is overloaded", "server_error")
        return None

    async def _speech(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        recorded = await self.record(request)
        refused = self._refused(recorded.headers)
        if refused is not None:
            return refused
        body = recorded.json()
        text = body.get("input")
        if not isinstance(text, str) or not text.strip():
            return _error(400, "input is required")
        if not body.get("model") or not body.get("voice"):
            return _error(400, "model and voice are required")
        speed = float(body.get("speed") or 1.0)
        if not 0.25 <= speed <= 4.0:
            return _error(400, "speed must be between 0.25 and 4.0")
        fmt = body.get("response_format") or "mp3"
        if fmt not in ("pcm", "wav"):
            return _error(400, f"response_format {fmt!r} is not supported by this server")
        loop = asyncio.get_running_loop()
        speech = await loop.run_in_executor(
            None, Synthesizer().sentence, text.strip(), Style(speed=min(max(speed, 0.6), 1.5))
        )
        pcm = resample(speech.samples, RATE, PCM_RATE).astype("<i2").tobytes()
        if fmt == "wav":
            pcm = _wav(pcm)
        return StreamingResponse(
            self._stream(pcm, started), media_type="audio/pcm" if fmt == "pcm" else "audio/wav"
        )

    async def _stream(self, audio: bytes, started: float) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        wait = started + self.ttfb - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        limit = self.cut_after_bytes
        for start in range(0, len(audio), CHUNK_BYTES):
            if limit is not None and start >= limit:
                raise ConnectionResetError("cut")  # the body ends without its last chunk
            yield audio[start : start + CHUNK_BYTES]
            await asyncio.sleep(0)

    async def _transcribe(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        recorded = await self.record(request)
        refused = self._refused(recorded.headers)
        if refused is not None:
            return refused
        files = [f for f in recorded.files if f.field == "file"]
        if not files or not recorded.form.get("model"):
            return _error(400, "file and model are required")
        try:
            with wave.open(io.BytesIO(files[0].content)) as audio:
                rate = audio.getframerate()
                samples = np.frombuffer(audio.readframes(audio.getnframes()), "<i2")
        except (wave.Error, EOFError):
            return _error(400, "Invalid file format: expected a WAV file here")
        if rate != RATE:
            samples = resample(samples.astype(np.int16), rate, RATE)
        hints = tuple(
            term.strip() for term in (recorded.form.get("prompt") or "").split(",") if term.strip()
        )
        loop = asyncio.get_running_loop()
        if self.canned_text is not None:
            text = self.canned_text
        else:
            text = await loop.run_in_executor(
                None, shared_recognizer(hints).transcribe, samples.astype(np.int16)
            )
        wait = started + self.transcribe_delay - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if recorded.form.get("response_format") == "text":
            return PlainTextResponse(text)
        return JSONResponse({"text": text})


def _wav(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(PCM_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()
