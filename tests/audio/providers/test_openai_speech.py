"""Our OpenAI-compatible TTS and STT against the fake speech server: 24 kHz PCM streamed
and resampled once to 8 kHz, sentences in order, cancel, a whole turn transcribed at its
end with the terms as the prompt, and each failure a ``SpeechFault`` with its reason."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from openrevox.audio.codec import RATE, Samples
from openrevox.audio.providers.openai_compatible.speech import OpenAISpeech, OpenAITranscription
from openrevox.audio.speech import SpeechFault, WordTime
from tests.audio.fake_openai_speech import FakeOpenAISpeech
from tests.audio.providers.test_soniox_stt import utterance


def voice(fake: FakeOpenAISpeech, **changes: object) -> OpenAISpeech:
    values: dict[str, object] = {"base_url": f"{fake.url}/v1", "api_key": fake.api_key}
    values.update(changes)
    return OpenAISpeech(**values)  # type: ignore[arg-type]


def ears(fake: FakeOpenAISpeech, **changes: object) -> OpenAITranscription:
    values: dict[str, object] = {"base_url": f"{fake.url}/v1", "api_key": fake.api_key}
    values.update(changes)
    return OpenAITranscription(**values)  # type: ignore[arg-type]


async def synthesize(
    speech: OpenAISpeech, *texts: str
) -> tuple[Samples, list[WordTime], float | None]:
    synthesis = speech.synthesis()
    for text in texts:
        await synthesis.push(text)
    await synthesis.end()
    chunks = [chunk async for chunk in synthesis.chunks()]
    return np.concatenate(chunks), synthesis.words, synthesis.ttfb_ms


def test_the_voice_streams_24_khz_pcm_resampled_once_to_8_khz(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    async def run() -> tuple[Samples, list[WordTime], float | None]:
        speech = voice(fake_openai_speech, model="kokoro", voice="af_heart", speed=1.1)
        await speech.start()
        try:
            return await synthesize(speech, "Hello, this is Alex.", "How are you today?")
        finally:
            await speech.close()

    fake_openai_speech.ttfb = 0.1
    audio, words, ttfb = asyncio.run(run())
    # Both sentences are fetched at once: they may reach the server in either order.
    requests = {r["input"]: r for r in fake_openai_speech.speech_requests()}
    assert sorted(requests) == ["Hello, this is Alex.", "How are you today?"]
    assert requests["Hello, this is Alex."] == {
        "model": "kokoro",
        "voice": "af_heart",
        "input": "Hello, this is Alex.",
        "response_format": "pcm",
        "speed": 1.1,
    }
    # The 24 kHz bodies, at a third of their samples: both sentences, nothing lost.
    assert abs(len(audio) - 2 * RATE) < RATE and np.abs(audio).max() > 2000
    assert ttfb is not None and ttfb >= 100
    assert [w.text for w in words][:4] == ["Hello,", "this", "is", "Alex."]
    assert words[-1].end == pytest.approx(len(audio) / RATE)
    auth = fake_openai_speech.requests[0].headers["authorization"]
    assert auth == f"Bearer {fake_openai_speech.api_key}"


def test_cancel_stops_the_requests_and_the_audio(fake_openai_speech: FakeOpenAISpeech) -> None:
    async def run() -> int:
        speech = voice(fake_openai_speech)
        synthesis = speech.synthesis()
        await synthesis.push("A long sentence that will be cut off right at its start.")
        await synthesis.push("And another one that never plays.")
        await synthesis.end()
        got = 0
        async for _ in synthesis.chunks():
            got += 1
            await synthesis.cancel()
        await speech.close()
        return got

    assert asyncio.run(run()) == 1


def test_a_turn_is_sent_whole_at_its_end_with_the_terms_as_prompt(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    async def run() -> tuple[str, str]:
        stt = ears(fake_openai_speech, model="Systran/faster-whisper-small", terms=["Alex Martin"])
        await stt.start()
        try:
            stt.send(utterance("My name is Alex Martin."))
            assert not fake_openai_speech.requests  # nothing sent before the end of the turn
            first = await stt.finalize()
            stt.send(utterance("Yes, absolutely."))
            return first, await stt.finalize()
        finally:
            await stt.close()

    first, second = asyncio.run(run())
    assert "Alex Martin" in first and "absolutely" in second.lower() and "Alex" not in second
    sent = fake_openai_speech.requests_to("POST", "/v1/audio/transcriptions")
    assert len(sent) == 2
    assert sent[0].form["model"] == "Systran/faster-whisper-small"
    assert sent[0].form["prompt"] == "Alex Martin"
    assert sent[0].files[0].content[:4] == b"RIFF"


def test_errors_and_a_cut_body_are_speech_faults_with_their_reason(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    async def tts() -> SpeechFault:
        speech = voice(fake_openai_speech)
        with pytest.raises(SpeechFault) as fault:
            await synthesize(speech, "Hello there, how are you doing today?")
        await speech.close()
        return fault.value

    async def stt() -> SpeechFault:
        recognition = ears(fake_openai_speech)
        recognition.send(utterance("Hello."))
        with pytest.raises(SpeechFault) as fault:
            await recognition.finalize()
        await recognition.close()
        return fault.value

    fake_openai_speech.fail_status = 503
    error = asyncio.run(tts())
    assert error.reason == "tts_error" and "503" in str(error)
    stt_error = asyncio.run(stt())
    assert stt_error.reason == "stt_error" and "503" in str(stt_error)
    fake_openai_speech.reset()
    fake_openai_speech.cut_after_bytes = 20000
    assert asyncio.run(tts()).reason in ("tts_error", "tts_unreachable")
    fake_openai_speech.reset()
    wrong = asyncio.run(tts_with_key(fake_openai_speech, "wrong"))
    assert wrong.reason == "tts_error" and "401" in str(wrong)


async def tts_with_key(fake: FakeOpenAISpeech, key: str) -> SpeechFault:
    speech = voice(fake, api_key=key)
    with pytest.raises(SpeechFault) as fault:
        await synthesize(speech, "Hello.")
    await speech.close()
    return fault.value


def test_an_unreachable_server_is_unreachable() -> None:
    async def run() -> SpeechFault:
        speech = OpenAISpeech(base_url="http://127.0.0.1:9/v1")
        with pytest.raises(SpeechFault) as fault:
            await synthesize(speech, "Hello.")
        return fault.value

    assert asyncio.run(run()).reason == "tts_unreachable"
