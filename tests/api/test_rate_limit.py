"""Rate limiting: a token bucket per API key (2 per second, bursts of 3 here) answers 429
with Retry-After, and the official SDK waits for it and goes on."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import revox

from tests.conftest import LiveServer, make_settings

PER_SECOND = 2.0
BURST = 3


@pytest.fixture(scope="module")
def limited(
    database_urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("rate-limited")
    settings = make_settings(
        database_urls["sqlite"],
        data_dir,
        rate_limit_per_second=PER_SECOND,
        rate_limit_burst=float(BURST),
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


def _auth_status(http: httpx.Client) -> httpx.Response:
    return http.get("/api/auth-status")


def _client(server: LiveServer) -> httpx.Client:
    key = server.new_org().live_key
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _retry_after(response: httpx.Response) -> float:
    """The wait in seconds, read as the SDK reads it: retry-after-ms first."""
    if "retry-after-ms" in response.headers:
        return float(response.headers["retry-after-ms"]) / 1000
    return float(response.headers["retry-after"])


def test_the_request_after_the_burst_is_refused_until_retry_after(limited: LiveServer) -> None:
    with _client(limited) as http:
        statuses = [_auth_status(http).status_code for _ in range(BURST)]
        refused = _auth_status(http)
        assert statuses == [200] * BURST
        assert refused.status_code == 429, refused.text
        wait = _retry_after(refused)
        assert 0 < wait <= 60
        assert 0 < float(refused.headers["retry-after"]) <= 60
        assert refused.headers["content-type"].startswith("application/json")
        error = refused.json()["error"]
        assert error["type"] == "rate_limit_error"
        assert error["code"] == "rate_limited"
        assert error["message"] and error["param"] is None

        time.sleep(wait)
        assert _auth_status(http).status_code == 200


def test_each_key_has_its_own_bucket(limited: LiveServer) -> None:
    with _client(limited) as first, _client(limited) as second:
        for _ in range(BURST + 1):
            _auth_status(first)
        assert _auth_status(first).status_code == 429
        assert _auth_status(second).status_code == 200


def test_retry_after_is_valid_http_and_precise_in_milliseconds(limited: LiveServer) -> None:
    """RFC 9110: Retry-After is an integer number of seconds (urllib3's Retry raises on
    "0.500"); the precise wait goes in retry-after-ms, which the Stainless SDK reads first."""
    with _client(limited) as http:
        for _ in range(BURST):
            _auth_status(http)
        refused = _auth_status(http)
        assert refused.status_code == 429
        assert re.fullmatch(r"[1-9][0-9]*", refused.headers["retry-after"]), refused.headers
        assert int(refused.headers["retry-after"]) <= 60
        milliseconds = refused.headers.get("retry-after-ms")
        assert milliseconds is not None and re.fullmatch(r"[0-9]+", milliseconds)
        assert 0 < int(milliseconds) <= 1000 * int(refused.headers["retry-after"])


def test_the_sdk_waits_for_retry_after_and_succeeds(limited: LiveServer) -> None:
    key = limited.new_org().live_key
    strict = revox.Revox(api_key=key, base_url=f"{limited.url}/api", max_retries=0)
    patient = revox.Revox(api_key=key, base_url=f"{limited.url}/api", max_retries=2)
    for _ in range(BURST + 1):
        try:
            strict.auth_status.retrieve()
        except revox.RateLimitError as limited_error:
            wait = _retry_after(limited_error.response)
            break
    else:
        pytest.fail("the SDK's requests were not limited after the burst")

    started = time.monotonic()
    response = patient.auth_status.with_raw_response.retrieve()
    elapsed = time.monotonic() - started
    assert response.parse().authenticated is True
    # One wait of Retry-After was enough: the SDK's own backoff (0.375-0.5 s for the first
    # retry) would usually come back too early and need a second retry.
    assert response.retries_taken == 1
    assert elapsed >= 0.8 * wait
