"""The streaming speech interfaces of the audio kit, and the bundled local kit behind them.

A call's voice is a ``TextToSpeech`` (one connection per call): each utterance of the
agent is one ``Synthesis`` (a Cartesia or ElevenLabs context), its text pushed sentence
by sentence as the LLM produces it, its audio coming out as 8 kHz int16 chunks (providers
are asked for 8 kHz mu-law where they offer it and decoded without resampling; an
OpenAI-compatible server's 24 kHz PCM is resampled once), cancelled at once on barge-in, with
its timings: time to first byte and the words really synthesized with their times when
the provider sends them. A call's ears are a ``SpeechToText`` stream: audio in while the
callee speaks, interim text out (``on_interim``), and the final text of everything sent
since the last ``finalize`` when the turn ends. A recogniser that detects end of speech
itself reports it (``on_endpoint``: ``SPEECH_END``, ``UTTERANCE_END``): one more vote
in the ear's turn detection (``ear.py``).

The local kit (Piper, pocketsphinx) implements both: ``SentenceSpeech`` over any
sentence synthesizer, ``UtteranceRecognition`` over any whole-utterance transcriber.
Providers (``providers/``) implement the same interfaces over their websockets. A
provider that cannot be reached, or fails mid-call, raises ``SpeechFault``: the line
turns it into a ``LineFault`` and the attempt ends with that reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np

from openrevox.audio.codec import RATE, Samples

LOCAL: Final = "local"  # the bundled kit's name in ``openrevox.speech``
# A streaming recogniser's end-of-speech events (``SpeechToText.on_endpoint``):
SPEECH_END: Final = "speech_end"  # it judged the speech over (Deepgram's speech_final)
UTTERANCE_END: Final = "utterance_end"  # no word for its window (Deepgram's UtteranceEnd)


class SpeechFault(Exception):
    """A speech provider failed: ``reason`` is what the attempt records
    (``tts_unreachable``, ``tts_error``, ``stt_unreachable``, ``stt_error``...)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class WordTime:
    """A word of a synthesis, in seconds since the synthesis's first sample."""

    text: str
    start: float
    end: float


class Synthesis(Protocol):
    """One utterance being synthesized."""

    async def push(self, text: str) -> None:
        """One more piece of text (a sentence); more may follow until ``end``."""
        ...

    async def end(self) -> None:
        """No more text: the audio ends after what was pushed."""
        ...

    def chunks(self) -> AsyncIterator[Samples]:
        """The audio (8 kHz int16) as it arrives, until the synthesis is done or
        cancelled. Raises ``SpeechFault`` when the provider fails."""
        ...

    async def cancel(self) -> None:
        """Stop generating (barge-in); ``chunks`` ends."""
        ...

    @property
    def ttfb_ms(self) -> float | None:
        """From the first ``push`` to the first audio, once there is audio."""
        ...

    @property
    def words(self) -> list[WordTime]:
        """The words synthesized so far with their times; empty when the provider
        sends none."""
        ...


class TextToSpeech(Protocol):
    """A call's voice."""

    name: str  # "cartesia", "local"...

    async def start(self) -> None:
        """Connect (raises ``SpeechFault`` when the provider cannot be reached)."""
        ...

    def synthesis(self) -> Synthesis: ...

    async def close(self) -> None: ...


class SpeechToText(Protocol):
    """A call's ears: one stream for the whole call."""

    name: str
    on_interim: Callable[[str], None] | None  # the text heard so far in this turn
    # SPEECH_END or UTTERANCE_END, from recognisers that detect end of speech themselves
    on_endpoint: Callable[[str], None] | None

    async def start(self) -> None:
        """Connect (raises ``SpeechFault`` when the provider cannot be reached)."""
        ...

    def send(self, samples: Samples) -> None:
        """Audio heard (8 kHz int16), in order; never blocks."""
        ...

    async def finalize(self, drop: int = 0) -> str:
        """The final text of the audio sent since the last ``finalize`` (without its
        last ``drop`` samples where the provider allows it). Raises ``SpeechFault``."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class CallSpeech:
    """A call's voice and ears (None: the local kit's), and what the attempt records
    about them (its ``openrevox.speech``: which provider serves, and why)."""

    stt: SpeechToText | None
    tts: TextToSpeech | None
    record: dict[str, Any]


SpeechFactory = Callable[[Mapping[str, Any]], CallSpeech]  # per call, from its assistant


def said_by(words: list[WordTime], played_seconds: float) -> str:
    """The words fully played after ``played_seconds`` of a synthesis."""
    return " ".join(word.text for word in words if word.end <= played_seconds + 1e-9)


def estimated_words(text: str, start: float, duration: float) -> list[WordTime]:
    """Word times by characters over ``duration`` (for audio that came without them)."""
    parts = text.split()
    if not parts:
        return []
    weights = np.array([len(part) + 1 for part in parts], dtype=np.float64)
    ends = start + np.cumsum(weights) / weights.sum() * duration
    starts = np.concatenate([[start], ends[:-1]])
    return [
        WordTime(part, float(begin), float(end))
        for part, begin, end in zip(parts, starts, ends, strict=True)
    ]


# -- the local kit, over any sentence synthesizer or utterance transcriber --


class SentenceAudio(Protocol):
    """One sentence as 8 kHz samples, with the end sample of each of its words."""

    @property
    def text(self) -> str: ...
    @property
    def samples(self) -> Samples: ...
    @property
    def word_ends(self) -> tuple[tuple[str, int], ...]: ...


class SentenceSynthesizer(Protocol):
    async def speak_sentence(self, text: str) -> SentenceAudio: ...


class _SentenceSynthesis:
    def __init__(self, synthesizer: SentenceSynthesizer) -> None:
        self._synthesizer = synthesizer
        self._queue: asyncio.Queue[asyncio.Future[SentenceAudio] | None] = asyncio.Queue()
        self._pending: list[asyncio.Future[SentenceAudio]] = []
        self._loop = asyncio.get_running_loop()
        self._pushed_at: float | None = None
        self._ttfb_ms: float | None = None
        self._words: list[WordTime] = []
        self._cancelled = False

    async def push(self, text: str) -> None:
        if self._cancelled or not text.strip():
            return
        if self._pushed_at is None:
            self._pushed_at = self._loop.time()
        task = asyncio.ensure_future(self._synthesizer.speak_sentence(text))
        self._pending.append(task)
        self._queue.put_nowait(task)

    async def end(self) -> None:
        self._queue.put_nowait(None)

    async def chunks(self) -> AsyncIterator[Samples]:
        offset = 0
        while not self._cancelled:
            task = await self._queue.get()
            if task is None:
                return
            try:
                audio = await task
            except asyncio.CancelledError:
                # ``cancel`` (barge-in) cancelled the sentence being synthesized: the
                # synthesis ends; the task reading it was not cancelled and goes on.
                current = asyncio.current_task()
                if self._cancelled and not (current is not None and current.cancelling()):
                    return
                raise
            if self._cancelled:
                return
            if self._ttfb_ms is None and self._pushed_at is not None:
                self._ttfb_ms = (self._loop.time() - self._pushed_at) * 1000
            starts = [0, *(end for _, end in audio.word_ends[:-1])]
            self._words.extend(
                WordTime(word, (offset + start) / RATE, (offset + end) / RATE)
                for (word, end), start in zip(audio.word_ends, starts, strict=True)
            )
            offset += len(audio.samples)
            yield audio.samples

    async def cancel(self) -> None:
        self._cancelled = True
        for task in self._pending:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._queue.put_nowait(None)

    @property
    def ttfb_ms(self) -> float | None:
        return self._ttfb_ms

    @property
    def words(self) -> list[WordTime]:
        return self._words


class SentenceSpeech:
    """A ``TextToSpeech`` over a sentence synthesizer: each sentence synthesized whole
    (the local kit's Piper), in order, playback starting after the first."""

    def __init__(self, synthesizer: SentenceSynthesizer, name: str = LOCAL) -> None:
        self.name = name
        self._synthesizer = synthesizer

    async def start(self) -> None:
        pass

    def synthesis(self) -> Synthesis:
        return _SentenceSynthesis(self._synthesizer)

    async def close(self) -> None:
        pass


class UtteranceTranscriber(Protocol):
    async def transcribe(self, samples: Samples) -> str:
        """The text of one utterance (8 kHz int16); empty when nothing was recognized."""
        ...


@dataclass(slots=True)
class UtteranceRecognition:
    """A ``SpeechToText`` over a whole-utterance transcriber (the local kit's
    pocketsphinx): the audio is kept until ``finalize`` and transcribed then; no
    interim results."""

    transcriber: UtteranceTranscriber
    name: str = LOCAL
    on_interim: Callable[[str], None] | None = None
    on_endpoint: Callable[[str], None] | None = None  # never called: no endpoints
    _audio: list[Samples] = field(default_factory=list)

    async def start(self) -> None:
        pass

    def send(self, samples: Samples) -> None:
        self._audio.append(samples)

    async def finalize(self, drop: int = 0) -> str:
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, dtype=np.int16)
        self._audio = []
        if drop:
            audio = audio[: max(len(audio) - drop, 0)]
        return await self.transcriber.transcribe(audio)

    async def close(self) -> None:
        self._audio = []
