"""A Twilio call whose agent speaks through Cartesia and hears through Soniox (their
fakes): the carrier's media session uses the same speech providers, records which served
and fills ``speech_events``. Real time: serial."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import revox

from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head
from tests.agent.fake_openai import FakeOpenAI
from tests.audio.fake_cartesia_tts import FakeCartesiaTTS
from tests.audio.fake_soniox_stt import FakeSonioxSTT
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import wait_until_done
from tests.telephony.conftest import TwilioOrg, import_number, twilio_settings_changes
from tests.telephony.fake_twilio import FakeTwilio
from tests.telephony.test_twilio_outbound import assistant, real_number

pytestmark = pytest.mark.serial

VOICE = "a0e99841-438c-4a64-b679-ae501e7d6091"


@pytest.fixture(scope="module")
def speech_fakes() -> Iterator[tuple[FakeCartesiaTTS, FakeSonioxSTT]]:
    tts, stt = FakeCartesiaTTS().start(), FakeSonioxSTT().start()
    yield tts, stt
    tts.stop()
    stt.stop()


@pytest.fixture(scope="module")
def speech_engine(
    tmp_path_factory: pytest.TempPathFactory,
    fake_twilio: FakeTwilio,
    fake_openai: FakeOpenAI,
    speech_fakes: tuple[FakeCartesiaTTS, FakeSonioxSTT],
) -> Iterator[LiveServer]:
    tts, stt = speech_fakes
    data_dir: Path = tmp_path_factory.mktemp("twilio-speech")
    url = f"sqlite:///{data_dir / 'openrevox.db'}"
    upgrade_to_head(Settings(database_url=url).database_url)
    settings = make_settings(
        url,
        data_dir,
        **twilio_settings_changes(fake_twilio, fake_openai),
        cartesia_api_key=tts.api_key,
        cartesia_base_url=tts.url,
        soniox_api_key=stt.api_key,
        soniox_base_url=stt.url,
    )
    live = LiveServer(settings, embedded_worker=True, public=True).start()
    yield live
    live.stop()


def test_a_twilio_call_speaks_through_cartesia_and_hears_through_soniox(
    speech_engine: LiveServer,
    fake_twilio: FakeTwilio,
    fake_openai: FakeOpenAI,
    speech_fakes: tuple[FakeCartesiaTTS, FakeSonioxSTT],
) -> None:
    tts, stt = speech_fakes
    tts.reset()
    stt.reset()
    fake_twilio.reset()
    fake_openai.reset()
    org = speech_engine.new_org()
    caller_id = f"+14157{uuid.uuid4().int % 10**6:06d}"
    import_number(speech_engine, org, fake_twilio, caller_id)
    client = revox.Revox(api_key=org.live_key, base_url=f"{speech_engine.url}/api", max_retries=0)
    line = TwilioOrg(org, caller_id, client)
    created = line.client.call.create(
        phone_number=real_number("00"),
        assistant=assistant(voice={"provider": "cartesia", "id": VOICE}),  # type: ignore[arg-type]
        prompt_variables={"first_name": "Alex"},
    )
    attempt = wait_until_done(line.client, created.call.id, timeout=90).call_attempts[0]
    assert attempt.result == "human", attempt
    extension = attempt.model_extra["openrevox"]  # type: ignore[index]
    assert extension["speech"] == {
        "tts": {"provider": "cartesia", "model": "sonic-3", "voice_id": VOICE},
        "stt": {"provider": "soniox", "model": "stt-rt-v5"},
    }
    events = attempt.speech_events or []
    agent = [event for event in events if event.speaker == "agent"]
    user = [event for event in events if event.speaker == "user"]
    assert agent and user
    assert agent[0].transcript and agent[0].transcript.startswith("Hello Alex")
    assert all(event.tts_ttfb_ms is not None for event in agent)
    assert any(event.llm_ttft_ms is not None and event.llm_winner_model for event in agent)
    assert tts.requests and stt.configs  # the agent's voice and ears were the providers'
