"""Our Deepgram STT against the fake Deepgram websocket: the phone line's mu-law with
interim results and endpointing asked for in the query, the assistant's terms as
keyterms, a turn finalized into its final text, Deepgram's end-of-speech events
counted, and each failure a ``SpeechFault`` with its reason."""

from __future__ import annotations

import asyncio

import pytest

from openrevox.audio.providers import context_terms
from openrevox.audio.providers.deepgram.stt import DeepgramRecognition
from openrevox.audio.speech import SPEECH_END, UTTERANCE_END, SpeechFault
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT
from tests.audio.providers.test_soniox_stt import stream, utterance


def deepgram(fake: FakeDeepgramSTT, **changes: object) -> DeepgramRecognition:
    values: dict[str, object] = {"api_key": fake.api_key, "base_url": fake.url}
    values.update(changes)
    return DeepgramRecognition(**values)  # type: ignore[arg-type]


def test_a_turn_is_streamed_and_finalized_into_its_text(fake_deepgram: FakeDeepgramSTT) -> None:
    terms = context_terms({"general": [{"key": "domain", "value": "x"}], "terms": ["Alex Martin"]})

    async def run() -> tuple[str, str, list[str], list[str]]:
        ears = deepgram(fake_deepgram, terms=terms)
        interim: list[str] = []
        endpoints: list[str] = []
        ears.on_interim = interim.append
        ears.on_endpoint = endpoints.append
        await ears.start()
        try:
            await stream(ears, utterance("My name is Alex Martin."), real_time=True)  # type: ignore[arg-type]
            first = await ears.finalize()
            await stream(ears, utterance("Yes, absolutely."))  # type: ignore[arg-type]
            return first, await ears.finalize(), interim, endpoints
        finally:
            await ears.close()

    fake_deepgram.interim_every = 0.5
    first, second, interim, endpoints = asyncio.run(run())
    assert "Alex Martin" in first and "absolutely" in second.lower()
    assert "Alex" not in second  # each finalize: the audio since the last one
    assert interim and interim[0] != first
    # speech_final after the first utterance's trailing silence
    assert SPEECH_END in endpoints and set(endpoints) <= {SPEECH_END, UTTERANCE_END}
    query = fake_deepgram.queries[-1]
    assert query["model"] == ["nova-3"] and query["encoding"] == ["mulaw"]
    assert query["sample_rate"] == ["8000"] and query["interim_results"] == ["true"]
    assert query["keyterm"] == ["Alex Martin"] and query["endpointing"] == ["300"]
    assert query["utterance_end_ms"] == ["1000"] and query["vad_events"] == ["true"]
    assert fake_deepgram.handshakes[-1]["authorization"] == f"Token {fake_deepgram.api_key}"
    assert fake_deepgram.controls.count("Finalize") == 2


def test_older_models_take_the_terms_as_keywords(fake_deepgram: FakeDeepgramSTT) -> None:
    async def run() -> None:
        ears = deepgram(fake_deepgram, model="nova-2-phonecall", terms=["Acme"])
        await ears.start()
        await ears.close()

    asyncio.run(run())
    assert fake_deepgram.queries[-1]["keywords"] == ["Acme"]
    assert "keyterm" not in fake_deepgram.queries[-1]


def test_a_refused_connection_is_stt_unreachable(fake_deepgram: FakeDeepgramSTT) -> None:
    async def run(**changes: object) -> None:
        await deepgram(fake_deepgram, **changes).start()

    with pytest.raises(SpeechFault) as wrong_key:
        asyncio.run(run(api_key="wrong"))
    assert wrong_key.value.reason == "stt_unreachable" and "401" in str(wrong_key.value)
    with pytest.raises(SpeechFault, match="400"):
        asyncio.run(run(model="nova-9"))
    with pytest.raises(SpeechFault) as nobody:
        asyncio.run(run(base_url="http://127.0.0.1:9"))
    assert nobody.value.reason == "stt_unreachable"


def test_an_error_and_a_lost_connection_fail_the_turn_with_a_reason(
    fake_deepgram: FakeDeepgramSTT,
) -> None:
    async def run() -> SpeechFault:
        ears = deepgram(fake_deepgram)
        await ears.start()
        try:
            await stream(ears, utterance("Hello there, who is calling?"))  # type: ignore[arg-type]
            await asyncio.sleep(0.2)
            with pytest.raises(SpeechFault) as fault:
                await ears.finalize()
            return fault.value
        finally:
            await ears.close()

    fake_deepgram.error_after = 0.5
    error = asyncio.run(run())
    assert error.reason == "stt_error" and "NET-0001" in str(error)
    fake_deepgram.reset()
    fake_deepgram.drop_after = 0.5
    dropped = asyncio.run(run())
    assert dropped.reason == "stt_disconnected" and "1011" in str(dropped)
