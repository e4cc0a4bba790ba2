"""Reading recordings back in tests: decode a WAV, measure its channels, fetch a link."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from tests.conftest import LiveServer

WINDOW_SECONDS = 0.05
ACTIVE_RMS = 200.0  # of 32767: well above silence, well below speech


@dataclass
class Decoded:
    rate: int
    channels: int
    sample_width: int
    samples: np.ndarray  # (frames, channels), float64

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def rms(self, channel: int) -> float:
        return float(np.sqrt(np.mean(self.samples[:, channel] ** 2)))

    def active_windows(self, channel: int) -> np.ndarray:
        """Per 50 ms window, whether the channel carries sound."""
        size = int(self.rate * WINDOW_SECONDS)
        count = len(self.samples) // size
        frames = self.samples[: count * size, channel].reshape(count, size)
        return np.sqrt(np.mean(frames**2, axis=1)) > ACTIVE_RMS

    def tone_ratio(self, channel: int, hz: float, start: int, length: int) -> float:
        """Share of a window's energy at ``hz`` (1.0: a pure tone)."""
        window = self.samples[start : start + length, channel]
        spectrum = np.abs(np.fft.rfft(window)) ** 2
        freqs = np.fft.rfftfreq(len(window), 1 / self.rate)
        near = np.abs(freqs - hz) < 20
        total = spectrum.sum()
        return float(spectrum[near].sum() / total) if total else 0.0


def decode(data: bytes) -> Decoded:
    with wave.open(io.BytesIO(data), "rb") as wav:
        raw = wav.readframes(wav.getnframes())
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
    assert width == 2, "16-bit PCM expected"
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64).reshape(-1, channels)
    return Decoded(rate, channels, width, samples)


def local_url(server: LiveServer, url: str) -> str:
    """A link is built on OPENREVOX_PUBLIC_URL (the address clients see, e.g. a proxy);
    the test server listens on its own port: send the same path and query there."""
    base = server.settings.public_url
    assert url.startswith(f"{base}/recordings/"), url
    return server.url + url[len(base) :]


def fetch(server: LiveServer, url: str, **headers: str) -> httpx.Response:
    # The first fetch of a simulated call synthesises it: seconds of CPU.
    return httpx.get(local_url(server, url), headers=headers, timeout=180)


def words(transcript: list[Any]) -> int:
    return sum(
        len(str(entry.content or "").split())
        for entry in transcript
        if entry.role in ("assistant", "user")
    )
