"""Answer detection on the synthetic corpus (bench/amd_corpus.py): the classifier
(audio/answer.py + domain/answer_detection.py) beside the keyword rules it replaced
(bench/_keyword_rules.py), on each split and per voice.

    PYTHONPATH=src .venv/bin/python bench/amd_corpus.py          # once: the corpus
    PYTHONPATH=src .venv/bin/python bench/answer_detection.py    # the figures

Printed per split: accuracy, per-class precision and recall, false-voicemail (a person
taken for a machine: voicemail, IVR or screening) and false-human (a machine or silence
taken for a person) rates, decision time p50/p95, and on human clips the time from the
answer to the agent's first audio. Per voice (leave-one-voice-out): accuracy and
false-voicemail on that voice's clips.

How the two are run, on the same audio (8 kHz mu-law, frame by frame):

- the classifier: ``audio.answer.classify`` (pipecat's VAD over Silero, the beep
  detector, pocketsphinx on the opening when the policy asks; a transcript counts from
  when it was asked plus the time the recogniser took);
- the keyword rules, as the sandbox agent ran them: it listened up to 3 s for a voice,
  waited for the end of that first turn (the ear ends a turn 0.5 s after the voice when
  the turn model agrees: the most favourable case), read the turn's transcript (same
  recogniser) with the keyword rules, and took a later beep for a voicemail;
- the agent's first audio on a human clip: the agent speaks once the decision is made
  and the callee's first turn has ended and been transcribed (it never talks over the
  callee); its first sentence is synthesized before the answer (the simulated line
  preloads it), so it plays at once.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from pipecat.audio.vad.vad_analyzer import VADState

sys.path.insert(0, str(Path(__file__).parent))

from _keyword_rules import keyword_result
from amd_corpus import Clip, load

from openrevox.audio.answer import classify
from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples, to_float
from openrevox.audio.silero import SileroState, shared_silero
from openrevox.audio.stt import Recognizer, shared_recognizer
from openrevox.audio.tones import BeepDetector
from openrevox.audio.vad import SileroVAD

LABELS: Final = ("human", "voicemail", "IVR", "ios-screening-filter", "unknown")
MACHINES: Final = frozenset({"voicemail", "IVR", "ios-screening-filter"})
TURN_END: Final = 0.5  # the ear's end of a turn when the turn model agrees
LISTEN_FIRST: Final = 3.0  # the old agent's wait for a first utterance


@dataclass(frozen=True, slots=True)
class Run:
    label: str
    at: float  # decision time, seconds after the answer
    first_audio: float | None  # on human clips: the agent's first audio


@dataclass(frozen=True, slots=True)
class Front:
    """The first turn as the ear hears it: its voice start and end, and beeps."""

    voice_start: float | None
    voice_end: float | None  # the end of the first turn's voice (a pause of TURN_END)
    beep_at: float | None


def front(audio: Samples) -> Front:
    vad, beeps = SileroVAD(), BeepDetector()
    model, stream = shared_silero(), SileroState()
    start = end = beep_at = None
    last_voice: float | None = None
    position = 0
    for offset in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = audio[offset : offset + FRAME_SAMPLES]
        if beeps.feed(frame) and beep_at is None:
            beep_at = beeps.started * FRAME_SAMPLES / RATE
        windows = vad.windows(frame)
        confidences = [float(model.score([to_float(w)], [stream])[0]) for w in windows]
        for state in vad.advance(windows, confidences):
            position += len(windows[0])
            now = position / RATE
            voiced = state in (VADState.STARTING, VADState.SPEAKING) and not beeps.in_tone
            if voiced and end is None:
                start = now if start is None else start
                last_voice = now
            elif last_voice is not None and end is None and now - last_voice >= TURN_END:
                end = last_voice
    if end is None and last_voice is not None:
        end = last_voice
    return Front(start, end, beep_at)


def keyword_run(audio: Samples, heard: Front, recognizer: Recognizer, synth: float) -> Run:
    if heard.voice_start is None or heard.voice_start > LISTEN_FIRST:
        return Run("unknown", LISTEN_FIRST, None)
    assert heard.voice_end is not None
    turn_end = heard.voice_end + TURN_END
    began = time.thread_time()
    text = recognizer.transcribe(audio[: round(heard.voice_end * RATE)])
    at = turn_end + time.thread_time() - began
    label = keyword_result(text)
    if label == "human" and heard.beep_at is not None:
        return Run("voicemail", max(heard.beep_at + 0.16, at), at + synth)  # the beep, later
    return Run(label, at, at + synth if label == "human" else None)


def classifier_run(audio: Samples, heard: Front, recognizer: Recognizer, synth: float) -> Run:
    decision = classify(audio, recognizer).decision
    first_audio = None
    if decision.label in ("human", "unknown"):
        first_audio = decision.at
        start, end = heard.voice_start, heard.voice_end
        if start is not None and end is not None and start < decision.at:
            began = time.thread_time()  # the agent waits for the callee's turn
            recognizer.transcribe(audio[: round(end * RATE)])
            first_audio = max(decision.at, end + TURN_END + time.thread_time() - began)
        first_audio += synth
    return Run(decision.label, decision.at, first_audio)


def percentile(values: list[float], share: float) -> float:
    return float(np.percentile(values, share * 100)) if values else float("nan")


def report(title: str, rows: list[tuple[Clip, Run]]) -> None:
    total = len(rows)
    right = sum(clip.label == run.label for clip, run in rows)
    people = [run for clip, run in rows if clip.label == "human"]
    others = [run for clip, run in rows if clip.label != "human"]
    false_voicemail = sum(run.label in MACHINES for run in people)
    false_human = sum(run.label == "human" for run in others)
    times = [run.at for _, run in rows]
    firsts = [run.first_audio for run in people if run.first_audio is not None]
    print(f"  {title}: {total} clips")
    print(f"    accuracy {right / total:.1%} ({right}/{total})")
    print(f"    false-voicemail {false_voicemail / max(len(people), 1):.1%}"
          f" ({false_voicemail}/{len(people)} people taken for a machine)")  # fmt: skip
    print(f"    false-human {false_human / max(len(others), 1):.1%}"
          f" ({false_human}/{len(others)} machines or silences taken for a person)")  # fmt: skip
    print(
        f"    decision time p50 {percentile(times, 0.5):.2f} s, p95 {percentile(times, 0.95):.2f} s"
    )
    print(f"    answer to first audio (people) p50 {percentile(firsts, 0.5):.2f} s,"
          f" p95 {percentile(firsts, 0.95):.2f} s ({len(firsts)} clips)")  # fmt: skip
    for label in LABELS:
        predicted = sum(run.label == label for _, run in rows)
        actual = sum(clip.label == label for clip, _ in rows)
        hits = sum(clip.label == label == run.label for clip, run in rows)
        precision = f"{hits / predicted:.0%}" if predicted else "-"
        recall = f"{hits / actual:.0%}" if actual else "-"
        print(f"    {label:22s} precision {precision:>5s}  recall {recall:>5s}  ({actual} clips)")
    wrong = Counter((clip.label, run.label) for clip, run in rows if clip.label != run.label)
    if wrong:
        print("    confusions: " + ", ".join(f"{a}->{b} x{n}" for (a, b), n in wrong.most_common()))


def main() -> None:
    splits = sys.argv[1:] or ["tune", "heldout"]
    recognizer = shared_recognizer(())
    recognizer.warm_up()
    synth = 0.0  # the first sentence is ready before the answer (see above)
    print("recogniser: pocketsphinx en-us, phrasebook language model (no hints)")
    for split in splits:
        clips = load(split)
        ours: list[tuple[Clip, Run]] = []
        theirs: list[tuple[Clip, Run]] = []
        cpu = time.process_time()
        for clip, audio in clips:
            heard = front(audio)
            ours.append((clip, classifier_run(audio, heard, recognizer, synth)))
            theirs.append((clip, keyword_run(audio, heard, recognizer, synth)))
        print(f"\n== split {split}: {len(clips)} clips"
              f" ({time.process_time() - cpu:.0f} s CPU for both) ==")  # fmt: skip
        report("classifier", ours)
        report("keyword rules (before)", theirs)
        by_voice: dict[str, list[tuple[Clip, Run]]] = defaultdict(list)
        for clip, run in ours:
            by_voice[clip.voice].append((clip, run))
        if split == "heldout":  # no threshold was looked at on any of these voices
            print("  classifier per held-out voice (leave-one-voice-out):")
        else:
            print("  classifier per voice (the voices the thresholds were looked at on):")
        for name, rows in sorted(by_voice.items()):
            right = sum(clip.label == run.label for clip, run in rows)
            people = [run for clip, run in rows if clip.label == "human"]
            fv = sum(run.label in MACHINES for run in people)
            print(f"    {name:28s} accuracy {right / len(rows):6.1%} ({right}/{len(rows)})"
                  f"  false-voicemail {fv}/{len(people)}")  # fmt: skip


if __name__ == "__main__":
    main()
