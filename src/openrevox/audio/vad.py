"""pipecat's voice activity detection over the shared Silero session.

``SileroVAD`` is a pipecat ``VADAnalyzer``: pipecat's state machine (``start_secs`` of
speech to start, ``stop_secs`` of quiet to stop, the volume gate) decides, and the
confidences come from the process's one Silero session with this stream's own state.
It works two ways:

- inside a pipecat pipeline (``VADProcessor(vad_analyzer=SileroVAD())``), scoring one
  window at a time like pipecat's ``SileroVADAnalyzer`` but without a session of its own;
- driven by the audio engine, which collects the complete windows of every stream
  (``windows``), scores them in one batched run, and hands each stream its confidences
  (``advance``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADAnalyzer, VADParams, VADState

from openrevox.audio.codec import Samples, to_float
from openrevox.audio.silero import RATE, WINDOW, SileroModel, SileroState, shared_silero

# pipecat's reset policy (audio/vad/silero.py): after long non-speech the recurrent
# state under-reports the next speech, so it is cleared every 2 s of quiet audio.
_RESET_WINDOWS = int(2.0 * RATE / WINDOW)
_RESET_MAX_CONFIDENCE = 0.1
_RESET_LOW_WINDOWS = 5


def default_params() -> VADParams:
    """pipecat's defaults: 0.7 confidence, 0.2 s to start, 0.2 s to stop (the end of
    a turn is then the turn model's call, as in pipecat)."""
    return VADParams()


class SileroVAD(VADAnalyzer):
    """One stream's VAD (8 kHz) over a shared ``SileroModel``."""

    def __init__(self, model: SileroModel | None = None, params: VADParams | None = None) -> None:
        super().__init__(sample_rate=RATE, params=params or default_params())
        self.set_sample_rate(RATE)
        self._model = model or shared_silero()
        self._stream = SileroState()
        self._buffer = np.zeros(0, dtype=np.int16)
        self._scored: deque[float] = deque()
        self._since_reset = 0
        self._low_run = 0

    @property
    def state(self) -> VADState:
        return self._vad_state

    @property
    def stream(self) -> SileroState:
        return self._stream

    def num_frames_required(self) -> int:
        return WINDOW

    def voice_confidence(self, buffer: bytes) -> float:
        """A window's confidence: the one the engine scored in its batch, else scored now."""
        if self._scored:
            confidence = self._scored.popleft()
        else:
            window = to_float(np.frombuffer(buffer, dtype=np.int16))
            confidence = float(self._model.score([window], [self._stream])[0])
        self._maybe_reset(confidence)
        return confidence

    def windows(self, samples: Samples) -> list[Samples]:
        """Buffer ``samples``; the complete windows now ready (engine path)."""
        self._buffer = np.concatenate([self._buffer, samples]) if len(self._buffer) else samples
        count = len(self._buffer) // WINDOW
        ready = [self._buffer[i * WINDOW : (i + 1) * WINDOW] for i in range(count)]
        self._buffer = self._buffer[count * WINDOW :]
        return ready

    def advance(self, windows: Sequence[Samples], confidences: Sequence[float]) -> list[VADState]:
        """pipecat's state machine over each window, with its batched confidence; the
        state after each window."""
        states: list[VADState] = []
        for window, confidence in zip(windows, confidences, strict=True):
            self._scored.append(float(confidence))
            states.append(self._run_analyzer(window.tobytes()))
        return states

    def _maybe_reset(self, confidence: float) -> None:
        self._since_reset += 1
        self._low_run = self._low_run + 1 if confidence < _RESET_MAX_CONFIDENCE else 0
        if (
            self._since_reset >= _RESET_WINDOWS
            and self._vad_state == VADState.QUIET
            and self._low_run >= _RESET_LOW_WINDOWS
        ):
            self._stream.reset()
            self._since_reset = 0
