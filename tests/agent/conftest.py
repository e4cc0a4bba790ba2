"""The agent tests run on an engine server of their own (embedded worker, fast simulated
network) whose Calendly is the local fake (tests/agent/fake_calendly.py). It has no
server-wide Calendly token: an organization books through its own connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import revox

from tests.agent.fake_calendly import FakeCalendly
from tests.agent.llm_fixtures import fake_calendly
from tests.conftest import BACKENDS, LiveServer, Org, drop_database, fresh_databases, make_settings
from tests.dispatch.conftest import SIM_SPEED

__all__ = ["caller", "engine", "engine_database_urls", "engine_org", "fake_calendly"]


@pytest.fixture(scope="session")
def engine_database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    urls, pg_name = fresh_databases(tmp_path_factory.mktemp("agent-db"))
    yield urls
    drop_database(pg_name)


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest,
    engine_database_urls: dict[str, str],
    fake_calendly: FakeCalendly,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    backend: str = request.param
    settings = make_settings(
        engine_database_urls[backend],
        tmp_path_factory.mktemp(f"agent-{backend}"),
        sim_speed=SIM_SPEED,
        organization_concurrency_limit=50,
        calendly_base_url=fake_calendly.url,
    )
    live = LiveServer(settings, embedded_worker=True).start()
    yield live
    live.stop()


@pytest.fixture
def engine_org(engine: LiveServer) -> Org:
    return engine.new_org()


@pytest.fixture
def caller(engine: LiveServer, engine_org: Org) -> revox.Revox:
    return revox.Revox(api_key=engine_org.test_key, base_url=f"{engine.url}/api", max_retries=0)
