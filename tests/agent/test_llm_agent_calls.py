"""The SANDBOX.md rows that answer, end to end through the official SDK, with the agent
held by an LLM: the OpenAI-compatible path against a fake endpoint that streams chat
completions and tool calls in OpenAI's wire format (and a fake Calendly)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import revox

from tests.agent.fake_calendly import EVENT_TYPE, FakeCalendly
from tests.agent.fake_openai import FakeOpenAI
from tests.agent.llm_fixtures import (
    fake_calendly,
    fake_openai,
    llm_caller,
    llm_database_urls,
    llm_engine,
)
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

__all__ = ["fake_calendly", "fake_openai", "llm_caller", "llm_database_urls", "llm_engine"]

FIELDS = [
    {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    {"name": "email", "required": True, "type": "string", "description": "email address"},
]


def number(code: str) -> str:
    return f"+1415555{100 + int(code):04d}"


def call(caller: revox.Revox, code: str, attempts: int = 1, **assistant: Any) -> Any:
    config = {
        "prompt": "You call {{first_name}} on behalf of Acme about the spring offer.",
        "first_sentence": "Hello {{first_name}}, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(attempts),
        **assistant,
    }
    created = caller.call.create(
        phone_number=number(code),
        assistant=config,  # type: ignore[arg-type]
        prompt_variables={"first_name": "Alex"},
    )
    return wait_until_done(caller, created.call.id, timeout=60)


def tools_used(attempt: Any) -> list[str]:
    return [entry.tool_name for entry in attempt.transcript or [] if entry.role == "tool"]


def test_00_fields_extracted_by_the_llm(llm_caller: revox.Revox, fake_openai: FakeOpenAI) -> None:
    done = call(llm_caller, "00", structured_output_config=FIELDS)
    attempt = done.call_attempts[0]
    assert attempt.result == "human" and attempt.end_reason == "tool_end_call"
    assert attempt.ended_by == "agent"
    assert attempt.structured_output == {
        "full_name": "Alex Martin",
        "email": "alex.martin@example.com",
    }
    assert done.outcome == "completed"
    assert done.outcome_summary == "The callee answered the questions."
    assert attempt.transcript[0].role == "user"
    assert attempt.transcript[1].content == (  # one turn, heard to its end
        "Hello Alex, this is Acme calling about our spring offer. Could you tell me your full name?"
    )
    assert tools_used(attempt)[-1] == "end_call"
    chats = fake_openai.chat_requests()
    system = chats[0]["messages"][0]["content"]
    assert "You call Alex on behalf of Acme" in system  # prompt variables interpolated
    assert chats[0]["model"] == "gpt-4.1" and chats[0]["stream"] is True
    assert {t["function"]["name"] for t in chats[0]["tools"]} >= {"end_call", "do_not_call"}
    assert any("response_format" in body for body in chats)  # the post-call extraction


def test_01_transfer_to_the_named_destination(llm_caller: revox.Revox) -> None:
    attempt = call(
        llm_caller,
        "01",
        transfer_destinations=[{"label": "Sales", "phone_number": "+14155550199"}],
        human_transfer_mode="warm",
    ).call_attempts[0]
    assert attempt.result == "human" and attempt.end_reason == "transfer"
    tool = next(e for e in attempt.transcript if e.tool_name == "transfer_call")
    assert tool.tool_arguments == {"destination": "Sales"}
    assert "+14155550199 (warm)" in tool.tool_output and "human" in tool.tool_output


def test_02_unanswered_question_becomes_a_pending_faq(llm_caller: revox.Revox) -> None:
    assistant = llm_caller.assistants.create(
        name="FAQ", prompt="p", call_retry_config=retry_config(1),  # type: ignore[arg-type]
        faq_items=[{"question": "What are your opening hours?", "answer": "9 to 5."}],
    ).assistant  # fmt: skip
    call_id = llm_caller.call.create(phone_number=number("02"), assistant_id=assistant.id).call.id
    done = wait_until_done(llm_caller, call_id, timeout=60)
    assert "record_unanswered_question" in tools_used(done.call_attempts[0])
    updated = llm_caller.assistants.retrieve(assistant.id)
    pending = [item for item in updated.faq_items or [] if item.needs_human_answer]
    assert len(pending) == 1 and pending[0].source == "ai"
    assert "Antarctica" in pending[0].question


def test_03_meeting_booked_through_the_server_wide_calendly_token(
    llm_caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    """OPENREVOX_CALENDLY_API_KEY is the connection ``server`` of every organization."""
    calendly = {"connection_id": "server", "event_type_id": EVENT_TYPE}
    done = call(llm_caller, "03", calendly=calendly)
    attempt = done.call_attempts[0]
    assert tools_used(attempt)[:2] == ["check_availability", "book_meeting"]
    booking = next(e for e in attempt.transcript if e.tool_name == "book_meeting")
    assert booking.tool_is_error is False and booking.tool_output.startswith("booked")
    (posted,) = fake_calendly.requests_to("POST", "/invitees")
    assert posted.headers["authorization"] == f"Bearer {fake_calendly.api_key}"
    body = posted.json()
    assert body["event_type"] == EVENT_TYPE and body["invitee"]["email"] == "alex@example.com"
    assert body["invitee"]["timezone"] == "America/Los_Angeles"  # the recipient's (+1 415)
    assert body["start_time"].endswith("Z")
    assert done.outcome == "interested"


def test_03_meeting_booked_through_the_organizations_own_connection(
    llm_caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    token = f"pat-{uuid.uuid4().hex}"
    fake_calendly.tokens.add(token)
    created: Any = llm_caller.post("/calendly-connections", cast_to=object, body={"token": token})
    connection_id = created["calendly_connection"]["id"]
    done = call(
        llm_caller, "03", calendly={"connection_id": connection_id, "event_type_id": EVENT_TYPE}
    )
    assert tools_used(done.call_attempts[0])[:2] == ["check_availability", "book_meeting"]
    used = {r.headers["authorization"] for r in fake_calendly.requests}
    assert used == {f"Bearer {token}"}  # never the server's token
    assert done.outcome == "interested"


def test_04_callback_requested(llm_caller: revox.Revox) -> None:
    done = call(llm_caller, "04")
    assert done.call_attempts[0].result == "human"
    assert done.outcome == "requested_callback_later"


def test_05_hangs_up_at_once(llm_caller: revox.Revox) -> None:
    attempt = call(llm_caller, "05").call_attempts[0]
    assert attempt.ended_by == "user" and attempt.result == "human"


def test_06_endless_talker_hits_the_maximum_duration(llm_caller: revox.Revox) -> None:
    attempt = call(llm_caller, "06", max_call_duration_secs=30).call_attempts[0]
    assert attempt.ended_by == "system" and attempt.end_reason == "max_duration"


def test_07_do_not_call_request(llm_caller: revox.Revox) -> None:
    done = call(llm_caller, "07", attempts=3)
    assert done.calls_count == 1 and done.outcome == "not_interested"
    assert "do_not_call" in tools_used(done.call_attempts[0])
    history = llm_caller.call.phone_history().phone_history
    assert history[number("07")].do_not_contact is True


def test_08_interrupted_mid_sentence_the_agent_stops_and_answers(llm_caller: revox.Revox) -> None:
    entries = call(llm_caller, "08").call_attempts[0].transcript
    first = next(e for e in entries if e.role == "assistant")
    full = "Hello Alex, this is Acme calling about our spring offer."
    assert first.content != full and full.startswith(first.content)  # only what was said
    cut_in = next(i for i, e in enumerate(entries) if "interrupt" in e.content)
    assert entries[cut_in].role == "user"
    assert any(e.role == "assistant" for e in entries[cut_in + 1 :])  # then it answers


def test_09_silence_gives_up(llm_caller: revox.Revox) -> None:
    attempt = call(llm_caller, "09").call_attempts[0]
    assert attempt.result == "unknown" and attempt.end_reason == "user_inactive"


def test_20_voicemail_message_after_the_beep(llm_caller: revox.Revox) -> None:
    attempt = call(llm_caller, "20", voicemail_message="Please call Acme back.").call_attempts[0]
    assert attempt.result == "voicemail" and attempt.end_reason == "voicemail"
    contents = [e.content for e in attempt.transcript]
    assert "Please call Acme back." in contents and "[beep]" not in contents
    detection = (attempt.model_extra or {})["openrevox"]["answer_detection"]
    assert detection["result"] == "voicemail"
    (beep,) = detection["beeps"]  # a tone event, drawn from the call's seed
    assert 400 <= beep["hz"] <= 2000 and 200 <= beep["ms"] <= 1500


def test_21_voicemail_without_message_hangs_up(llm_caller: revox.Revox) -> None:
    attempt = call(llm_caller, "21").call_attempts[0]
    assert attempt.result == "voicemail" and attempt.end_reason == "voicemail"
    assert "assistant" not in [e.role for e in attempt.transcript]


def test_30_ivr_navigated_or_not(llm_caller: revox.Revox) -> None:
    navigated = call(llm_caller, "30", ivr_navigation_enabled=True).call_attempts[0]
    assert navigated.result == "human"
    dtmf = next(e for e in navigated.transcript if e.role == "tool")
    assert dtmf.tool_name == "send_dtmf" and dtmf.tool_arguments == {"digits": "1"}
    refused = call(llm_caller, "30").call_attempts[0]
    assert refused.result == "IVR" and refused.end_reason == "ivr_no_navigate"


def test_48_call_screening(llm_caller: revox.Revox) -> None:
    attempt = call(llm_caller, "48").call_attempts[0]
    assert attempt.result == "ios-screening-filter"


def test_5n_reaches_the_person_on_the_last_attempt(llm_caller: revox.Revox) -> None:
    done = call(llm_caller, "51", attempts=2)
    assert [a.result for a in done.call_attempts] == ["human", None]


def test_openrouter_routes_to_the_requested_provider(
    llm_caller: revox.Revox, fake_openai: FakeOpenAI
) -> None:
    llm = {"type": "openrouter", "openrouter_model_id": "openai/gpt-4.1",
           "openrouter_provider": "nebius"}  # fmt: skip
    call(llm_caller, "05", llm_model=llm)
    body = fake_openai.chat_requests()[0]
    assert body["model"] == "openai/gpt-4.1"
    assert body["provider"] == {"order": ["nebius"], "allow_fallbacks": False}


def test_custom_endpoint_of_the_assistant(llm_caller: revox.Revox, fake_openai: FakeOpenAI) -> None:
    llm = {"type": "custom", "api_url": f"{fake_openai.url}/v1", "api_key": fake_openai.api_key,
           "model_name": "meta-llama/llama-3-70b"}  # fmt: skip
    call(llm_caller, "05", llm_model=llm)
    assert fake_openai.chat_requests()[0]["model"] == "meta-llama/llama-3-70b"


def test_custom_endpoint_on_a_private_address_is_refused(llm_caller: revox.Revox) -> None:
    llm = {"type": "custom", "api_url": "http://10.0.0.7/v1", "api_key": "k", "model_name": "m"}
    try:
        llm_caller.assistants.create(name="x", prompt="p", llm_model=llm)  # type: ignore[arg-type]
        raise AssertionError("a private LLM endpoint was accepted")
    except revox.UnprocessableEntityError as error:
        assert "llm_model.api_url" in str(error.body)


def test_llm_error_mid_call_ends_the_attempt_and_retries(
    llm_caller: revox.Revox, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fault, fake_openai.healthy_requests = "http_500", 1
    done = call(llm_caller, "00", attempts=2, first_sentence_mode="generated")
    assert done.status == "completed" and done.calls_count == 2  # the retry policy applied
    for attempt in done.call_attempts:
        assert attempt.status == "error" and attempt.end_reason == "client_initiated"
        assert (attempt.model_extra or {})["openrevox"]["error_reason"] == "llm_error"
        assert attempt.ended_by == "system"
    assert done.call_attempts[-1].transcript  # what was said before the fault is kept


def test_llm_that_stops_answering_times_out(
    llm_caller: revox.Revox, fake_openai: FakeOpenAI
) -> None:
    fake_openai.fault = "stall_midstream"
    started = time.monotonic()
    done = call(llm_caller, "00", first_sentence_mode="generated")
    assert time.monotonic() - started < 30
    (attempt,) = done.call_attempts
    assert attempt.status == "error" and attempt.end_reason == "client_initiated"
    assert (attempt.model_extra or {})["openrevox"]["error_reason"] == "llm_timeout"
    assert done.status not in ("ongoing", "queued_for_calling")


def test_transcript_is_saved_while_the_call_runs(
    llm_caller: revox.Revox, fake_openai: FakeOpenAI
) -> None:
    fake_openai.chunk_delay = 0.1
    created = llm_caller.call.create(
        phone_number=number("00"),
        assistant={"prompt": "p", "structured_output_config": FIELDS,  # type: ignore[typeddict-item]
                   "call_retry_config": retry_config(1)},
    )  # fmt: skip
    deadline, live = time.monotonic() + 60, None
    while time.monotonic() < deadline and live is None:
        current = llm_caller.call.retrieve(created.call.id).call
        for attempt in current.call_attempts or []:
            if attempt.status == "ongoing" and attempt.transcript:
                live = attempt
        time.sleep(0.05)
    assert live is not None, "no live transcript seen while the call was ongoing"
    done = wait_until_done(llm_caller, created.call.id, timeout=60)
    assert len(done.call_attempts[0].transcript) >= len(live.transcript)
