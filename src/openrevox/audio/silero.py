"""Silero VAD with one onnxruntime session per process, shared by every call.

The model is the one pipecat ships (``pipecat/audio/vad/data/silero_vad.onnx``; never the
``silero-vad`` package, which pulls torch). pipecat's own ``SileroVADAnalyzer`` opens a
session, and a thread, per call; here a call owns only its recurrent state (2x128 floats
and 32 samples of context) and the session scores the windows of many calls in one
batched run: in a batch of 16 a window of 32 ms costs about a third of what it costs
alone (``bench/audio_models.py``, quoted in docs/audio-fidelity.md).
"""

from __future__ import annotations

import importlib.resources
import threading
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import onnxruntime

RATE: Final = 8000
WINDOW: Final = 256  # samples scored at once at 8 kHz (32 ms)
CONTEXT: Final = 32  # samples of the previous window the model sees again

Floats = npt.NDArray[np.float32]


def model_path() -> str:
    data = importlib.resources.files("pipecat.audio.vad.data").joinpath("silero_vad.onnx")
    return str(data)


class SileroState:
    """One stream's recurrent state."""

    __slots__ = ("context", "state")

    def __init__(self) -> None:
        self.state: Floats = np.zeros((2, 1, 128), dtype=np.float32)
        self.context: Floats = np.zeros((1, CONTEXT), dtype=np.float32)

    def reset(self) -> None:
        self.state = np.zeros((2, 1, 128), dtype=np.float32)
        self.context = np.zeros((1, CONTEXT), dtype=np.float32)


class SileroModel:
    """The process's Silero session. ``score`` is thread-safe (onnxruntime sessions are)."""

    def __init__(self, path: str | None = None) -> None:
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        self._session: Any = onnxruntime.InferenceSession(
            path or model_path(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._rate = np.array(RATE, dtype=np.int64)

    def score(self, windows: Sequence[Floats], states: Sequence[SileroState]) -> Floats:
        """Speech probabilities of one window (float32 in [-1, 1], ``WINDOW`` samples) per
        stream, in one run; each stream's state moves on by its window."""
        if not windows:
            return np.zeros(0, dtype=np.float32)
        contexts = np.concatenate([stream.context for stream in states])
        batch = np.concatenate([contexts, np.stack(windows)], axis=1)
        state = np.concatenate([s.state for s in states], axis=1)
        out, new_state = self._session.run(None, {"input": batch, "state": state, "sr": self._rate})
        for index, stream in enumerate(states):
            stream.state = new_state[:, index : index + 1, :]
            stream.context = batch[index : index + 1, -CONTEXT:]
        return np.asarray(out, dtype=np.float32).reshape(-1)


_shared: SileroModel | None = None
_shared_lock = threading.Lock()


def shared_silero() -> SileroModel:
    """The process-wide session (loaded on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SileroModel()
        return _shared
