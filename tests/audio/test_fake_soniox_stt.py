"""The fake Soniox realtime STT checked by code we did not write: the official
``soniox`` SDK, its websocket URL set to the fake, streams real speech to it and reads
interim and final tokens, the ``<fin>`` of a finalize and the end of the session."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from soniox import AsyncSonioxClient
from soniox.types import RealtimeSTTConfig

from openrevox.audio.codec import RATE, ulaw_encode
from openrevox.audio.tts import CALLEE, Synthesizer
from tests.audio.fake_soniox_stt import FakeSonioxSTT


@pytest.fixture
def fake(fake_soniox: FakeSonioxSTT) -> FakeSonioxSTT:
    return fake_soniox


def speech(text: str) -> bytes:
    samples = Synthesizer().sentence(text, CALLEE).samples
    silence = np.zeros(RATE // 2, dtype=np.int16)
    return ulaw_encode(np.concatenate([silence, samples, silence]))


def config(**changes: object) -> RealtimeSTTConfig:
    values: dict[str, object] = {
        "model": "stt-rt-v4",
        "audio_format": "mulaw",
        "sample_rate": 8000,
        "num_channels": 1,
        "context": {"terms": ["Alex Martin"]},
    }
    values.update(changes)
    return RealtimeSTTConfig.model_validate(values)


async def _stream(fake: FakeSonioxSTT, audio: bytes, **changes: object) -> list[object]:
    client = AsyncSonioxClient(api_key=fake.api_key, websocket_base_url=fake.ws_url)
    events: list[object] = []
    async with client.realtime.stt.connect(config=config(**changes)) as session:
        for start in range(0, len(audio), 160):
            await session.send_byte_chunk(audio[start : start + 160])
            if start % 1600 == 0:
                await asyncio.sleep(0.001)
        await session.finalize()
        async for event in session.receive_events():
            events.append(event)
            if any(token.text == "<fin>" for token in event.tokens):
                break
        await session.finish()
        async for event in session.receive_events():
            events.append(event)
    return events


def test_the_official_sdk_streams_speech_and_reads_interim_and_final_tokens(
    fake: FakeSonioxSTT,
) -> None:
    fake.reset()
    events = asyncio.run(_stream(fake, speech("My name is Alex Martin.")))
    tokens = [token for event in events for token in event.tokens]  # type: ignore[attr-defined]
    final = "".join(t.text for t in tokens if t.is_final and not t.text.startswith("<"))
    assert "Alex" in final and "Martin" in final
    assert any(not t.is_final for t in tokens)  # interim results came first
    assert [t.text for t in tokens if t.text.startswith("<")] == ["<fin>"]
    assert events[-1].finished  # type: ignore[attr-defined]
    sent = fake.configs[-1]
    assert "api_key" not in sent and sent["audio_format"] == "mulaw"
    assert fake.handshakes[-1]["authorization"] == f"Bearer {fake.api_key}"
    assert fake.controls[0] == "finalize"


def test_endpoint_detection_sends_final_tokens_and_an_end_token_after_the_pause(
    fake: FakeSonioxSTT,
) -> None:
    async def endpoint() -> list[str]:
        client = AsyncSonioxClient(api_key=fake.api_key, websocket_base_url=fake.ws_url)
        audio = speech("Yes, absolutely.") + ulaw_encode(np.zeros(RATE, dtype=np.int16))
        texts: list[str] = []
        config_ = config(enable_endpoint_detection=True)
        async with client.realtime.stt.connect(config=config_) as session:
            for start in range(0, len(audio), 160):
                await session.send_byte_chunk(audio[start : start + 160])
            async for event in session.receive_events():
                texts += [token.text for token in event.tokens if token.is_final]
                if "<end>" in texts:
                    break
        return texts

    fake.reset()
    fake.interim_every = None
    texts = asyncio.run(endpoint())
    assert texts[-1] == "<end>" and len(texts) > 1


def test_errors_come_as_a_message_with_a_code_before_the_close(fake: FakeSonioxSTT) -> None:
    async def wrong_model() -> object:
        client = AsyncSonioxClient(api_key=fake.api_key, websocket_base_url=fake.ws_url)
        async with client.realtime.stt.connect(config=config(model="stt-rt-v9")) as session:
            return await session.receive_event()

    async def wrong_key() -> object:
        client = AsyncSonioxClient(api_key="wrong", websocket_base_url=fake.ws_url)
        async with client.realtime.stt.connect(config=config()) as session:
            return await session.receive_event()

    fake.reset()
    model_error, key_error = asyncio.run(wrong_model()), asyncio.run(wrong_key())
    assert model_error.error_code == 400 and "model" in model_error.error_message  # type: ignore[attr-defined]
    assert key_error.error_code == 401  # type: ignore[attr-defined]
