"""The fake Cartesia TTS websocket checked by code we did not write: the official
``cartesia`` SDK, its websocket base URL set to the fake, streams a context from it."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from cartesia import AsyncCartesia

from openrevox.audio.codec import ulaw_decode
from tests.audio.fake_cartesia_tts import FakeCartesiaTTS

VOICE = "a0e99841-438c-4a64-b679-ae501e7d6091"
MULAW_8K = {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000}


@pytest.fixture
def fake(fake_cartesia_tts: FakeCartesiaTTS) -> FakeCartesiaTTS:
    return fake_cartesia_tts


def test_the_official_sdk_streams_a_context_of_mu_law_audio_with_word_timestamps(
    fake: FakeCartesiaTTS,
) -> None:
    async def stream() -> tuple[bytes, list[str], list[str]]:
        client = AsyncCartesia(
            api_key=fake.api_key, websocket_base_url=fake.ws_url.removesuffix(fake.path)
        )
        audio, words, types = b"", [], []
        async with client.tts.websocket_connect() as connection:
            context = connection.context(
                model_id="sonic-3",
                voice={"mode": "id", "id": VOICE},
                output_format=MULAW_8K,
                add_timestamps=True,
                generation_config={"speed": 1.1, "volume": 1.0},
            )
            await context.push("Hello, this is Alex.")
            await context.push("How are you today?")
            await context.no_more_inputs()
            async for event in context.receive():
                types.append(event.type)
                if event.type == "chunk" and event.audio:
                    audio += event.audio
                elif event.type == "timestamps" and event.word_timestamps:
                    words += event.word_timestamps.words
        return audio, words, types

    fake.reset()
    audio, words, types = asyncio.run(stream())
    samples = ulaw_decode(audio)
    assert len(samples) > 8000 and np.abs(samples).max() > 3000  # over a second of speech
    assert words == ["Hello,", "this", "is", "Alex.", "How", "are", "you", "today?"]
    assert types[-1] == "done" and "timestamps" in types
    sent = fake.requests[0]
    assert sent["output_format"] == MULAW_8K and sent["voice"] == {"mode": "id", "id": VOICE}
    assert sent["generation_config"] == {"speed": 1.1, "volume": 1.0}
    assert fake.handshakes[-1]["authorization"] == f"Bearer {fake.api_key}"
    assert fake.handshakes[-1]["cartesia-version"]


def test_the_sdk_sees_an_invalid_request_as_an_error_event_and_a_cancel_stops_a_context(
    fake: FakeCartesiaTTS,
) -> None:
    async def scenario() -> tuple[str | None, list[str]]:
        client = AsyncCartesia(
            api_key=fake.api_key, websocket_base_url=fake.ws_url.removesuffix(fake.path)
        )
        async with client.tts.websocket_connect() as connection:
            bad = connection.context(
                model_id="sonic-3",
                voice={"mode": "id", "id": VOICE},
                output_format=MULAW_8K,
                generation_config={"speed": 3.0},
            )
            await bad.push("Too fast.")
            error = None
            async for event in bad.receive():
                if event.type == "error":
                    error = event.message
            cut = connection.context(
                model_id="sonic-3", voice={"mode": "id", "id": VOICE}, output_format=MULAW_8K
            )
            await cut.push("A long sentence that the caller will interrupt right away.")
            await cut.cancel()
            await asyncio.sleep(0.5)
            return error, fake.cancels

    fake.reset()
    fake.ttfb = 0.3
    error, cancels = asyncio.run(scenario())
    assert error is not None and "speed" in error
    assert len(cancels) == 1 and fake.chunks_sent == 0  # cancelled before its first byte


def test_a_wrong_key_is_refused_at_the_handshake(fake: FakeCartesiaTTS) -> None:
    async def connect() -> None:
        client = AsyncCartesia(
            api_key="wrong", websocket_base_url=fake.ws_url.removesuffix(fake.path)
        )
        async with client.tts.websocket_connect():
            pass

    fake.reset()
    with pytest.raises(Exception, match="401"):
        asyncio.run(connect())
