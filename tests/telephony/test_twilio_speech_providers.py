"""A Twilio call whose agent speaks through ElevenLabs and hears through Deepgram (their
fakes, OPENREVOX_STT_PROVIDER=deepgram): the carrier's media session uses the providers
the settings and the voice choose, records them and fills ``speech_events``.
Real time: serial."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import revox

from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head
from tests.agent.fake_openai import FakeOpenAI
from tests.audio.fake_deepgram_stt import FakeDeepgramSTT
from tests.audio.fake_elevenlabs_tts import FakeElevenLabsTTS
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import wait_until_done
from tests.telephony.conftest import TwilioOrg, import_number, twilio_settings_changes
from tests.telephony.fake_twilio import FakeTwilio
from tests.telephony.test_twilio_outbound import assistant, real_number

pytestmark = pytest.mark.serial

VOICE = "21m00Tcm4TlvDq8ikWAM"


@pytest.fixture(scope="module")
def provider_fakes() -> Iterator[tuple[FakeElevenLabsTTS, FakeDeepgramSTT]]:
    tts, stt = FakeElevenLabsTTS(), FakeDeepgramSTT()
    tts.start()
    stt.start()
    yield tts, stt
    tts.stop()
    stt.stop()


@pytest.fixture(scope="module")
def provider_engine(
    tmp_path_factory: pytest.TempPathFactory,
    fake_twilio: FakeTwilio,
    fake_openai: FakeOpenAI,
    provider_fakes: tuple[FakeElevenLabsTTS, FakeDeepgramSTT],
) -> Iterator[LiveServer]:
    tts, stt = provider_fakes
    data_dir: Path = tmp_path_factory.mktemp("twilio-providers")
    url = f"sqlite:///{data_dir / 'openrevox.db'}"
    upgrade_to_head(Settings(database_url=url).database_url)
    settings = make_settings(
        url,
        data_dir,
        **twilio_settings_changes(fake_twilio, fake_openai),
        elevenlabs_api_key=tts.api_key,
        elevenlabs_base_url=tts.url,
        deepgram_api_key=stt.api_key,
        deepgram_base_url=stt.url,
        stt_provider="deepgram",
    )
    live = LiveServer(settings, embedded_worker=True, public=True).start()
    yield live
    live.stop()


def test_a_twilio_call_speaks_through_elevenlabs_and_hears_through_deepgram(
    provider_engine: LiveServer,
    fake_twilio: FakeTwilio,
    fake_openai: FakeOpenAI,
    provider_fakes: tuple[FakeElevenLabsTTS, FakeDeepgramSTT],
) -> None:
    tts, stt = provider_fakes
    tts.reset()
    stt.reset()
    fake_twilio.reset()
    fake_openai.reset()
    org = provider_engine.new_org()
    caller_id = f"+14157{uuid.uuid4().int % 10**6:06d}"  # a valid exchange (7XX)
    import_number(provider_engine, org, fake_twilio, caller_id)
    client = revox.Revox(api_key=org.live_key, base_url=f"{provider_engine.url}/api", max_retries=0)
    line = TwilioOrg(org, caller_id, client)
    created = line.client.call.create(
        phone_number=real_number("00"),
        assistant=assistant(voice={"provider": "elevenlabs", "id": VOICE}),  # type: ignore[arg-type]
        prompt_variables={"first_name": "Alex"},
    )
    attempt = wait_until_done(line.client, created.call.id, timeout=90).call_attempts[0]
    assert attempt.result == "human", attempt
    extension = attempt.model_extra["openrevox"]  # type: ignore[index]
    assert extension["speech"] == {
        "tts": {"provider": "elevenlabs", "model": "eleven_flash_v2_5", "voice_id": VOICE},
        "stt": {"provider": "deepgram", "model": "nova-3"},
    }
    events = attempt.speech_events or []
    agent = [event for event in events if event.speaker == "agent"]
    user = [event for event in events if event.speaker == "user"]
    assert agent and user
    assert agent[0].transcript and agent[0].transcript.startswith("Hello Alex")
    assert all(event.tts_ttfb_ms is not None for event in agent)
    assert all(event.stt_transcription_delay_ms is not None for event in user)
    assert tts.voices == [VOICE] and stt.queries  # the agent's voice and ears were theirs
