"""Our Cartesia TTS against the fake Cartesia websocket: the assistant's voice in the
request, 8 kHz mu-law streamed with word timestamps, cancel, and each failure a
``SpeechFault`` with its reason."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from openrevox.audio.codec import RATE, Samples
from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
from openrevox.audio.speech import SpeechFault, WordTime
from tests.audio.fake_cartesia_tts import FakeCartesiaTTS
from tests.audio.providers.speaking import synthesize

VOICE = "a0e99841-438c-4a64-b679-ae501e7d6091"


def cartesia(fake: FakeCartesiaTTS, **changes: object) -> CartesiaSpeech:
    values: dict[str, object] = {"api_key": fake.api_key, "base_url": fake.url, "voice_id": VOICE}
    values.update(changes)
    return CartesiaSpeech(**values)  # type: ignore[arg-type]


def test_the_voice_streams_mu_law_with_the_assistants_settings_and_word_times(
    fake_cartesia_tts: FakeCartesiaTTS,
) -> None:
    async def run() -> tuple[list[Samples], list[WordTime], float | None]:
        speech = cartesia(
            fake_cartesia_tts,
            model="sonic-3.5",
            speed=1.2,
            volume=0.8,
            pronunciation_dict_id="pd_1",
        )
        await speech.start()
        try:
            return await synthesize(speech, "Hello, this is Alex.", "How are you today?")
        finally:
            await speech.close()

    fake_cartesia_tts.ttfb = 0.09
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
    assert words[4].start >= words[3].end - 1e-6  # the second sentence after the first
    assert ttfb is not None and ttfb >= 90
    first = fake_cartesia_tts.requests[0]
    assert first["model_id"] == "sonic-3.5" and first["continue"] is True
    assert first["voice"] == {"mode": "id", "id": VOICE}
    assert first["output_format"] == {
        "container": "raw",
        "encoding": "pcm_mulaw",
        "sample_rate": 8000,
    }
    assert first["generation_config"] == {"speed": 1.2, "volume": 0.8}
    assert first["pronunciation_dict_id"] == "pd_1" and first["add_timestamps"] is True
    assert fake_cartesia_tts.requests[-1]["continue"] is False
    assert len({r["context_id"] for r in fake_cartesia_tts.requests}) == 1  # one context
    assert fake_cartesia_tts.handshakes[-1]["x-api-key"] == fake_cartesia_tts.api_key


def test_cancel_sends_cartesias_cancel_and_ends_the_audio(
    fake_cartesia_tts: FakeCartesiaTTS,
) -> None:
    async def run() -> int:
        speech = cartesia(fake_cartesia_tts)
        await speech.start()
        try:
            synthesis = speech.synthesis()
            await synthesis.push("A long sentence that will be cut off right at its start.")
            await synthesis.end()
            got = 0
            async for _ in synthesis.chunks():
                got += 1
                await synthesis.cancel()
            for _ in range(200):  # the fake reads the cancel on its own thread
                if fake_cartesia_tts.cancels:
                    break
                await asyncio.sleep(0.01)
            return got
        finally:
            await speech.close()

    got = asyncio.run(run())
    assert got == 1
    assert fake_cartesia_tts.cancels == [fake_cartesia_tts.requests[0]["context_id"]]


def test_a_refused_connection_is_tts_unreachable(fake_cartesia_tts: FakeCartesiaTTS) -> None:
    async def run(**changes: object) -> None:
        await cartesia(fake_cartesia_tts, **changes).start()

    with pytest.raises(SpeechFault) as wrong_key:
        asyncio.run(run(api_key="wrong"))
    assert wrong_key.value.reason == "tts_unreachable" and "401" in str(wrong_key.value)
    fake_cartesia_tts.refuse_status = 503
    with pytest.raises(SpeechFault, match="503"):
        asyncio.run(run())
    with pytest.raises(SpeechFault) as nobody:
        asyncio.run(run(base_url="http://127.0.0.1:9"))
    assert nobody.value.reason == "tts_unreachable"


def test_an_error_message_and_a_lost_connection_end_the_synthesis_with_a_reason(
    fake_cartesia_tts: FakeCartesiaTTS,
) -> None:
    async def run() -> tuple[SpeechFault, SpeechFault, SpeechFault]:
        speech = cartesia(fake_cartesia_tts)
        await speech.start()
        try:
            fake_cartesia_tts.error_next = True
            with pytest.raises(SpeechFault) as error:
                await synthesize(speech, "Hello.")
            fake_cartesia_tts.drop_after_chunks = fake_cartesia_tts.chunks_sent + 2
            with pytest.raises(SpeechFault) as dropped:
                await synthesize(speech, "Hello there, how are you doing today?")
            with pytest.raises(SpeechFault) as after:
                await synthesize(speech, "Anyone?")
            return error.value, dropped.value, after.value
        finally:
            await speech.close()

    error, dropped, after = asyncio.run(run())
    assert error.reason == "tts_error" and "overloaded" in str(error)
    assert dropped.reason == "tts_disconnected" and "1011" in str(dropped)
    assert after.reason == "tts_disconnected"
