"""Tones on the line: the voicemail beep, played and detected.

A voicemail's beep is not speech (Silero ignores it) but the agent must hear it: a
frame is tonal when one frequency holds 98% of its energy; 100 ms of tonal frames at the
same frequency is a beep, reported once as the utterance ``[beep]``. Speech moves its
pitch long before that (tests/agent/test_audio_fidelity.py: a Piper sentence is no beep).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples, from_float

BEEP_HZ: Final = 1000.0
BEEP_SECONDS: Final = 0.6
BEEP_LEVEL: Final = 0.35  # of full scale
BEEP_TEXT: Final = "[beep]"
_TONAL_SHARE: Final = 0.98  # of a frame's energy in its strongest bin and neighbours
_MIN_LEVEL: Final = 500.0  # int16 RMS below which a frame is too quiet to count
_FRAMES_FOR_BEEP: Final = 5  # 100 ms
_WINDOW: Final = np.hanning(FRAME_SAMPLES)


def beep(seconds: float = BEEP_SECONDS, hz: float = BEEP_HZ) -> Samples:
    """A tone with 5 ms fades (no clicks)."""
    count = round(seconds * RATE)
    tone = np.sin(2 * np.pi * hz * np.arange(count) / RATE) * BEEP_LEVEL
    fade = min(round(0.005 * RATE), count // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        tone[:fade] *= ramp
        tone[-fade:] *= ramp[::-1]
    return from_float(tone)


def tonal_peak(frame: Samples) -> int | None:
    """The frequency bin holding nearly all of a loud frame's energy, if one does."""
    signal = frame.astype(np.float64)
    if np.sqrt(np.mean(signal**2)) < _MIN_LEVEL:
        return None
    power = np.abs(np.fft.rfft(signal * _WINDOW)) ** 2
    peak = int(np.argmax(power))
    near = power[max(peak - 1, 0) : peak + 2].sum()
    return peak if near / power.sum() >= _TONAL_SHARE else None


class BeepDetector:
    """Fed frame by frame; True once per beep, when it has lasted 100 ms at one pitch."""

    def __init__(self) -> None:
        self._run = 0
        self._peak: int | None = None
        self._level = 0.0

    def feed(self, frame: Samples) -> bool:
        previous = self._level
        signal = frame.astype(np.float32)
        self._level = level = float(np.sqrt(signal @ signal / len(signal)))
        # A tone holds its level; speech's moves from frame to frame: a frame 20% louder
        # or quieter than the last is no tone (and costs no spectrum).
        steady = level >= _MIN_LEVEL and abs(level - previous) <= 0.2 * level
        peak = tonal_peak(frame) if steady else None
        if peak is None:
            self._run = 0
        elif self._peak is not None and abs(peak - self._peak) <= 1:
            self._run += 1
        else:
            self._run = 1
        self._peak = peak
        return self._run == _FRAMES_FOR_BEEP

    @property
    def in_tone(self) -> bool:
        """Three frames at one pitch already: not speech (whatever the VAD says)."""
        return self._run >= 3
