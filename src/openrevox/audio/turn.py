"""End-of-turn detection: pipecat's smart-turn v3 model, shared by every call of a worker.

The VAD says when speech stops; the turn model says whether the speaker is done (a
pause after "Wait, wait," is not the end of a turn). pipecat runs a smart-turn session
and a thread per call and predicts only once the VAD has confirmed the stop. Here the
worker's sessions serve every call, and a stream may ask early (as soon as speech
pauses), so that the verdict is ready when the VAD confirms the stop: the prediction
is then off the turn's critical path (its cost: ``bench/audio_models.py``, quoted in
docs/audio-fidelity.md).

The sessions live in helper processes: resampling and Whisper feature extraction hold
the GIL while they run, which in the worker would stall the 20 ms audio clock of every
call. The features are computed only where the turn's audio is (``turn_features``), with
the same result as pipecat's in less than half its CPU time (``bench/audio_models.py``).

A helper is a plain child process fed through a pipe, one request at a time; there are
two (``SmartTurn``). The queue stays in the worker, where a request that went stale
before its turn came (the speaker went on talking, or the stream asked again with more
audio) is dropped for free: on a busy worker the model spends its time only on pauses
that may still end a turn. A helper runs numpy's BLAS and onnxruntime on one thread
each: OpenBLAS's idle threads spin, so a prediction costs about twice the CPU with its
default two threads on the 2-core machine (``bench/audio_models.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
import onnxruntime
import soxr

from openrevox.audio.codec import RATE, Samples, to_float
from openrevox.audio.turn_features import log_mel, padded

log = logging.getLogger("openrevox.audio")

COMPLETE: Final = 0.5  # probability above which a turn is over
MODEL_RATE: Final = 16000

# The helper's environment: one thread for each numeric library (see the docstring).
_ONE_THREAD: Final = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
_REQUEST: Final = struct.Struct("<I")  # the request's length in bytes, then int16 samples
_ANSWER: Final = struct.Struct("<?d")  # ok, probability


class TurnModelError(RuntimeError):
    """The helper process failed a prediction (or died); the next request restarts it."""


def model_path() -> str:
    data = importlib.resources.files("pipecat.audio.turn.smart_turn.data")
    return str(data.joinpath("smart-turn-v3.2-cpu.onnx"))


def open_session() -> Any:
    """The model's session: sequential, one thread (pipecat uses one per core, but here
    the worker's clock needs the other core, and a second thread costs more CPU than it
    saves time: ``bench/audio_models.py``)."""
    options = onnxruntime.SessionOptions()
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(model_path(), sess_options=options)


def probability(session: Any, samples: Samples) -> float:
    """P(the turn is over) as pipecat's ``LocalSmartTurnAnalyzerV3`` computes it: 16 kHz
    (soxr, high quality), the last 8 s front-padded, Whisper features, the model."""
    if len(samples) == 0:
        return 0.0
    audio = soxr.resample(to_float(samples), RATE, MODEL_RATE, quality="HQ")
    features = log_mel(padded(audio))
    outputs = session.run(None, {"input_features": features[None]})
    return float(np.asarray(outputs[0]).reshape(-1)[0])


# -- the helper process --


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """``size`` bytes, or None at the end of the stream."""
    chunks: list[bytes] = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _die_with_the_worker() -> None:
    """End this helper within a second of its worker ending, even when a process forked
    from the worker still holds the pipe open."""
    worker = os.getppid()

    def watch() -> None:
        while os.getppid() == worker:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="openrevox-turn-watch", daemon=True).start()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: a request's samples in, its probability out, until the worker
    closes the pipe."""
    session = open_session()
    while True:
        header = _read_exactly(requests, _REQUEST.size)
        payload = _read_exactly(requests, _REQUEST.unpack(header)[0]) if header else None
        if payload is None:
            return
        try:
            answer = _ANSWER.pack(True, probability(session, np.frombuffer(payload, np.int16)))
        except Exception:
            logging.getLogger("openrevox.audio").exception("smart-turn failed")
            answer = _ANSWER.pack(False, 0.0)
        try:
            answers.write(answer)
            answers.flush()
        except BrokenPipeError:  # the worker is gone
            return


def _helper_main(answers: IO[bytes]) -> None:
    """The helper process's entry point (``_Helper``'s command)."""
    _die_with_the_worker()
    serve(sys.stdin.buffer, answers)


class _Helper:
    """The child process and its pipes (used by the dispatcher thread only)."""

    def __init__(self) -> None:
        # The helper imports the worker's own openrevox: its folder goes on the helper's
        # path unless the interpreter finds it there already (an installed package).
        root = str(Path(__file__).resolve().parents[3])
        # The answers get the pipe that stdout was; stdout itself goes to stderr before
        # anything is imported, so that no library's print can corrupt an answer.
        # The helper keeps the worker's priority: below it (nice +10, as pocketsphinx
        # and Piper run) any other busy process on the machine starved it, and turns
        # waited past their stop for their verdicts; the clock wakes every 20 ms, briefly,
        # and takes its core back from a helper at once.
        command = (
            "import os, sys; answers = os.fdopen(os.dup(1), 'wb'); os.dup2(2, 1); "
            f"{root!r} in sys.path or sys.path.insert(0, {root!r}); "
            "from openrevox.audio.turn import _helper_main; _helper_main(answers)"
        )
        env = {**os.environ, **_ONE_THREAD}
        self.process = subprocess.Popen(
            [sys.executable, "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )

    def ask(self, samples: Samples) -> float:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        payload = np.ascontiguousarray(samples, dtype=np.int16).tobytes()
        try:
            stdin.write(_REQUEST.pack(len(payload)) + payload)
            stdin.flush()
            answer = _read_exactly(stdout, _ANSWER.size)
        except OSError as error:
            raise TurnModelError("the smart-turn helper is gone") from error
        if answer is None:
            raise TurnModelError(f"the smart-turn helper ended ({self.process.poll()})")
        ok, value = _ANSWER.unpack(answer)
        if not ok:
            raise TurnModelError("the smart-turn helper failed a prediction (see its log)")
        return float(value)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()  # the helper ends at the end of its input
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(1.0)


class Requests:
    """Requests waiting for the model, oldest first, at most one per stream: a stream's
    newer request replaces its waiting one (whose future is cancelled: the newer one
    has more audio) and keeps its place. Not thread-safe: ``SmartTurn`` locks it."""

    def __init__(self) -> None:
        self._waiting: dict[object, tuple[Future[float], Samples]] = {}  # oldest first
        self.dropped = 0  # requests dropped unrun (stale)

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, future: Future[float], samples: Samples, stream: object | None = None) -> None:
        key = object() if stream is None else stream
        stale = self._waiting.get(key)
        if stale is not None and stale[0].cancel():
            self.dropped += 1
        self._waiting[key] = (future, samples)  # a replaced request keeps its place

    def take(self, busy: Collection[object] = ()) -> tuple[object, Future[float], Samples] | None:
        """The oldest request still wanted whose stream is not ``busy``, now marked
        running, with its stream; None when there is none."""
        for key in list(self._waiting):
            if key in busy:
                continue
            future, samples = self._waiting.pop(key)
            if future.set_running_or_notify_cancel():
                return key, future, samples
            self.dropped += 1  # cancelled while it waited: the speaker went on
        return None

    def cancel(self) -> None:
        for future, _ in self._waiting.values():
            future.cancel()
        self._waiting.clear()


def _helper_count() -> int:
    """Predictions that may run at once: two (one on each core of a 2-core machine),
    one on a single core."""
    return max(1, min(2, os.cpu_count() or 1))


class SmartTurn:
    """The worker's smart-turn v3 model, in helper processes fed by dispatcher threads,
    oldest request first (``Requests``).

    Two helpers on a machine of two cores or more (one session, one thread each), both
    started on first use, before calls come: two turns ending together then both have
    their verdict on time, and a prediction still takes one core while it runs. Cancelling
    a future that has not started drops its request; a stream's request never runs
    while another of the same stream does. A helper that dies fails the request under
    way (the turn then ends at ``max_pause``); its next request starts a new one.
    """

    def __init__(self, helpers: int | None = None) -> None:
        self._changed = threading.Condition()
        self._requests = Requests()
        self._slots = helpers or _helper_count()
        self._threads: list[threading.Thread] = []
        self._helpers: dict[int, _Helper] = {}  # by dispatcher
        self._busy: set[object] = set()  # streams whose request runs
        self._closed = False
        self.asked = 0  # predictions run (the benchmarks report it)

    @property
    def dropped(self) -> int:
        """Requests dropped unrun because they went stale."""
        return self._requests.dropped

    @property
    def helper_pids(self) -> list[int]:
        """The ids of the helper processes running, the first one's first."""
        return [self._helpers[index].process.pid for index in sorted(self._helpers.copy())]

    def predict(self, samples: Samples, stream: object | None = None) -> Future[float]:
        """P(the turn is over) for a turn's audio so far (8 kHz; the last 8 s count).
        ``stream``: whose turn it is (a newer request of the same stream replaces this
        one while it waits)."""
        future: Future[float] = Future()
        with self._changed:
            if self._closed:
                future.set_exception(TurnModelError("the turn model is closed"))
                return future
            self._requests.put(future, samples, stream)
            if not self._threads:  # first use: every helper starts loading now
                for index in range(self._slots):
                    thread = threading.Thread(
                        target=self._dispatch, args=(index,), name=f"openrevox-turn-{index}"
                    )
                    thread.daemon = True
                    self._threads.append(thread)
                    thread.start()
            self._changed.notify()
        return future

    def probability(self, samples: Samples) -> float:
        return self.predict(samples).result()

    async def is_complete(self, samples: Samples) -> bool:
        return await asyncio.wrap_future(self.predict(samples)) >= COMPLETE

    def _next(self) -> tuple[object, Future[float], Samples] | None:
        """The next request to run; None once closed."""
        with self._changed:
            while not self._closed:
                request = self._requests.take(self._busy)
                if request is not None:
                    self._busy.add(request[0])
                    return request
                self._changed.wait()
            return None

    def _done(self, stream: object, ran: bool) -> None:
        with self._changed:
            self.asked += ran
            self._busy.discard(stream)
            self._changed.notify()  # its stream's next request may run now

    def _dispatch(self, index: int) -> None:
        with contextlib.suppress(OSError):  # loading while the first requests come
            self._helpers[index] = _Helper()
        while (request := self._next()) is not None:
            stream, future, samples = request
            try:
                helper = self._helpers.get(index)
                if helper is None:
                    helper = self._helpers[index] = _Helper()
                value = helper.ask(samples)
            except BaseException as error:  # the future carries it; the helper restarts
                failed = self._helpers.pop(index, None)
                if failed is not None:
                    failed.close()
                self._done(stream, ran=False)
                future.set_exception(error)
            else:
                self._done(stream, ran=True)  # counted before anyone sees the answer
                future.set_result(value)
        helper = self._helpers.pop(index, None)
        if helper is not None:
            helper.close()

    def close(self) -> None:
        """End the helper processes (once the requests under way are answered)."""
        with self._changed:
            self._closed = True
            self._requests.cancel()
            self._changed.notify_all()


_shared: SmartTurn | None = None
_shared_lock = threading.Lock()


def shared_smart_turn() -> SmartTurn:
    """The worker-wide model (its processes start on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SmartTurn()
        return _shared
