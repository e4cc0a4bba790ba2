"""The two stacks ``audio_calls.py`` measures, and what they share: pipecat's defaults
(one pipeline, one Silero session and one smart-turn session per call) and
``openrevox.audio`` (one clock, one batched Silero session, two smart-turn
helper processes), each with fake STT, LLM and TTS that only wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Could you tell me your email address?"
REPLY = "Sure, let me check that for you."
WARM_UP = 4.0  # seconds before measuring: every call started, every model hot
GAP_AFTER_REPLY = 1.5  # seconds the caller waits after the reply before asking again


@dataclass
class Delays:
    stt: float = 0.15
    llm: float = 0.30
    tts: float = 0.10

    @property
    def total(self) -> float:
        return self.stt + self.llm + self.tts


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Recorder:
    """Frame lags and turn timings of one trial."""

    def __init__(self, delays: Delays) -> None:
        self.delays = delays
        self.measuring = False
        self.output: list[float] = []
        self.input: list[float] = []
        self.overheads: list[float] = []
        self.predictions = 0  # ours: smart-turn predictions run while measuring
        self.dropped = 0  # ours: requests dropped unrun (stale)
        self._stopped: dict[int, float] = {}

    def speech_stopped(self, call: int, at: float) -> None:
        self._stopped[call] = at

    def first_frame(self, call: int, at: float) -> None:
        stopped = self._stopped.pop(call, None)
        if stopped is not None and self.measuring:
            self.overheads.append(at - stopped - self.delays.total)


# -- ours --


async def run_ours(calls: int, seconds: float, audio: dict[str, bytes], delays: Delays) -> Recorder:
    from openrevox.audio.codec import FRAME_BYTES, RATE, Samples, ulaw_decode
    from openrevox.audio.ear import Ear, Inbox, TurnPolicy
    from openrevox.audio.engine import FrameLags, loop_engine
    from openrevox.audio.line import AudioLine
    from openrevox.audio.mouth import Mouth
    from openrevox.audio.side import CallSide
    from openrevox.audio.silero import SileroState
    from openrevox.audio.speech import SentenceSpeech, UtteranceRecognition
    from openrevox.audio.tts import Speech
    from openrevox.audio.turn import shared_smart_turn
    from openrevox.audio.wire import Event, Port, Wire

    recorder = Recorder(delays)
    loop = asyncio.get_running_loop()
    engine = loop_engine()
    engine.lags = lags = FrameLags()
    reply = Speech(REPLY, ulaw_decode(audio["reply"]), ())
    question = audio["question"]
    silence = bytes([0xFF]) * FRAME_BYTES
    cycle = len(question) + round(
        (0.2 + delays.total + len(reply.samples) / RATE + GAP_AFTER_REPLY) * RATE
    )
    cycle -= cycle % FRAME_BYTES  # whole frames

    class FakeSTT:
        async def transcribe(self, samples: Samples) -> str:
            await asyncio.sleep(delays.stt)
            return QUESTION

    class FakeTTS:
        async def speak_sentence(self, text: str) -> Speech:
            await asyncio.sleep(delays.tts)
            return reply

    class Caller:
        """The person's phone: replays the question every cycle, listens to nothing."""

        def __init__(self, port: Port, offset: int) -> None:
            self.port, self.position = port, offset
            self.vad_stream = SileroState()

        def emit(self) -> None:
            at = self.position % cycle
            self.position += FRAME_BYTES
            frame = question[at : at + FRAME_BYTES] if at < len(question) else silence
            self.port.send_audio(frame)

        def windows(self) -> list[Samples]:
            return []

        def advance(self, windows: Any, confidences: Any) -> None:
            pass

        def receive_audio(self, frame: bytes) -> None:
            pass

        def receive_event(self, event: Event) -> None:
            pass

    model = shared_smart_turn()
    model.probability(np.zeros(RATE, dtype=np.int16))  # its process up before any call
    turns = TurnPolicy(model=model, min_pause=0.2, max_pause=3.0)
    rng = np.random.default_rng(7)

    def agent(index: int) -> AudioLine:
        wire = Wire()
        mouth = Mouth(SentenceSpeech(FakeTTS()))
        mouth.on_speech = lambda: recorder.first_frame(index, loop.time())

        def on_event(name: str) -> None:
            if name == "speech_stopped":
                recorder.speech_stopped(index, loop.time())

        ear = Ear(UtteranceRecognition(FakeSTT()), Inbox(), turns=turns, on_event=on_event)
        side = CallSide(engine, mouth, ear, wire.a)
        caller = Caller(wire.b, int(rng.integers(0, cycle // FRAME_BYTES)) * FRAME_BYTES)
        wire.connect(side, caller)
        side.attach()
        engine.add(caller)
        return AudioLine(side)

    async def converse(line: AudioLine) -> None:
        while True:
            heard = await line.hear(30.0)
            if heard:
                await asyncio.sleep(delays.llm)
                await line.say(REPLY)

    lines = [agent(index) for index in range(calls)]
    tasks = [asyncio.create_task(converse(line)) for line in lines]
    await asyncio.sleep(WARM_UP)
    lags.clear()
    asked, dropped = model.asked, model.dropped
    recorder.measuring = True
    await asyncio.sleep(seconds)
    recorder.measuring = False
    recorder.output, recorder.input = list(lags.output), list(lags.input)
    recorder.predictions, recorder.dropped = model.asked - asked, model.dropped - dropped
    for task in tasks:
        task.cancel()
    return recorder


# -- pipecat's defaults --


async def run_pipecat(
    calls: int, seconds: float, audio: dict[str, bytes], delays: Delays
) -> Recorder:
    from loguru import logger

    logger.remove()
    from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.frames.frames import (
        Frame,
        InputAudioRawFrame,
        OutputAudioRawFrame,
        TextFrame,
        TranscriptionFrame,
        VADUserStartedSpeakingFrame,
        VADUserStoppedSpeakingFrame,
    )
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.audio.vad_processor import VADProcessor
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    from openrevox.audio.codec import FRAME_SAMPLES, RATE, ulaw_decode, ulaw_encode

    recorder = Recorder(delays)
    loop = asyncio.get_running_loop()
    question = ulaw_decode(audio["question"]).tobytes()
    reply = ulaw_decode(audio["reply"])
    frame_bytes = FRAME_SAMPLES * 2
    cycle = len(question) + 2 * round(
        (0.2 + delays.total + len(reply) / RATE + GAP_AFTER_REPLY) * RATE
    )
    cycle -= cycle % frame_bytes  # whole frames
    silence = bytes(frame_bytes)

    class TimedVAD(VADProcessor):
        """pipecat's VADProcessor; records when each input frame has been analysed."""

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            due = getattr(frame, "due", None)
            if due is not None and recorder.measuring:
                recorder.input.append(loop.time() - due)

    class Turns(FrameProcessor):
        """pipecat's smart-turn analyzer as its turn strategy drives it: fed all audio,
        asked at each VAD stop (on its own thread), a silence timeout otherwise."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index
            self.analyzer = LocalSmartTurnAnalyzerV3()
            self.speaking = False

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, InputAudioRawFrame):
                if self.analyzer.sample_rate != RATE:
                    self.analyzer.set_sample_rate(RATE)
                state = self.analyzer.append_audio(frame.audio, self.speaking)
                if state == EndOfTurnState.COMPLETE:
                    await self.push_frame(TranscriptionFrame("", "user", ""))
                return  # audio stops here (STT consumes it)
            if isinstance(frame, VADUserStartedSpeakingFrame):
                self.speaking = True
            elif isinstance(frame, VADUserStoppedSpeakingFrame):
                self.speaking = False
                recorder.speech_stopped(self.index, loop.time())
                state, _ = await self.analyzer.analyze_end_of_turn()
                if state == EndOfTurnState.COMPLETE:
                    await self.push_frame(TranscriptionFrame("", "user", ""))
                return
            await self.push_frame(frame, direction)

    class Delayed(FrameProcessor):
        """A fake service: after ``delay``, answers ``trigger`` frames with ``make()``."""

        def __init__(self, trigger: type, delay: float, make: Callable[[], Frame]) -> None:
            super().__init__()
            self.trigger, self.delay, self.make = trigger, delay, make

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, self.trigger):
                self.create_task(self._answer())
            else:
                await self.push_frame(frame, direction)

        async def _answer(self) -> None:
            await asyncio.sleep(self.delay)
            await self.push_frame(self.make())

    class PacedOutput(FrameProcessor):
        """A transport's output: one 20 ms mu-law frame every 20 ms, on its own task."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index
            self.pending: list[bytes] = []
            self.first = False
            self.task: asyncio.Task[None] | None = None

        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            if isinstance(frame, OutputAudioRawFrame):
                audio = frame.audio
                cut = range(0, len(audio), frame_bytes)
                self.pending = [audio[i : i + frame_bytes] for i in cut]
                self.first = True
                if self.task is None:
                    self.task = self.create_task(self._send())
            else:
                await self.push_frame(frame, direction)

        async def _send(self) -> None:
            due = loop.time()
            while True:
                await asyncio.sleep(max(due - loop.time(), 0))
                chunk = self.pending.pop(0) if self.pending else silence
                ulaw_encode(np.frombuffer(chunk, dtype=np.int16))
                now = loop.time()
                if self.first:
                    self.first = False
                    recorder.first_frame(self.index, now)
                if recorder.measuring:
                    recorder.output.append(now - due)
                due += 0.02

    runner = WorkerRunner(handle_sigint=False)
    workers = []
    for index in range(calls):
        pipeline = Pipeline(
            [
                TimedVAD(vad_analyzer=SileroVADAnalyzer()),
                Turns(index),
                Delayed(TranscriptionFrame, delays.stt, lambda: TextFrame(QUESTION)),
                Delayed(TextFrame, delays.llm, lambda: TextFrame(REPLY)),
                Delayed(
                    TextFrame,
                    delays.tts,
                    lambda: OutputAudioRawFrame(reply.tobytes(), sample_rate=RATE, num_channels=1),
                ),
                PacedOutput(index),
            ]
        )
        worker = PipelineWorker(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=RATE, audio_out_sample_rate=RATE),
            cancel_on_idle_timeout=False,
            check_dangling_tasks=False,
        )
        workers.append(worker)
        await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())

    async def feed(worker: PipelineWorker, offset: int) -> None:
        due = loop.time()
        position = offset
        while True:
            await asyncio.sleep(max(due - loop.time(), 0))
            at = position % cycle
            chunk = question[at : at + frame_bytes] if at < len(question) else silence
            position += frame_bytes
            frame = InputAudioRawFrame(chunk, sample_rate=RATE, num_channels=1)
            frame.due = due  # type: ignore[attr-defined]
            await worker.queue_frame(frame)
            due += 0.02

    rng = np.random.default_rng(7)
    await asyncio.sleep(1.0)  # pipelines started
    feeders = [
        asyncio.create_task(feed(worker, int(rng.integers(0, cycle // frame_bytes)) * frame_bytes))
        for worker in workers
    ]
    await asyncio.sleep(WARM_UP)
    recorder.measuring = True
    await asyncio.sleep(seconds)
    recorder.measuring = False
    for task in feeders:
        task.cancel()
    running.cancel()
    return recorder


# -- the cost of a frame hop through pipecat processors --


async def hop_cost(calls: int, processors: int, seconds: float) -> float:
    """CPU microseconds per frame per processor: ``calls`` pipelines of ``processors``
    pass-through processors, each fed 50 frames a second."""
    from loguru import logger

    logger.remove()
    from pipecat.frames.frames import Frame, InputAudioRawFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
    from pipecat.workers.runner import WorkerRunner

    class Pass(FrameProcessor):
        async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
            await super().process_frame(frame, direction)
            await self.push_frame(frame, direction)

    runner = WorkerRunner(handle_sigint=False)
    workers = []
    for _ in range(calls):
        worker = PipelineWorker(
            Pipeline([Pass() for _ in range(processors)]),
            params=PipelineParams(audio_in_sample_rate=8000),
            cancel_on_idle_timeout=False,
            check_dangling_tasks=False,
        )
        workers.append(worker)
        await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    await asyncio.sleep(1.0)
    loop = asyncio.get_running_loop()
    ticks = int(seconds / 0.02)
    cpu, due = time.process_time(), loop.time()
    for _ in range(ticks):
        await asyncio.sleep(max(due - loop.time(), 0))
        for worker in workers:
            await worker.queue_frame(InputAudioRawFrame(bytes(320), 8000, 1))
        due += 0.02
    await asyncio.sleep(0.5)
    used = time.process_time() - cpu
    running.cancel()
    return used / (ticks * calls * processors) * 1e6
