"""Assistants in the dashboard: created and edited in the browser through the API's own
validation (a refused value is shown at its field with the message and ``param`` the
API gives for it), fields stored but not acted on marked, a question the agent could not
answer (sandbox persona 02) answered from the page as a ``source: human`` FAQ item;
clone and delete; nothing of another organization."""

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

from tests.conftest import BACKENDS, LiveServer
from tests.web.conftest import (
    User,
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
    tmp = tmp_path_factory.mktemp("assistants")
    urls, pg_name = fresh_databases(tmp)
    live = start_dashboard(urls[request.param], tmp / "data", sim_speed=50.0)
    live.backend = request.param  # type: ignore[attr-defined]
    yield live
    live.stop()
    drop_database(pg_name)


def _screenshot(page: Any, name: str, server: LiveServer) -> None:
    folder = os.environ.get("OPENREVOX_SCREENSHOTS_DIR")
    if folder and getattr(server, "backend", "") == "sqlite":
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _sdk(server: LiveServer, user: User) -> revox.Revox:
    return revox.Revox(api_key=user.test_key, base_url=f"{server.url}/api", max_retries=0)


def _sign_in(page: Any, server: LiveServer, user: User, path: str) -> None:
    page.goto(f"{server.url}{path}")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{path}")


def _api_error(server: LiveServer, user: User, assistant_id: str, body: dict[str, Any]) -> Any:
    answer = httpx.patch(
        f"{server.url}/api/assistants/{assistant_id}",
        json=body,
        headers={"authorization": f"Bearer {user.test_key}"},
    )
    assert answer.status_code == 422, answer.text
    return answer.json()["error"]


def test_an_assistant_created_and_edited_shows_the_apis_field_errors(
    server: LiveServer, browser: Any
) -> None:
    user = new_user(server)
    page = browser.new_context().new_page()
    _sign_in(page, server, user, "/app/assistants")
    page.click("#new-assistant")
    page.fill("#f-name", "Acme follow-up")
    page.fill("#f-prompt", "You call {{first_name}} about their order.")
    page.select_option("#f-first_sentence_mode", "static")
    page.fill("#f-first_sentence", "Hi {{first_name}}!")
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("#saved").count() == 1
    assistant_id = page.url.split("/app/assistants/")[1].split("?")[0]
    made = _sdk(server, user).assistants.retrieve(assistant_id)
    assert made.name == "Acme follow-up" and made.first_sentence_mode == "static"
    assert made.first_sentence == "Hi {{first_name}}!"
    # Fields the agent does not act on yet say so.
    assert page.locator(".field[data-name=slack] .stored-only").count() == 1
    assert page.locator(".field[data-name=prompt] .stored-only").count() == 0

    # Values the API refuses: the page shows the API's own message at each field.
    page.fill("#f-first_sentence_delay_ms", "-5")
    page.fill("#f-llm_model", '{"type": "custom", "api_url": "https://llm.example.test/v1"}')
    page.fill("#f-voice", "{not json")
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("#form-errors").count() == 1
    delay_error = page.inner_text(".field-error[data-field=first_sentence_delay_ms]")
    api = _api_error(server, user, assistant_id, {"first_sentence_delay_ms": -5})
    assert api["param"] == "first_sentence_delay_ms" and delay_error in api["message"]
    llm_errors = page.locator(".field-error[data-field=llm_model]").all_inner_texts()
    api = _api_error(
        server,
        user,
        assistant_id,
        {"llm_model": {"type": "custom", "api_url": "https://llm.example.test/v1"}},
    )
    api_params = {item["param"] for item in api["errors"]}
    assert {text.split(":")[0] for text in llm_errors} == api_params
    assert "not valid JSON" in page.inner_text(".field-error[data-field=voice]")
    # What was typed stays in the form; nothing was saved.
    assert page.input_value("#f-first_sentence_delay_ms") == "-5"
    _screenshot(page, "assistant-errors", server)
    assert _sdk(server, user).assistants.retrieve(assistant_id).first_sentence_delay_ms == 400

    # Corrected, it saves.
    page.fill("#f-first_sentence_delay_ms", "250")
    page.fill("#f-llm_model", '{"type": "dedicated-instance", "name": "gpt-4.1"}')
    page.fill("#f-voice", "")
    page.fill("#f-max_call_duration_secs", "300")
    page.check("#f-ivr_navigation_enabled")
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("#saved").count() == 1, page.inner_text("main")[:2000]
    edited = _sdk(server, user).assistants.retrieve(assistant_id)
    assert edited.first_sentence_delay_ms == 250
    assert edited.max_call_duration_secs == 300
    assert edited.ivr_navigation_enabled is True
    assert edited.voice is not None  # null resets the voice to the default, as the API does


def test_a_question_the_agent_could_not_answer_is_answered_from_the_page(
    server: LiveServer, browser: Any
) -> None:
    user = new_user(server)
    client = _sdk(server, user)
    assistant = client.assistants.create(
        name="FAQ", prompt="p",
        faq_items=[{"question": "What are your opening hours?", "answer": "9 to 5."}],
    ).assistant  # fmt: skip
    call_id = client.call.create(
        phone_number="+1 212 555 0102", assistant_id=assistant.id, skip_calling_window=True
    ).call.id
    deadline = time.monotonic() + 60
    while client.call.retrieve(call_id).call.status not in ("completed", "errored"):
        assert time.monotonic() < deadline, "the sandbox call did not end"
        time.sleep(0.2)

    page = browser.new_context().new_page()
    _sign_in(page, server, user, "/app/assistants")
    row = page.locator(f"tr.assistant[data-assistant-id='{assistant.id}']")
    assert row.locator(".pending").inner_text() == "1 to answer"
    row.locator("a").click()
    pending = page.locator("article.faq.pending")
    assert pending.count() == 1
    assert "Antarctica" in pending.locator(".question").inner_text()
    with page.expect_navigation():
        pending.locator("button.answer").click()  # empty: refused at the field
    assert page.inner_text(".field-error[data-field=answer]") == "write an answer"
    page.locator("article.faq.pending textarea[name=answer]").fill("Yes, we ship there.")
    with page.expect_navigation():
        page.locator("article.faq.pending button.answer").click()
    assert page.locator("article.faq.pending").count() == 0
    _screenshot(page, "assistant", server)

    items = {item.question: item for item in client.assistants.retrieve(assistant.id).faq_items}
    answered = next(item for question, item in items.items() if "Antarctica" in question)
    assert answered.answer == "Yes, we ship there."
    assert answered.source == "human" and answered.needs_human_answer is False
    kept = items["What are your opening hours?"]
    assert kept.answer == "9 to 5." and kept.source == "human"


def test_clone_and_delete_and_nothing_of_another_organization(server: LiveServer) -> None:
    owner, stranger = new_user(server), new_user(server)
    assistant = _sdk(server, owner).assistants.create(name="Original", prompt="p").assistant
    client = signed_in_client(server, owner)
    token = csrf_of(client.get("/app/assistants").text)
    cloned = client.post(f"/app/assistants/{assistant.id}/clone", data={"csrf": token})
    assert cloned.status_code == 303
    copy_id = cloned.headers["location"].rsplit("/", 1)[1]
    assert _sdk(server, owner).assistants.retrieve(copy_id).name == "Original (Copy)"

    other = signed_in_client(server, stranger)
    other_token = csrf_of(other.get("/app/assistants").text)
    assert other.get(f"/app/assistants/{assistant.id}").status_code == 404
    for action in ("clone", "delete"):
        answer = other.post(f"/app/assistants/{assistant.id}/{action}", data={"csrf": other_token})
        assert answer.status_code == 404
    assert assistant.id not in other.get("/app/assistants").text
    assert client.post(f"/app/assistants/{copy_id}/delete", data={"csrf": "no"}).status_code == 403

    assert client.post(f"/app/assistants/{copy_id}/delete", data={"csrf": token}).status_code == 303
    ids = re.findall(r'data-assistant-id="([^"]+)"', client.get("/app/assistants").text)
    assert ids == [assistant.id]
