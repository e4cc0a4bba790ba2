"""Who answered, heard in the audio: the features of a call's first seconds.

An ``AnswerListener`` is fed what an ear hears from the answer on: each 20 ms frame
(kept, up to the ceiling, for the recogniser), each VAD window's verdict (voiced or
not: the spans of voice), each beep (``tones.BeepDetector``: its frequency and start).
It keeps them in a ``domain.answer_detection.Opening``, whose pure policy decides; the
recogniser's transcript of the opening so far is asked for when the policy wants it
(``wants_transcript``) and run off the audio thread by the caller (``AnswerDetection``
on a live line, ``classify`` offline). Times are audio time: samples heard since the
answer.

The recogniser for the transcript's cues is pocketsphinx's en-US acoustic model with
the phone-call phrasebook's language model (``stt.shared_recognizer()`` with no hints:
``phrasebook.py`` plus pocketsphinx's most common English words); nothing of the
evaluation corpus (bench/amd_corpus.py) is in its vocabulary list or its language model.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Final

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADState

from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples, to_float
from openrevox.audio.silero import WINDOW, SileroState, shared_silero
from openrevox.audio.stt import Recognizer, shared_recognizer, stt_executor
from openrevox.audio.tones import BeepDetector
from openrevox.audio.vad import SileroVAD
from openrevox.domain.answer_detection import (
    CEILING,
    CarrierSignal,
    Decision,
    Opening,
    Tone,
)

_KEPT: Final = round((CEILING + 1.0) * RATE)  # samples of the opening kept for the recogniser
_VOICED: Final = (VADState.STARTING, VADState.SPEAKING)
POLL: Final = 0.02  # seconds between two looks at the evidence on a live line


class AnswerListener:
    """The opening of one call as an ear hears it (see the module's docstring)."""

    def __init__(self) -> None:
        self.opening = Opening()
        self._audio: list[Samples] = []
        self._kept = 0
        self._heard = 0  # samples received
        self._windows = 0  # VAD windows judged

    @property
    def now(self) -> float:
        """Audio time: seconds heard since the answer."""
        return self._heard / RATE

    def frame(self, frame: Samples) -> None:
        self._heard += len(frame)
        if self._kept < _KEPT:
            self._audio.append(frame)
            self._kept += len(frame)

    def window(self, voiced: bool) -> None:
        start = self._windows * WINDOW / RATE
        self._windows += 1
        if voiced:
            self.opening.voice(start, start + WINDOW / RATE)

    def beep(self, hz: float, started_frame: int) -> None:
        self.opening.tone(Tone(at=started_frame * FRAME_SAMPLES / RATE, hz=hz))

    def carrier(self, signal: CarrierSignal) -> None:
        self.opening.carrier(signal)

    def audio(self) -> Samples:
        """The opening's audio kept so far."""
        return np.concatenate(self._audio) if self._audio else np.zeros(0, dtype=np.int16)

    def wants_transcript(self) -> bool:
        return self.opening.wants_transcript(self.now)

    def decide(self, *, final: bool = False) -> Decision | None:
        return self.opening.decide(self.now, final=final)


class AnswerDetection:
    """A live line's classifier: looks at its listener every ``POLL`` seconds, runs the
    recogniser in the speech-to-text threads when the policy asks, and resolves
    ``decision`` as soon as the policy decides (at the ceiling at the latest)."""

    def __init__(self, listener: AnswerListener, recognizer: Recognizer | None = None) -> None:
        self.listener = listener
        self._recognizer = recognizer
        self._task: asyncio.Task[Decision] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def decision(self, ceiling: float = CEILING) -> Decision:
        """The decision; forced (on the evidence so far) after ``ceiling`` seconds
        of audio."""
        self.start()
        assert self._task is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ceiling + 1.0  # audio time never runs ahead of the clock
        while not self._task.done():
            if self.listener.now >= ceiling or loop.time() >= deadline:
                decided = self.listener.decide(final=True)
                assert decided is not None
                self._task.cancel()
                return decided
            await asyncio.sleep(POLL)
        return self._task.result()

    async def _run(self) -> Decision:
        listener = self.listener
        recognizer = self._recognizer or shared_recognizer(())
        loop = asyncio.get_running_loop()
        while True:
            decided = listener.decide()
            if decided is not None:
                return decided
            if listener.wants_transcript():
                until = listener.now
                listener.opening.asked(until)
                audio = listener.audio()
                text = await loop.run_in_executor(stt_executor(), recognizer.transcribe, audio)
                listener.opening.heard(text, until)
                continue
            await asyncio.sleep(POLL)

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()


@dataclass(frozen=True, slots=True)
class Classified:
    """An offline run over one clip: the decision, and the recogniser's CPU time."""

    decision: Decision
    recognition_seconds: float


def classify(
    audio: Samples,
    recognizer: Recognizer | None = None,
    *,
    carrier: CarrierSignal | None = None,
) -> Classified:
    """Run the classifier over a clip (8 kHz samples from the answer on) as a live line
    runs it: frame by frame, pipecat's VAD over Silero, the beep detector, the recogniser
    when the policy asks, one transcription at a time. A transcript counts from the
    audio time its request was made plus the recogniser's CPU time (the line hears on
    meanwhile; CPU time is what one free core would take, whatever else the machine
    runs). A clip shorter than the ceiling goes on in silence."""
    recognizer = recognizer or shared_recognizer(())
    listener = AnswerListener()
    if carrier is not None:
        listener.carrier(carrier)
    vad, beeps = SileroVAD(), BeepDetector()
    model, stream = shared_silero(), SileroState()
    total = round((CEILING + 0.5) * RATE)
    if len(audio) < total:
        audio = np.concatenate([audio, np.zeros(total - len(audio), dtype=np.int16)])
    pending: tuple[str, float, float] | None = None  # text, until, ready at
    spent = 0.0
    for start in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = audio[start : start + FRAME_SAMPLES]
        listener.frame(frame)
        if beeps.feed(frame):
            listener.beep(beeps.hz, beeps.started)
        windows = vad.windows(frame)
        confidences = [float(model.score([to_float(w)], [stream])[0]) for w in windows]
        for state in vad.advance(windows, confidences):
            listener.window(state in _VOICED and not beeps.in_tone)
        now = listener.now
        if pending is not None and now >= pending[2]:
            listener.opening.heard(pending[0], pending[1])
            pending = None
        if pending is None and listener.wants_transcript():
            listener.opening.asked(now)
            began = time.thread_time()  # CPU time: the bench machine is shared
            text = recognizer.transcribe(listener.audio())
            took = time.thread_time() - began
            spent += took
            pending = (text, now, now + took)
        decided = listener.opening.decide(now, final=now >= CEILING)
        if decided is not None:
            return Classified(decided, spent)
    forced = listener.opening.decide(listener.now, final=True)
    assert forced is not None
    return Classified(forced, spent)
