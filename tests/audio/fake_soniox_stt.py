"""A stand-in for Soniox's realtime STT websocket
(``wss://stt-rt.soniox.com/transcribe-websocket``), speaking its wire format: the key in
the handshake (``Authorization: Bearer``, as Soniox's SDK sends it; ``api_key`` in the
config is accepted as the older docs had it, both at once refused), a first JSON config
message (``model``, ``audio_format`` ``mulaw``/``pcm_s16le``, ``sample_rate``,
``num_channels``, ``context``, ``enable_endpoint_detection``...), binary audio, the
``keepalive`` and ``finalize`` control messages and an empty message for the end of
audio; out: ``{tokens: [{text, start_ms, end_ms, confidence, is_final}],
final_audio_proc_ms, total_audio_proc_ms}``, a ``<fin>`` token after a finalize, an
``<end>`` token at an endpoint, ``{finished: true}`` and ``{error_code, error_message}``
(the connection then closes).

The words are real: pocketsphinx (the local kit's recognizer, with the config's
``context`` terms as hints) transcribes the audio since the last final tokens.
Knobs: ``final_delay`` (final tokens this long after the end of speech, the last loud
audio received, and never before the finalize or endpoint that asks for them),
``canned_text`` (when set, the words of every final instead of recognition: keeps
pocketsphinx's CPU out of benchmarks),
``interim_every`` (non-final tokens for the audio so far, every so many seconds of
audio; None: none), ``endpoint_silence`` (the silence that makes an endpoint),
``error_after`` (an error message after that many seconds of audio), ``drop_after``
(the connection closes with ``close_code`` after that many seconds of audio)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from openrevox.audio.codec import RATE, Samples, resample, ulaw_decode
from openrevox.audio.stt import shared_recognizer
from tests.audio.fake_ws import SttFake

MODELS = frozenset({"stt-rt-v4", "stt-rt-v5", "stt-rt-preview", "stt-rt-v3"})
VOICED = 300


class FakeSonioxSTT(SttFake):
    path = "/transcribe-websocket"

    def __init__(self) -> None:
        super().__init__()
        self.configs: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.configs.clear()
        self.endpoint_silence = 0.5
        self.error_code = 503

    async def session(self, connection: ServerConnection) -> None:
        request = connection.request
        header_key = (
            (request.headers.get("Authorization") or "").removeprefix("Bearer ") if request else ""
        )
        try:
            config = json.loads(await connection.recv())
        except (ConnectionClosed, ValueError):
            return
        self.configs.append(config)
        problem = _invalid(config, header_key, self.api_key)
        if problem is not None:
            await _fail(connection, *problem)
            return
        stream = _Stream(self, connection, config)
        await stream.run()


class _Stream:
    def __init__(self, fake: FakeSonioxSTT, connection: ServerConnection, config: dict[str, Any]):
        self.fake = fake
        self.connection = connection
        self.config = config
        self.rate = int(config.get("sample_rate") or RATE)
        self.mulaw = config.get("audio_format") == "mulaw"
        context = config.get("context") or {}
        hints = (
            [str(term) for term in context.get("terms") or []] if isinstance(context, dict) else []
        )
        self.recognizer = shared_recognizer(tuple(hints))
        self.audio: list[Samples] = []  # since the last final tokens
        self.base_ms = 0  # where ``audio`` starts
        self.total = 0  # samples received
        self.last_interim = 0
        self.voiced = False
        self.voiced_at = 0.0  # loop time the last loud audio arrived
        self.quiet = 0  # samples of silence since the last voiced one
        self.send_lock = asyncio.Lock()
        self.finals: set[asyncio.Task[None]] = set()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.connection.send(json.dumps(message))

    def _ms(self) -> int:
        return round(self.total / RATE * 1000)

    async def run(self) -> None:
        fake = self.fake
        try:
            async for message in self.connection:
                if isinstance(message, bytes):
                    if not message:
                        break
                    samples = ulaw_decode(message) if self.mulaw else np.frombuffer(message, "<i2")
                    if self.rate != RATE:
                        samples = resample(samples.astype(np.int16), self.rate, RATE)
                    await self._audio(samples.astype(np.int16))
                    fake.audio_seconds += len(samples) / RATE
                    if fake.error_after is not None and fake.audio_seconds >= fake.error_after:
                        await _fail(self.connection, fake.error_code, "Service unavailable")
                        return
                    if fake.drop_after is not None and fake.audio_seconds >= fake.drop_after:
                        await self.connection.close(fake.close_code, "internal error")
                        return
                    continue
                if message == "":
                    break  # the end of the audio
                control = json.loads(message).get("type")
                fake.controls.append(str(control))
                if control == "finalize":
                    self._final(["<fin>"])
            await asyncio.gather(*self.finals)
            await self._final_now([])
            await self.send(
                {
                    "tokens": [],
                    "final_audio_proc_ms": self._ms(),
                    "total_audio_proc_ms": self._ms(),
                    "finished": True,
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
        loud = bool(len(samples)) and int(np.abs(samples).max()) > VOICED
        if loud:
            self.voiced, self.quiet = True, 0
            self.voiced_at = asyncio.get_running_loop().time()
        else:
            self.quiet += len(samples)
        if (
            self.config.get("enable_endpoint_detection")
            and self.voiced
            and self.quiet >= self.fake.endpoint_silence * RATE
        ):
            self.voiced = False
            self._final(["<end>"])
            return
        every = self.fake.interim_every
        if every is not None and self.voiced and self.total - self.last_interim >= every * RATE:
            self.last_interim = self.total
            audio, base = np.concatenate(self.audio), self.base_ms
            words = await self._words(audio)
            await self.send(self._tokens(words, base, final=False, marks=[]))

    def _final(self, marks: list[str]) -> None:
        """Final tokens for the audio so far, after ``final_delay``."""
        audio = np.concatenate(self.audio) if self.audio else np.zeros(0, dtype=np.int16)
        base, self.base_ms, self.audio = self.base_ms, self._ms(), []
        due = self.voiced_at + self.fake.final_delay
        task = asyncio.create_task(self._final_later(audio, base, marks, due))
        self.finals.add(task)
        task.add_done_callback(self.finals.discard)

    async def _final_later(self, audio: Samples, base: int, marks: list[str], due: float) -> None:
        loop = asyncio.get_running_loop()
        words = await self._words(audio)
        await asyncio.sleep(max(due - loop.time(), 0.0))
        await self.send(self._tokens(words, base, final=True, marks=marks))

    async def _final_now(self, marks: list[str]) -> None:
        audio = np.concatenate(self.audio) if self.audio else np.zeros(0, dtype=np.int16)
        base, self.base_ms, self.audio = self.base_ms, self._ms(), []
        words = await self._words(audio)
        if words or marks:
            await self.send(self._tokens(words, base, final=True, marks=marks))

    async def _words(self, audio: Samples) -> list[str]:
        if not len(audio) or int(np.abs(audio).max()) <= VOICED:
            return []
        if self.fake.canned_text is not None:
            return self.fake.canned_text.split()
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(None, self.recognizer.transcribe, audio)
        return text.split()

    def _tokens(
        self, words: list[str], base: int, *, final: bool, marks: list[str]
    ) -> dict[str, Any]:
        span = max(self._ms() - base, 1)
        tokens = [
            {
                "text": word if index == 0 else f" {word}",
                "start_ms": base + span * index // max(len(words), 1),
                "end_ms": base + span * (index + 1) // max(len(words), 1),
                "confidence": 0.97,
                "is_final": final,
            }
            for index, word in enumerate(words)
        ]
        tokens += [{"text": mark, "is_final": True} for mark in marks]
        return {
            "tokens": tokens,
            "final_audio_proc_ms": self._ms() if final else base,
            "total_audio_proc_ms": self._ms(),
        }


def _invalid(config: dict[str, Any], header_key: str, api_key: str) -> tuple[int, str] | None:
    config_key = config.get("api_key")
    if header_key and config_key:
        return 400, "The API key must be sent either in the header or in the config, not both"
    if (header_key or config_key) != api_key:
        return 401, "Invalid API key"
    if config.get("model") not in MODELS:
        return 400, f"Invalid model: {config.get('model')!r}"
    audio_format = config.get("audio_format")
    if audio_format not in ("mulaw", "pcm_s16le", "auto"):
        return 400, f"Unsupported audio_format: {audio_format!r}"
    if audio_format != "auto" and (not config.get("sample_rate") or not config.get("num_channels")):
        return 400, "sample_rate and num_channels are required for raw audio"
    if int(config.get("num_channels") or 1) != 1:
        return 400, "Only mono audio is supported here"
    return None


async def _fail(connection: ServerConnection, code: int, message: str) -> None:
    """Soniox reports an error as a message, then closes the connection."""
    try:
        await connection.send(
            json.dumps({"tokens": [], "error_code": code, "error_message": message})
        )
        await connection.close(1000)
    except ConnectionClosed:
        pass
