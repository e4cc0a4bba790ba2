"""Calls at audio fidelity whose agent speaks through ElevenLabs (its fake, real speech)
and hears through Soniox: a barge-in closes the context and keeps what the alignment
says was spoken, ``speech_events`` carry ElevenLabs' first-byte time, a drop mid-sentence
ends the line with its reason. Real time: serial."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openrevox.audio.providers.elevenlabs.tts import ElevenLabsSpeech
from openrevox.audio.providers.soniox.stt import SonioxRecognition
from openrevox.telephony.base import LineFault
from openrevox.telephony.sim.audio_line import AudioSimLine
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS
from tests.audio.fake_soniox_stt import FakeSonioxSTT
from tests.audio.test_speech_calls import TEXT, voiced_span

pytestmark = pytest.mark.serial

VOICE = "21m00Tcm4TlvDq8ikWAM"


async def open_line(tts: FakeElevenLabsTTS, stt: FakeSonioxSTT) -> AudioSimLine:
    line = await AudioSimLine.open(
        {"first_sentence": "Hi."},
        tts=ElevenLabsSpeech(api_key=tts.api_key, base_url=tts.url, voice_id=VOICE),
        stt=SonioxRecognition(api_key=stt.api_key, base_url=stt.url, model="stt-rt-v4"),
    )
    line.agent.side.recording, line.callee.recording = [], []
    await line.connect()
    return line


def test_barge_in_closes_the_elevenlabs_context_and_keeps_what_was_spoken(
    fake_elevenlabs_tts: FakeElevenLabsTTS, fake_soniox: FakeSonioxSTT
) -> None:
    async def run() -> tuple[str, str | None, list[dict[str, Any]], list[bytes], str]:
        line = await open_line(fake_elevenlabs_tts, fake_soniox)
        try:
            saying = asyncio.create_task(line.say(TEXT))
            assert await line.person_waits_for_the_agent_to_speak(10.0)
            await asyncio.sleep(1.0)
            await line.person_says("Sorry, who is this?")
            said = await asyncio.wait_for(saying, 20.0)
            heard = await line.hear(10.0)
            again = await line.say("It is Acme, sorry.")  # same connection, a new context
            await asyncio.sleep(0.5)
            return (
                said,
                heard,
                line.agent.speech_log.wire(),
                list(line.agent.side.recording or []),
                again,
            )
        finally:
            await line.hang_up()

    fake_soniox.interim_every = None
    fake_elevenlabs_tts.ttfb = 0.12
    said, heard, events, agent_channel, again = asyncio.run(run())
    assert said and TEXT.startswith(said) and len(said) < len(TEXT) - 10
    assert heard is not None and "sorry" in heard.lower()
    assert again == "It is Acme, sorry."
    contexts = list(
        dict.fromkeys(m["context_id"] for m in fake_elevenlabs_tts.messages if "context_id" in m)
    )
    assert len(contexts) == 2 and fake_elevenlabs_tts.closed_contexts[0] == contexts[0]
    assert len(fake_elevenlabs_tts.handshakes) == 1
    agent = [event for event in events if event["speaker"] == "agent"]
    assert agent[0]["was_cut"] is True and agent[0]["transcript"] == said
    assert all(event["tts_ttfb_ms"] >= 120 for event in agent)
    agent_start, _ = voiced_span(agent_channel)
    assert abs(agent[0]["started_speaking_at_ms"] - agent_start) <= 60


def test_elevenlabs_dropping_mid_sentence_ends_the_line_with_its_reason(
    fake_elevenlabs_tts: FakeElevenLabsTTS, fake_soniox: FakeSonioxSTT
) -> None:
    async def run() -> LineFault:
        line = await open_line(fake_elevenlabs_tts, fake_soniox)
        try:
            fake_elevenlabs_tts.drop_after_chunks = 3
            with pytest.raises(LineFault) as fault:
                await line.say(TEXT)
            return fault.value
        finally:
            await line.hang_up()

    assert asyncio.run(run()).reason == "tts_disconnected"
