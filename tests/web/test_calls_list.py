"""The calls list over real HTTP on both databases: filters, text search (the narrow
search text the database's triggers keep), keyset pages, errors named at their field,
and nothing of another organization."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import revox

from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
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
    tmp = tmp_path_factory.mktemp("calls-list")
    urls, pg_name = fresh_databases(tmp)
    live = start_dashboard(urls[request.param], tmp / "data", sim_speed=50.0)
    yield live
    live.stop()
    drop_database(pg_name)


def _ids(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text[:500]
    return re.findall(r'data-call-id="([^"]+)"', page.text)


def test_filters_and_text_search_find_the_right_calls(server: LiveServer) -> None:
    user = new_user(server)
    caller = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    acme = caller.assistants.create(name="Acme", prompt="Call {{first_name}}.").assistant
    other = caller.assistants.create(name="Other", prompt="p").assistant
    later = datetime.now(UTC) + timedelta(days=3)
    ada = caller.call.create(
        phone_number="+12125550100", assistant_id=acme.id,
        prompt_variables={"first_name": "Ada", "email": "ada@lovelace.test"},
        metadata={"crm_id": "CRM-42_x"}, scheduled_at=later,
    ).call  # fmt: skip
    bob = caller.call.create(
        phone_number="+12125550141", assistant_id=other.id,
        prompt_variables={"first_name": "Bob"}, scheduled_at=later,
    ).call  # fmt: skip
    client = signed_in_client(server, user)
    assert sorted(_ids(client.get("/app/calls"))) == sorted([ada.id, bob.id])
    searches = {
        "ada@LOVELACE": [ada.id],  # a contact value, any case
        "crm-42_x": [ada.id],  # a metadata value; _ is a character, not a wildcard
        "crm-42%": [],  # % too
        "555 0141": [],  # numbers are matched as stored (E.164)
        "5550141": [bob.id],
        "first_name": [],  # keys are not searched, only values
        bob.id: [bob.id],
    }
    for text, expected in searches.items():
        assert _ids(client.get("/app/calls", params={"q": text})) == expected, text
    assert _ids(client.get("/app/calls", params={"assistant": acme.id})) == [ada.id]
    assert _ids(client.get("/app/calls", params={"status": "scheduled"}))
    assert _ids(client.get("/app/calls", params={"status": "completed"})) == []
    assert _ids(client.get("/app/calls", params={"phone": "(212) 555-0141"})) == [bob.id]
    today = datetime.now(UTC).date()
    window = {"from": str(today - timedelta(days=1)), "to": str(today)}
    assert len(_ids(client.get("/app/calls", params=window))) == 2
    gone = {"from": str(today - timedelta(days=9)), "to": str(today - timedelta(days=2))}
    assert _ids(client.get("/app/calls", params=gone)) == []
    # Another organization searching the same words finds nothing.
    stranger = signed_in_client(server, new_user(server))
    for text in searches:
        assert _ids(stranger.get("/app/calls", params={"q": text})) == []


def test_bad_filters_are_named_at_their_field(server: LiveServer) -> None:
    client = signed_in_client(server, new_user(server))
    page = client.get(
        "/app/calls",
        params={"status": "done", "from": "yesterday", "phone": "12", "q": "x" * 201},
    )
    assert page.status_code == 400
    errors = dict(re.findall(r'data-field="([^"]+)">([^<]+)<', page.text))
    assert errors["status"] == "unknown status &#39;done&#39;"
    assert "is not a date (YYYY-MM-DD)" in errors["from"]
    assert "is not a" in errors["phone"]
    assert "at most 200 characters" in errors["q"]
    damaged = client.get("/app/calls", params={"before": "not-a-cursor"})
    assert damaged.status_code == 400 and "damaged" in damaged.text


def test_pages_go_older_and_back_newer_by_keyset(server: LiveServer) -> None:
    user = new_user(server)
    caller = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    assistant = caller.assistants.create(name="Pages", prompt="p").assistant
    later = datetime.now(UTC) + timedelta(days=3)
    made = [
        caller.call.create(
            phone_number="+12125550100", assistant_id=assistant.id, scheduled_at=later
        ).call.id
        for _ in range(53)
    ]
    client = signed_in_client(server, user)
    first = client.get("/app/calls")
    assert "53 calls" in first.text
    newest = _ids(first)
    assert len(newest) == 50 and newest[0] == made[-1]
    older = re.search(r'href="(\?[^"]+)" rel="next"', first.text)
    assert older and 'rel="prev"' not in first.text
    second = client.get("/app/calls" + older.group(1).replace("&amp;", "&"))
    assert _ids(second) == list(reversed(made))[50:]
    assert 'rel="next"' not in second.text
    newer = re.search(r'href="(\?[^"]+)" rel="prev"', second.text)
    assert newer
    assert _ids(client.get("/app/calls" + newer.group(1).replace("&amp;", "&"))) == newest


def test_the_live_stream_sends_each_region_then_ends_with_the_call(server: LiveServer) -> None:
    user = new_user(server)
    caller = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    assistant = caller.assistants.create(name="Live", prompt="p").assistant
    call = caller.call.create(
        phone_number="+12125550100", assistant_id=assistant.id, skip_calling_window=True
    ).call
    client = signed_in_client(server, user)
    events: list[str] = []
    with client.stream("GET", f"/app/calls/{call.id}/live", timeout=60) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
    # Every region at least once, then the end: the call completed (sim speed 50).
    assert set(events) >= {"summary", "attempts", "webhooks"} and events[-1] == "done"
    page = client.get(f"/app/calls/{call.id}")
    assert 'data-live="' not in page.text  # an ended call's page does not subscribe
    anonymous = httpx.get(f"{server.url}/app/calls/{call.id}/live")
    assert anonymous.status_code == 401
