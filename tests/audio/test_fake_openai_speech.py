"""The fake OpenAI-compatible speech server checked by code we did not write: the
official ``openai`` client, its base URL set to the fake, gets speech (PCM and WAV) and
transcriptions (JSON and text) and sees its errors as its own exceptions."""

from __future__ import annotations

import io
import wave

import numpy as np
import openai
import pytest

from openrevox.audio.providers.openai_compatible.speech import wav_bytes
from tests.audio.fake_openai_speech import FakeOpenAISpeech
from tests.audio.providers.test_soniox_stt import utterance


def client(fake: FakeOpenAISpeech, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{fake.url}/v1", api_key=key or fake.api_key, max_retries=0)


def test_the_official_client_gets_speech_and_transcriptions(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    sdk = client(fake_openai_speech)
    pcm = sdk.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello there.", response_format="pcm"
    ).content
    samples = np.frombuffer(pcm, "<i2")
    assert len(samples) > 12000 and np.abs(samples).max() > 2000  # > 0.5 s at 24 kHz
    wav = sdk.audio.speech.create(
        model="tts-1", voice="alloy", input="Hello there.", response_format="wav"
    ).content
    with wave.open(io.BytesIO(wav)) as audio:
        assert audio.getframerate() == 24000 and audio.getnchannels() == 1
    audio_file = ("turn.wav", wav_bytes(utterance("Yes, absolutely.")), "audio/wav")
    result = sdk.audio.transcriptions.create(model="whisper-1", file=audio_file)
    assert "absolutely" in result.text.lower()
    text = sdk.audio.transcriptions.create(
        model="whisper-1", file=audio_file, response_format="text"
    )
    assert "absolutely" in str(text).lower()


def test_the_client_sees_the_fakes_errors_as_its_exceptions(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(fake_openai_speech, "wrong").audio.speech.create(
            model="tts-1", voice="alloy", input="Hi.", response_format="pcm"
        )
    with pytest.raises(openai.BadRequestError, match="speed"):
        client(fake_openai_speech).audio.speech.create(
            model="tts-1", voice="alloy", input="Hi.", response_format="pcm", speed=9.0
        )
    fake_openai_speech.fail_status = 503
    with pytest.raises(openai.InternalServerError):
        client(fake_openai_speech).audio.transcriptions.create(
            model="whisper-1", file=("a.wav", wav_bytes(utterance("Hi.")), "audio/wav")
        )
