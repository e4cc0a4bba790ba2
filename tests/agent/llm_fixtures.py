"""An engine server whose assistants are served by an LLM: the fake OpenAI-compatible
endpoint and the fake Calendly, both over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import revox

from tests.agent.fake_calendly import FakeCalendly
from tests.agent.fake_openai import FakeOpenAI
from tests.conftest import BACKENDS, LiveServer, Org, drop_database, fresh_databases, make_settings
from tests.dispatch.conftest import SIM_SPEED

LLM_TIMEOUT = 3.0


@pytest.fixture(scope="session")
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def fake_calendly() -> Iterator[FakeCalendly]:
    fake = FakeCalendly().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def llm_database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    urls, pg_name = fresh_databases(tmp_path_factory.mktemp("llm-db"))
    yield urls
    drop_database(pg_name)


@pytest.fixture(scope="session", params=BACKENDS)
def llm_engine(
    request: pytest.FixtureRequest,
    llm_database_urls: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_calendly: FakeCalendly,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    backend: str = request.param
    settings = make_settings(
        llm_database_urls[backend],
        tmp_path_factory.mktemp(f"llm-{backend}"),
        sim_speed=SIM_SPEED,
        organization_concurrency_limit=50,
        llm_base_url=f"{fake_openai.url}/v1",
        llm_api_key=fake_openai.api_key,
        llm_timeout_seconds=LLM_TIMEOUT,
        openrouter_base_url=f"{fake_openai.url}/v1",
        openrouter_api_key=fake_openai.api_key,
        calendly_base_url=fake_calendly.url,
        calendly_api_key=fake_calendly.api_key,
        webhook_allow_hosts=("127.0.0.1",),  # the fakes' custom endpoint is on loopback
    )
    live = LiveServer(settings, embedded_worker=True).start()
    yield live
    live.stop()


@pytest.fixture
def llm_caller(
    llm_engine: LiveServer, fake_openai: FakeOpenAI, fake_calendly: FakeCalendly
) -> Iterator[revox.Revox]:
    org: Org = llm_engine.new_org()
    fake_openai.reset()
    fake_calendly.reset()
    yield revox.Revox(api_key=org.test_key, base_url=f"{llm_engine.url}/api", max_retries=0)
    fake_openai.reset()
