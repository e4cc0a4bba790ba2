"""Calls at audio fidelity whose agent speaks and hears through an OpenAI-compatible
speech server (its fake: Piper at 24 kHz, pocketsphinx): each turn transcribed whole at
its end, a barge-in from the VAD alone (no interim results) cancelling the requests, and
a server error mid-call ending the line with its reason. Real time: serial."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openrevox.audio.providers.openai_compatible.speech import OpenAISpeech, OpenAITranscription
from openrevox.telephony.base import LineFault
from openrevox.telephony.sim.audio_line import AudioSimLine
from tests.audio.fake_openai_speech import FakeOpenAISpeech
from tests.audio.test_speech_calls import TEXT, voiced_span

pytestmark = pytest.mark.serial


async def open_line(fake: FakeOpenAISpeech) -> AudioSimLine:
    base = f"{fake.url}/v1"
    line = await AudioSimLine.open(
        {"first_sentence": "Hi."},
        tts=OpenAISpeech(base_url=base, api_key=fake.api_key, model="kokoro", voice="af_heart"),
        stt=OpenAITranscription(base_url=base, api_key=fake.api_key, terms=["Acme"]),
    )
    line.agent.side.recording, line.callee.recording = [], []
    await line.connect()
    return line


def test_a_turn_and_a_barge_in_through_an_openai_compatible_server(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    async def run() -> tuple[str, str | None, list[dict[str, Any]], list[bytes]]:
        line = await open_line(fake_openai_speech)
        try:
            saying = asyncio.create_task(line.say(TEXT))
            assert await line.person_waits_for_the_agent_to_speak(10.0)
            await asyncio.sleep(1.0)
            await line.person_says("Sorry, who is this?")
            said = await asyncio.wait_for(saying, 20.0)
            heard = await line.hear(10.0)
            await asyncio.sleep(0.3)
            return said, heard, line.agent.speech_log.wire(), list(line.agent.side.recording or [])
        finally:
            await line.hang_up()

    fake_openai_speech.ttfb = 0.1
    said, heard, events, agent_channel = asyncio.run(run())
    assert said and TEXT.startswith(said) and len(said) < len(TEXT) - 10
    assert heard is not None and "sorry" in heard.lower()
    agent = [event for event in events if event["speaker"] == "agent"]
    user = [event for event in events if event["speaker"] == "user"]
    assert agent[0]["was_cut"] is True and agent[0]["transcript"] == said
    assert agent[0]["tts_ttfb_ms"] >= 100
    assert user[0]["transcript"] == heard and user[0]["stt_transcription_delay_ms"] > 0
    agent_start, _ = voiced_span(agent_channel)
    assert abs(agent[0]["started_speaking_at_ms"] - agent_start) <= 60
    sent = fake_openai_speech.requests_to("POST", "/v1/audio/transcriptions")
    assert len(sent) == 1 and sent[0].form["prompt"] == "Acme"  # the turn, sent whole once


def test_a_server_error_mid_call_ends_the_line_with_its_reason(
    fake_openai_speech: FakeOpenAISpeech,
) -> None:
    async def run() -> LineFault:
        line = await open_line(fake_openai_speech)
        try:
            fake_openai_speech.fail_status = 500
            await line.person_says("Hello, who is calling?")
            with pytest.raises(LineFault) as fault:
                await line.hear(10.0)
            return fault.value
        finally:
            await line.hang_up()

    assert asyncio.run(run()).reason == "stt_error"
