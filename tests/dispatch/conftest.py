"""A server with its embedded worker and a fast simulated network, on its own databases
(so the API tests' queued calls are never dialled)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import revox

from tests.conftest import BACKENDS, LiveServer, Org, drop_database, fresh_databases, make_settings

SIM_SPEED = 50.0


@pytest.fixture(scope="session")
def engine_database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    urls, pg_name = fresh_databases(tmp_path_factory.mktemp("engine-db"))
    yield urls
    drop_database(pg_name)


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest,
    engine_database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    backend: str = request.param
    settings = make_settings(
        engine_database_urls[backend],
        tmp_path_factory.mktemp(f"engine-{backend}"),
        sim_speed=SIM_SPEED,
        organization_concurrency_limit=50,
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
