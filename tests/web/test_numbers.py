"""The numbers page: the mode's lines with their carrier; an inbound assistant and a
label set in the browser are what the API then returns; an assistant of another
organization is refused at its field; another organization's number is not found."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import revox

from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
    csrf_of,
    drop_database,
    fresh_databases,
    new_user,
    signed_in_client,
    start_dashboard,
)


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("numbers")
    urls, pg_name = fresh_databases(tmp)
    live = start_dashboard(urls[request.param], tmp / "data", sim_speed=50.0)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.stop()
    drop_database(pg_name)


def test_an_inbound_assistant_and_label_set_in_the_browser_are_the_apis(
    server: LiveServer, browser: Any
) -> None:
    user = new_user(server)
    client = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    assistant = client.assistants.create(name="Front desk", prompt="p").assistant
    line = client.phone_numbers.list().phone_numbers[0]
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/app/numbers")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/app/numbers")
    row = page.locator(f"tr.number[data-number-id='{line.id}']")
    assert row.locator(".carrier").inner_text() == line.provider
    row.locator("select[name=inbound_assistant_id]").select_option(assistant.id)
    row.locator("input[name=label]").fill("Reception")
    with page.expect_navigation():
        row.locator("button.save").click()
    assert row.locator(".current-assistant").inner_text() == "Front desk"
    folder = os.environ.get("OPENREVOX_SCREENSHOTS_DIR")
    if folder and getattr(server, "backend", "") == "sqlite":
        page.screenshot(path=str(Path(folder) / "numbers.png"), full_page=True)
    stored = next(n for n in client.phone_numbers.list().phone_numbers if n.id == line.id)
    assert stored.label == "Reception"
    assert stored.inbound_assistant is not None and stored.inbound_assistant.id == assistant.id

    row.locator("select[name=inbound_assistant_id]").select_option("")
    with page.expect_navigation():
        row.locator("button.save").click()
    stored = next(n for n in client.phone_numbers.list().phone_numbers if n.id == line.id)
    assert stored.inbound_assistant is None and stored.label == "Reception"


def test_another_organizations_assistant_or_number_is_refused(server: LiveServer) -> None:
    owner, stranger = new_user(server), new_user(server)
    owner_sdk = revox.Revox(api_key=owner.test_key, base_url=f"{server.url}/api", max_retries=0)
    line = owner_sdk.phone_numbers.list().phone_numbers[0]
    foreign = (
        revox.Revox(api_key=stranger.test_key, base_url=f"{server.url}/api", max_retries=0)
        .assistants.create(name="Theirs", prompt="p")
        .assistant
    )
    client = signed_in_client(server, owner)
    token = csrf_of(client.get("/app/numbers").text)
    refused = client.post(
        f"/app/numbers/{line.id}",
        data={"csrf": token, "inbound_assistant_id": foreign.id, "label": ""},
    )
    assert refused.status_code == 400
    assert 'data-field="inbound_assistant_id"' in refused.text
    too_long = client.post(f"/app/numbers/{line.id}", data={"csrf": token, "label": "x" * 201})
    assert 'data-field="label"' in too_long.text

    other = signed_in_client(server, stranger)
    other_token = csrf_of(other.get("/app/numbers").text)
    assert line.id not in other.get("/app/numbers").text  # (sandbox numbers repeat)
    answer = other.post(f"/app/numbers/{line.id}", data={"csrf": other_token, "label": "mine"})
    assert answer.status_code == 404
    assert client.post(f"/app/numbers/{line.id}", data={"csrf": "x"}).status_code == 403
