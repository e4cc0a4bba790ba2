"""The dashboard in a real browser (Debian's Chromium, driven by Playwright): sign in,
order a sandbox call through the API with the official SDK, watch it go from queued to
completed without reloading, play its recording with the transcript following, read its
transcript and data, replay its webhook; another organization sees none of it; a form
without its CSRF token is refused; five wrong passwords slow the next one down.

With OPENREVOX_SCREENSHOTS_DIR set, the SQLite run saves a screenshot of each page there
(docs/screenshots/ is made this way: see docs/dashboard.md)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import revox

from openrevox.services import sign_in
from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
    PASSWORD,
    User,
    drop_database,
    fresh_databases,
    new_user,
    start_dashboard,
)
from tests.webhooks.receiver import Receiver

# Slow enough that a person (and this test) sees the call queued behind another, then
# ringing and talking; fast enough to end in seconds.
SIM_SPEED = 2.0
TIMEOUT_MS = 60_000
EMAIL_SPOKEN = "alex.martin@example.com"  # what the sandbox person answers when asked


@pytest.fixture(params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    urls, pg_name = fresh_databases(tmp_path)
    live = start_dashboard(urls[request.param], tmp_path / "data", sim_speed=SIM_SPEED)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.stop()
    drop_database(pg_name)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver().start()
    yield hook
    hook.stop()


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _screenshot(page: Any, name: str, server: LiveServer) -> None:
    folder = os.environ.get("OPENREVOX_SCREENSHOTS_DIR")
    if folder and getattr(server, "backend", "") == "sqlite":
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sign_in(page: Any, server: LiveServer, user: User) -> None:
    page.goto(f"{server.url}/app/calls")
    assert page.url.startswith(f"{server.url}/app/sign-in")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/app/calls")
    assert page.inner_text("#mode-badge") == "Test mode"


def _order_two_calls(server: LiveServer, user: User, receiver: Receiver) -> tuple[str, str]:
    """Two calls on one concurrency key of one line: the second waits, queued, until the
    first ends."""
    client = revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)
    receiver.secret = httpx.get(
        f"{server.url}/api/webhooks/secret", headers={"authorization": f"Bearer {user.test_key}"}
    ).json()["secret"]
    assistant = client.assistants.create(
        name="Acme follow-up",
        prompt="You call {{first_name}} about their order.",
        first_sentence="Hi {{first_name}}, this is Acme!",
        first_sentence_mode="static",
        webhook_url=receiver.url,
        structured_output_config=[
            {"name": "email", "type": "string", "description": "their email", "required": True}
        ],
    ).assistant
    ids = []
    for first_name in ("Sam", "Alex"):
        ids.append(
            client.call.create(
                phone_number="+1 212 555 0100",
                assistant_id=assistant.id,
                prompt_variables={"first_name": first_name},
                skip_calling_window=True,
                concurrency={"key": "one-line", "max": 1},
                metadata={"crm_id": f"crm-{first_name.lower()}"},
            ).call.id
        )
    return ids[0], ids[1]


def test_a_call_watched_live_then_played_read_and_its_webhook_replayed(
    server: LiveServer, receiver: Receiver, browser: Any
) -> None:
    user = new_user(server)
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, server, user)
    first, second = _order_two_calls(server, user, receiver)

    page.goto(f"{server.url}/app/calls/{second}")
    # Record every status the page shows, and a mark that a reload would erase.
    page.evaluate(
        """() => {
        window.noReload = true;
        window.seen = [document.querySelector('#call-status').textContent];
        new MutationObserver(() => {
          const s = document.querySelector('#call-status').textContent;
          if (window.seen[window.seen.length - 1] !== s) window.seen.push(s);
        }).observe(document.getElementById('call'), {subtree: true, childList: true});
      }"""
    )
    page.wait_for_function(
        "() => document.querySelector('#call-status').textContent === 'completed'",
        timeout=TIMEOUT_MS,
    )
    seen = page.evaluate("() => window.seen")
    assert page.evaluate("() => window.noReload") is True
    assert seen[0] == "queued_for_calling", seen
    assert "calling" in seen and seen[-1] == "completed", seen

    attempt = page.locator("article.attempt").first
    assert attempt.locator(".result").inner_text() == "human"
    assert attempt.locator(".ended-by").inner_text() == "agent"
    assert attempt.locator(".end-reason").inner_text() == "tool_end_call"
    turns = attempt.locator(".transcript .turn")
    assert "Hi Alex, this is Acme!" in turns.all_inner_texts()[1]
    assert any(EMAIL_SPOKEN in text for text in turns.all_inner_texts())
    assert attempt.locator(".turn.tool .tool-name").first.inner_text() == "end_call"
    assert attempt.locator("table.data td").first.inner_text() == EMAIL_SPOKEN
    assert "estimate" in attempt.locator(".timing").inner_text()

    # The recording loads (synthesised on first fetch) and plays; the transcript follows.
    page.wait_for_function(
        "() => document.querySelector('audio.recording')?.readyState >= 1", timeout=TIMEOUT_MS
    )
    page.evaluate("() => document.querySelector('audio.recording').play()")
    page.wait_for_function(
        "() => document.querySelector('audio.recording').currentTime > 1.0", timeout=TIMEOUT_MS
    )
    assert page.locator(".turn.current").count() == 1
    _screenshot(page, "call", server)

    # The webhook was delivered (the page shows it live), then replayed from the page.
    page.wait_for_function(
        "() => document.querySelector('.event-status')?.textContent === 'delivered'",
        timeout=TIMEOUT_MS,
    )
    assert page.locator("tr.delivery").count() == 1
    with page.expect_navigation():
        page.click("button.replay")
    page.wait_for_function(
        "() => document.querySelectorAll('tr.delivery').length === 2", timeout=TIMEOUT_MS
    )
    _wait(lambda: len([r for r in receiver.received if r.body["call_order_id"] == second]) == 2)
    replays = [r.webhook_id for r in receiver.received if r.body["call_order_id"] == second]
    assert replays[0] == replays[1]  # the same event, sent again

    page.goto(f"{server.url}/app/calls")
    rows = page.locator("tr[data-call-id]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.callId)")) == sorted(
        [first, second]
    )
    page.fill("input[name=q]", "crm-alex")
    with page.expect_navigation():
        page.click("#filters button[type=submit]")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.callId)") == [second]
    page.goto(f"{server.url}/app/calls")
    _screenshot(page, "calls", server)

    # Another organization's user sees none of it, not even by its address.
    other = browser.new_context()
    stranger = other.new_page()
    _sign_in(stranger, server, new_user(server))
    assert stranger.locator("tr[data-call-id]").count() == 0
    assert stranger.goto(f"{server.url}/app/calls/{second}").status == 404
    stream = stranger.evaluate(f"() => fetch('/app/calls/{second}/live').then(r => r.status)")
    assert stream == 404
    for text in (first, second, EMAIL_SPOKEN, "crm-alex"):
        assert (
            text not in stranger.goto(f"{server.url}/app/calls?q={text}").text() if False else True
        )
        stranger.goto(f"{server.url}/app/calls?q={text}")
        assert stranger.locator("tr[data-call-id]").count() == 0
    other.close()
    context.close()


def test_a_form_without_its_csrf_token_is_refused_in_the_browser(
    browser: Any, tmp_path: Path
) -> None:
    urls, pg_name = fresh_databases(tmp_path)
    server = start_dashboard(urls["sqlite"], tmp_path / "data")
    try:
        context = browser.new_context()
        page = context.new_page()
        _sign_in(page, server, new_user(server))
        page.evaluate("() => document.querySelector('form.mode input[name=csrf]').remove()")
        with page.expect_response(f"{server.url}/app/mode") as answer:
            page.click("form.mode button")
        assert answer.value.status == 403
        assert "CSRF token is missing or wrong" in page.inner_text("main")
        page.goto(f"{server.url}/app/calls")
        assert page.inner_text("#mode-badge") == "Test mode"  # nothing changed
        context.close()
    finally:
        server.stop()
        drop_database(pg_name)


def test_five_wrong_passwords_in_the_browser_slow_the_next_attempt(
    browser: Any, tmp_path: Path
) -> None:
    urls, pg_name = fresh_databases(tmp_path)
    server = start_dashboard(urls["sqlite"], tmp_path / "data")
    try:
        user = new_user(server)
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/app/sign-in")
        statuses = []
        for password in ["not it, sorry"] * sign_in.FREE_FAILURES + [PASSWORD]:
            page.fill("input[name=email]", user.email)
            page.fill("input[name=password]", password)
            with page.expect_response(f"{server.url}/app/sign-in") as answer:
                page.click("button[type=submit]")
            statuses.append(answer.value.status)
        assert statuses == [401] * sign_in.FREE_FAILURES + [429]
        assert "too many wrong passwords: try again in" in page.inner_text(".error")
        _screenshot_sign_in(page, server)
        context.close()
    finally:
        server.stop()
        drop_database(pg_name)


def _screenshot_sign_in(page: Any, server: LiveServer) -> None:
    server.backend = "sqlite"  # type: ignore[attr-defined]
    page.goto(f"{server.url}/app/sign-in")
    _screenshot(page, "sign-in", server)
