"""The per-process key cache: a revoked key stops working within the cache's lifetime."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import revox

from openrevox.store.repositories import accounts
from tests.conftest import LiveServer, make_settings


@pytest.fixture
def cached_server(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = make_settings(
        database_urls["sqlite"], tmp_path_factory.mktemp("auth-cache"), auth_cache_seconds=0.5
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


def test_a_revoked_key_stops_working_within_the_cache_lifetime(cached_server: LiveServer) -> None:
    org = cached_server.new_org()
    client = revox.Revox(api_key=org.live_key, base_url=f"{cached_server.url}/api", max_retries=0)
    assert client.auth_status.retrieve().authenticated is True

    async def revoke() -> bool:
        async with cached_server.app.state.services.db.transaction() as conn:
            return await accounts.revoke_api_key(conn, org.live_key, datetime.now(UTC))

    assert cached_server.run(revoke())
    time.sleep(0.6)
    with pytest.raises(revox.AuthenticationError):
        client.auth_status.retrieve()
