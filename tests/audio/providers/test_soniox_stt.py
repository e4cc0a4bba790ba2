"""Our Soniox STT against the fake Soniox websocket: the assistant's model and context in
the config, a turn finalized into its final text, interim text as it comes, and each
failure a ``SpeechFault`` with its reason."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from openrevox.audio.codec import FRAME_SAMPLES, RATE, Samples
from openrevox.audio.providers.soniox.stt import SonioxRecognition, soniox_context
from openrevox.audio.speech import SpeechFault
from openrevox.audio.tts import CALLEE, Synthesizer
from tests.audio.fake_soniox_stt import FakeSonioxSTT


def utterance(text: str) -> Samples:
    silence = np.zeros(RATE // 4, dtype=np.int16)
    return np.concatenate([silence, Synthesizer().sentence(text, CALLEE).samples, silence])


def soniox(fake: FakeSonioxSTT, **changes: object) -> SonioxRecognition:
    values: dict[str, object] = {"api_key": fake.api_key, "base_url": fake.url}
    values.update(changes)
    return SonioxRecognition(**values)  # type: ignore[arg-type]


async def stream(ears: SonioxRecognition, samples: Samples, *, real_time: bool = False) -> None:
    for start in range(0, len(samples), FRAME_SAMPLES):
        ears.send(samples[start : start + FRAME_SAMPLES])
        await asyncio.sleep(0.02 if real_time else 0)


def test_a_turn_is_streamed_and_finalized_into_its_text(fake_soniox: FakeSonioxSTT) -> None:
    context = soniox_context(
        {"general": [{"key": "domain", "value": "sales"}], "terms": ["Alex Martin"]}
    )

    async def run() -> tuple[str, str, list[str]]:
        ears = soniox(fake_soniox, model="stt-rt-v4", context=context)
        interim: list[str] = []
        ears.on_interim = interim.append
        await ears.start()
        try:
            await stream(ears, utterance("My name is Alex Martin."), real_time=True)
            first = await ears.finalize()
            await stream(ears, utterance("Yes, absolutely."))
            return first, await ears.finalize(), interim
        finally:
            await ears.close()

    fake_soniox.interim_every = 0.5
    first, second, interim = asyncio.run(run())
    assert "Alex Martin" in first and "absolutely" in second.lower()
    assert "Alex" not in second  # each finalize: the audio since the last one
    assert interim and interim[0] != first
    config = fake_soniox.configs[-1]
    assert config["model"] == "stt-rt-v4" and config["audio_format"] == "mulaw"
    assert config["sample_rate"] == 8000 and config["num_channels"] == 1
    assert config["context"] == {
        "general": [{"key": "domain", "value": "sales"}],
        "terms": ["Alex Martin"],
    }
    assert "api_key" not in config and config["enable_endpoint_detection"] is False
    assert fake_soniox.handshakes[-1]["authorization"] == f"Bearer {fake_soniox.api_key}"
    assert fake_soniox.controls.count("finalize") == 2


def test_the_final_text_comes_after_the_providers_delay(fake_soniox: FakeSonioxSTT) -> None:
    async def run() -> float:
        ears = soniox(fake_soniox)
        await ears.start()
        try:
            await stream(ears, utterance("Yes."))
            loop = asyncio.get_running_loop()
            asked = loop.time()
            await ears.finalize()
            return loop.time() - asked
        finally:
            await ears.close()

    fake_soniox.final_delay = 0.35
    fake_soniox.interim_every = None
    assert 0.35 <= asyncio.run(run()) < 1.5


def test_errors_and_a_lost_connection_fail_the_next_finalize_with_a_reason(
    fake_soniox: FakeSonioxSTT,
) -> None:
    async def run(**changes: object) -> SpeechFault:
        ears = soniox(fake_soniox, **changes)
        await ears.start()
        try:
            await stream(ears, utterance("Hello there."), real_time=True)
            with pytest.raises(SpeechFault) as fault:
                await ears.finalize()
            return fault.value
        finally:
            await ears.close()

    fake_soniox.interim_every = None
    assert asyncio.run(run(api_key="wrong")).reason == "stt_error"
    assert asyncio.run(run(model="stt-rt-v9")).reason == "stt_error"
    fake_soniox.error_after = 0.5
    error = asyncio.run(run())
    assert error.reason == "stt_error" and "503" in str(error)
    fake_soniox.error_after, fake_soniox.drop_after = None, 0.5
    assert asyncio.run(run()).reason == "stt_disconnected"


def test_a_refused_connection_is_stt_unreachable(fake_soniox: FakeSonioxSTT) -> None:
    async def run(**changes: object) -> None:
        ears = soniox(fake_soniox, **changes)
        try:
            await ears.start()
        finally:
            await ears.close()

    fake_soniox.refuse_status = 503
    with pytest.raises(SpeechFault) as refused:
        asyncio.run(run())
    assert refused.value.reason == "stt_unreachable"
    with pytest.raises(SpeechFault) as nobody:
        asyncio.run(run(base_url="http://127.0.0.1:9"))
    assert nobody.value.reason == "stt_unreachable"
