"""Any OpenAI-compatible speech server (OpenAI itself, Speaches, vLLM, Kokoro-FastAPI and
the like) through the official ``openai`` SDK, which streams a response body and takes
the server's base URL.

TTS (``/audio/speech``): one request per sentence pushed, all sent at once and played in
order, each asked for as ``response_format: pcm`` (raw 24 kHz 16-bit mono, what the API
returns for pcm) and streamed; the audio is resampled once, 24 kHz to the line's 8 kHz,
by one streaming resampler per utterance (soxr). The API gives no word times: a
barge-in keeps the words estimated over the audio played. Cancelling cancels the
requests under way.

STT (``/audio/transcriptions``): the endpoint takes a whole file, not a stream, so the
callee's audio is kept until our turn detection ends the turn and sent then as one
8 kHz WAV (``prompt``: the assistant's ``stt_context`` terms). There are no interim
results: barge-in then comes from the VAD alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import wave
from collections.abc import AsyncIterator, Callable
from typing import Final

import numpy as np
import openai
import soxr

from openrevox.audio.codec import RATE, Samples, from_float
from openrevox.audio.speech import SpeechFault, Synthesis, WordTime, estimated_words

PCM_RATE: Final = 24000  # the API's pcm response format
TIMEOUT: Final = 15.0


def _client(base_url: str, api_key: str | None) -> openai.AsyncOpenAI:
    # Self-hosted servers often take no key; the SDK insists on one.
    return openai.AsyncOpenAI(
        base_url=base_url.rstrip("/"), api_key=api_key or "none", timeout=TIMEOUT, max_retries=0
    )


def _fault(side: str, error: Exception) -> SpeechFault:
    if isinstance(error, openai.APIStatusError):
        return SpeechFault(f"{side}_error", f"HTTP {error.status_code}: {error.message}")
    if isinstance(error, openai.APIConnectionError):
        return SpeechFault(f"{side}_unreachable", f"{type(error).__name__}: {error}")
    return SpeechFault(f"{side}_error", f"{type(error).__name__}: {error}")


class OpenAISpeech:
    """A call's ``TextToSpeech`` on an OpenAI-compatible server."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        model: str = "tts-1",
        voice: str = "alloy",
        speed: float | None = None,
    ) -> None:
        self.client = _client(base_url, api_key)
        self.model = model
        self.voice = voice
        self.speed = speed

    async def start(self) -> None:
        pass  # one HTTP request per sentence: nothing to connect

    def synthesis(self) -> Synthesis:
        return _OpenAISynthesis(self)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.close()


class _OpenAISynthesis:
    def __init__(self, speech: OpenAISpeech) -> None:
        self._speech = speech
        self._loop = asyncio.get_running_loop()
        self._sentences: asyncio.Queue[asyncio.Queue[bytes | Exception | None] | None] = (
            asyncio.Queue()
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._texts: list[str] = []
        self._pushed_at: float | None = None
        self._ttfb_ms: float | None = None
        self._samples = 0
        self._done = False
        self._cancelled = False
        self._resampler = soxr.ResampleStream(PCM_RATE, RATE, 1, dtype="float32", quality="HQ")

    async def push(self, text: str) -> None:
        if self._cancelled or not text.strip():
            return
        if self._pushed_at is None:
            self._pushed_at = self._loop.time()
        self._texts.append(text.strip())
        body: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        self._tasks.append(asyncio.create_task(self._fetch(text.strip(), body)))
        self._sentences.put_nowait(body)

    async def _fetch(self, text: str, body: asyncio.Queue[bytes | Exception | None]) -> None:
        speech = self._speech
        try:
            async with speech.client.audio.speech.with_streaming_response.create(
                model=speech.model,
                voice=speech.voice,
                input=text,
                response_format="pcm",
                speed=openai.omit if speech.speed is None else speech.speed,
            ) as response:
                async for data in response.iter_bytes():
                    body.put_nowait(data)
            body.put_nowait(None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            body.put_nowait(error)

    async def end(self) -> None:
        self._sentences.put_nowait(None)

    async def chunks(self) -> AsyncIterator[Samples]:
        odd = b""  # a sample split between two reads
        while not self._cancelled:
            body = await self._sentences.get()
            if body is None:
                break
            while not self._cancelled:
                data = await body.get()
                if data is None:
                    break
                if isinstance(data, Exception):
                    raise _fault("tts", data)
                data, odd = odd + data, b""
                if len(data) % 2:
                    data, odd = data[:-1], data[-1:]
                pcm = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
                out = self._resampler.resample_chunk(pcm)
                if len(out):
                    if self._ttfb_ms is None and self._pushed_at is not None:
                        self._ttfb_ms = (self._loop.time() - self._pushed_at) * 1000
                    samples = from_float(out)
                    self._samples += len(samples)
                    yield samples
        if not self._cancelled:
            tail = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            if len(tail):
                self._samples += len(tail)
                yield from_float(tail)
            self._done = True

    async def cancel(self) -> None:
        self._cancelled = True
        self._sentences.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    @property
    def ttfb_ms(self) -> float | None:
        return self._ttfb_ms

    @property
    def words(self) -> list[WordTime]:
        """No word times from this API: estimated over the audio once it is all in."""
        if not self._done:
            return []
        return estimated_words(" ".join(self._texts), 0.0, self._samples / RATE)


class OpenAITranscription:
    """A call's ``SpeechToText`` on an OpenAI-compatible server: each turn's audio is sent
    whole at its end; no interim results."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        model: str = "whisper-1",
        terms: list[str] | None = None,
    ) -> None:
        self.on_interim: Callable[[str], None] | None = None  # never called: no interim
        self.on_endpoint: Callable[[str], None] | None = None  # never called: no stream
        self.client = _client(base_url, api_key)
        self.model = model
        self.prompt = ", ".join(terms) if terms else None
        self._audio: list[Samples] = []

    async def start(self) -> None:
        pass

    def send(self, samples: Samples) -> None:
        self._audio.append(samples)

    async def finalize(self, drop: int = 0) -> str:
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, dtype=np.int16)
        self._audio = []
        if drop:
            audio = audio[: max(len(audio) - drop, 0)]
        if not len(audio):
            return ""
        try:
            result = await self.client.audio.transcriptions.create(
                model=self.model,
                file=("turn.wav", wav_bytes(audio), "audio/wav"),
                response_format="json",
                prompt=self.prompt or openai.omit,
            )
        except Exception as error:
            raise _fault("stt", error) from error
        return str(getattr(result, "text", "") or "").strip()

    async def close(self) -> None:
        self._audio = []
        with contextlib.suppress(Exception):
            await self.client.close()


def wav_bytes(samples: Samples, rate: int = RATE) -> bytes:
    """A mono 16-bit WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()
