"""smart-turn v3's Whisper log-mel features, computed only where the audio is.

The model sees 8 s; a turn's audio is usually 1-3 s, front-padded with silence. pipecat
computes the spectrum of all 800 frames; every frame that lies wholly in the padding is
the same (a constant, after normalization), so here it is computed once and repeated.
It also multiplies by the mel filters in a layout BLAS takes fast. The result equals
pipecat's ``compute_whisper_log_mel_features`` to float rounding, in less than half its
CPU time (``bench/audio_models.py``).

The constants (Whisper's defaults: 400-sample FFT, 160-sample hop, 80 Slaney mels, the
periodic Hann window) are computed here rather than taken from pipecat's private module;
tests/audio/test_turn_features.py pins them against pipecat's.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

Floats = npt.NDArray[Any]

RATE: Final = 16000
SAMPLES: Final = 8 * RATE  # the model's 8 s at 16 kHz
N_FFT: Final = 400
HOP: Final = 160
N_MELS: Final = 80
MEL_FLOOR: Final = 1e-10
NORM_EPS: Final = 1e-7
_PAD: Final = N_FFT // 2


def _hertz_to_mel(freq: Floats) -> Floats:
    """The Slaney mel scale: linear below 1 kHz, logarithmic above."""
    freq = np.atleast_1d(np.asarray(freq, dtype=np.float64))
    mels = 3.0 * freq / 200.0
    log = freq >= 1000.0
    mels[log] = 15.0 + np.log(freq[log] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def _mel_to_hertz(mels: Floats) -> Floats:
    mels = np.atleast_1d(np.asarray(mels, dtype=np.float64))
    freq = 200.0 * mels / 3.0
    log = mels >= 15.0
    freq[log] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels[log] - 15.0))
    return freq


def mel_filters() -> Floats:
    """Slaney-normalized triangular filters, shape (N_FFT // 2 + 1 bins, N_MELS)."""
    edges = _mel_to_hertz(
        np.linspace(0.0, float(_hertz_to_mel(np.array([RATE / 2.0]))[0]), N_MELS + 2)
    )
    bins = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    slopes = edges[np.newaxis, :] - bins[:, np.newaxis]
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[np.newaxis, :]
    return filters


def hann_window() -> Floats:
    """The periodic Hann window of N_FFT samples (torch.hann_window's)."""
    return np.hanning(N_FFT + 1)[:-1]


_WINDOW: Final = hann_window()
_FILTERS: Final = np.ascontiguousarray(mel_filters())  # (bins, mels): BLAS-fast below


def padded(audio: Floats) -> Floats:
    """The last 8 s of ``audio`` (16 kHz float32), zero-padded in front to 8 s."""
    audio = np.asarray(audio, dtype=np.float32)[-SAMPLES:]
    return np.pad(audio, (SAMPLES - len(audio), 0)) if len(audio) < SAMPLES else audio


def log_mel(audio: Floats) -> Floats:
    """Features of 8 s of 16 kHz audio whose first samples are zeros (``padded``)."""
    x = np.asarray(audio, dtype=np.float32)
    zeros = int(np.argmax(x != 0)) if np.any(x) else len(x)
    x = (x - x.mean()) / np.sqrt(x.var() + NORM_EPS)
    signal = np.pad(x.astype(np.float64), (_PAD, _PAD), mode="reflect")
    frames = sliding_window_view(signal, N_FFT)[::HOP]
    # Frames wholly inside the constant padding (the reflected edge included) are equal.
    constant = max(min((zeros - _PAD) // HOP, len(frames) - 1), 0) if zeros > _PAD else 0
    first = max(constant - 1, 0)
    spectrum = np.fft.rfft(frames[first:] * _WINDOW, axis=-1)
    power = np.abs(spectrum) ** 2  # (frames, bins), contiguous: BLAS-fast below
    mel = np.log10(np.maximum(MEL_FLOOR, power @ _FILTERS)).T  # (mels, frames)
    if first:
        mel = np.concatenate([np.repeat(mel[:, :1], first, axis=1), mel], axis=1)
    mel = mel[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    features: Floats = ((mel + 4.0) / 4.0).astype(np.float32)
    return features
