"""Our ElevenLabs TTS against the fake multi-context websocket: the voice and its
settings in the request, 8 kHz mu-law streamed with character alignment turned into
word times, a barge-in closing one context while the connection serves the next, and
each failure a ``SpeechFault`` with its reason."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from openrevox.audio.codec import RATE, Samples
from openrevox.audio.providers.elevenlabs.tts import ElevenLabsSpeech
from openrevox.audio.speech import SpeechFault, WordTime, said_by
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS
from tests.audio.providers.speaking import synthesize

VOICE = "21m00Tcm4TlvDq8ikWAM"


def elevenlabs(fake: FakeElevenLabsTTS, **changes: object) -> ElevenLabsSpeech:
    values: dict[str, object] = {"api_key": fake.api_key, "base_url": fake.url, "voice_id": VOICE}
    values.update(changes)
    return ElevenLabsSpeech(**values)  # type: ignore[arg-type]


def test_the_voice_streams_mu_law_with_its_settings_and_word_times_from_the_alignment(
    fake_elevenlabs_tts: FakeElevenLabsTTS,
) -> None:
    async def run() -> tuple[list[Samples], list[WordTime], float | None]:
        speech = elevenlabs(fake_elevenlabs_tts, speed=1.5, model="eleven_turbo_v2_5")
        await speech.start()
        try:
            return await synthesize(speech, "Hello, this is Alex.", "How are you today?")
        finally:
            await speech.close()

    fake_elevenlabs_tts.ttfb = 0.09
    chunks, words, ttfb = asyncio.run(run())
    audio = np.concatenate(chunks)
    assert len(audio) > RATE and np.abs(audio).max() > 2000
    assert [w.text for w in words] == [
        "Hello,",
        "this",
        "is",
        "Alex.",
        "How",
        "are",
        "you",
        "today?",
    ]
    assert all(a.end <= b.start + 0.002 for a, b in itertools.pairwise(words))
    assert words[-1].end <= len(audio) / RATE + 0.01  # times within the audio received
    assert said_by(words, words[3].end) == "Hello, this is Alex."
    assert ttfb is not None and ttfb >= 90
    assert fake_elevenlabs_tts.voices == [VOICE]
    query = fake_elevenlabs_tts.queries[0]
    assert query["output_format"] == "ulaw_8000" and query["model_id"] == "eleven_turbo_v2_5"
    first = fake_elevenlabs_tts.messages[0]
    assert first["text"] == " "
    assert first["voice_settings"] == {"stability": 0.5, "similarity_boost": 0.75, "speed": 1.2}
    assert fake_elevenlabs_tts.messages[1]["flush"] is True
    assert fake_elevenlabs_tts.handshakes[-1]["xi-api-key"] == fake_elevenlabs_tts.api_key
    assert fake_elevenlabs_tts.closed_contexts == [first["context_id"]]  # once done


def test_a_barge_in_closes_its_context_and_the_next_utterance_uses_the_same_connection(
    fake_elevenlabs_tts: FakeElevenLabsTTS,
) -> None:
    async def run() -> tuple[int, list[str]]:
        speech = elevenlabs(fake_elevenlabs_tts)
        await speech.start()
        try:
            synthesis = speech.synthesis()
            await synthesis.push("A long sentence that will be cut off right at its start.")
            await synthesis.end()
            got = 0
            async for _ in synthesis.chunks():
                got += 1
                await synthesis.cancel()
            _, words, _ = await synthesize(speech, "Sorry, go ahead.")
            return got, [w.text for w in words]
        finally:
            await speech.close()

    got, words = asyncio.run(run())
    assert got == 1
    assert words == ["Sorry,", "go", "ahead."]
    contexts = [m["context_id"] for m in fake_elevenlabs_tts.messages if m.get("context_id")]
    assert len(set(contexts)) == 2
    assert fake_elevenlabs_tts.closed_contexts[0] == contexts[0]  # the cut one, first
    assert len(fake_elevenlabs_tts.handshakes) == 1  # no reconnection


def test_a_refused_connection_is_tts_unreachable(fake_elevenlabs_tts: FakeElevenLabsTTS) -> None:
    async def run(**changes: object) -> None:
        await elevenlabs(fake_elevenlabs_tts, **changes).start()

    with pytest.raises(SpeechFault) as wrong_key:
        asyncio.run(run(api_key="wrong"))
    assert wrong_key.value.reason == "tts_unreachable" and "401" in str(wrong_key.value)
    fake_elevenlabs_tts.refuse_status = 503
    with pytest.raises(SpeechFault, match="503"):
        asyncio.run(run())
    with pytest.raises(SpeechFault) as nobody:
        asyncio.run(run(base_url="http://127.0.0.1:9"))
    assert nobody.value.reason == "tts_unreachable"


def test_an_error_and_a_lost_connection_end_the_synthesis_with_a_reason(
    fake_elevenlabs_tts: FakeElevenLabsTTS,
) -> None:
    async def run(drop: bool) -> tuple[SpeechFault, SpeechFault]:
        speech = elevenlabs(fake_elevenlabs_tts)
        await speech.start()
        try:
            if drop:
                fake_elevenlabs_tts.drop_after_chunks = 2
            else:
                fake_elevenlabs_tts.error_next = True
            with pytest.raises(SpeechFault) as first:
                await synthesize(speech, "Hello there, how are you doing today?")
            with pytest.raises(SpeechFault) as after:
                await synthesize(speech, "Anyone?")
            return first.value, after.value
        finally:
            await speech.close()

    error, after_error = asyncio.run(run(drop=False))
    assert error.reason == "tts_error" and "quota" in str(error)
    assert after_error.reason == "tts_error"
    fake_elevenlabs_tts.reset()
    dropped, after = asyncio.run(run(drop=True))
    assert dropped.reason == "tts_disconnected" and "1011" in str(dropped)
    assert after.reason == "tts_disconnected"
