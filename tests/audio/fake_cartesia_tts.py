"""A stand-in for Cartesia's TTS websocket (``wss://api.cartesia.ai/tts/websocket``),
speaking its wire format: generation requests (``model_id``, ``transcript``, ``voice``
``{mode: id, id}``, ``output_format`` ``{container: raw, encoding, sample_rate}``,
``context_id``, ``continue``, ``add_timestamps``, ``generation_config`` ``{speed,
volume}``, ``pronunciation_dict_id``) and ``{context_id, cancel: true}`` in;
``chunk`` (base64 audio), ``timestamps`` (``word_timestamps {words, start, end}``),
``done`` and ``error`` messages out, as Cartesia's SDK and pipecat read them. The key
comes as ``Authorization: Bearer`` (the SDK), ``X-API-Key`` (pipecat) or ``api_key=``;
``Cartesia-Version`` as a header or ``cartesia_version=``.

The audio is real speech: the bundled Piper voice at the requested speed and volume,
encoded as asked (8 kHz mu-law, PCM s16/f32, A-law). Knobs: ``ttfb`` (first chunk of a
context no sooner than this after its first request), ``error_next`` (the next request
gets an ``error`` message), ``drop_after_chunks`` (the connection closes with
``close_code`` after that many chunks), ``refuse_status`` (handshakes refused)."""

from __future__ import annotations

import asyncio
import audioop
import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request

from openrevox.audio.codec import RATE, resample, ulaw_encode
from openrevox.audio.tts import Style, Synthesizer
from tests.audio.fake_ws import WsFake

MODELS = frozenset({"sonic-3", "sonic-3.5", "sonic-2", "sonic-turbo", "sonic", "sonic-latest"})
ENCODINGS = frozenset({"pcm_mulaw", "pcm_alaw", "pcm_s16le", "pcm_f32le"})
CHUNK_SECONDS = 0.1


@dataclass
class _Context:
    texts: asyncio.Queue[tuple[str, dict[str, Any]] | None] = field(default_factory=asyncio.Queue)
    started_at: float = 0.0
    cancelled: bool = False
    task: asyncio.Task[None] | None = None


class FakeCartesiaTTS(WsFake):
    path = "/tts/websocket"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.cancels: list[str] = []
        self.chunks_sent = 0
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.requests.clear()
        self.cancels.clear()
        self.chunks_sent = 0
        self.ttfb = 0.09
        self.error_next = False
        self.drop_after_chunks: int | None = None
        self.close_code = 1011

    def authorized(self, request: Request) -> bool:
        query = parse_qs(urlsplit(request.path).query)
        key = (
            request.headers.get("X-API-Key")
            or (request.headers.get("Authorization") or "").removeprefix("Bearer ")
            or (query.get("api_key") or [""])[0]
        )
        version = request.headers.get("Cartesia-Version") or query.get("cartesia_version")
        return key == self.api_key and bool(version)

    def _process_request(self, connection: ServerConnection, request: Request) -> Any:
        refused = super()._process_request(connection, request)
        if refused is None and not self.authorized(request):
            from http import HTTPStatus

            return connection.respond(HTTPStatus.UNAUTHORIZED, "Invalid API key\n")
        return refused

    async def session(self, connection: ServerConnection) -> None:
        contexts: dict[str, _Context] = {}
        send_lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            async with send_lock:
                await connection.send(json.dumps(message))

        try:
            async for raw in connection:
                message = json.loads(raw)
                self.requests.append(message)
                context_id = str(message.get("context_id") or "")
                if message.get("cancel"):
                    self.cancels.append(context_id)
                    context = contexts.pop(context_id, None)
                    if context is not None:
                        context.cancelled = True
                        if context.task is not None:
                            context.task.cancel()
                    continue
                problem = _invalid(message)
                if problem is None and self.error_next:
                    self.error_next, problem = False, "The service is overloaded"
                if problem is not None:
                    await send(_error(context_id, problem))
                    contexts.pop(context_id, None)
                    continue
                context = contexts.get(context_id)
                if context is None:
                    context = contexts[context_id] = _Context(
                        started_at=asyncio.get_running_loop().time()
                    )
                    context.task = asyncio.create_task(
                        self._generate(connection, send, context_id, context)
                    )
                if message["transcript"]:
                    context.texts.put_nowait((message["transcript"], message))
                if not message.get("continue", False):
                    context.texts.put_nowait(None)
        except ConnectionClosed:
            pass
        finally:
            for context in contexts.values():
                if context.task is not None:
                    context.task.cancel()

    async def _generate(
        self, connection: ServerConnection, send: Any, context_id: str, context: _Context
    ) -> None:
        loop = asyncio.get_running_loop()
        offset = 0.0
        first = True
        while True:
            item = await context.texts.get()
            if item is None or context.cancelled:
                break
            text, request = item
            config = request.get("generation_config") or {}
            speed = float(config.get("speed") or 1.0)
            volume = float(config.get("volume") or 1.0)
            speech = await loop.run_in_executor(
                None, Synthesizer().sentence, text, Style(speed=speed)
            )
            # Piper leads each sentence with silence; a streaming TTS sends voice at once.
            voiced = np.flatnonzero(np.abs(speech.samples) > 300)
            lead = max(int(voiced[0]) - RATE // 50, 0) if len(voiced) and first else 0
            samples = np.clip(speech.samples[lead:].astype(np.float64) * volume, -32768, 32767)
            audio = _encode(samples.astype(np.int16), request["output_format"])
            if first:
                first = False
                wait = context.started_at + self.ttfb - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            step = _bytes_per_second(request["output_format"]) * CHUNK_SECONDS
            for start in range(0, len(audio), int(step)):
                if context.cancelled:
                    return
                await send(
                    {
                        "type": "chunk",
                        "context_id": context_id,
                        "data": base64.b64encode(audio[start : start + int(step)]).decode(),
                        "done": False,
                        "status_code": 206,
                        "step_time": 12.5,
                    }
                )
                self.chunks_sent += 1
                if (
                    self.drop_after_chunks is not None
                    and self.chunks_sent >= self.drop_after_chunks
                ):
                    await connection.close(self.close_code, "internal error")
                    return
                await asyncio.sleep(0)
            if request.get("add_timestamps"):
                starts = [lead, *(end for _, end in speech.word_ends[:-1])]
                await send(
                    {
                        "type": "timestamps",
                        "context_id": context_id,
                        "status_code": 206,
                        "done": False,
                        "word_timestamps": {
                            "words": [word for word, _ in speech.word_ends],
                            "start": [offset + (s - lead) / RATE for s in starts],
                            "end": [offset + (end - lead) / RATE for _, end in speech.word_ends],
                        },
                    }
                )
            offset += (len(speech.samples) - lead) / RATE
        if not context.cancelled:
            await send({"type": "done", "context_id": context_id, "done": True, "status_code": 200})


def _invalid(message: dict[str, Any]) -> str | None:
    if not isinstance(message.get("transcript"), str):
        return "transcript is required"
    if message.get("model_id") not in MODELS:
        return f"Invalid model_id: {message.get('model_id')!r}"
    voice = message.get("voice") or {}
    if voice.get("mode") != "id" or not voice.get("id"):
        return "voice must be {mode: id, id}"
    output = message.get("output_format") or {}
    if output.get("container") != "raw" or output.get("encoding") not in ENCODINGS:
        return "output_format must be raw with a supported encoding"
    if int(output.get("sample_rate") or 0) not in (8000, 16000, 22050, 24000, 44100, 48000):
        return "unsupported sample_rate"
    config = message.get("generation_config") or {}
    if config and message["model_id"] not in ("sonic-3", "sonic-3.5", "sonic-latest"):
        return "generation_config is supported by sonic-3 models only"
    if "speed" in config and not 0.6 <= float(config["speed"]) <= 1.5:
        return "generation_config.speed must be within [0.6, 1.5]"
    if "volume" in config and not 0.5 <= float(config["volume"]) <= 2.0:
        return "generation_config.volume must be within [0.5, 2.0]"
    if not message.get("context_id"):
        return "context_id is required"
    return None


def _error(context_id: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "context_id": context_id or None,
        "status_code": 400,
        "done": True,
        "title": "Invalid request",
        "message": message,
        "error_code": "invalid_request",
        "request_id": str(uuid.uuid4()),
    }


def _encode(samples: np.ndarray, output: dict[str, Any]) -> bytes:
    rate = int(output["sample_rate"])
    pcm = resample(samples, RATE, rate) if rate != RATE else samples
    encoding = output["encoding"]
    if encoding == "pcm_mulaw":
        return ulaw_encode(pcm)
    if encoding == "pcm_alaw":
        return audioop.lin2alaw(pcm.astype("<i2").tobytes(), 2)
    if encoding == "pcm_f32le":
        return (pcm.astype(np.float32) / 32768.0).astype("<f4").tobytes()
    return pcm.astype("<i2").tobytes()


def _bytes_per_second(output: dict[str, Any]) -> int:
    width = {"pcm_mulaw": 1, "pcm_alaw": 1, "pcm_s16le": 2, "pcm_f32le": 4}[output["encoding"]]
    return int(output["sample_rate"]) * width
