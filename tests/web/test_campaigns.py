"""Campaigns in the dashboard: a CSV uploaded in the browser is imported as the CLI
imports it (a bad row reported with its line and reason, the others kept), launched,
and its progress followed live (no reload) as the sandbox calls end; paused, nothing
more is dialled; resumed, it completes. Nothing of another organization."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import revox

from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
    ANY_TIME,
    User,
    csrf_of,
    drop_database,
    fresh_databases,
    new_user,
    signed_in_client,
    start_dashboard,
)

SIM_SPEED = 4.0  # each call lasts a few seconds: the progress is seen moving
TIMEOUT_MS = 90_000
CSV = """phone_number,first_name
+1 212 555 0110,Ada
+1 212 555 0111,Bob
not a number,Carl
+1 212 555 0112,Dee
+1 212 555 0113,Eve
"""


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("campaigns")
    urls, pg_name = fresh_databases(tmp)
    live = start_dashboard(urls[request.param], tmp / "data", sim_speed=SIM_SPEED)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.stop()
    drop_database(pg_name)


def _screenshot(page: Any, name: str, server: LiveServer) -> None:
    folder = os.environ.get("OPENREVOX_SCREENSHOTS_DIR")
    if folder and getattr(server, "backend", "") == "sqlite":
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _assistant(server: LiveServer, user: User) -> str:
    client = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    return client.assistants.create(
        name="Campaign caller",
        prompt="You call {{first_name}} about their order.",
        call_retry_config=ANY_TIME,  # type: ignore[arg-type]
    ).assistant.id


def _count(page: Any, key: str) -> int:
    return int(page.inner_text(f"#funnel .count-{key}").replace(",", ""))


def test_a_csv_uploaded_launched_followed_live_paused_and_resumed(
    server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    user = new_user(server)
    assistant_id = _assistant(server, user)
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/app/campaigns")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/app/campaigns")

    upload = tmp_path / "contacts.csv"
    upload.write_text(CSV)
    page.fill("#new-campaign input[name=name]", "Spring follow-up")
    page.select_option("#new-campaign select[name=assistant_id]", assistant_id)
    page.fill("#new-campaign input[name=max_concurrent_calls]", "1")
    page.set_input_files("#csv-file", str(upload))
    page.wait_for_function("() => document.getElementById('csv-text').value.length > 0")
    with page.expect_navigation():
        page.click("#new-campaign button[type=submit]")
    problems = page.locator("#import-report tr.problem")
    assert problems.count() == 1
    assert problems.first.get_attribute("data-line") == "4"  # the file's line, header = 1
    assert problems.first.locator(".reason").inner_text()  # the reason, as the CLI prints it
    assert "4" in page.inner_text("#import-report")
    assert _count(page, "not_launched") == 4

    with page.expect_navigation():
        page.click("#launch")
    page.evaluate("() => { window.noReload = true; }")
    page.wait_for_function(
        "() => Number(document.querySelector('#funnel .count-completed').textContent) >= 1",
        timeout=TIMEOUT_MS,
    )
    assert page.evaluate("() => window.noReload") is True  # swapped in live, not reloaded
    _screenshot(page, "campaign", server)

    with page.expect_navigation():
        page.click("#pause")
    assert page.inner_text("#campaign-status") == "paused"
    # A call the worker had already taken finishes; after that nothing moves.
    deadline = time.monotonic() + 60
    seen: tuple[int, int] = (-1, -1)
    while True:
        time.sleep(2)
        page.reload()
        now = (_count(page, "completed"), _count(page, "calling"))
        if now == seen and now[1] == 0:
            break
        assert time.monotonic() < deadline, "the paused campaign kept calling"
        seen = now
    assert seen[0] < 4, "every row was called before the pause took effect"
    assert page.inner_text("#campaign-status") == "paused"

    with page.expect_navigation():
        page.click("#resume")
    page.wait_for_function(
        "() => Number(document.querySelector('#funnel .count-completed').textContent) === 4",
        timeout=TIMEOUT_MS,
    )
    page.wait_for_function(
        "() => document.getElementById('campaign-status').textContent === 'completed'",
        timeout=TIMEOUT_MS,
    )
    # The results over time, drawn by the bundled script: every attempt ended as human.
    page.wait_for_function(
        "() => document.querySelector('#campaign-timeline polyline[data-result=human]')"
        "?.dataset.last === '4'",
        timeout=TIMEOUT_MS,
    )
    _screenshot(page, "campaign", server)


def test_bad_inputs_are_named_and_another_organization_sees_nothing(server: LiveServer) -> None:
    owner, stranger = new_user(server), new_user(server)
    assistant_id = _assistant(server, owner)
    client = signed_in_client(server, owner)
    token = csrf_of(client.get("/app/campaigns").text)
    form = {"csrf": token, "name": "C", "assistant_id": assistant_id, "csv": "name\nAda\n"}
    no_phone = client.post("/app/campaigns", data=form)
    assert no_phone.status_code == 400
    assert 'data-field="csv"' in no_phone.text and "phone column" in no_phone.text
    bad_cap = client.post("/app/campaigns", data={**form, "max_concurrent_calls": "0"})
    assert 'data-field="max_concurrent_calls"' in bad_cap.text
    made = client.post("/app/campaigns", data={**form, "csv": "phone_number\n+12125550100\n"})
    assert made.status_code == 201
    campaign_id = made.text.split("<code>")[1].split("</code>")[0]

    other = signed_in_client(server, stranger)
    other_token = csrf_of(other.get("/app/campaigns").text)
    assert other.get(f"/app/campaigns/{campaign_id}").status_code == 404
    assert other.get(f"/app/campaigns/{campaign_id}/live").status_code == 404
    for verb in ("launch", "pause", "resume", "cancel"):
        answer = other.post(f"/app/campaigns/{campaign_id}/{verb}", data={"csrf": other_token})
        assert answer.status_code == 404
    assert campaign_id not in other.get("/app/campaigns").text
    assert client.post(f"/app/campaigns/{campaign_id}/launch", data={}).status_code == 415
    assert (
        client.post(f"/app/campaigns/{campaign_id}/cancel", data={"csrf": "x"}).status_code == 403
    )
    assert (
        client.post(f"/app/campaigns/{campaign_id}/cancel", data={"csrf": token}).status_code == 303
    )
    assert ">completed<" in client.get(f"/app/campaigns/{campaign_id}").text
