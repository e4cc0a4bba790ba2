"""The overview in a real browser: two sandbox calls (one answered, one busy) give the
calls per day, the answer rate, the results and the talk time, and the bundled script
draws the charts from those figures (a bar per day of the period)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import revox

from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
    ANY_TIME,
    drop_database,
    fresh_databases,
    new_user,
    start_dashboard,
)

ENDED = ("completed", "errored", "cancelled")


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("overview")
    urls, pg_name = fresh_databases(tmp)
    live = start_dashboard(urls[request.param], tmp / "data", sim_speed=50.0)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.stop()
    drop_database(pg_name)


def test_the_overview_counts_the_periods_calls_and_draws_them(
    server: LiveServer, browser: Any
) -> None:
    user = new_user(server)
    client = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    assistant = client.assistants.create(
        name="Overview", prompt="p", call_retry_config=ANY_TIME,  # type: ignore[arg-type]
    ).assistant  # fmt: skip
    ids = [
        client.call.create(
            phone_number=number, assistant_id=assistant.id, skip_calling_window=True
        ).call.id
        for number in ("+1 212 555 0100", "+1 212 555 0140")  # a person; busy
    ]
    deadline = time.monotonic() + 60
    while any(client.call.retrieve(i).call.status not in ENDED for i in ids):
        assert time.monotonic() < deadline, "the sandbox calls did not end"
        time.sleep(0.2)

    page = browser.new_context().new_page()
    page.goto(f"{server.url}/app/overview")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/app/overview")
    assert page.inner_text("#total") == "2"
    assert page.inner_text("#answer-rate") == "50.0 %"
    assert page.inner_text("#average") != "n/a"
    assert page.inner_text("#results tr[data-result=human] .n") == "1"
    assert page.inner_text("#results tr[data-result='dial error: busy'] .n") == "1"
    # Drawn by the bundled script: a bar per day of the last 30, today's holding both.
    bars = page.locator("#per-day rect.bar:not(.answered)")
    assert bars.count() == 30
    today = datetime.now(UTC).date().isoformat()
    assert page.locator(f"#per-day rect[data-day='{today}']").get_attribute("data-calls") == "2"
    assert page.locator("#results-chart rect.bar").count() == 2
    folder = os.environ.get("OPENREVOX_SCREENSHOTS_DIR")
    if folder and getattr(server, "backend", "") == "sqlite":
        page.screenshot(path=str(Path(folder) / "overview.png"), full_page=True)

    assert page.goto(f"{server.url}/app/overview?days=7").status == 200
    assert page.locator("#per-day rect.bar:not(.answered)").count() == 7
    assert page.goto(f"{server.url}/app/overview?days=12").status == 400
    # Another organization sees none of it.
    other = browser.new_context().new_page()
    stranger = new_user(server)
    other.goto(f"{server.url}/app/overview")
    other.fill("input[name=email]", stranger.email)
    other.fill("input[name=password]", stranger.password)
    other.click("button[type=submit]")
    other.wait_for_url(f"{server.url}/app/overview")
    assert other.inner_text("#total") == "0"
