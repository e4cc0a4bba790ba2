"""A streaming recogniser's end-of-speech events as one more vote in the ear's turn
detection: an endpoint while the VAD has heard the speaker stop ends the turn without
waiting out ``min_pause`` (never against the turn model), and an utterance end while the
VAD still hears voice ends a turn that noise held open. The ear is driven window by
window with chosen confidences (pipecat's VAD decides on them and on the loudness)."""

from __future__ import annotations

import asyncio

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADState

from openrevox.audio import codec
from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples
from openrevox.audio.ear import Ear, Inbox, TurnPolicy
from openrevox.audio.speech import SPEECH_END, UTTERANCE_END, UtteranceRecognition
from openrevox.audio.turn import COMPLETE, SmartTurn

TONE = (8000 * np.sin(2 * np.pi * 220 * np.arange(FRAME_SAMPLES) / RATE)).astype(np.int16)
QUIET = np.zeros(FRAME_SAMPLES, dtype=np.int16)


class _Length:
    """Speech to text that reports how much audio it got."""

    async def transcribe(self, samples: Samples) -> str:
        return str(len(samples))


def _ear(turns: TurnPolicy) -> Ear:
    return Ear(UtteranceRecognition(_Length()), Inbox(), turns=turns, beeps=False)


def _feed(ear: Ear, frame: Samples, confidence: float, seconds: float) -> None:
    """``seconds`` of ``frame`` received, each VAD window scored ``confidence``."""
    for _ in range(round(seconds * RATE / FRAME_SAMPLES)):
        ear.receive(codec.ulaw_encode(frame))
        windows = ear.windows()
        ear.advance(windows, [confidence] * len(windows))


def test_an_endpoint_after_the_vads_stop_ends_the_turn_before_min_pause() -> None:
    async def run() -> None:
        ear = _ear(TurnPolicy(model=None, min_pause=0.6, max_pause=1.0))
        _feed(ear, TONE, 0.95, 1.0)
        assert ear.hearing
        assert ear.stt.on_endpoint is not None  # the ear listens to its recogniser
        ear.stt.on_endpoint(SPEECH_END)  # while voice is heard: ignored
        _feed(ear, TONE, 0.95, 0.1)
        _feed(ear, QUIET, 0.0, 0.35)  # the VAD stops at 0.2 s
        assert ear.vad.state == VADState.QUIET and ear._turn is not None  # before min_pause
        ear.stt.on_endpoint(SPEECH_END)
        assert ear._turn is None and ear.endpoint_ends == 1
        assert int(str(await ear.inbox.get(5.0))) > RATE

    asyncio.run(run())


def test_without_an_endpoint_the_turn_waits_for_min_pause() -> None:
    async def run() -> None:
        ear = _ear(TurnPolicy(model=None, min_pause=0.6, max_pause=1.0))
        _feed(ear, TONE, 0.95, 1.0)
        _feed(ear, QUIET, 0.0, 0.5)
        assert ear._turn is not None
        _feed(ear, QUIET, 0.0, 0.2)
        assert ear._turn is None and ear.endpoint_ends == 0

    asyncio.run(run())


def test_an_endpoint_never_ends_a_turn_the_turn_model_calls_incomplete() -> None:
    model = SmartTurn(helpers=1)

    async def run() -> tuple[bool, float]:
        ear = _ear(TurnPolicy(model=model, min_pause=0.6, max_pause=1.0))
        _feed(ear, TONE, 0.95, 1.0)
        _feed(ear, QUIET, 0.0, 0.3)
        assert ear.vad.state == VADState.QUIET and ear._turn is not None
        audio = ear._audio()
        assert ear.stt.on_endpoint is not None
        ear.stt.on_endpoint(SPEECH_END)  # asks the model now
        verdict = ear._verdict
        assert verdict is not None
        await asyncio.wrap_future(verdict)
        await asyncio.sleep(0.05)  # the verdict comes back through the loop
        # What the model says of the same audio, asked separately:
        expected = await asyncio.to_thread(model.probability, audio)
        return ear._turn is None, expected

    try:
        ended, probability = asyncio.run(run())
    finally:
        model.close()
    assert ended == (probability >= COMPLETE)


def test_an_utterance_end_closes_a_turn_noise_holds_open_and_the_noise_opens_none() -> None:
    async def run() -> None:
        ear = _ear(TurnPolicy(model=None, min_pause=0.2, max_pause=0.8, max_turn=30.0))
        _feed(ear, TONE, 0.95, 1.5)  # steady noise the VAD takes for voice
        assert ear._turn is not None
        assert ear.stt.on_endpoint is not None
        ear.stt.on_endpoint(UTTERANCE_END)
        assert ear._turn is None and ear.noise_ends == 1
        await ear.inbox.get(5.0)
        _feed(ear, TONE, 0.95, 2.0)  # the same noise: no new turn
        assert not ear.hearing
        _feed(ear, QUIET, 0.0, 0.5)
        _feed(ear, TONE, 0.95, 0.5)  # voice after the VAD went quiet: a turn again
        assert ear._turn is not None

    asyncio.run(run())
