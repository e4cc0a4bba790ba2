"""A server whose live calls go to the fake Twilio (embedded worker, public URL = its own
address), with the fake OpenAI-compatible LLM serving the agent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import revox

from tests.agent.fake_openai import FakeOpenAI
from tests.agent.llm_fixtures import fake_openai
from tests.conftest import LiveServer, Org, drop_database, fresh_databases, make_settings
from tests.telephony.fake_twilio import FakeTwilio

__all__ = ["fake_openai"]


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def twilio_database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    urls, pg_name = fresh_databases(tmp_path_factory.mktemp("twilio-db"))
    yield urls
    drop_database(pg_name)


def twilio_settings_changes(fake: FakeTwilio, openai: FakeOpenAI) -> dict[str, object]:
    return {
        "telephony_provider": "sim,twilio",
        "twilio_account_sid": fake.account_sid,
        "twilio_auth_token": fake.auth_token,
        "twilio_api_base_url": fake.url,
        "twilio_calls_per_second": 50.0,
        "twilio_request_timeout_seconds": 1.0,
        "twilio_ring_timeout_seconds": 5,
        "twilio_callback_grace_seconds": 2.0,
        "llm_base_url": f"{openai.url}/v1",
        "llm_api_key": openai.api_key,
        "llm_timeout_seconds": 5.0,
        "organization_concurrency_limit": 20,
        "local_speech": "allow",  # the local kit speaks on these (fake) carrier calls
    }


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def twilio_engine(
    request: pytest.FixtureRequest,
    twilio_database_urls: dict[str, str],
    fake_twilio: FakeTwilio,
    fake_openai: FakeOpenAI,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    backend: str = request.param
    settings = make_settings(
        twilio_database_urls[backend],
        tmp_path_factory.mktemp(f"twilio-{backend}"),
        **twilio_settings_changes(fake_twilio, fake_openai),
    )
    live = LiveServer(settings, embedded_worker=True, public=True).start()
    yield live
    live.stop()


@dataclass
class TwilioOrg:
    org: Org
    caller_id: str
    client: revox.Revox  # with the live key


def import_number(server: LiveServer, org: Org, fake: FakeTwilio, number: str) -> None:
    """Make ``number`` one of the fake account's and import it (POST /phone-numbers/import)."""
    fake.incoming_numbers.add(number)
    reply = httpx.post(
        f"{server.url}/api/phone-numbers/import",
        json={"phone_number": number, "provider": "twilio"},
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert reply.status_code == 200, reply.text


@pytest.fixture
def twilio_org(
    twilio_engine: LiveServer, fake_twilio: FakeTwilio, fake_openai: FakeOpenAI
) -> Iterator[TwilioOrg]:
    org = twilio_engine.new_org()
    fake_twilio.reset()
    fake_openai.reset()
    caller_id = f"+14157{uuid.uuid4().int % 10**6:06d}"
    import_number(twilio_engine, org, fake_twilio, caller_id)
    client = revox.Revox(api_key=org.live_key, base_url=f"{twilio_engine.url}/api", max_retries=0)
    yield TwilioOrg(org, caller_id, client)
    fake_twilio.reset()
