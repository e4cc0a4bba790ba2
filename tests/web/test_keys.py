"""Keys and webhooks in the dashboard: a key created in the browser works with the
official SDK, and once revoked there it is refused within the documented auth cache
time; the signing secret is the API's; the mode's delivery log replays an event through
the same outbox as the API. Nothing of another organization or mode can be touched."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import revox

from openrevox.domain.api_keys import LOOKUP_LENGTH
from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
    csrf_of,
    drop_database,
    fresh_databases,
    new_user,
    signed_in_client,
    start_dashboard,
)
from tests.webhooks.receiver import Receiver

# Not 0 (the test default): the page promises refusal within the cache time, and a key
# used just before its revocation sits in the cache.
AUTH_CACHE_SECONDS = 1.0
TIMEOUT_MS = 60_000
LOOKUP = LOOKUP_LENGTH


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("keys")
    urls, pg_name = fresh_databases(tmp)
    live = start_dashboard(
        urls[request.param], tmp / "data", sim_speed=50.0, auth_cache_seconds=AUTH_CACHE_SECONDS
    )
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.stop()
    drop_database(pg_name)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver().start()
    yield hook
    hook.stop()


def _screenshot(page: Any, name: str, server: LiveServer) -> None:
    folder = os.environ.get("OPENREVOX_SCREENSHOTS_DIR")
    if folder and getattr(server, "backend", "") == "sqlite":
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sdk(server: LiveServer, key: str) -> revox.Revox:
    return revox.Revox(api_key=key, base_url=f"{server.url}/api", max_retries=0)


def test_a_key_created_in_the_browser_works_and_is_refused_soon_after_revocation(
    server: LiveServer, browser: Any
) -> None:
    user = new_user(server)
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/app/keys")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/app/keys")

    page.fill("#create-key input[name=name]", "CRM integration")
    with page.expect_navigation():
        page.click("#create-key button[type=submit]")
    secret = page.inner_text("#new-key-secret").strip()
    assert secret.startswith("sk_test_")
    _screenshot(page, "keys", server)
    # Shown once: the list shows its prefix only, and a reload does not show it again.
    page.goto(f"{server.url}/app/keys")
    assert page.locator("#new-key").count() == 0
    assert secret not in page.content()
    row = page.locator("tr.key", has_text="CRM integration")
    assert secret.startswith(row.get_attribute("data-prefix") or "-")

    client = _sdk(server, secret)
    made = client.assistants.create(name="Made with the new key", prompt="p").assistant
    assert made.id  # works, and is now in this process's auth cache

    with page.expect_navigation():
        row.locator("button.revoke").click()
    revoked_at = time.monotonic()
    assert page.locator("tr.key", has_text="CRM integration").locator(".key-state").inner_text(
    ).startswith("revoked")  # fmt: skip
    refused_after = None
    while time.monotonic() - revoked_at < AUTH_CACHE_SECONDS + 2.0:
        try:
            client.assistants.list()
        except revox.AuthenticationError:
            refused_after = time.monotonic() - revoked_at
            break
        time.sleep(0.05)
    assert refused_after is not None, "the revoked key still works"
    assert refused_after <= AUTH_CACHE_SECONDS + 0.5
    # The organization's other keys are untouched.
    assert _sdk(server, user.test_key).assistants.retrieve(made.id).name == made.name

    # The signing secret is the one the API hands out.
    api_secret = httpx.get(
        f"{server.url}/api/webhooks/secret", headers={"authorization": f"Bearer {user.test_key}"}
    ).json()["secret"]
    assert page.inner_text("#secret").strip() == api_secret


def test_the_delivery_log_replays_an_event_from_the_page(
    server: LiveServer, browser: Any, receiver: Receiver
) -> None:
    user = new_user(server)
    receiver.secret = httpx.get(
        f"{server.url}/api/webhooks/secret", headers={"authorization": f"Bearer {user.test_key}"}
    ).json()["secret"]
    client = _sdk(server, user.test_key)
    assistant = client.assistants.create(
        name="Hooked", prompt="You call about an order.", webhook_url=receiver.url
    ).assistant
    call = client.call.create(
        phone_number="+1 212 555 0100", assistant_id=assistant.id, skip_calling_window=True
    ).call
    deadline = time.monotonic() + 60
    while not any(r.body.get("call_order_id") == call.id for r in receiver.received):
        assert time.monotonic() < deadline, "the webhook never came"
        time.sleep(0.1)

    page = browser.new_context().new_page()
    page.goto(f"{server.url}/app/keys")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/app/keys")
    event = page.locator("article.event", has_text=call.id)
    assert event.locator(".event-status").inner_text() == "delivered"
    with page.expect_navigation():
        event.locator("button.replay").click()
    deadline = time.monotonic() + 60
    while len([r for r in receiver.received if r.body.get("call_order_id") == call.id]) < 2:
        assert time.monotonic() < deadline, "the replay never came"
        time.sleep(0.1)
    sent = [r.webhook_id for r in receiver.received if r.body.get("call_order_id") == call.id]
    assert sent[0] == sent[1]  # the same event, sent again
    page.reload()
    page.wait_for_function(
        "() => document.querySelectorAll('article.event tr.delivery').length === 2",
        timeout=TIMEOUT_MS,
    )


def test_keys_of_another_organization_or_mode_cannot_be_seen_or_revoked(
    server: LiveServer,
) -> None:
    owner, stranger = new_user(server), new_user(server)
    client = signed_in_client(server, owner)
    listing = client.get("/app/keys")
    assert listing.status_code == 200
    assert owner.test_key[:LOOKUP] in listing.text
    assert owner.live_key[:LOOKUP] not in listing.text  # the session is in test mode
    key_ids = {
        prefix: key_id
        for key_id, prefix in re.findall(
            r'data-key-id="([^"]+)" data-prefix="([^"]+)"', listing.text
        )
    }
    own_id = key_ids[owner.test_key[:LOOKUP]]

    other = signed_in_client(server, stranger)
    token = csrf_of(other.get("/app/keys").text)
    assert other.post(f"/app/keys/{own_id}/revoke", data={"csrf": token}).status_code == 404
    assert owner.test_key[:LOOKUP] not in other.get("/app/keys").text
    # Without the CSRF token nothing happens.
    assert client.post(f"/app/keys/{own_id}/revoke", data={"csrf": "wrong"}).status_code == 403
    assert _sdk(server, owner.test_key).assistants.list() is not None

    # A name is required, and the error is shown at the field.
    token = csrf_of(listing.text)
    empty = client.post("/app/keys", data={"csrf": token, "name": "  "})
    assert empty.status_code == 400
    assert 'data-field="name"' in empty.text
