"""Speech to text at audio fidelity: word error rates of pocketsphinx, as the simulated
network's two voices sound through mu-law.

It synthesizes every sentence with the bundled Piper voice: once as the agent speaks
and once as the simulated callee (two semitones higher). It sends each through the
telephone (8 kHz mu-law), then recognizes it two ways:

- pocketsphinx's general English model;
- the phone-call model: the phrasebook, the common words, no hints.

For each set of sentences it prints the word error rate (substitutions, deletions and
insertions over reference words, after both texts are written as spoken words) and the
real-time factor. With ``--pitches``, it instead measures the phone-call model on
voices shifted in pitch (why the callee speaks higher). Piper is not deterministic, so
figures move by a point or two from run to run. It prints figures and asserts nothing.

    .venv/bin/python bench/audio_stt.py
    .venv/bin/python bench/audio_stt.py --pitches
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from openrevox.audio import codec, phrasebook, stt  # noqa: E402
from openrevox.audio.tts import AGENT, CALLEE, Style, Synthesizer  # noqa: E402

IN_DOMAIN = [
    "Hello, this is Acme calling about our spring offer.",
    "Could you tell me your full name?",
    "Could you tell me your email address?",
    "Thank you for your time. Goodbye!",
    "Hello?",
    "My name is Alex Martin.",
    "My email is alex.martin@example.com.",
    "Goodbye!",
    "Yes, absolutely.",
    "Okay, sounds good.",
    "Wait, wait, sorry to interrupt: who is this exactly?",
    "Can I speak to a human, please?",
    "Sorry, I'm busy right now. Can you call me back later?",
    "Stop calling me. Put me on your do not call list.",
    "I understand, we will not call you again. Goodbye.",
    "Sure, let me transfer you to a colleague.",
    "Welcome to Martin and Co. Press 1 for sales, 2 for support.",
    "I'd like to book a meeting with you.",
]
OTHER = [
    "Hi Alex, I'm calling from Acme about your recent order.",
    "Is now a good time to talk?",
    "What's the best number to reach you?",
    "I'm sorry to hear that.",
    "Let me check that for you.",
    "We have a special discount this week.",
    "Would you be interested in a free trial?",
    "Perfect, I've noted your email.",
    "My dog ate my homework yesterday.",
    "The meeting is on Tuesday at three.",
]


def errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level edit distance."""
    previous = list(range(len(hypothesis) + 1))
    for i, word in enumerate(reference, 1):
        current = [i]
        for j, heard in enumerate(hypothesis, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != heard))
            )
        previous = current
    return previous[-1]


def measure(
    recognizer: stt.Recognizer, sentences: list[str], styles: list[Style]
) -> tuple[float, float]:
    voice = Synthesizer()
    wrong = words = 0
    audio_seconds = busy = 0.0
    for style in styles:
        for text in sentences:
            audio = codec.ulaw_decode(codec.ulaw_encode(voice.sentence(text, style).samples))
            started = time.perf_counter()
            heard = recognizer.transcribe(audio)
            busy += time.perf_counter() - started
            audio_seconds += len(audio) / codec.RATE
            reference = phrasebook.spoken(text).split()
            wrong += errors(reference, phrasebook.spoken(heard).split())
            words += len(reference)
    return wrong / words, busy / audio_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pitches", action="store_true", help="the callee's pitch, measured")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load average {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.pitches:
        recognizer = stt.Recognizer()
        recognizer.warm_up()
        for pitch in (1.0, 1.06, 1.12, 0.95, 0.89):
            rate, _ = measure(recognizer, IN_DOMAIN, [Style(pitch=pitch)])
            print(f"pitch x{pitch:.2f}: word error rate {rate:.1%} ({len(IN_DOMAIN)} sentences)")
        return
    print(f"{len(IN_DOMAIN)} in-domain and {len(OTHER)} other sentences, agent and callee voices")
    for name, recognizer in (
        ("general English model", stt.Recognizer(general=True)),
        ("phone-call model", stt.Recognizer()),
    ):
        recognizer.warm_up()
        for label, sentences in (("in-domain", IN_DOMAIN), ("other", OTHER)):
            rate, rtf = measure(recognizer, sentences, [AGENT, CALLEE])
            print(f"{name:22} {label:9}: word error rate {rate:5.1%}, real-time factor {rtf:.2f}")
    print(f"load average now {'/'.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
