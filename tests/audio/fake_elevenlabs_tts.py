"""A stand-in for ElevenLabs' multi-context TTS websocket
(``wss://api.elevenlabs.io/v1/text-to-speech/{voice_id}/multi-stream-input``), speaking
its wire format: the query's ``model_id``, ``output_format`` (``ulaw_8000``,
``pcm_8000``...), the key as the ``xi-api-key`` header; in, per context (``context_id``,
or ``contextId`` as the official SDK's models name it): a first ``{text: " ",
voice_settings}``, text pieces (generated at ``flush: true``, or at once with
``auto_mode``), ``flush``, ``close_context`` (nothing more generated for it),
``close_socket``; out: ``{audio, alignment {chars, charStartTimesMs, charDurationsMs},
normalizedAlignment, contextId}`` with the character times relative to their chunk,
``{isFinal: true, contextId}`` once a closed context is done, and on a bad request
``{error, message}`` before the connection closes with 1008, as ElevenLabs does.

The audio is real speech: the bundled Piper voice at the requested ``speed``. Knobs:
``ttfb`` (a context's first audio no sooner than this after its first text),
``error_next`` (the next text gets an error and the connection closes),
``drop_after_chunks`` (the connection closes with ``close_code`` after that many
chunks), ``refuse_status`` (handshakes refused)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from openrevox.audio.codec import RATE, resample, ulaw_encode
from openrevox.audio.tts import Style, Synthesizer
from tests.audio.fake_ws import WsFake

MODELS = frozenset(
    {"eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_flash_v2"}
)
FORMATS = {"ulaw_8000": (8000, 1), "pcm_8000": (8000, 2), "pcm_16000": (16000, 2)}
PATH = re.compile(r"^/v1/text-to-speech/([^/]+)/multi-stream-input$")
CHUNK_SECONDS = 0.1


@dataclass
class _Context:
    texts: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    settings: dict[str, Any] = field(default_factory=dict)
    buffer: str = ""
    started_at: float | None = None
    closed: bool = False
    task: asyncio.Task[None] | None = None


class FakeElevenLabsTTS(WsFake):
    path = "/v1/text-to-speech/{voice_id}/multi-stream-input"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self.queries: list[dict[str, str]] = []
        self.voices: list[str] = []
        self.closed_contexts: list[str] = []
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.messages.clear()
        self.queries.clear()
        self.voices.clear()
        self.closed_contexts.clear()
        self.chunks_sent = 0
        self.ttfb = 0.09
        self.error_next = False
        self.drop_after_chunks: int | None = None
        self.close_code = 1011

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes.append({k.lower(): v for k, v in request.headers.raw_items()})
        if self.refuse_status is not None:
            status = HTTPStatus(self.refuse_status)
            return connection.respond(status, f"{status.phrase}\n")
        url = urlsplit(request.path)
        match = PATH.match(url.path)
        if match is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if request.headers.get("xi-api-key") != self.api_key:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Invalid API key\n")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if query.get("model_id", "eleven_flash_v2_5") not in MODELS:
            return connection.respond(HTTPStatus.BAD_REQUEST, "Invalid model_id\n")
        if query.get("output_format", "mp3_44100_128") not in FORMATS:
            return connection.respond(HTTPStatus.BAD_REQUEST, "Unsupported output_format\n")
        self.queries.append(query)
        self.voices.append(match.group(1))
        return None

    async def session(self, connection: ServerConnection) -> None:
        query = self.queries[-1]
        output = query["output_format"]
        auto = query.get("auto_mode") == "true"
        contexts: dict[str, _Context] = {}
        lock = asyncio.Lock()

        async def send(message: dict[str, Any]) -> None:
            async with lock:
                await connection.send(json.dumps(message))

        try:
            async for raw in connection:
                message = json.loads(raw)
                self.messages.append(message)
                if message.get("close_socket"):
                    break
                context_id = str(message.get("context_id") or message.get("contextId") or "")
                context_id = context_id or "default"
                context = contexts.get(context_id)
                if message.get("close_context"):
                    self.closed_contexts.append(context_id)
                    if context is not None:
                        context.closed = True
                        if context.task is not None:
                            context.task.cancel()
                        await send({"isFinal": True, "contextId": context_id})
                    continue
                if context is None:
                    if message.get("text") != " ":
                        await _refuse(connection, "the first message of a context is ' '")
                        return
                    settings = message.get("voice_settings") or {}
                    if "speed" in settings and not 0.7 <= float(settings["speed"]) <= 1.2:
                        await _refuse(connection, "voice_settings.speed must be in [0.7, 1.2]")
                        return
                    context = contexts[context_id] = _Context(settings=settings)
                    context.task = asyncio.create_task(
                        self._generate(connection, send, context_id, context, output)
                    )
                    continue
                text = str(message.get("text") or "")
                if text and self.error_next:
                    self.error_next = False
                    await _refuse(connection, "quota_exceeded: this request exceeds your quota")
                    return
                context.buffer += text
                if context.started_at is None and text.strip():
                    context.started_at = asyncio.get_running_loop().time()
                if (message.get("flush") or auto) and context.buffer.strip():
                    context.texts.put_nowait(context.buffer)
                    context.buffer = ""
        except ConnectionClosed:
            pass
        finally:
            for context in contexts.values():
                if context.task is not None:
                    context.task.cancel()

    async def _generate(
        self,
        connection: ServerConnection,
        send: Any,
        context_id: str,
        context: _Context,
        output: str,
    ) -> None:
        loop = asyncio.get_running_loop()
        rate, width = FORMATS[output]
        first = True
        while True:
            text = await context.texts.get()
            if text is None or context.closed:
                return
            speed = float(context.settings.get("speed") or 1.0)
            speech = await loop.run_in_executor(
                None, Synthesizer().sentence, text.strip(), Style(speed=speed)
            )
            voiced = np.flatnonzero(np.abs(speech.samples) > 300)
            lead = max(int(voiced[0]) - RATE // 50, 0) if len(voiced) and first else 0
            samples = speech.samples[lead:]
            chars = _char_times(text.strip(), speech.word_ends, lead)
            if first:
                first = False
                assert context.started_at is not None
                wait = context.started_at + self.ttfb - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            step = int(RATE * CHUNK_SECONDS)
            for start in range(0, len(samples), step):
                if context.closed:
                    return
                piece = samples[start : start + step]
                pcm = resample(piece, RATE, rate) if rate != RATE else piece
                data = ulaw_encode(pcm) if width == 1 else pcm.astype("<i2").tobytes()
                begin, end = start / RATE, (start + len(piece)) / RATE
                last = start + step >= len(samples)
                mine = [c for c in chars if c[1] >= begin and (c[1] < end or last)]
                alignment = {
                    "chars": [c[0] for c in mine],
                    "charStartTimesMs": [round((c[1] - begin) * 1000) for c in mine],
                    "charDurationsMs": [round((c[2] - c[1]) * 1000) for c in mine],
                }
                await send(
                    {
                        "audio": base64.b64encode(data).decode(),
                        "alignment": alignment,
                        "normalizedAlignment": alignment,
                        "contextId": context_id,
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


def _char_times(
    text: str, word_ends: tuple[tuple[str, int], ...], lead: int
) -> list[tuple[str, float, float]]:
    """Each character of ``text`` with its start and end (seconds): a word's time spread
    over its characters, a blank after it taking no time. Piper's words are the text's
    blank-separated words."""
    times: list[tuple[str, float, float]] = []
    previous = lead
    for index, (word, end) in enumerate(word_ends):
        start_s, end_s = (previous - lead) / RATE, (end - lead) / RATE
        step = (end_s - start_s) / max(len(word), 1)
        times.extend(
            (char, start_s + i * step, start_s + (i + 1) * step) for i, char in enumerate(word)
        )
        if index < len(word_ends) - 1:
            times.append((" ", end_s, end_s))
        previous = end
    times.append((" ", times[-1][2] if times else 0.0, times[-1][2] if times else 0.0))
    return times


async def _refuse(connection: ServerConnection, message: str) -> None:
    error = message.split(":", 1)[0] if ":" in message else "invalid_request"
    await connection.send(json.dumps({"error": error, "message": message, "code": 1008}))
    await connection.close(1008, error)
