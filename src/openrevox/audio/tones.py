"""Tones on the line: the voicemail beep, played and detected.

A voicemail's beep is not speech (Silero ignores it) but the agent must hear it. A
frame is tonal when one band of five FFT bins (250 Hz) holds 70% of its energy and no
bin outside that band reaches 3% of the peak's: a pure tone has no harmonics, speech
always has (and line noise is spread thin); its frequency is 350 Hz or more (a hummed
"mmm" holds a lower one). 160 ms of tonal frames at one pitch is a
beep, reported once (``BeepDetector.feed``), with its frequency; its length is known
when it ends (``BeepDetector.ended``). Beeps from 400 to 2,000 Hz, 0.2 to 1.5 s long,
over mu-law and line noise, are heard; the synthetic voices' speech, hummed "mmm"
included, is not (tests/audio/test_tones.py).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples, from_float

BEEP_HZ: Final = 1000.0
BEEP_SECONDS: Final = 0.6
BEEP_LEVEL: Final = 0.35  # of full scale
_TONAL_SHARE: Final = 0.7  # of a frame's energy in the band around its strongest bin
_OTHER_PEAK: Final = 0.03  # the strongest bin outside the band, relative to the peak
_BAND: Final = 2  # bins either side of the peak (50 Hz each)
# Machines beep from 400 Hz up; a hummed "mmm" sits lower and can hold a pitch.
_LOWEST_BIN: Final = 7  # 350 Hz
_MIN_LEVEL: Final = 300.0  # int16 RMS below which a frame is too quiet to count
_FRAMES_FOR_BEEP: Final = 8  # 160 ms
_FRAMES_IN_TONE: Final = 5  # 100 ms: not speech, whatever the VAD says
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


def tonal_peak(frame: Samples) -> float | None:
    """The frequency (Hz) holding nearly all of a loud frame's energy, if one does."""
    signal = frame.astype(np.float64)
    if np.sqrt(np.mean(signal**2)) < _MIN_LEVEL:
        return None
    power = np.abs(np.fft.rfft(signal * _WINDOW)) ** 2
    peak = int(np.argmax(power))
    if peak < _LOWEST_BIN:
        return None
    low, high = max(peak - _BAND, 0), peak + _BAND + 1
    if power[low:high].sum() < _TONAL_SHARE * power.sum():
        return None
    outside = np.concatenate([power[:low], power[high:]])
    if len(outside) and outside.max() > _OTHER_PEAK * power[peak]:
        return None
    offset = 0.0  # the peak between bins, from the log power of its neighbours
    if 0 < peak < len(power) - 1:
        left, centre, right = np.log(power[peak - 1 : peak + 2] + 1e-9)
        curve = left - 2 * centre + right
        offset = 0.5 * (left - right) / curve if curve < 0 else 0.0
    return float((peak + offset) * RATE / FRAME_SAMPLES)


class BeepDetector:
    """Fed frame by frame; True once per beep, when it has lasted 160 ms at one pitch.
    ``hz`` is then its frequency, ``started`` the frame it started at; ``ended`` is
    its length in frames once it stops."""

    def __init__(self) -> None:
        self._run = 0
        self._pitch: float | None = None  # the run's first frequency
        self._level = 0.0
        self._frames = 0
        self.hz = 0.0
        self.started = 0
        self.ended: int | None = None

    def feed(self, frame: Samples) -> bool:
        self._frames += 1
        previous = self._level
        signal = frame.astype(np.float32)
        self._level = level = float(np.sqrt(signal @ signal / len(signal)))
        # A tone holds its level; speech's moves from frame to frame: a frame 25% louder
        # or quieter than the last is no tone (and costs no spectrum).
        steady = level >= _MIN_LEVEL and abs(level - previous) <= 0.25 * level
        pitch = tonal_peak(frame) if steady else None
        was_beep = self._run >= _FRAMES_FOR_BEEP
        if pitch is not None and self._pitch is not None and abs(pitch - self._pitch) <= 50:
            self._run += 1  # one pitch (a bin either way) since the run started
        else:
            if was_beep:
                self.ended = self._run + 1  # and the frame before the run, faded in
            self._run, self._pitch = (0, None) if pitch is None else (1, pitch)
        if self._run == _FRAMES_FOR_BEEP:
            assert self._pitch is not None
            self.hz, self.started, self.ended = self._pitch, self._frames - self._run, None
            return True
        return False

    @property
    def in_tone(self) -> bool:
        """100 ms at one pitch already: not speech (whatever the VAD says)."""
        return self._run >= _FRAMES_IN_TONE
