"""The telephone's audio: 8 kHz mono, G.711 mu-law, in 20 ms frames of 160 bytes.

Samples inside the package are numpy int16 arrays; on the wire they are mu-law bytes.
"""

from __future__ import annotations

import audioop  # the C codec pipecat uses too (audioop-lts on Python 3.13+)
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import soxr

RATE: Final = 8000
FRAME_SECONDS: Final = 0.02
FRAME_SAMPLES: Final = 160  # 20 ms at 8 kHz
FRAME_BYTES: Final = FRAME_SAMPLES  # one mu-law byte a sample

Samples = npt.NDArray[np.int16]

SILENCE: Final[Samples] = np.zeros(FRAME_SAMPLES, dtype=np.int16)
# mu-law byte -> linear sample, for decoding without a copy through bytes
_ULAW_TABLE: Final[Samples] = np.frombuffer(audioop.ulaw2lin(bytes(range(256)), 2), dtype=np.int16)


def ulaw_encode(samples: Samples) -> bytes:
    """int16 samples -> mu-law bytes."""
    return audioop.lin2ulaw(samples.astype(np.int16).tobytes(), 2)


def ulaw_decode(data: bytes) -> Samples:
    """mu-law bytes -> int16 samples."""
    samples: Samples = _ULAW_TABLE[np.frombuffer(data, dtype=np.uint8)]
    return samples


def resample(samples: Samples, from_rate: int, to_rate: int) -> Samples:
    """One whole signal at another rate (soxr, high quality)."""
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.int16)
    out: npt.NDArray[np.float32] = soxr.resample(
        samples.astype(np.float32), from_rate, to_rate, quality="HQ"
    )
    return from_float(out / 32767.0)


def pad_to_frames(samples: Samples) -> Samples:
    """Padded with silence to a whole number of 20 ms frames."""
    extra = (-len(samples)) % FRAME_SAMPLES
    return np.concatenate([samples, np.zeros(extra, dtype=np.int16)]) if extra else samples


def to_float(samples: Samples) -> npt.NDArray[np.float32]:
    return samples.astype(np.float32) / 32768.0


def from_float(signal: npt.NDArray[np.floating[Any]]) -> Samples:
    return np.clip(np.round(signal * 32767.0), -32768, 32767).astype(np.int16)
