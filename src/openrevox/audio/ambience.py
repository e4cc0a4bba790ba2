"""``background_sound``: the office ambience mixed under the agent's voice.

The API names the sound ``audio/office.ogg``, but no such file ships with openrevox (nor
with any package we depend on). The ambience is therefore synthesized, deterministically
(a fixed seed), as a 12-second loop at 8 kHz: a soft room tone (pink noise), an air
conditioner's hum and, now and then, bursts of keyboard typing. Every part is periodic
in the loop's length, so it repeats without a seam. At ``background_sound_volume`` 1.0 the room
tone sits about 34 dB below full scale (RMS 0.02), far under speech and under Silero's
speech threshold, so it never reads as someone talking (tested).
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import numpy.typing as npt

from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples

OFFICE: Final = "audio/office.ogg"
LOOP_SECONDS: Final = 12.0
SEED: Final = 20240501
_ROOM_RMS: Final = 0.02  # of full scale, at volume 1.0

Floats = npt.NDArray[np.float64]


def _room_tone(rng: np.random.Generator, count: int) -> Floats:
    """Pink noise (power falling as 1/f) from 100 Hz to 3.4 kHz, shaped in the frequency
    domain: the filtering is circular, so the loop's end flows into its start."""
    spectrum = np.fft.rfft(rng.standard_normal(count))
    freqs = np.fft.rfftfreq(count, 1 / RATE)
    band = (freqs >= 100) & (freqs <= 3400)
    spectrum *= np.where(band, 1 / np.sqrt(np.maximum(freqs, 1.0)), 0.0)
    pink: Floats = np.fft.irfft(spectrum, count)
    scaled: Floats = pink / np.sqrt(np.mean(pink**2)) * _ROOM_RMS
    return scaled


def _hum(count: int) -> Floats:
    time = np.arange(count) / RATE
    return 0.004 * np.sin(2 * np.pi * 180 * time) + 0.002 * np.sin(2 * np.pi * 360 * time)


def _typing(rng: np.random.Generator, count: int) -> Floats:
    out = np.zeros(count)
    click = np.exp(-np.arange(int(0.012 * RATE)) / (0.002 * RATE))
    for burst_start in (1.2, 4.8, 8.1):  # seconds into the loop
        at = burst_start
        end = burst_start + rng.uniform(1.0, 2.0)
        while at < end:
            start = int(at * RATE)
            noise = rng.standard_normal(len(click)) * click * rng.uniform(0.03, 0.07)
            out[start : start + len(noise)] += noise[: max(count - start, 0)]
            at += rng.uniform(0.08, 0.22)
    return out


@functools.cache
def office_loop() -> Samples:
    """The loop at volume 1.0 (int16, 8 kHz); computed once per process."""
    rng = np.random.default_rng(SEED)
    count = int(LOOP_SECONDS * RATE)  # a whole number of frames and of hum cycles
    signal = _room_tone(rng, count) + _hum(count) + _typing(rng, count)
    return np.clip(np.round(signal * 32767), -32768, 32767).astype(np.int16)


class Ambience:
    """The loop, frame after frame, at a volume in [0, 1]."""

    def __init__(self, volume: float) -> None:
        self._loop = office_loop()
        self._gain = min(max(volume, 0.0), 1.0)
        self._position = 0

    def frame(self) -> npt.NDArray[np.int32]:
        start = self._position
        self._position = (start + FRAME_SAMPLES) % len(self._loop)
        return np.round(self._loop[start : start + FRAME_SAMPLES] * self._gain).astype(np.int32)


def ambience_for(sound: str | None, volume: float | None) -> Ambience | None:
    """The assistant's ``background_sound`` at its ``background_sound_volume``."""
    if sound != OFFICE:
        return None
    return Ambience(0.5 if volume is None else volume)
