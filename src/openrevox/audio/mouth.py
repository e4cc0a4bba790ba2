"""One side's voice: what it sends, one 20 ms frame per engine tick.

``say`` synthesizes a text sentence by sentence (the next one while the current one
plays, as streaming TTS does; or, with ``stream=False``, all of them before the first
plays, so that a slow machine never puts pauses between them) and returns what was
really said: all of it, or, when ``interrupt`` stops it
(the other side barged in), the words already played. Between utterances the frames
are silence; the background sound, when set, runs under everything.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import numpy as np

from openrevox.audio.ambience import Ambience
from openrevox.audio.codec import FRAME_SAMPLES, SILENCE, Samples
from openrevox.audio.tts import AGENT, Speech, Style, Synthesizer, sentences


class SpeechSource(Protocol):
    async def speak(self, text: str, style: Style) -> Speech:
        """One sentence as 8 kHz speech."""
        ...


class Mouth:
    def __init__(
        self,
        voice: SpeechSource | None = None,
        style: Style = AGENT,
        *,
        background: Ambience | None = None,
        stream: bool = True,
    ) -> None:
        self._voice: SpeechSource = voice or Synthesizer()
        self._stream = stream
        self._style = style
        self._background = background
        self._playing: Speech | None = None
        self._position = 0
        self._finished: asyncio.Future[int] | None = None
        self._saying = 0
        self._interrupted = False
        self._closed = False
        self._first = False  # the next frame is the first of a ``say``
        self.on_speech: Callable[[], None] | None = None  # a say's first frame goes out

    @property
    def speaking(self) -> bool:
        """A ``say`` is under way (synthesizing or playing)."""
        return self._saying > 0

    def frame(self) -> Samples:
        """The next frame to send (engine tick)."""
        speech = self._playing
        if speech is None:
            out = SILENCE
        else:
            if self._first:
                self._first = False
                if self.on_speech is not None:
                    self.on_speech()
            out = speech.samples[self._position : self._position + FRAME_SAMPLES]
            self._position += FRAME_SAMPLES
            if self._position >= len(speech.samples):
                self._stop(len(speech.samples))
            if len(out) < FRAME_SAMPLES:
                out = np.concatenate([out, SILENCE[: FRAME_SAMPLES - len(out)]])
        if self._background is None:
            return out
        mixed = out.astype(np.int32) + self._background.frame()
        framed: Samples = np.clip(mixed, -32768, 32767).astype(np.int16)
        return framed

    def _stop(self, played: int) -> None:
        finished, self._finished, self._playing = self._finished, None, None
        if finished is not None and not finished.done():
            finished.set_result(played)

    async def play(self, speech: Speech) -> int:
        """Play one piece of speech; the samples played (fewer when interrupted)."""
        if self._interrupted or self._closed:
            return 0
        self._finished = asyncio.get_running_loop().create_future()
        self._playing, self._position = speech, 0
        return await self._finished

    def interrupt(self) -> None:
        """Stop at once: the frame being played is the last."""
        self._interrupted = True
        if self._playing is not None:
            self._stop(min(self._position, len(self._playing.samples)))

    def close(self) -> None:
        """The line is gone: stop, and never speak again."""
        self._closed = True
        self.interrupt()

    async def say(self, text: str) -> str:
        """Speak ``text``; the part really spoken."""
        parts = sentences(text)
        if not parts or self._closed:
            return ""
        self._saying += 1
        self._interrupted = False
        self._first = True
        spoken: list[str] = []
        synthesis = [asyncio.ensure_future(self._voice.speak(parts[0], self._style))]
        try:
            if not self._stream:  # the whole text first: no pause between its sentences
                synthesis += [
                    asyncio.ensure_future(self._voice.speak(part, self._style))
                    for part in parts[1:]
                ]
                await asyncio.gather(*synthesis)
            for index in range(len(parts)):
                speech = await synthesis[index]
                if index + 1 < len(parts) and len(synthesis) == index + 1:
                    next_part = self._voice.speak(parts[index + 1], self._style)
                    synthesis.append(asyncio.ensure_future(next_part))
                played = await self.play(speech)
                if played < len(speech.samples):
                    spoken.append(speech.said_by(played))
                    break
                spoken.append(speech.text)
        finally:
            self._saying -= 1
            for pending in synthesis:
                if not pending.done():
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pending
            if self._playing is not None and self._saying == 0:
                self._stop(self._position)
        return " ".join(part for part in spoken if part)
