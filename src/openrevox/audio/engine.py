"""The audio engine: one 20 ms clock for every live audio stream of the process.

Each tick, every endpoint sends its outgoing frame (speech, background, or silence),
then the VAD windows every endpoint received are scored in one batched run of the
shared Silero session, and each endpoint's VAD, turn and speech logic moves on. One
timer for all calls instead of per-call tasks and queues: that, and the batching, is
what lets one process carry many live audio calls (docs/benchmarks.md).

Frame lag is how late a frame's work finished against its tick: the engine records it
when asked (``lags``), for the benchmarks.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from typing import Final, Protocol

from openrevox.audio.codec import FRAME_SECONDS, Samples, to_float
from openrevox.audio.silero import SileroModel, SileroState, shared_silero

log = logging.getLogger("openrevox.audio")

MAX_CATCH_UP: Final = 5  # ticks replayed at once after a stall; older ones are dropped


class Endpoint(Protocol):
    """One side of a call as the engine drives it."""

    def emit(self) -> None:
        """Send this tick's outgoing frame."""
        ...

    def windows(self) -> list[Samples]:
        """The complete VAD windows of the audio received since the last tick."""
        ...

    @property
    def vad_stream(self) -> SileroState: ...

    def advance(self, windows: Sequence[Samples], confidences: Sequence[float]) -> None:
        """Move on with the windows' speech confidences."""
        ...


class FrameLags:
    """Lag samples in seconds: output (frame sent) and input (frame analysed)."""

    def __init__(self) -> None:
        self.output: list[float] = []
        self.input: list[float] = []

    def clear(self) -> None:
        self.output.clear()
        self.input.clear()


class AudioEngine:
    def __init__(self, model: SileroModel | None = None, tick: float = FRAME_SECONDS) -> None:
        self._model = model or shared_silero()
        self._tick = tick
        self._endpoints: list[Endpoint] = []
        self._task: asyncio.Task[None] | None = None
        self.lags: FrameLags | None = None  # set to record frame lags
        self.ticks = 0

    @property
    def model(self) -> SileroModel:
        return self._model

    def add(self, endpoint: Endpoint) -> None:
        self._endpoints.append(endpoint)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, endpoint: Endpoint) -> None:
        if endpoint in self._endpoints:
            self._endpoints.remove(endpoint)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while self._endpoints:
            now = loop.time()
            if now < due:
                await asyncio.sleep(due - now)
            elif now - due > MAX_CATCH_UP * self._tick:  # stalled: drop what cannot be caught
                due = now - MAX_CATCH_UP * self._tick
            self.step(due)
            due += self._tick

    def step(self, due: float) -> None:
        """One tick, due at ``due`` (event-loop time)."""
        self.ticks += 1
        endpoints = list(self._endpoints)
        lags = self.lags
        loop_time = asyncio.get_running_loop().time
        for endpoint in endpoints:
            try:
                endpoint.emit()
            except Exception:
                self._fault(endpoint)
            if lags is not None:
                lags.output.append(loop_time() - due)
        received: list[tuple[Endpoint, list[Samples]]] = []
        for endpoint in endpoints:
            try:
                received.append((endpoint, endpoint.windows()))
            except Exception:
                self._fault(endpoint)
        confidences: dict[int, list[float]] = {id(e): [] for e, _ in received}
        # A stream's windows are scored in order (its state moves on with each), so the
        # batch of round k holds the k-th window of every stream that has one.
        depth = max((len(windows) for _, windows in received), default=0)
        for round_index in range(depth):
            batch = [(e, w[round_index]) for e, w in received if len(w) > round_index]
            scores = self._model.score(
                [to_float(window) for _, window in batch], [e.vad_stream for e, _ in batch]
            )
            for (endpoint, _), score in zip(batch, scores, strict=True):
                confidences[id(endpoint)].append(float(score))
        for endpoint, windows in received:
            try:
                endpoint.advance(windows, confidences[id(endpoint)])
            except Exception:
                self._fault(endpoint)
        if lags is not None:
            late = loop_time() - due
            lags.input.extend(late for _ in endpoints)

    def _fault(self, endpoint: Endpoint) -> None:
        """One call's audio failed: that call leaves the clock, the others go on."""
        log.exception("an audio endpoint failed; it leaves the engine")
        self.remove(endpoint)


_engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AudioEngine] = (
    weakref.WeakKeyDictionary()
)


def loop_engine() -> AudioEngine:
    """The engine of the running event loop (one per loop, made on first use)."""
    loop = asyncio.get_running_loop()
    engine = _engines.get(loop)
    if engine is None:
        engine = _engines[loop] = AudioEngine()
    return engine
