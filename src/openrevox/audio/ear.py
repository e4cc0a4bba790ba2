"""One side's hearing: the audio it receives becomes utterances.

Per 20 ms tick (driven by the engine) the ear decodes the mu-law frames it received,
listens for beeps (a structured event: ``beeped``, and the answer listener's tone),
feeds the call's answer detection (``answer.py``) if it has one, and hands its
complete VAD windows to the engine's batch; with their confidences, pipecat's VAD state
machine says when speech starts and stops. A turn opens
when speech starts (with the half second before it, which the VAD needed to be sure)
and ends after a pause: at ``min_pause`` when the turn model calls the turn complete
(asked a little earlier, so its verdict is ready), at ``max_pause`` whatever it says.
A streaming recogniser that detects end of speech itself (Deepgram) votes too
(``endpoint``), never against the turn model: its ``SPEECH_END`` while the VAD has
already heard the speaker stop asks the model at once, and the turn ends as soon as the
model calls it complete, without waiting out ``min_pause`` (both heard the speech end);
its ``UTTERANCE_END`` (no word for its window) while the VAD still hears voice ends the
turn, since that voice is noise the VAD cannot tell from speech (steady line noise), and
no turn opens again until the VAD goes quiet: the agent never waits for that noise to
stop (``max_turn`` would end such a turn only after 30 s, and open the next at once).
The turn's audio is streamed to the side's ``SpeechToText`` (``speech.py``) from its
start (the half second before included), finalized when the turn ends, and the text put
in the inbox, in order. A speech provider's failure is put there too (a ``SpeechFault``).
Each turn is reported (``on_heard``) with where its voice started and stopped in the
audio received and how long the final transcript took after the end of speech: the
callee's ``speech_events``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADState

from openrevox.audio.answer import AnswerListener
from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples, ulaw_decode
from openrevox.audio.silero import WINDOW
from openrevox.audio.speech import UTTERANCE_END, SpeechFault, SpeechToText
from openrevox.audio.tones import BeepDetector
from openrevox.audio.turn import COMPLETE, SmartTurn
from openrevox.audio.vad import SileroVAD

log = logging.getLogger("openrevox.audio")

PREROLL_SECONDS: Final = 0.5
ONSET_CONFIDENCE: Final = 0.3  # a window this likely speech may start a voice
REFINE_SECONDS: Final = 0.15  # how far the loudness may move the VAD's boundaries
LOUD: Final = 300  # int16 peak of a 10 ms block that carries voice
_VOICED: Final = (VADState.STARTING, VADState.SPEAKING)
T = TypeVar("T")


def _probability(verdict: Future[float]) -> float:
    """A finished verdict's probability; 0 when the model failed (the turn then ends at
    ``max_pause``)."""
    if verdict.cancelled() or verdict.exception() is not None:
        failure = None if verdict.cancelled() else verdict.exception()
        log.warning("the turn model failed: %r", failure)
        return 0.0
    return verdict.result()


def _windows(seconds: float) -> int:
    """A duration in VAD windows (32 ms), rounded as pipecat rounds ``stop_secs``."""
    return round(seconds * RATE / WINDOW)


@dataclass(frozen=True, slots=True)
class Heard:
    """One turn of the other side: its voice from sample ``start`` to ``stop`` of the
    audio received, its final text, and the time from the end of its voice to that
    text."""

    start: int
    stop: int
    text: str
    stt_delay_ms: float


@dataclass(frozen=True, slots=True)
class TurnPolicy:
    """When a pause ends a turn. ``model`` None: at ``min_pause`` of quiet."""

    model: SmartTurn | None
    min_pause: float = 0.2  # pipecat: the VAD's stop, then the turn model
    max_pause: float = 0.8
    lead: float = 0.15  # the model is asked this long before ``min_pause``
    max_turn: float = 30.0


def _refined(audio: Samples, origin: int, voice: tuple[int, int]) -> tuple[int, int]:
    """The VAD's voice (``start``, ``stop`` samples) brought to the first and last loud
    10 ms of the turn's audio (which starts at ``origin``), by at most ``REFINE``: the
    VAD's windows are 32 ms and its model lags the voice by a window or two."""
    start, stop = voice
    if stop <= start:
        return (0, 0)
    block, reach = RATE // 100, round(REFINE_SECONDS * RATE)
    low = max(start - reach, origin)
    span = audio[low - origin : max(stop - origin, low - origin)]
    count = len(span) // block
    if not count:
        return voice
    loud = np.flatnonzero(np.abs(span[: count * block].reshape(count, block)).max(axis=1) > LOUD)
    if not len(loud):
        return voice
    first, last = low + int(loud[0]) * block, low + (int(loud[-1]) + 1) * block
    new_start = first if first <= start + reach else start
    new_stop = last if last >= stop - reach else stop
    return (new_start, new_stop) if new_stop > new_start else voice


class Inbox(Generic[T]):
    """Items delivered in the order their slots were taken, each once it is ready
    (a transcription finishing late never jumps ahead of a later beep or hang-up)."""

    def __init__(self) -> None:
        self._slots: deque[asyncio.Future[T | None]] = deque()
        self._changed = asyncio.Event()

    def put(self, item: T) -> None:
        slot = self.reserve()
        slot.set_result(item)

    def reserve(self) -> asyncio.Future[T | None]:
        """A slot filled later (with None: nothing to deliver)."""
        slot: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()
        slot.add_done_callback(lambda _: self._changed.set())
        self._slots.append(slot)
        self._changed.set()
        return slot

    @property
    def empty(self) -> bool:
        return not self._slots

    @property
    def waiting(self) -> bool:
        """A slot is taken but not filled yet."""
        return any(not slot.done() for slot in self._slots)

    async def get(self, within: float) -> T | None:
        """The next item, or None after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            while self._slots and self._slots[0].done():
                slot = self._slots.popleft()
                item = None if slot.cancelled() else slot.result()
                if item is not None:
                    return item
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def cancel(self) -> None:
        for slot in self._slots:
            slot.cancel()


class Ear:
    def __init__(
        self,
        stt: SpeechToText,
        inbox: Inbox[object],
        *,
        turns: TurnPolicy,
        vad: SileroVAD | None = None,
        on_speech_start: Callable[[], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        name: str = "ear",
        beeps: bool = True,
        listener: AnswerListener | None = None,
    ) -> None:
        self.name = name
        self.listener = listener
        self.beeped = asyncio.Event()
        self.vad = vad or SileroVAD()
        self.stt = stt
        stt.on_endpoint = self.endpoint
        self.on_heard: Callable[[Heard], None] | None = None
        self._position = 0  # samples of the VAD windows advanced so far
        self._run_start = 0  # where the voiced run under way started
        self._voice = (0, 0)  # the open turn's first and last voiced sample
        self._voiced_at = 0.0  # loop time the last voiced window was heard
        self._was_voiced = False
        self._onset: int | None = None  # where the confidence run under way started
        self._heard = 0  # samples received
        self._origin = 0  # where the open turn's audio starts
        self.inbox = inbox
        self._turns = turns
        self._on_speech_start = on_speech_start
        self._on_event = on_event  # "speech_stopped", "turn_ended" (for benchmarks)
        self._received: list[bytes] = []
        self._preroll: deque[Samples] = deque(maxlen=round(PREROLL_SECONDS * RATE / FRAME_SAMPLES))
        self._turn: list[Samples] | None = None
        self._turn_samples = 0
        self._pause = 0  # VAD windows since the last voiced one
        self._state = VADState.QUIET
        self._verdict: Future[float] | None = None
        self._endpointed = False  # the recogniser heard the speech end in this pause
        self._noise = False  # the VAD's voice is noise (an utterance end said so)
        self.endpoint_ends = 0  # turns ended before ``min_pause`` on the recogniser's vote
        self.noise_ends = 0  # turns an utterance end closed while the VAD heard voice
        self._beeps = BeepDetector() if beeps else None
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop = asyncio.get_running_loop()

    @property
    def hearing(self) -> bool:
        """Someone is talking: a turn is open or still being transcribed."""
        return self._turn is not None or self.inbox.waiting

    def receive(self, frame: bytes) -> None:
        self._received.append(frame)

    # -- engine side --

    def windows(self) -> list[Samples]:
        if not self._received:
            return []
        samples = ulaw_decode(b"".join(self._received))
        self._received.clear()
        self._heard += len(samples)
        for start in range(0, len(samples) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            frame = samples[start : start + FRAME_SAMPLES]
            if self.listener is not None:
                self.listener.frame(frame)
            if self._beeps is not None and self._beeps.feed(frame):
                self._beep()
            if self._turn is not None:
                self._turn.append(frame)
                self._turn_samples += len(frame)
                self.stt.send(frame)
            else:
                self._preroll.append(frame)
        return self.vad.windows(samples)

    def advance(self, windows: Sequence[Samples], confidences: Sequence[float]) -> None:
        states = self.vad.advance(windows, confidences)
        for state, confidence in zip(states, confidences, strict=True):
            start, self._position = self._position, self._position + WINDOW
            # The VAD confirms speech a few windows in (its volume is smoothed): the
            # voice started where the model's confidence first rose, if it rose earlier.
            if confidence < ONSET_CONFIDENCE:
                self._onset = None
            elif self._onset is None:
                self._onset = start
            voiced = state in _VOICED and not (self._beeps and self._beeps.in_tone)
            if self.listener is not None:
                self.listener.window(voiced)
            if voiced:
                if not self._was_voiced:
                    self._run_start = start if self._onset is None else min(self._onset, start)
                self._was_voiced = True
                self._pause = 0
                self._endpointed = False
                self._drop_verdict()  # the speaker went on: that pause ended no turn
                if state == VADState.SPEAKING and self._turn is None and not self._noise:
                    self._open_turn()
                    self._voice = (self._run_start, self._position)
                elif self._turn is not None:
                    self._voice = (self._voice[0], self._position)
                self._voiced_at = self._loop.time()
            else:
                self._was_voiced = False
                self._pause += 1
            if state == VADState.QUIET:
                self._noise = False
                if self._state != VADState.QUIET and self._on_event:
                    self._on_event("speech_stopped")
            self._state = state
        if self._turn is not None:
            self._consider_end()

    # -- turns --

    def _open_turn(self) -> None:
        self._turn = list(self._preroll)
        self._turn_samples = sum(len(frame) for frame in self._turn)
        self._origin = self._heard - self._turn_samples
        self._preroll.clear()
        if self._turn:
            self.stt.send(np.concatenate(self._turn))
        log.debug("%s: speech started", self.name)
        if self._on_speech_start is not None:
            self._on_speech_start()

    def endpoint(self, kind: str) -> None:
        """The recogniser's end-of-speech event (``SpeechToText.on_endpoint``), on the
        loop: a vote in turn detection (the module's docstring)."""
        if self._turn is None:
            return
        log.debug("%s: the recogniser's %s (pause %d windows)", self.name, kind, self._pause)
        if kind == UTTERANCE_END and self._pause == 0:
            self._noise = True
            self.noise_ends += 1
            self._end_turn()
        elif self._pause > 0:  # while voice is heard, a stale or early event: ignored
            self._endpointed = True
            self._consider_end()

    def _consider_end(self) -> None:
        turns = self._turns
        pause = self._pause
        if self._turn_samples / RATE >= turns.max_turn or pause >= _windows(turns.max_pause):
            self._end_turn()
            return
        quiet = self.vad.state == VADState.QUIET
        # The recogniser and the VAD both heard the speech end: no need to wait for
        # ``min_pause`` (the turn model, if any, still has the last word).
        paused = pause >= _windows(turns.min_pause) or (self._endpointed and quiet)
        if turns.model is None:
            if paused and quiet:
                self._end_turn()
            return
        asked_at = max(_windows(turns.min_pause - turns.lead), 1)
        if self._verdict is None and (pause >= asked_at or (self._endpointed and quiet)):
            asked = self._verdict = turns.model.predict(self._audio(), stream=self)
            asked.add_done_callback(self._verdict_ready)
        verdict = self._verdict
        if (
            verdict is not None
            and verdict.done()
            and paused
            and quiet
            and _probability(verdict) >= COMPLETE
        ):
            self._end_turn()

    def _drop_verdict(self) -> None:
        """Forget the verdict asked for; a request still waiting for the model is
        dropped (on a busy worker the model then spends no time on stale pauses)."""
        if self._verdict is not None:
            self._verdict.cancel()
            self._verdict = None

    def _verdict_ready(self, verdict: Future[float]) -> None:
        """From the model's side: back to the event loop (unless it is gone)."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._on_verdict, verdict)

    def _on_verdict(self, verdict: Future[float]) -> None:
        if verdict is self._verdict and self._turn is not None:
            self._consider_end()

    def _audio(self) -> Samples:
        return np.concatenate(self._turn) if self._turn else np.zeros(0, dtype=np.int16)

    def _end_turn(self, trim: int = 0) -> None:
        log.debug(
            "%s: turn ended after %.2f s (pause %.2f s)",
            self.name, self._turn_samples / RATE, self._pause * WINDOW / RATE,
        )  # fmt: skip
        voice = _refined(self._audio(), self._origin, self._voice)
        if self._endpointed and self._pause < _windows(self._turns.min_pause):
            self.endpoint_ends += 1
        self._turn = None
        self._endpointed = False
        self._drop_verdict()
        if self._on_event is not None:
            self._on_event("turn_ended")
        slot = self.inbox.reserve()
        task = self._loop.create_task(self._transcribe(trim, voice, self._voiced_at, slot))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _transcribe(
        self,
        trim: int,
        voice: tuple[int, int],
        voiced_at: float,
        slot: asyncio.Future[object | None],
    ) -> None:
        try:
            text = (await self.stt.finalize(trim)).strip()
        except SpeechFault as fault:
            log.warning("%s: speech to text failed: %s", self.name, fault)
            if not slot.done():
                slot.set_result(fault)
            return
        except Exception:
            log.exception("%s: speech to text failed", self.name)
            text = ""
        delay = (self._loop.time() - voiced_at) * 1000
        log.debug("%s: heard %r", self.name, text)
        if self.on_heard is not None and voice[1] > voice[0]:
            self.on_heard(Heard(voice[0], voice[1], text, delay))
        if not slot.done():
            slot.set_result(text or None)

    def _beep(self) -> None:
        log.debug("%s: beep", self.name)
        if self._turn is not None:  # the greeting before the beep is one utterance
            self._end_turn(trim=FRAME_SAMPLES * 8)
        self.beeped.set()
        if self.listener is not None and self._beeps is not None:
            self.listener.beep(self._beeps.hz, self._beeps.started)

    def close(self) -> None:
        self._drop_verdict()
        for task in self._tasks:
            task.cancel()
        self.inbox.cancel()
