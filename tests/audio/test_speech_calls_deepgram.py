"""Calls at audio fidelity whose agent hears through Deepgram (its fake, real speech
recognized by pocketsphinx) and speaks through ElevenLabs: the callee's turn heard with
Deepgram's delay in ``speech_events``, a barge-in on its interim words, turns ended on
Deepgram's ``speech_final`` before ``min_pause`` when smart-turn agrees, and an error
or a drop mid-call ending the line with its reason. Real time: serial."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from openrevox.audio.providers.deepgram.stt import DeepgramRecognition
from openrevox.audio.providers.elevenlabs.tts import ElevenLabsSpeech
from openrevox.telephony.base import LineFault
from openrevox.telephony.sim.audio_line import AudioSimLine
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS
from tests.audio.test_speech_calls import TEXT

pytestmark = pytest.mark.serial

VOICE = "21m00Tcm4TlvDq8ikWAM"


async def open_line(tts: FakeElevenLabsTTS, stt: FakeDeepgramSTT) -> AudioSimLine:
    line = await AudioSimLine.open(
        {"first_sentence": "Hi."},
        tts=ElevenLabsSpeech(api_key=tts.api_key, base_url=tts.url, voice_id=VOICE),
        stt=DeepgramRecognition(api_key=stt.api_key, base_url=stt.url, terms=["Acme"]),
    )
    line.agent.side.recording, line.callee.recording = [], []
    await line.connect()
    return line


def test_a_turn_heard_through_deepgram_and_a_barge_in_fill_the_speech_events(
    fake_elevenlabs_tts: FakeElevenLabsTTS, fake_deepgram: FakeDeepgramSTT
) -> None:
    async def run() -> tuple[str, str | None, str | None, list[dict[str, Any]], list[bytes]]:
        line = await open_line(fake_elevenlabs_tts, fake_deepgram)
        try:
            saying = asyncio.create_task(line.say(TEXT))
            assert await line.person_waits_for_the_agent_to_speak(10.0)
            await asyncio.sleep(1.0)
            await line.person_says("Sorry, who is this?")
            said = await asyncio.wait_for(saying, 20.0)
            second = await line.hear(10.0)
            await line.person_says("Hello, who is calling?")
            first = await line.hear(10.0)
            await asyncio.sleep(0.3)
            return (
                said,
                first,
                second,
                line.agent.speech_log.wire(),
                list(line.callee.recording or []),
            )
        finally:
            await line.hang_up()

    fake_deepgram.interim_every = 0.4
    fake_deepgram.final_delay = 0.3
    said, first, second, events, _ = asyncio.run(run())
    assert first is not None and "calling" in first.lower()
    assert second is not None and "sorry" in second.lower()
    assert said and TEXT.startswith(said) and len(said) < len(TEXT) - 10
    user = [event for event in events if event["speaker"] == "user"]
    agent = [event for event in events if event["speaker"] == "agent"]
    assert [event["transcript"] for event in user] == [second, first]
    assert all(event["stt_transcription_delay_ms"] >= 250 for event in user)
    assert agent[0]["was_cut"] is True and agent[0]["tts_ttfb_ms"] >= 90
    query = fake_deepgram.queries[-1]
    assert query["keyterm"] == ["Acme"] and query["encoding"] == ["mulaw"]
    assert fake_deepgram.controls.count("Finalize") >= 2


@pytest.mark.parametrize("failure", ["error", "drop"])
def test_deepgram_failing_mid_call_ends_the_line_with_its_reason(
    fake_elevenlabs_tts: FakeElevenLabsTTS, fake_deepgram: FakeDeepgramSTT, failure: str
) -> None:
    async def run() -> LineFault:
        line = await open_line(fake_elevenlabs_tts, fake_deepgram)
        try:
            if failure == "error":
                fake_deepgram.error_after = fake_deepgram.audio_seconds + 0.3
            else:
                fake_deepgram.drop_after = fake_deepgram.audio_seconds + 0.3
            await line.person_says("Hello, who is calling?")
            with pytest.raises(LineFault) as fault:
                await line.hear(10.0)
            return fault.value
        finally:
            await line.hang_up()

    reason = asyncio.run(run()).reason
    assert reason == ("stt_error" if failure == "error" else "stt_disconnected")


def test_deepgrams_speech_final_ends_the_turn_before_min_pause_when_smart_turn_agrees(
    fake_elevenlabs_tts: FakeElevenLabsTTS, fake_deepgram: FakeDeepgramSTT
) -> None:
    async def run() -> tuple[list[str | None], int, int]:
        line = await open_line(fake_elevenlabs_tts, fake_deepgram)
        ear = line.agent.side.ear
        heard = []
        try:
            for _ in range(3):
                await line.person_says("Hello, who is calling?")
                heard.append(await line.hear(10.0))
                await asyncio.sleep(0.3)
            return heard, ear.endpoint_ends, ear.noise_ends
        finally:
            await line.hang_up()

    heard, early, noise = asyncio.run(run())
    assert all(text and "calling" in text.lower() for text in heard)
    assert early >= 1 and noise == 0
