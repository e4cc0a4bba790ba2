"""The smart-turn model behind its helper process: one request at a time, oldest first,
stale requests dropped before they run, the same probabilities as in process, a helper
that dies replaced on the next request."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from openrevox.audio import codec
from openrevox.audio.codec import FRAME_BYTES, RATE, Samples
from openrevox.audio.ear import Ear, Inbox, TurnPolicy
from openrevox.audio.engine import AudioEngine
from openrevox.audio.silero import SileroState
from openrevox.audio.speech import UtteranceRecognition
from openrevox.audio.tts import CALLEE, Synthesizer
from openrevox.audio.turn import (
    Requests,
    SmartTurn,
    TurnModelError,
    open_session,
    probability,
)


def samples(value: int) -> codec.Samples:
    return np.full(160, value, dtype=np.int16)


def test_requests_run_oldest_first_and_a_streams_newer_request_replaces_its_waiting_one() -> None:
    requests = Requests()
    first, other, newer = Future[float](), Future[float](), Future[float]()
    requests.put(first, samples(1), stream="a")
    requests.put(other, samples(2), stream="b")
    requests.put(newer, samples(3), stream="a")
    assert first.cancelled() and requests.dropped == 1 and len(requests) == 2
    taken = requests.take()
    assert taken is not None and taken[:2] == ("a", newer) and taken[2][0] == 3  # a's place
    assert newer.running()
    taken = requests.take()
    assert taken is not None and taken[1] is other
    assert requests.take() is None


def test_a_streams_request_waits_while_another_of_that_stream_runs() -> None:
    requests = Requests()
    first, second = Future[float](), Future[float]()
    requests.put(first, samples(1), stream="a")
    requests.put(second, samples(2), stream="b")
    taken = requests.take(busy={"a"})  # a's previous request still runs
    assert taken is not None and taken[1] is second
    assert requests.take(busy={"a"}) is None and len(requests) == 1
    taken = requests.take()
    assert taken is not None and taken[1] is first


def test_a_request_cancelled_while_it_waits_never_runs() -> None:
    requests = Requests()
    stale, wanted, unkeyed = Future[float](), Future[float](), Future[float]()
    requests.put(stale, samples(1), stream="a")
    requests.put(wanted, samples(2), stream="b")
    requests.put(unkeyed, samples(3))
    requests.put(Future[float](), samples(4))  # no stream: never replaces another
    assert stale.cancel()  # the speaker went on talking
    taken = requests.take()
    assert taken is not None and taken[1] is wanted and requests.dropped == 1
    requests.cancel()
    assert unkeyed.cancelled() and len(requests) == 0 and requests.take() is None


def _ended(pid: int) -> bool:
    """The process is gone or a zombie (its pipes closed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _wait_until_ended(pid: int) -> None:
    while not _ended(pid):  # a condition, not a duration: the kernel ends it promptly
        time.sleep(0.01)


def test_the_helper_answers_as_in_process_and_is_replaced_when_it_dies() -> None:
    speech = codec.ulaw_decode(codec.ulaw_encode(Synthesizer().sentence("Okay.", CALLEE).samples))
    expected = probability(open_session(), speech)
    model = SmartTurn(helpers=1)
    try:
        assert abs(model.probability(speech) - expected) < 1e-5
        [pid] = model.helper_pids
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert b"OPENBLAS_NUM_THREADS=1" in environment  # no spinning BLAS threads
        os.kill(pid, signal.SIGKILL)
        _wait_until_ended(pid)
        with pytest.raises(TurnModelError):
            model.probability(speech)  # the request under way when it died fails
        assert abs(model.probability(speech) - expected) < 1e-5  # a new helper
        [replaced] = model.helper_pids
        assert replaced != pid
    finally:
        model.close()
    with pytest.raises(TurnModelError):
        model.probability(speech)
    _wait_until_ended(replaced)  # closing the model ends its helper


def test_two_streams_asking_at_once_are_answered_by_two_helpers() -> None:
    speech = codec.ulaw_decode(codec.ulaw_encode(Synthesizer().sentence("Okay.", CALLEE).samples))
    expected = probability(open_session(), speech)
    model = SmartTurn(helpers=2)
    try:
        # Each helper takes one: neither waits for the other (both run while the helpers
        # load, seconds, long before either could be answered).
        both = [model.predict(speech, stream=stream) for stream in ("a", "b")]
        while not all(future.running() for future in both) and not any(
            future.done() for future in both
        ):
            time.sleep(0.001)
        assert all(future.running() for future in both)
        assert all(abs(future.result() - expected) < 1e-5 for future in both)
        pids = model.helper_pids
        assert len(pids) == 2 and model.asked == 2
    finally:
        model.close()
    for pid in pids:
        _wait_until_ended(pid)


class _Heard:
    """Speech to text that reports how much audio it got."""

    async def transcribe(self, samples: Samples) -> str:
        return str(len(samples))


class _Listener:
    """An endpoint that only hears (the engine's view of an ear)."""

    def __init__(self, ear: Ear) -> None:
        self.ear = ear

    def emit(self) -> None:
        pass

    def windows(self) -> list[Samples]:
        return self.ear.windows()

    @property
    def vad_stream(self) -> SileroState:
        return self.ear.vad.stream

    def advance(self, windows: Sequence[Samples], confidences: Sequence[float]) -> None:
        self.ear.advance(windows, confidences)


def _voiced(samples: Samples) -> Samples:
    """Without the synthesizer's leading and trailing quiet."""
    loud = np.nonzero(np.abs(samples) > 300)[0]
    return samples[loud[0] : loud[-1] + 1]


def test_a_pause_the_speaker_talks_through_costs_the_model_nothing_once_they_go_on() -> None:
    voice = Synthesizer()
    silence = np.zeros(RATE, dtype=np.int16)
    first, last = voice.sentence("My name is Alex.").samples, voice.sentence("Martin.").samples
    pause = np.zeros(int(0.15 * RATE), dtype=np.int16)  # the VAD stops at 0.2 s
    speech = np.concatenate([_voiced(first), pause, _voiced(last)])
    line = codec.ulaw_encode(codec.pad_to_frames(np.concatenate([silence, speech, silence])))

    async def hear() -> tuple[list[object], Future[float], SmartTurn]:
        model = SmartTurn(helpers=1)
        # The helper's first request (its start, seconds) holds every later one waiting.
        busy = model.predict(silence)
        ear = Ear(
            UtteranceRecognition(_Heard()),
            Inbox(),
            turns=TurnPolicy(model=model, min_pause=0.2, max_pause=0.8),
        )
        engine, listener = AudioEngine(), _Listener(ear)
        engine.add(listener)
        for start in range(0, len(line), FRAME_BYTES):
            ear.receive(line[start : start + FRAME_BYTES])
            engine.step(asyncio.get_running_loop().time())
        engine.remove(listener)
        assert not busy.done()  # so each of the ear's requests had to wait
        heard = [await ear.inbox.get(5.0)]
        while not ear.inbox.empty:
            heard.append(await ear.inbox.get(0.0))
        return heard, busy, model

    heard, busy, model = asyncio.run(hear())
    try:
        busy.result()
        assert len(heard) == 1 and int(str(heard[0])) > len(speech)  # one utterance
        # The ear asked at the short pause and at the end. The first request went stale
        # when "Martin" came, the second when the turn ended at max_pause: neither ran.
        # (The engine steps on the loop's clock: on a loaded machine the ear may ask once
        # more while the helper is busy. What matters holds: no stale request ran.)
        assert model.asked == 1 and model.dropped >= 2
    finally:
        model.close()
