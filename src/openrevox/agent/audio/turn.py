"""End-of-turn detection: pipecat's smart-turn v3 model, one session per process.

The VAD says when speech stops; the turn model says whether the speaker is done (a
pause after "Wait, wait," is not the end of a turn). pipecat runs a smart-turn session
and a thread per call and predicts only once the VAD has confirmed the stop; here one
session serves the process on one thread, and a stream may ask early (``predict`` as
soon as speech pauses) so that the verdict is ready when the VAD confirms the stop: the
prediction (~100 ms of CPU here) is then off the turn's critical path.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3

from openrevox.agent.audio.codec import RATE, Samples, to_float

COMPLETE: Final = 0.5  # probability above which a turn is over


class SmartTurn:
    """The process's smart-turn v3 model (one onnxruntime session, one thread)."""

    def __init__(self) -> None:
        self._analyzer = LocalSmartTurnAnalyzerV3(cpu_count=1)
        self._analyzer.set_sample_rate(RATE)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openrevox-turn")

    def probability(self, samples: Samples) -> float:
        """P(the turn is over) for a turn's audio so far (8 kHz; the last 8 s count).
        Blocking; pipecat's own preprocessing (resampling, Whisper features)."""
        if len(samples) == 0:
            return 0.0
        # pipecat's v3 analyzer: its one prediction step, without its per-call thread.
        result = self._analyzer._predict_endpoint(to_float(samples))
        return float(result["probability"])

    def predict(self, samples: Samples) -> Future[float]:
        """``probability`` on the model's thread."""
        return self._thread.submit(self.probability, samples)

    async def is_complete(self, samples: Samples) -> bool:
        return await asyncio.wrap_future(self.predict(samples)) >= COMPLETE


_shared: SmartTurn | None = None
_shared_lock = threading.Lock()


def shared_smart_turn() -> SmartTurn:
    """The process-wide model (loaded on first use, ~0.3 s)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SmartTurn()
        return _shared
