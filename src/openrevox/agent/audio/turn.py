"""End-of-turn detection: pipecat's smart-turn v3 model, one session per worker.

The VAD says when speech stops; the turn model says whether the speaker is done (a
pause after "Wait, wait," is not the end of a turn). pipecat runs a smart-turn session
and a thread per call and predicts only once the VAD has confirmed the stop. Here one
session serves every call of the worker, and a stream may ask early (as soon as speech
pauses), so that the verdict is ready when the VAD confirms the stop: the prediction
(~100 ms of CPU here) is then off the turn's critical path.

The session lives in a helper process: pipecat's Whisper feature extraction holds the
GIL for tens of milliseconds at a time (measured), which in the worker would stall the
20 ms audio clock of every call.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Final

from openrevox.agent.audio.codec import RATE, Samples, to_float

COMPLETE: Final = 0.5  # probability above which a turn is over

_model: object | None = None  # the helper process's analyzer


def _die_with_the_worker() -> None:
    """End this helper within a second of its worker ending, however the worker ends."""
    worker = os.getppid()

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="openrevox-turn-watch", daemon=True).start()


def _load() -> None:
    """In the helper process: tied to the worker, quiet logs, the model."""
    global _model
    _die_with_the_worker()
    from loguru import logger
    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

    logger.remove()
    analyzer = LocalSmartTurnAnalyzerV3(cpu_count=1)
    analyzer.set_sample_rate(RATE)
    _model = analyzer


def _probability(samples: Samples) -> float:
    """In the helper process: pipecat's v3 analyzer's one prediction step (resampling,
    Whisper features, the session), without its per-call thread."""
    from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

    assert isinstance(_model, LocalSmartTurnAnalyzerV3)
    if len(samples) == 0:
        return 0.0
    return float(_model._predict_endpoint(to_float(samples))["probability"])


class SmartTurn:
    """The worker's smart-turn v3 model (one session, in one helper process)."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_load
        )

    def predict(self, samples: Samples) -> Future[float]:
        """P(the turn is over) for a turn's audio so far (8 kHz; the last 8 s count)."""
        return self._pool.submit(_probability, samples)

    def probability(self, samples: Samples) -> float:
        return self.predict(samples).result()

    async def is_complete(self, samples: Samples) -> bool:
        return await asyncio.wrap_future(self.predict(samples)) >= COMPLETE

    def close(self) -> None:
        """End the helper process now."""
        self._pool.shutdown(wait=False, cancel_futures=True)


_shared: SmartTurn | None = None
_shared_lock = threading.Lock()


def shared_smart_turn() -> SmartTurn:
    """The worker-wide model (its process starts on first use, ~2 s)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SmartTurn()
        return _shared
