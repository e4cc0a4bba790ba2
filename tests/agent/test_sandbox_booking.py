"""Persona 03 books a meeting through Calendly with the sandbox agent, for real: the
organization's Calendly connection (created through the API) is resolved at call time,
the fake Calendly (Calendly's wire format over HTTP) gets the requests, and the
transcript's tool entries carry what was sent and what Calendly answered."""

from __future__ import annotations

import uuid
from typing import Any

import revox

from tests.agent.fake_calendly import EVENT_TYPE, FakeCalendly
from tests.agent.test_sandbox_agent_calls import FIELDS, call
from tests.conftest import LiveServer, Org

LOS_ANGELES = "America/Los_Angeles"  # +1 415: the recipient's timezone


def connect(client: revox.Revox, fake: FakeCalendly, token: str | None = None) -> str:
    """A Calendly connection of the client's organization (and mode); returns its id."""
    token = token or f"pat-{uuid.uuid4().hex}"
    fake.tokens.add(token)
    created: Any = client.post(
        "/calendly-connections", cast_to=object, body={"token": token, "name": "Sales"}
    )
    return str(created["calendly_connection"]["id"])


def tool_entries(attempt: Any, name: str) -> list[Any]:
    return [e for e in attempt.transcript if e.role == "tool" and e.tool_name == name]


def agent_said(attempt: Any) -> str:
    return " ".join(e.content for e in attempt.transcript if e.role == "assistant")


def test_03_books_the_first_open_time_in_the_recipients_timezone(
    caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    token = f"pat-sales-{uuid.uuid4().hex}"
    connection_id = connect(caller, fake_calendly, token=token)
    done = call(
        caller, "03", calendly={"connection_id": connection_id, "event_type_id": EVENT_TYPE}
    )
    attempt = done.call_attempts[0]
    (looked,) = tool_entries(attempt, "check_availability")
    assert looked.tool_is_error is False and looked.tool_output.startswith("open times: ")
    (booked,) = tool_entries(attempt, "book_meeting")
    assert booked.tool_is_error is False and booked.tool_output.startswith("booked: invitee ")
    (posted,) = [r for r in fake_calendly.requests_to("POST", "/invitees")
                 if r.headers["authorization"] == f"Bearer {token}"]  # fmt: skip
    body = posted.json()
    assert booked.tool_arguments == body  # the entry carries the real request
    assert body["event_type"] == EVENT_TYPE and body["start_time"].endswith("Z")
    assert body["invitee"] == {
        "name": "Alex Martin",
        "email": "alex.martin@example.com",
        "timezone": LOS_ANGELES,
        "text_reminder_number": "+14155550103",
    }
    assert "You're booked on" in agent_said(attempt) and done.outcome == "interested"


def test_03_a_refused_booking_is_a_tool_error_and_is_not_claimed(
    caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    connection_id = connect(caller, fake_calendly)
    unknown_event = "https://api.calendly.com/event_types/00000000-0000-0000-0000-000000000000"
    done = call(
        caller, "03", calendly={"connection_id": connection_id, "event_type_id": unknown_event}
    )
    attempt = done.call_attempts[0]
    (looked,) = tool_entries(attempt, "check_availability")
    assert looked.tool_is_error is True and "404" in looked.tool_output
    assert tool_entries(attempt, "book_meeting") == []
    said = agent_said(attempt).lower()
    assert "booked" not in said and "invitation" not in said
    assert done.outcome != "interested"


def test_03_a_revoked_token_is_a_tool_error_and_is_not_claimed(
    caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    connection_id = connect(caller, fake_calendly)
    fake_calendly.tokens.clear()  # every token revoked at Calendly since
    done = call(
        caller, "03", calendly={"connection_id": connection_id, "event_type_id": EVENT_TYPE}
    )
    attempt = done.call_attempts[0]
    (looked,) = tool_entries(attempt, "check_availability")
    assert looked.tool_is_error is True and "401" in looked.tool_output
    assert "booked" not in agent_said(attempt).lower()


def test_03_without_a_connection_no_booking_is_offered_or_claimed(
    caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    before = len(fake_calendly.requests)
    attempt = call(caller, "03", structured_output_config=FIELDS).call_attempts[0]
    assert [e for e in attempt.transcript if e.role == "tool" and e.tool_name != "end_call"] == []
    said = agent_said(attempt).lower()
    assert "can't book meetings" in said and "booked" not in said and "invitation" not in said
    assert len(fake_calendly.requests) == before


def test_03_a_connection_deleted_after_the_assistant_was_saved_books_nothing(
    caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    connection_id = connect(caller, fake_calendly)
    assistant = caller.assistants.create(
        name="Booker", prompt="p", first_sentence="Hello, this is Acme.",
        first_sentence_mode="static",
        calendly={"connection_id": connection_id, "event_type_id": EVENT_TYPE},
    ).assistant  # fmt: skip
    caller.delete(f"/calendly-connections/{connection_id}", cast_to=object)
    call_id = caller.call.create(phone_number="+14155550103", assistant_id=assistant.id).call.id
    from tests.dispatch.test_sandbox_numbers import wait_until_done

    attempt = wait_until_done(caller, call_id).call_attempts[0]
    assert tool_entries(attempt, "book_meeting") == []
    assert "can't book meetings" in agent_said(attempt).lower()


def test_each_organization_books_with_its_own_token(
    engine: LiveServer, caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    other: Org = engine.new_org()
    other_caller = revox.Revox(api_key=other.test_key, base_url=f"{engine.url}/api", max_retries=0)
    mine_token, their_token = f"pat-one-{uuid.uuid4().hex}", f"pat-two-{uuid.uuid4().hex}"
    mine = connect(caller, fake_calendly, token=mine_token)
    theirs = connect(other_caller, fake_calendly, token=their_token)
    call(caller, "03", calendly={"connection_id": mine, "event_type_id": EVENT_TYPE})
    call(other_caller, "03", calendly={"connection_id": theirs, "event_type_id": EVENT_TYPE})
    used = {r.headers["authorization"] for r in fake_calendly.requests_to("POST", "/invitees")}
    assert {f"Bearer {mine_token}", f"Bearer {their_token}"} <= used
