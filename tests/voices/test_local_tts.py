"""Local speech with the bundled Piper voice: real WAV audio, speed, and a single load."""

from __future__ import annotations

import array
import asyncio
import io
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from piper import PiperVoice

from openrevox.voices.local_tts import LocalSpeech, load_bundled_voice, shared_local_speech

SENTENCE = "Hello! This is a short preview of how I sound on the phone."


@pytest.fixture(scope="module")
def speech() -> LocalSpeech:
    return LocalSpeech()


@dataclass(frozen=True)
class WavInfo:
    nchannels: int
    sampwidth: int
    framerate: int
    nframes: int


def read_wav(data: bytes) -> tuple[WavInfo, array.array[int]]:
    """Parsed with the standard library, so a malformed file fails here."""
    with wave.open(io.BytesIO(data), "rb") as wav:
        info = WavInfo(wav.getnchannels(), wav.getsampwidth(), wav.getframerate(), wav.getnframes())
        samples = array.array("h", wav.readframes(info.nframes))
    return info, samples


def test_local_speech_writes_a_mono_16_bit_wav_of_sentence_length(speech: LocalSpeech) -> None:
    params, samples = read_wav(speech.synthesize_wav(SENTENCE))
    assert (params.nchannels, params.sampwidth) == (1, 2)
    assert params.framerate == speech.sample_rate == 22050
    assert 0.5 <= params.nframes / params.framerate <= 10
    assert len(samples) == params.nframes


def test_local_speech_is_audible(speech: LocalSpeech) -> None:
    _, samples = read_wav(speech.synthesize_wav(SENTENCE))
    loud = sum(1 for sample in samples if abs(sample) > 1000)
    assert max(abs(sample) for sample in samples) > 8000
    assert loud > len(samples) // 10


def test_faster_speed_gives_shorter_audio(speech: LocalSpeech) -> None:
    normal, _ = read_wav(speech.synthesize_wav(SENTENCE, speed=1.0))
    fast, _ = read_wav(speech.synthesize_wav(SENTENCE, speed=1.5))
    assert fast.nframes < normal.nframes * 0.85


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_text_is_rejected(speech: LocalSpeech, text: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        speech.synthesize_wav(text)


def test_non_positive_speed_is_rejected(speech: LocalSpeech) -> None:
    with pytest.raises(ValueError, match="speed"):
        speech.synthesize_wav(SENTENCE, speed=0)


async def test_async_synthesis_returns_the_same_kind_of_wav(speech: LocalSpeech) -> None:
    params, _ = read_wav(await speech.synthesize("Thank you for calling.", speed=1.2))
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
    assert params.nframes > 0


async def test_voice_is_loaded_once_across_sync_async_and_threaded_calls() -> None:
    loads: list[PiperVoice] = []

    def counting_loader() -> PiperVoice:
        loads.append(load_bundled_voice())
        return loads[-1]

    local = LocalSpeech(load_voice=counting_loader)
    assert loads == []  # lazy: nothing loaded before the first synthesis
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda text: local.synthesize_wav(text), ["One.", "Two.", "Three."]))
    await asyncio.gather(local.synthesize("Four."), local.synthesize("Five."))
    local.synthesize_wav("Six.")
    assert len(loads) == 1


def test_shared_local_speech_is_one_instance_per_process() -> None:
    assert shared_local_speech() is shared_local_speech()
