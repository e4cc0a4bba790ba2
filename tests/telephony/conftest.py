"""A server whose live calls go to the fake Twilio (embedded worker, public URL = its own
address), with the fake OpenAI-compatible LLM serving the agent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import revox

from openrevox.store.repositories import phone_numbers
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


def import_number(server: LiveServer, org: Org, number: str) -> None:
    async def insert() -> None:
        async with server.app.state.services.db.transaction() as conn:
            await phone_numbers.import_carrier_number(
                conn,
                organization_id=org.id,
                mode="live",
                phone_number=number,
                provider="twilio",
                number_type="owned_number",
                now=datetime.now(UTC),
            )

    server.run(insert())


@pytest.fixture
def twilio_org(
    twilio_engine: LiveServer, fake_twilio: FakeTwilio, fake_openai: FakeOpenAI
) -> Iterator[TwilioOrg]:
    org = twilio_engine.new_org()
    caller_id = f"+1415{uuid.uuid4().int % 10**7:07d}"
    import_number(twilio_engine, org, caller_id)
    fake_twilio.reset()
    fake_openai.reset()
    client = revox.Revox(api_key=org.live_key, base_url=f"{twilio_engine.url}/api", max_retries=0)
    yield TwilioOrg(org, caller_id, client)
    fake_twilio.reset()
