"""A stand-in for Deepgram's live STT websocket (``wss://api.deepgram.com/v1/listen``),
speaking its wire format: the options in the query (``model``, ``encoding``
``mulaw``/``linear16``, ``sample_rate``, ``channels``, ``interim_results``,
``endpointing``, ``utterance_end_ms``, ``vad_events``, ``keyterm`` (nova-3 only) or
``keywords``), the key as ``Authorization: Token`` (the SDK) or ``Bearer``; binary
audio in, with the ``KeepAlive``, ``Finalize`` and ``CloseStream`` control messages; out:
``Results`` (``channel.alternatives[0]`` with ``transcript`` and ``words``,
``is_final``, ``speech_final``, ``from_finalize``, ``start``, ``duration``,
``metadata``), ``SpeechStarted``, ``UtteranceEnd``, ``Metadata`` at the end and
``Error`` before a close with Deepgram's error code as the reason.

The words are real: pocketsphinx (the local kit's recognizer, with the key terms as
hints) transcribes the audio since the last final result. Knobs: ``final_delay`` (a
final no sooner than this after the last loud audio), ``canned_text`` (the words of
every final instead of recognition), ``interim_every`` (interim results every so many
seconds of voiced audio; None: none), ``error_after`` (an ``Error`` then a close with
1011 after that many seconds of audio), ``drop_after`` (the connection closes with
``close_code`` after that many seconds of audio)."""

from __future__ import annotations

import asyncio
import json
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from openrevox.audio.codec import RATE, Samples, resample, ulaw_decode
from openrevox.audio.stt import shared_recognizer
from tests.audio.fake_ws import SttFake

MODELS = frozenset({"nova-3", "nova-3-general", "nova-2", "nova-2-phonecall", "base"})
VOICED = 300


class FakeDeepgramSTT(SttFake):
    path = "/v1/listen"

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[dict[str, list[str]]] = []
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.queries.clear()

    def authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization") or ""
        return header in (f"Token {self.api_key}", f"Bearer {self.api_key}")

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        refused = super()._process_request(connection, request)
        if refused is not None:
            return refused
        if not self.authorized(request):
            return connection.respond(HTTPStatus.UNAUTHORIZED, "INVALID_AUTH\n")
        query = parse_qs(urlsplit(request.path).query)
        model = (query.get("model") or ["base"])[0]
        problem = None
        if model not in MODELS:
            problem = f"No such model: {model}"
        elif (query.get("encoding") or [""])[0] not in ("mulaw", "linear16"):
            problem = "encoding must be mulaw or linear16 for raw audio"
        elif not (query.get("sample_rate") or [""])[0].isdigit():
            problem = "sample_rate is required for raw audio"
        elif "keyterm" in query and not model.startswith("nova-3"):
            problem = "keyterm is only supported by nova-3 models"
        if problem is not None:
            return connection.respond(HTTPStatus.BAD_REQUEST, problem + "\n")
        self.queries.append(query)
        return None

    async def session(self, connection: ServerConnection) -> None:
        await _Stream(self, connection, self.queries[-1]).run()


def _option(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


class _Stream:
    def __init__(
        self, fake: FakeDeepgramSTT, connection: ServerConnection, query: dict[str, list[str]]
    ) -> None:
        self.fake = fake
        self.connection = connection
        self.query = query
        self.model = _option(query, "model") or "base"
        self.rate = int(_option(query, "sample_rate") or RATE)
        self.mulaw = _option(query, "encoding") == "mulaw"
        self.interim = _option(query, "interim_results") == "true"
        endpointing = _option(query, "endpointing")
        self.endpointing = None if endpointing in (None, "false") else int(endpointing or 10) / 1000
        utterance_end = _option(query, "utterance_end_ms")
        self.utterance_end = int(utterance_end) / 1000 if utterance_end else None
        self.vad_events = _option(query, "vad_events") == "true"
        hints = tuple((query.get("keyterm") or []) + (query.get("keywords") or []))
        self.recognizer = shared_recognizer(tuple(h.split(":")[0] for h in hints))
        self.request_id = str(uuid.uuid4())
        self.audio: list[Samples] = []  # since the last final
        self.start = 0  # sample where ``audio`` starts
        self.total = 0
        self.last_interim = 0
        self.voiced = False  # voice since the last endpoint
        self.since_end = False  # voice since the last UtteranceEnd
        self.voiced_at = 0.0
        self.last_voice = 0  # sample of the last loud audio
        self.lock = asyncio.Lock()
        self.finals: set[asyncio.Task[None]] = set()
        self.previous: asyncio.Task[None] | None = None

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self.connection.send(json.dumps(message))

    async def run(self) -> None:
        fake = self.fake
        closing: asyncio.Task[None] | None = None
        try:
            async for message in self.connection:
                if closing is not None:
                    # Keep reading while closing: the client's close frame is queued behind
                    # the audio it already sent.
                    continue
                if isinstance(message, bytes):
                    samples = ulaw_decode(message) if self.mulaw else np.frombuffer(message, "<i2")
                    if self.rate != RATE:
                        samples = resample(samples.astype(np.int16), self.rate, RATE)
                    await self._audio(samples.astype(np.int16))
                    fake.audio_seconds += len(samples) / RATE
                    if fake.error_after is not None and fake.audio_seconds >= fake.error_after:
                        await self.send(
                            {
                                "type": "Error",
                                "variant": "NET-0001",
                                "description": "Deepgram did not receive audio data in time",
                                "message": "internal server error",
                            }
                        )
                        closing = asyncio.create_task(self.connection.close(1011, "NET-0001"))
                        continue
                    if fake.drop_after is not None and fake.audio_seconds >= fake.drop_after:
                        closing = asyncio.create_task(self.connection.close(fake.close_code))
                        continue
                    continue
                control = str(json.loads(message).get("type"))
                fake.controls.append(control)
                if control == "Finalize":
                    self._final(from_finalize=True)
                elif control == "CloseStream":
                    break
            if closing is not None:
                await closing
                return
            await asyncio.gather(*self.finals)
            await self.send(
                {
                    "type": "Metadata",
                    "transaction_key": "deprecated",
                    "request_id": self.request_id,
                    "sha256": "0" * 64,
                    "created": "2026-12-07T00:00:00.000Z",
                    "duration": self.total / RATE,
                    "channels": 1,
                    "models": [str(uuid.uuid4())],
                    "model_info": {},
                }
            )
            await self.connection.close(1000)
        except ConnectionClosed:
            pass
        finally:
            for task in self.finals:
                task.cancel()

    async def _audio(self, samples: Samples) -> None:
        self.audio.append(samples)
        self.total += len(samples)
        if len(samples) and int(np.abs(samples).max()) > VOICED:
            if not self.voiced and self.vad_events:
                await self.send(
                    {"type": "SpeechStarted", "channel": [0, 1], "timestamp": self.total / RATE}
                )
            self.voiced = self.since_end = True
            self.voiced_at = asyncio.get_running_loop().time()
            self.last_voice = self.total
            return
        quiet = (self.total - self.last_voice) / RATE
        if self.voiced and self.endpointing is not None and quiet >= self.endpointing:
            self.voiced = False
            self._final(speech_final=True)
        elif self.since_end and self.utterance_end is not None and quiet >= self.utterance_end:
            self.since_end = False
            await self.send(
                {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": self.last_voice / RATE}
            )
        every = self.fake.interim_every
        if (
            self.interim
            and every is not None
            and self.voiced
            and self.total - self.last_interim >= every * RATE
        ):
            self.last_interim = self.total
            words = await self._words(np.concatenate(self.audio))
            await self.send(self._results(words, self.start, self.total, final=False))

    def _final(self, *, speech_final: bool = False, from_finalize: bool = False) -> None:
        audio = np.concatenate(self.audio) if self.audio else np.zeros(0, dtype=np.int16)
        start, self.start, self.audio = self.start, self.total, []
        due = self.voiced_at + self.fake.final_delay
        task = asyncio.create_task(
            self._final_later(
                audio,
                start,
                due,
                after=self.previous,
                speech_final=speech_final,
                from_finalize=from_finalize,
            )
        )
        self.previous = task
        self.finals.add(task)
        task.add_done_callback(self.finals.discard)

    async def _final_later(
        self,
        audio: Samples,
        start: int,
        due: float,
        *,
        after: asyncio.Task[None] | None,
        speech_final: bool,
        from_finalize: bool,
    ) -> None:
        words = await self._words(audio)
        if after is not None:  # results go out in the order of the audio
            await asyncio.wait([after])
        await asyncio.sleep(max(due - asyncio.get_running_loop().time(), 0.0))
        message = self._results(words, start, start + len(audio), final=True)
        message["speech_final"] = speech_final
        if from_finalize:
            message["from_finalize"] = True
        await self.send(message)

    async def _words(self, audio: Samples) -> list[str]:
        if not len(audio) or int(np.abs(audio).max()) <= VOICED:
            return []
        if self.fake.canned_text is not None:
            return self.fake.canned_text.split()
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(None, self.recognizer.transcribe, audio)
        return text.split()

    def _results(self, words: list[str], start: int, stop: int, *, final: bool) -> dict[str, Any]:
        begin, span = start / RATE, max(stop - start, 1) / RATE
        step = span / max(len(words), 1)
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "duration": span,
            "start": begin,
            "is_final": final,
            "speech_final": False,
            "channel": {
                "alternatives": [
                    {
                        "transcript": " ".join(words),
                        "confidence": 0.97 if words else 0.0,
                        "words": [
                            {
                                "word": word.lower(),
                                "start": begin + i * step,
                                "end": begin + (i + 1) * step,
                                "confidence": 0.97,
                                "punctuated_word": word,
                            }
                            for i, word in enumerate(words)
                        ],
                    }
                ]
            },
            "metadata": {
                "request_id": self.request_id,
                "model_info": {"name": self.model, "version": "2026-01-01", "arch": self.model},
                "model_uuid": str(uuid.uuid4()),
            },
        }
