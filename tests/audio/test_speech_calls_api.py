"""Calls through the worker and the API (the official SDK as the client) at audio
fidelity on the providers the server's settings and the assistant's voice choose:
ElevenLabs with Deepgram, and an OpenAI-compatible server for both sides (a Gradium
voice spoken by the TTS fallback). The attempt records which provider served and why,
and ``speech_events`` carry each provider's timings. Real time: serial."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import revox

from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS
from tests.audio.fake_openai_speech import FakeOpenAISpeech
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

pytestmark = pytest.mark.serial

ELEVEN_VOICE = "21m00Tcm4TlvDq8ikWAM"


@pytest.fixture
def speech_server(
    tmp_path: Path,
    fake_elevenlabs_tts: FakeElevenLabsTTS,
    fake_deepgram: FakeDeepgramSTT,
    fake_openai_speech: FakeOpenAISpeech,
    request: pytest.FixtureRequest,
) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'openrevox.db'}"
    upgrade_to_head(Settings(database_url=url).database_url)
    settings = make_settings(
        url,
        tmp_path,
        sim_fidelity="audio",
        elevenlabs_api_key=fake_elevenlabs_tts.api_key,
        elevenlabs_base_url=fake_elevenlabs_tts.url,
        deepgram_api_key=fake_deepgram.api_key,
        deepgram_base_url=fake_deepgram.url,
        openai_speech_base_url=f"{fake_openai_speech.url}/v1",
        openai_speech_api_key=fake_openai_speech.api_key,
        openai_tts_voice="af_heart",
        stt_provider=request.param,
        tts_fallback="openai",
    )
    live = LiveServer(settings, embedded_worker=True)
    yield live.start()
    live.stop()


def assistant(voice: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt": "You call on behalf of Acme about the spring offer.",
        "first_sentence": "Hello, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "structured_output_config": [
            {"name": "full_name", "required": True, "type": "string", "description": "name"},
        ],
        "voice": voice,
        "stt_context": {"general": [{"key": "company", "value": "Acme"}], "terms": ["Acme"]},
        "call_retry_config": retry_config(1),
    }


def call(server: LiveServer, voice: dict[str, Any]) -> Any:
    org = server.new_org()
    caller = revox.Revox(api_key=org.test_key, base_url=f"{server.url}/api", max_retries=0)
    created = caller.call.create(phone_number="+14155550100", assistant=assistant(voice))  # type: ignore[arg-type]
    return wait_until_done(caller, created.call.id, timeout=150).call_attempts[0]


@pytest.mark.parametrize("speech_server", ["deepgram"], indirect=True)
def test_a_call_through_elevenlabs_and_deepgram_records_its_speech(
    speech_server: LiveServer,
    fake_elevenlabs_tts: FakeElevenLabsTTS,
    fake_deepgram: FakeDeepgramSTT,
) -> None:
    attempt = call(speech_server, {"provider": "elevenlabs", "id": ELEVEN_VOICE, "speed": 1.1})
    assert attempt.result == "human" and attempt.status == "completed", attempt
    extension = attempt.model_extra["openrevox"]
    assert extension["speech"] == {
        "tts": {"provider": "elevenlabs", "model": "eleven_flash_v2_5", "voice_id": ELEVEN_VOICE},
        "stt": {"provider": "deepgram", "model": "nova-3"},
    }
    events = attempt.speech_events or []
    agent = [event for event in events if event.speaker == "agent"]
    user = [event for event in events if event.speaker == "user"]
    assert agent and user
    assert agent[0].transcript == assistant({})["first_sentence"]
    assert all(event.tts_ttfb_ms is not None and event.tts_ttfb_ms >= 90 for event in agent)
    assert all((event.stt_transcription_delay_ms or 0) >= 300 for event in user)
    assert fake_elevenlabs_tts.voices[-1] == ELEVEN_VOICE
    assert fake_elevenlabs_tts.messages[0]["voice_settings"]["speed"] == 1.1
    assert fake_deepgram.queries[-1]["keyterm"] == ["Acme"]


@pytest.mark.parametrize("speech_server", ["openai"], indirect=True)
def test_a_call_through_an_openai_compatible_server_speaks_a_gradium_voice_and_hears(
    speech_server: LiveServer, fake_openai_speech: FakeOpenAISpeech
) -> None:
    attempt = call(speech_server, {"provider": "gradium", "id": "g-voice"})
    assert attempt.result == "human" and attempt.status == "completed", attempt
    extension = attempt.model_extra["openrevox"]
    assert extension["speech"] == {
        "tts": {
            "provider": "openai",
            "model": "tts-1",
            "voice_id": "af_heart",
            "fallback_reason": "Gradium voices are not served",
        },
        "stt": {"provider": "openai", "model": "whisper-1"},
    }
    events = attempt.speech_events or []
    agent = [event for event in events if event.speaker == "agent"]
    user = [event for event in events if event.speaker == "user"]
    assert agent and user and all(event.tts_ttfb_ms is not None for event in agent)
    assert all(event.stt_transcription_delay_ms is not None for event in user)
    assert fake_openai_speech.speech_requests()[0]["voice"] == "af_heart"
    assert fake_openai_speech.requests_to("POST", "/v1/audio/transcriptions")
