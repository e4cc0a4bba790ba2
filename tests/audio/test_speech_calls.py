"""Calls at audio fidelity whose agent speaks through Cartesia and hears through Soniox
(their fakes, real speech both ways): barge-in cancels the generation and keeps what
was said, ``speech_events`` line up with the call's recorded channels, and a provider
that fails or drops mid-call ends the line with its reason. Real time: serial."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import revox

from openrevox.audio.codec import RATE, ulaw_decode
from openrevox.audio.providers.cartesia.tts import CartesiaSpeech
from openrevox.audio.providers.soniox.stt import SonioxRecognition
from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head
from openrevox.telephony.base import LineFault
from openrevox.telephony.sim.audio_line import AudioSimLine
from tests.audio.fake_cartesia_tts import FakeCartesiaTTS
from tests.audio.fake_soniox_stt import FakeSonioxSTT
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

pytestmark = pytest.mark.serial

VOICE = "a0e99841-438c-4a64-b679-ae501e7d6091"
TEXT = (
    "Thank you for picking up. I am calling about the spring offer, which gives you three"
    " months for the price of one, and I would love to tell you all about it today."
)


async def open_line(tts: FakeCartesiaTTS, stt: FakeSonioxSTT) -> AudioSimLine:
    line = await AudioSimLine.open(
        {"first_sentence": "Hi."},
        tts=CartesiaSpeech(api_key=tts.api_key, base_url=tts.url, voice_id=VOICE),
        stt=SonioxRecognition(api_key=stt.api_key, base_url=stt.url, model="stt-rt-v4"),
    )
    line.agent.side.recording, line.callee.recording = [], []
    await line.connect()
    return line


def voiced_span(frames: list[bytes]) -> tuple[float, float]:
    """(start, stop) ms of a recorded channel's voice: its first and last loud 10 ms."""
    samples = ulaw_decode(b"".join(frames))
    block = RATE // 100
    count = len(samples) // block
    loud = np.flatnonzero(np.abs(samples[: count * block].reshape(count, block)).max(axis=1) > 300)
    return float(loud[0] * 10), float(loud[-1] * 10 + 10)


def test_barge_in_cancels_the_generation_and_the_events_match_the_recording(
    fake_cartesia_tts: FakeCartesiaTTS, fake_soniox: FakeSonioxSTT
) -> None:
    async def run() -> tuple[str, str | None, list[dict[str, Any]], list[bytes], list[bytes]]:
        line = await open_line(fake_cartesia_tts, fake_soniox)
        try:
            saying = asyncio.create_task(line.say(TEXT))
            assert await line.person_waits_for_the_agent_to_speak(10.0)
            await asyncio.sleep(1.0)
            await line.person_says("Sorry, who is this?")
            said = await asyncio.wait_for(saying, 20.0)
            heard = await line.hear(10.0)
            await asyncio.sleep(0.5)
            return (
                said,
                heard,
                line.agent.speech_log.wire(),
                list(line.agent.side.recording or []),
                list(line.callee.recording or []),
            )
        finally:
            await line.hang_up()

    fake_soniox.interim_every = None
    said, heard, events, agent_channel, callee_channel = asyncio.run(run())
    assert said and TEXT.startswith(said) and len(said) < len(TEXT) - 10
    assert heard is not None and "sorry" in heard.lower()
    assert len(fake_cartesia_tts.cancels) == 1  # the generation was cancelled
    agent = [event for event in events if event["speaker"] == "agent"]
    user = [event for event in events if event["speaker"] == "user"]
    assert len(agent) == 1 and agent[0]["was_cut"] is True and agent[0]["transcript"] == said
    assert agent[0]["tts_ttfb_ms"] >= 90
    assert len(user) == 1 and user[0]["transcript"] == heard and user[0]["is_real_turn"]
    assert user[0]["stt_transcription_delay_ms"] >= 300  # the fake: 350 ms after its end of speech
    # Against the recording: each channel's voice where the events say it was.
    # (one utterance on each channel here)
    agent_start, agent_stop = voiced_span(agent_channel)
    assert abs(agent[0]["started_speaking_at_ms"] - agent_start) <= 60
    assert abs(agent[0]["stopped_speaking_at_ms"] - agent_stop) <= 60
    user_start, user_stop = voiced_span(callee_channel)
    assert abs(user[0]["started_speaking_at_ms"] - user_start) <= 100
    assert abs(user[0]["stopped_speaking_at_ms"] - user_stop) <= 100
    assert abs(len(agent_channel) - len(callee_channel)) <= 1  # one clock for both


def test_cartesia_dropping_mid_sentence_ends_the_line_with_its_reason(
    fake_cartesia_tts: FakeCartesiaTTS, fake_soniox: FakeSonioxSTT
) -> None:
    async def run() -> LineFault:
        line = await open_line(fake_cartesia_tts, fake_soniox)
        try:
            fake_cartesia_tts.drop_after_chunks = 3
            with pytest.raises(LineFault) as fault:
                await line.say(TEXT)
            return fault.value
        finally:
            await line.hang_up()

    fault = asyncio.run(run())
    assert fault.reason == "tts_disconnected"


def test_a_soniox_error_mid_call_ends_the_line_with_its_reason(
    fake_cartesia_tts: FakeCartesiaTTS, fake_soniox: FakeSonioxSTT
) -> None:
    async def run() -> LineFault:
        line = await open_line(fake_cartesia_tts, fake_soniox)
        try:
            fake_soniox.error_after = 0.3
            await line.person_says("Hello, who is calling?")
            with pytest.raises(LineFault) as fault:
                await line.hear(10.0)
            return fault.value
        finally:
            await line.hang_up()

    fake_soniox.interim_every = None
    assert asyncio.run(run()).reason == "stt_error"


def test_a_provider_that_cannot_be_reached_fails_the_connect(
    fake_cartesia_tts: FakeCartesiaTTS, fake_soniox: FakeSonioxSTT
) -> None:
    async def run() -> LineFault:
        fake_cartesia_tts.refuse_status = 401
        with pytest.raises(LineFault) as fault:
            line = await open_line(fake_cartesia_tts, fake_soniox)
            await line.hang_up()
        return fault.value

    assert asyncio.run(run()).reason == "tts_unreachable"


# -- through the worker and the API (official SDK) --


@pytest.fixture
def speech_server(
    tmp_path: Path, fake_cartesia_tts: FakeCartesiaTTS, fake_soniox: FakeSonioxSTT
) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'openrevox.db'}"
    upgrade_to_head(Settings(database_url=url).database_url)
    settings = make_settings(
        url,
        tmp_path,
        sim_fidelity="audio",
        cartesia_api_key=fake_cartesia_tts.api_key,
        cartesia_base_url=fake_cartesia_tts.url,
        soniox_api_key=fake_soniox.api_key,
        soniox_base_url=fake_soniox.url,
    )
    live = LiveServer(settings, embedded_worker=True)
    yield live.start()
    live.stop()


ASSISTANT: dict[str, Any] = {
    "prompt": "You call on behalf of Acme about the spring offer.",
    "first_sentence": "Hello, this is Acme calling about our spring offer.",
    "first_sentence_mode": "static",
    "structured_output_config": [
        {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    ],
    "voice": {"provider": "cartesia", "id": VOICE, "model": "sonic-3.5", "speed": 1.1},
    "stt_model": "stt-rt-v4",
    "stt_context": {"general": [{"key": "company", "value": "Acme"}], "terms": ["Acme"]},
    "call_retry_config": retry_config(1),
}


def test_a_call_through_cartesia_and_soniox_records_its_speech(
    speech_server: LiveServer, fake_cartesia_tts: FakeCartesiaTTS, fake_soniox: FakeSonioxSTT
) -> None:
    org = speech_server.new_org()
    caller = revox.Revox(api_key=org.test_key, base_url=f"{speech_server.url}/api", max_retries=0)
    created = caller.call.create(phone_number="+14155550100", assistant=ASSISTANT)  # type: ignore[arg-type]
    call = wait_until_done(caller, created.call.id, timeout=150)
    attempt = call.call_attempts[0]
    assert attempt.result == "human" and attempt.status == "completed", attempt
    extension = attempt.model_extra["openrevox"]  # type: ignore[index]
    assert extension["speech"] == {
        "tts": {"provider": "cartesia", "model": "sonic-3.5", "voice_id": VOICE},
        "stt": {"provider": "soniox", "model": "stt-rt-v4"},
    }
    events = attempt.speech_events or []
    agent = [event for event in events if event.speaker == "agent"]
    user = [event for event in events if event.speaker == "user"]
    assert agent and user
    assert agent[0].transcript == ASSISTANT["first_sentence"]
    assert all(event.tts_ttfb_ms is not None and event.tts_ttfb_ms >= 90 for event in agent)
    assert all((event.stt_transcription_delay_ms or 0) >= 300 for event in user)
    starts = [event.started_speaking_at_ms for event in events]
    assert starts == sorted(starts)
    said = {entry.content for entry in attempt.transcript or [] if entry.role == "user"}
    assert {event.transcript for event in user if event.is_real_turn} <= said
    # What our providers asked for, as Cartesia and Soniox read it.
    first = fake_cartesia_tts.requests[0]
    assert first["model_id"] == "sonic-3.5" and first["generation_config"] == {"speed": 1.1}
    assert fake_soniox.configs[-1]["model"] == "stt-rt-v4"
    assert fake_soniox.configs[-1]["context"]["terms"] == ["Acme"]


def test_a_speech_provider_that_refuses_the_connection_ends_the_attempt_with_its_reason(
    speech_server: LiveServer, fake_soniox: FakeSonioxSTT
) -> None:
    fake_soniox.refuse_status = 503
    org = speech_server.new_org()
    caller = revox.Revox(
        api_key=org.test_key,
        base_url=f"{speech_server.url}/api",
        max_retries=0,
        _strict_response_validation=True,
    )
    created = caller.call.create(phone_number="+14155550100", assistant=ASSISTANT)  # type: ignore[arg-type]
    attempt = wait_until_done(caller, created.call.id, timeout=60).call_attempts[0]
    assert attempt.status == "error" and attempt.end_reason == "client_initiated"
    extension = attempt.model_extra["openrevox"]  # type: ignore[index]
    assert extension["error_reason"] == "stt_unreachable"
    assert "503" in extension["speech"]["stt"]["error"]
    assert extension["speech"]["tts"] == {
        "provider": "cartesia",
        "model": "sonic-3.5",
        "voice_id": VOICE,
    }
