"""What the audio kit's models cost on this machine: the figures quoted in
``openrevox/audio/turn.py``, ``turn_features.py``, ``silero.py`` and
docs/audio-fidelity.md.

- ``turn``: smart-turn v3 on a 2-second turn (a voiced-like synthetic signal: the model's
  cost does not depend on what is said).
  - a prediction's CPU and wall time, each set-up in a fresh process (thread counts are
    fixed when numpy and onnxruntime load): ours (one BLAS and one onnxruntime thread),
    numpy's BLAS with its default threads, and two onnxruntime threads. CPU is the
    process's user + system time over spaced predictions (a pause between two, as turns
    come), so that threads spinning after a prediction are counted;
  - its Whisper features (CPU time, with one BLAS thread as in the helpers): ours
    (``turn_features``) against pipecat's ``compute_whisper_log_mel_features`` on the same
    8 s window;
  - a helper process's memory (resident set) once it has predicted;
  - its verdicts on the bundled Piper voices (one rendering: Piper is not deterministic),
    and the longest pause inside each of those utterances;
  - the verdict's slack (from asking, ``lead`` before ``min_pause``, to the VAD's stop)
    and a queue simulation of one and two helpers: turns ending at random at a given
    rate, each prediction taking the CPU time measured above (its wall time on a free
    core), then the wall time measured (on this machine, as loaded as it is); how many
    verdicts come after the stop, and how late.
- ``silero``: the VAD session's load time, and a 32 ms window scored alone and in a
  batch of 16 streams.
- ``stt``: a pocketsphinx decoder's build time and memory, with the phone-call model's
  cut dictionary and with the general model's whole CMUdict.

It prints figures and asserts nothing. Real time on a shared machine: the load average is
printed with the figures.

    .venv/bin/python bench/audio_models.py
    .venv/bin/python bench/audio_models.py --only turn --predictions 40
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TURN_SECONDS = 2.0
OURS = "ours: 1 BLAS thread, 1 onnxruntime thread"
SETUPS = {  # name: (BLAS threads, None for numpy's default; onnxruntime intra-op threads)
    OURS: ("1", 1),
    "BLAS default threads, 1 onnxruntime thread": (None, 1),
    "1 BLAS thread, 2 onnxruntime threads": ("1", 2),
}
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def turn_audio(seconds: float = TURN_SECONDS) -> Any:
    """A voiced-like turn at 8 kHz (int16): harmonics of a moving pitch, with noise."""
    import numpy as np

    rate = 8000
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.8 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8)) * 0.2
    noise = 0.01 * np.random.default_rng(7).standard_normal(len(t))
    return ((voiced + noise) * 32767 * 0.5).astype(np.int16)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median_ms(run: Any, repeat: int, clock: Any = time.perf_counter) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        run()
        times.append((clock() - start) * 1000)
    return statistics.median(times)


def features(repeat: int) -> dict[str, float]:
    """CPU milliseconds of a turn's features, ours and pipecat's."""
    import soxr
    from pipecat.audio.turn.smart_turn._whisper_features import (
        compute_whisper_log_mel_features,
    )

    from openrevox.audio.codec import to_float
    from openrevox.audio.turn_features import log_mel, padded

    audio = padded(soxr.resample(to_float(turn_audio()), 8000, 16000, quality="HQ"))
    return {
        "features_ours_ms": _median_ms(lambda: log_mel(audio), repeat, time.process_time),
        "features_pipecat_ms": _median_ms(
            lambda: compute_whisper_log_mel_features(audio), repeat, time.process_time
        ),
    }


def prediction_child(predictions: int, intra_threads: int, pause: float) -> None:
    """In a fresh process: CPU and wall time per prediction with these thread counts."""
    import onnxruntime

    from openrevox.audio import turn

    options = onnxruntime.SessionOptions()
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = intra_threads
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = onnxruntime.InferenceSession(turn.model_path(), sess_options=options)
    samples = turn_audio()
    for _ in range(3):  # warm-up
        turn.probability(session, samples)
    walls = []
    cpu_start = _cpu()
    for _ in range(predictions):
        start = time.perf_counter()
        turn.probability(session, samples)
        walls.append((time.perf_counter() - start) * 1000)
        time.sleep(pause)
    cpu_ms = (_cpu() - cpu_start) * 1000 / predictions
    figures = {"cpu_ms": cpu_ms, "wall_ms": statistics.median(walls), **features(repeat=50)}
    print(json.dumps(figures))


def predictions(count: int, pause: float) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for name, (blas, intra) in SETUPS.items():
        env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
        if blas is not None:
            env.update(dict.fromkeys(BLAS_VARIABLES, blas))
        command = [sys.executable, __file__, "--child", str(count), str(intra), str(pause)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        figures = results[name]
        print(
            f"  {name:44} CPU {figures['cpu_ms']:5.0f} ms, wall {figures['wall_ms']:5.0f} ms"
            f" per prediction ({count} predictions, {pause:.2f} s apart)"
        )
    return results


def helper_memory() -> None:
    from openrevox.audio.turn import SmartTurn

    model = SmartTurn(helpers=1)
    try:
        model.probability(turn_audio())
        [pid] = model.helper_pids
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        megabytes = int(rss.split()[1]) / 1024
        print(f"  a helper process after a prediction: {megabytes:.0f} MB resident")
    finally:
        model.close()


def slack_ms() -> float:
    """From the model's request to the VAD's stop, as the ear counts pauses (windows)."""
    from openrevox.audio.ear import TurnPolicy, _windows
    from openrevox.audio.silero import RATE, WINDOW

    policy = TurnPolicy(model=None)
    asked = max(_windows(policy.min_pause - policy.lead), 1)
    window_ms = WINDOW / RATE * 1000
    return (_windows(policy.min_pause) - asked) * window_ms


def queue(service_ms: float, slack: float, rate: float, helpers: int, turns: int) -> str:
    """Turns ending at random (Poisson, ``rate`` a second) served first come first served
    by ``helpers``; the share of verdicts after the stop and the 95th percentile of how
    late (0 when on time)."""
    rng = random.Random(1)
    free = [0.0] * helpers
    now = 0.0
    late = []
    for _ in range(turns):
        now += rng.expovariate(rate) * 1000
        index = min(range(helpers), key=free.__getitem__)
        done = max(now, free[index]) + service_ms
        free[index] = done
        late.append(max(0.0, done - now - slack))
    share = sum(1 for ms in late if ms > 0) / turns
    p95 = statistics.quantiles(late, n=20)[-1]
    return f"{share:.0%} of verdicts after the stop, p95 {p95:.0f} ms late"


def turn(count: int, pause: float, rate: float) -> None:
    print("smart-turn v3")
    results = predictions(count, pause)
    ours = results[OURS]
    print(
        f"  features of a {TURN_SECONDS:.0f} s turn (8 s window, {OURS[6:]}): "
        f"ours {ours['features_ours_ms']:.1f} ms of CPU, "
        f"pipecat's {ours['features_pipecat_ms']:.1f} ms (median of 50)"
    )
    helper_memory()
    verdicts()
    slack = slack_ms()
    print(f"  slack from the request to the VAD's stop: {slack:.0f} ms")
    # CPU time: a prediction's wall time on a free core (one thread); wall: on this
    # machine as loaded as it is now.
    for basis in ("cpu_ms", "wall_ms"):
        service = ours[basis]
        for helpers in (1, 2):
            outcome = queue(service, slack, rate, helpers, turns=100_000)
            print(
                f"  {helpers} helper(s), {rate:g} turns/s, {service:.0f} ms each "
                f"({basis[:-3]}): {outcome}"
            )


VERDICT_UTTERANCES = (  # what the sandbox's voices say, complete or cut short
    ("My name is", "agent"),
    ("Okay, sounds good.", "callee"),
    ("Sure, my name is Alex Martin. My email is alex dot martin at example dot com.", "callee"),
    ("Yes, absolutely. Thank you, goodbye!", "callee"),
)


def verdicts() -> None:
    """smart-turn's verdict on the bundled Piper voices through mu-law, and the longest
    quiet stretch inside each utterance (10 ms blocks, as ``tts`` finds speech)."""
    import numpy as np

    from openrevox.audio import codec, turn
    from openrevox.audio.tts import _VOICED_LEVEL, AGENT, CALLEE, Synthesizer

    session, voice = turn.open_session(), Synthesizer()
    for text, who in VERDICT_UTTERANCES:
        speech = voice.sentence(text, AGENT if who == "agent" else CALLEE)
        audio = codec.ulaw_decode(codec.ulaw_encode(speech.samples))
        block = codec.RATE // 100
        loud = np.abs(audio[: len(audio) // block * block].reshape(-1, block)).max(axis=1)
        voiced = np.flatnonzero(loud > _VOICED_LEVEL)
        gaps = np.diff(voiced) - 1 if len(voiced) > 1 else np.zeros(1, dtype=np.int64)
        print(
            f"  {who:6} {text!r}: P(turn over) {turn.probability(session, audio):.2f}, "
            f"longest pause inside {int(gaps.max()) * 10} ms"
        )


def silero() -> None:
    import numpy as np

    from openrevox.audio.silero import WINDOW, SileroModel, SileroState

    print("Silero VAD")
    start = time.perf_counter()
    model = SileroModel()
    print(f"  session load: {(time.perf_counter() - start) * 1000:.0f} ms")
    rng = np.random.default_rng(3)
    window = (0.1 * rng.standard_normal(WINDOW)).astype(np.float32)
    for streams in (1, 16):
        states = [SileroState() for _ in range(streams)]
        windows = [window] * streams
        for _ in range(20):  # warm-up
            model.score(windows, states)
        each = _median_ms(lambda: model.score(windows, states), 500) / streams  # noqa: B023
        print(f"  a 32 ms window, {streams:2} stream(s) per run: {each:.3f} ms per window")


def _resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def stt() -> None:
    from openrevox.audio.stt import Recognizer

    print("pocketsphinx")
    kept = []  # alive while measuring: each decoder holds its own memory
    for label, general in (("phone-call model", False), ("general model", True)):
        recognizer = Recognizer(general=general)
        if not general:
            recognizer._model_files()  # built once per set of hints: not a decoder's cost
        times, resident = [], [_resident_mb()]
        for _ in range(3):
            start = time.perf_counter()
            kept.append(recognizer._new_decoder())
            times.append((time.perf_counter() - start) * 1000)
            resident.append(_resident_mb())
        dictionary = Path(kept[-1].get_config()["dict"]).read_text(encoding="utf-8")
        words = len(dictionary.splitlines())
        each = (resident[-1] - resident[1]) / 2  # the first one also loads shared parts
        print(
            f"  a decoder, {label} ({words:,} dictionary entries): "
            f"{statistics.median(times):.0f} ms, {each:.0f} MB (3 built)"
        )


SECTIONS = ("turn", "silero", "stt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=SECTIONS)
    parser.add_argument("--predictions", type=int, default=40)
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between predictions")
    parser.add_argument("--rate", type=float, default=5.0, help="turns a second (~30 calls)")
    parser.add_argument("--section", choices=SECTIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.section:  # one section in a process of its own (memory figures stay its own)
        if args.section == "turn":
            turn(args.predictions, args.pause, args.rate)
        elif args.section == "silero":
            silero()
        else:
            stt()
        return
    print(f"{os.cpu_count()} CPUs; load average {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")
    for section in (args.only,) if args.only else SECTIONS:
        options = ["--predictions", str(args.predictions), "--pause", str(args.pause)]
        options += ["--rate", str(args.rate), "--section", section]
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, *options], check=True)
    print(f"load average now {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        prediction_child(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
