"""The beep detector over the range answering machines use (400-2,000 Hz, 0.2-1.5 s),
through mu-law and line noise, and never on the synthetic voices' speech."""

from __future__ import annotations

import numpy as np
import pytest

from openrevox.audio import codec
from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples
from openrevox.audio.tones import BeepDetector, beep
from openrevox.audio.tts import AGENT, CALLEE, Style, Synthesizer


def on_the_line(samples: Samples, noise: float = 0.0, seed: int = 0) -> Samples:
    signal = samples.astype(np.float64)
    signal += np.random.default_rng(seed).normal(0.0, noise * 32768, len(signal))
    return codec.ulaw_decode(codec.ulaw_encode(np.clip(signal, -32767, 32767).astype(np.int16)))


def run(audio: Samples) -> tuple[BeepDetector, list[int]]:
    detector, found = BeepDetector(), []
    for index, start in enumerate(range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES)):
        if detector.feed(audio[start : start + FRAME_SAMPLES]):
            found.append(index)
    return detector, found


@pytest.mark.parametrize("hz", [400.0, 425.0, 440.0, 612.5, 1000.0, 1337.0, 1975.0, 2000.0])
@pytest.mark.parametrize("seconds", [0.2, 0.6, 1.5])
@pytest.mark.parametrize("noise", [0.0, 0.02])
def test_one_beep_is_heard_with_its_frequency_and_length(
    hz: float, seconds: float, noise: float
) -> None:
    quiet = np.zeros(RATE // 2, dtype=np.int16)
    tone = (beep(seconds, hz) * 0.5).astype(np.int16)  # a quieter machine than ours
    detector, found = run(on_the_line(np.concatenate([quiet, tone, quiet]), noise))
    assert len(found) == 1
    assert abs(detector.hz - hz) <= 25
    assert abs(detector.started * FRAME_SAMPLES / RATE - 0.5) <= 0.04
    assert detector.ended is not None
    assert abs(detector.ended * FRAME_SAMPLES / RATE - seconds) <= 0.06


def test_noise_alone_is_no_beep() -> None:
    _, found = run(on_the_line(np.zeros(3 * RATE, dtype=np.int16), noise=0.05))
    assert found == []


@pytest.fixture(scope="module")
def voice() -> Synthesizer:
    return Synthesizer()


@pytest.mark.parametrize("style", [AGENT, CALLEE, Style(speed=0.8)])
def test_speech_hummed_or_sustained_is_no_beep(voice: Synthesizer, style: Style) -> None:
    for text in (
        "Mmmm, I see, so you are calling about the offer, aren't you?",
        "Ooooh, well, hmm, yes.",
        "Please leave a message after the tone.",
        "Hello, hello, hellooo?",
    ):
        detector = BeepDetector()
        audio = on_the_line(voice.sentence(text, style).samples)
        longest = 0
        for start in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
            assert not detector.feed(audio[start : start + FRAME_SAMPLES]), text
            longest = max(longest, int(detector.in_tone))
        assert longest == 0, f"{text!r} was taken for a tone"
