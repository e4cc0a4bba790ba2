"""End-of-turn detection: pipecat's smart-turn v3 model, one session per worker.

The VAD says when speech stops; the turn model says whether the speaker is done (a
pause after "Wait, wait," is not the end of a turn). pipecat runs a smart-turn session
and a thread per call and predicts only once the VAD has confirmed the stop. Here one
session serves every call of the worker, and a stream may ask early (as soon as speech
pauses), so that the verdict is ready when the VAD confirms the stop: the prediction
(~100 ms of CPU here) is then off the turn's critical path.

The session lives in a helper process: Whisper feature extraction holds the GIL for
tens of milliseconds at a time (measured), which in the worker would stall the 20 ms
audio clock of every call. The features are computed only where the turn's audio is
(``turn_features``): about 6 ms instead of pipecat's 40-50 for a 2-second turn, with the
same result; the model itself then costs ~70 ms.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Final

import numpy as np
import onnxruntime
import soxr

from openrevox.agent.audio.codec import RATE, Samples, to_float
from openrevox.agent.audio.turn_features import log_mel, padded

COMPLETE: Final = 0.5  # probability above which a turn is over
MODEL_RATE: Final = 16000

_session: Any = None  # the helper process's onnxruntime session


def model_path() -> str:
    data = importlib.resources.files("pipecat.audio.turn.smart_turn.data")
    return str(data.joinpath("smart-turn-v3.2-cpu.onnx"))


def open_session() -> Any:
    """The model's session, with pipecat's options (sequential, one thread)."""
    options = onnxruntime.SessionOptions()
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(model_path(), sess_options=options)


def _die_with_the_worker() -> None:
    """End this helper within a second of its worker ending, however the worker ends."""
    worker = os.getppid()

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="openrevox-turn-watch", daemon=True).start()


def _load() -> None:
    """In the helper process: tied to the worker, the model."""
    global _session
    _die_with_the_worker()
    _session = open_session()


def probability(session: Any, samples: Samples) -> float:
    """P(the turn is over) as pipecat's ``LocalSmartTurnAnalyzerV3`` computes it: 16 kHz
    (soxr, high quality), the last 8 s front-padded, Whisper features, the model."""
    if len(samples) == 0:
        return 0.0
    audio = soxr.resample(to_float(samples), RATE, MODEL_RATE, quality="HQ")
    features = log_mel(padded(audio))
    outputs = session.run(None, {"input_features": features[None]})
    return float(np.asarray(outputs[0]).reshape(-1)[0])


def _probability(samples: Samples) -> float:
    """In the helper process."""
    return probability(_session, samples)


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
