"""Fixtures: a real server (uvicorn on loopback) on SQLite and on PostgreSQL, and
organizations with their keys, driven through the official ``revox`` SDK."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
import revox
import uvicorn

from openrevox.api.app import create_app
from openrevox.services.organizations import create_organization_with_keys
from openrevox.settings import Settings
from openrevox.store.migrate import upgrade_to_head

T = TypeVar("T")
POSTGRES_ADMIN_URL = os.environ.get(
    "OPENREVOX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")
# Tests whose outcome depends on real time (audio at 8 kHz in real time, a worker killed
# mid-run with leases of seconds): marked ``serial``, they run after the parallel run,
# with the machine to themselves (scripts/test.sh).
SERIAL_MODULES = (
    "tests/agent/test_audio_fidelity.py",
    "tests/dispatch/test_crash_recovery.py",
    "tests/telephony/test_twilio_outbound.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SERIAL_MODULES):
            item.add_marker(pytest.mark.serial)


@dataclass
class Org:
    id: str
    user_id: str
    live_key: str
    test_key: str


class LiveServer:
    """The whole app served over real HTTP from a background thread."""

    def __init__(
        self, settings: Settings, *, embedded_worker: bool = False, public: bool = False
    ) -> None:
        """``public``: the server's own address is its ``OPENREVOX_PUBLIC_URL`` (the
        address a carrier's callbacks and media streams come to)."""
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if public:
            settings = settings.with_changes(public_url=self.url)
        self.settings = settings
        self.app = create_app(settings, migrate=False, embedded_worker=embedded_worker)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._server.serve(sockets=[self._socket]))

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop (for setup that needs the database)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def new_org(self, country: str = "US") -> Org:
        async def create() -> Org:
            db = self.app.state.services.db
            async with db.transaction() as conn:
                created = await create_organization_with_keys(
                    conn,
                    name=f"org-{uuid.uuid4().hex[:8]}",
                    email=f"{uuid.uuid4().hex}@example.test",
                    country=country,
                    now=datetime.now(UTC),
                )
            assert created.test_key is not None
            return Org(created.organization.id, created.user.id, created.live_key, created.test_key)

        return self.run(create())


async def _create_postgres_database() -> str:
    name = f"openrevox_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def fresh_databases(tmp: Path) -> tuple[dict[str, str], str]:
    """A migrated SQLite file and PostgreSQL database; returns their URLs and the PG name."""
    try:
        pg_name = asyncio.run(_create_postgres_database())
    except (OSError, asyncpg.PostgresError) as error:
        raise RuntimeError(
            f"PostgreSQL is required for the test suite ({POSTGRES_ADMIN_URL}): {error}. "
            "Run the tests with ./scripts/test.sh: it finds or brings one"
        ) from error
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    urls = {"sqlite": f"sqlite:///{tmp / 'openrevox.db'}", "postgresql": f"{base}/{pg_name}"}
    for url in urls.values():
        upgrade_to_head(Settings(database_url=url).database_url)
    return urls, pg_name


def drop_database(pg_name: str) -> None:
    asyncio.run(_drop_postgres_database(pg_name))


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the API tests (orgs keep tests apart)."""
    urls, pg_name = fresh_databases(tmp_path_factory.mktemp("api-db"))
    yield urls
    drop_database(pg_name)


def make_settings(url: str, data_dir: Path, **changes: Any) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data_dir,
        rate_limit_per_second=0,
        auth_cache_seconds=0,  # revocation tests expect an immediate 401
        cartesia_api_key=None,
        elevenlabs_api_key=None,
    ).with_changes(**changes)


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    backend: str = request.param
    data_dir = tmp_path_factory.mktemp(f"data-{backend}")
    live = LiveServer(make_settings(database_urls[backend], data_dir)).start()
    yield live
    live.stop()


@pytest.fixture
def org(server: LiveServer) -> Org:
    return server.new_org()


@pytest.fixture
def client(server: LiveServer, org: Org) -> revox.Revox:
    """The official SDK (0.5.0), on the live key, no retries so statuses show at once."""
    return revox.Revox(api_key=org.live_key, base_url=f"{server.url}/api", max_retries=0)


@pytest.fixture
def test_client(server: LiveServer, org: Org) -> revox.Revox:
    return revox.Revox(api_key=org.test_key, base_url=f"{server.url}/api", max_retries=0)
