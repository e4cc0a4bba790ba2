"""smart-turn v3's Whisper log-mel features, computed only where the audio is.

The model sees 8 s; a turn's audio is usually 1-3 s, front-padded with silence. pipecat
computes the spectrum of all 800 frames; every frame that lies wholly in the padding is
the same (a constant, after normalization), so here it is computed once and repeated.
It also multiplies by the mel filters in a layout BLAS takes fast (pipecat's transposed
operands cost it 16 ms of its ~40). The result equals pipecat's
``compute_whisper_log_mel_features`` to float rounding, at a fraction of the cost.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from pipecat.audio.turn.smart_turn import _whisper_features as whisper

SAMPLES: Final = 8 * 16000  # the model's 8 s at 16 kHz
_PAD: Final = whisper._N_FFT // 2
_HOP: Final = whisper._HOP_LENGTH

Floats = npt.NDArray[Any]
_WINDOW: Final = whisper._HANN_WINDOW.astype(np.float64)
_FILTERS: Final = np.ascontiguousarray(whisper._MEL_FILTERS)  # (bins, mels)


def padded(audio: Floats) -> Floats:
    """The last 8 s of ``audio`` (16 kHz float32), zero-padded in front to 8 s."""
    audio = np.asarray(audio, dtype=np.float32)[-SAMPLES:]
    return np.pad(audio, (SAMPLES - len(audio), 0)) if len(audio) < SAMPLES else audio


def log_mel(audio: Floats) -> Floats:
    """Features of 8 s of 16 kHz audio whose first samples are zeros (``padded``)."""
    x = np.asarray(audio, dtype=np.float32)
    zeros = int(np.argmax(x != 0)) if np.any(x) else len(x)
    x = (x - x.mean()) / np.sqrt(x.var() + whisper._NORM_VARIANCE_EPS)
    signal = np.pad(x.astype(np.float64), (_PAD, _PAD), mode="reflect")
    frames = sliding_window_view(signal, whisper._N_FFT)[::_HOP]
    # Frames wholly inside the constant padding (the reflected edge included) are equal.
    constant = max(min((zeros - _PAD) // _HOP, len(frames) - 1), 0) if zeros > _PAD else 0
    first = max(constant - 1, 0)
    spectrum = np.fft.rfft(frames[first:] * _WINDOW, axis=-1)
    power = np.abs(spectrum) ** 2  # (frames, bins), contiguous: BLAS-fast below
    mel = np.log10(np.maximum(whisper._MEL_FLOOR, power @ _FILTERS)).T  # (mels, frames)
    if first:
        mel = np.concatenate([np.repeat(mel[:, :1], first, axis=1), mel], axis=1)
    mel = mel[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    features: Floats = ((mel + 4.0) / 4.0).astype(np.float32)
    return features
