"""One side's voice: what it sends, one 20 ms frame per engine tick.

``say`` is one ``Synthesis`` of the side's ``TextToSpeech`` (``speech.py``): the text is
pushed sentence by sentence and the audio played as it arrives (or, with
``stream=False``, once all of it has arrived, so that a slow machine never puts pauses
between sentences). It returns what was really said: all of it, or, when ``interrupt``
stops it (the other side barged in), the words already played (the provider's word
timestamps, or an estimate by characters when it sends none); the synthesis is then
cancelled. Between utterances the frames are silence; the background sound, when set,
runs under everything. Each ``say`` is reported (``on_said``) with the frames where its
audio was voiced, its time to first byte and whether it was cut: the agent's
``speech_events``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from openrevox.audio.ambience import Ambience
from openrevox.audio.codec import FRAME_SAMPLES, RATE, SILENCE, Samples
from openrevox.audio.speech import (
    SpeechFault,
    Synthesis,
    TextToSpeech,
    estimated_words,
    said_by,
)
from openrevox.audio.tts import AGENT, local_speech, sentences

VOICED_LEVEL = 300  # int16 amplitude above which a frame carries speech


@dataclass(frozen=True, slots=True)
class Said:
    """One ``say`` as it went out: the frames (since the side started) of its first and
    last voiced audio (None when none was heard), its time to first byte, whether the
    other side cut it."""

    text: str
    first_frame: int | None
    last_frame: int | None
    ttfb_ms: float | None
    was_cut: bool


class Mouth:
    def __init__(
        self,
        voice: TextToSpeech | None = None,
        *,
        background: Ambience | None = None,
        stream: bool = True,
    ) -> None:
        self.voice: TextToSpeech = voice or local_speech(AGENT)
        self._stream = stream
        self._background = background
        self._queue: deque[Samples] = deque()
        self._offset = 0  # samples of the queue's head already sent
        self._played = 0  # samples of the current say sent
        self._arrived = False  # the current say's audio has all arrived
        self._finished: asyncio.Future[None] | None = None
        self._saying = 0
        self._turn = asyncio.Lock()
        self._interrupted = False
        self._closed = False
        self._first = False  # the next sound is the first of a ``say``
        self._voiced: list[int] = []  # the current say's first and last voiced frame
        self._synthesis: Synthesis | None = None
        self._cancelling: set[asyncio.Future[None]] = set()
        self.frames = 0  # frames sent since the side started
        self.on_speech: Callable[[], None] | None = None  # a say's first frame goes out
        self.on_said: Callable[[Said], None] | None = None

    @property
    def speaking(self) -> bool:
        """A ``say`` is under way (synthesizing or playing)."""
        return self._saying > 0

    def frame(self) -> Samples:
        """The next frame to send (engine tick)."""
        index = self.frames
        self.frames += 1
        out = self._take()
        if out is not SILENCE:
            if self._first:
                self._first = False
                if self.on_speech is not None:
                    self.on_speech()
            if int(np.abs(out).max()) > VOICED_LEVEL:
                self._voiced[1:] = [index] if self._voiced else []
                if not self._voiced:
                    self._voiced = [index, index]
        if not self._queue and self._arrived:
            self._finish()
        if self._background is None:
            return out
        mixed = out.astype(np.int32) + self._background.frame()
        framed: Samples = np.clip(mixed, -32768, 32767).astype(np.int16)
        return framed

    def _take(self) -> Samples:
        if not self._queue:
            return SILENCE
        parts: list[Samples] = []
        wanted = FRAME_SAMPLES
        while wanted and self._queue:
            head = self._queue[0]
            part = head[self._offset : self._offset + wanted]
            parts.append(part)
            wanted -= len(part)
            self._offset += len(part)
            if self._offset >= len(head):
                self._queue.popleft()
                self._offset = 0
        self._played += FRAME_SAMPLES - wanted
        if wanted:
            parts.append(SILENCE[:wanted])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _finish(self) -> None:
        finished, self._finished = self._finished, None
        self._arrived = False
        if finished is not None and not finished.done():
            finished.set_result(None)

    def interrupt(self) -> None:
        """Stop at once: the frame being played is the last."""
        self._interrupted = True
        if self._synthesis is not None:  # stop generating now, not at its next chunk
            cancelling = asyncio.ensure_future(self._synthesis.cancel())
            self._cancelling.add(cancelling)
            cancelling.add_done_callback(self._cancelled)
        self._queue.clear()
        self._offset = 0
        self._arrived = True
        self._finish()

    def _cancelled(self, cancelling: asyncio.Future[None]) -> None:
        self._cancelling.discard(cancelling)
        if not cancelling.cancelled():
            cancelling.exception()  # a provider already gone: nothing left to stop

    def close(self) -> None:
        """The line is gone: stop, and never speak again."""
        self._closed = True
        self.interrupt()

    async def play(self, samples: Samples) -> int:
        """Play prepared audio (a beep); the samples played (fewer when interrupted)."""
        async with self._turn:
            if self._closed:
                return 0
            self._start()
            self._queue.append(samples)
            self._arrived = True
            await self._drained()
            return self._played

    def _start(self) -> None:
        self._interrupted = False
        self._first = True
        self._voiced = []
        self._played = 0
        self._arrived = False
        self._finished = asyncio.get_running_loop().create_future()

    async def _drained(self) -> None:
        if self._finished is not None:
            await self._finished

    async def say(self, text: str) -> str:
        """Speak ``text``; the part really spoken. Raises ``SpeechFault`` when the voice
        fails."""
        parts = sentences(text)
        if not parts or self._closed:
            return ""
        self._saying += 1
        try:
            async with self._turn:
                if self._closed:
                    return ""
                return await self._say(parts)
        finally:
            self._saying -= 1

    async def _say(self, parts: list[str]) -> str:
        self._start()
        synthesis = self._synthesis = self.voice.synthesis()
        feeding = asyncio.ensure_future(_feed(synthesis, parts))
        fault: SpeechFault | None = None
        held: list[Samples] = []
        try:
            async for chunk in synthesis.chunks():
                if self._interrupted:
                    break
                if self._stream:
                    self._queue.append(chunk)
                else:
                    held.append(chunk)
            await feeding
        except SpeechFault as error:
            fault = error
        finally:
            if not feeding.done():
                feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError, SpeechFault):
                await feeding
        if not self._interrupted:
            self._queue.extend(held)
            self._arrived = True
            await self._drained()
        self._synthesis = None
        if self._interrupted:
            with contextlib.suppress(Exception):
                await synthesis.cancel()
        if self._interrupted:
            words = synthesis.words or estimated_words(" ".join(parts), 0.0, self._played / RATE)
            spoken = said_by(words, self._played / RATE)
        else:
            spoken = " ".join(parts)
        said = Said(
            spoken,
            self._voiced[0] if self._voiced else None,
            self._voiced[-1] if self._voiced else None,
            synthesis.ttfb_ms,
            self._interrupted,
        )
        if self.on_said is not None:
            self.on_said(said)
        if fault is not None:
            raise fault
        return spoken


async def _feed(synthesis: Synthesis, parts: list[str]) -> None:
    for part in parts:
        await synthesis.push(part)
    await synthesis.end()
