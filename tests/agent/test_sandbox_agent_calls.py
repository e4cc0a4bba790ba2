"""Every SANDBOX.md row that answers, end to end through the official SDK with the
sandbox agent: result, who ended the call and why, transcript, tools and extracted data."""

from __future__ import annotations

from typing import Any

import revox

from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

FIELDS = [
    {"name": "full_name", "required": True, "type": "string", "description": "full name"},
    {"name": "email", "required": True, "type": "string", "description": "email address"},
]


def call(caller: revox.Revox, code: str, attempts: int = 1, **assistant: Any) -> Any:
    config = {
        "prompt": "You call on behalf of Acme about the spring offer.",
        "first_sentence": "Hello, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(attempts),
        **assistant,
    }
    number = f"+1415555{100 + int(code):04d}"
    call_id = caller.call.create(phone_number=number, assistant=config).call.id  # type: ignore[arg-type]
    return wait_until_done(caller, call_id, timeout=60)


def roles(attempt: Any) -> list[str]:
    return [entry.role for entry in attempt.transcript or []]


def test_00_cooperative_person_gives_the_fields(caller: revox.Revox) -> None:
    attempt = call(caller, "00", structured_output_config=FIELDS).call_attempts[0]
    assert attempt.result == "human" and attempt.ended_by == "agent"
    assert attempt.end_reason == "tool_end_call"
    assert attempt.structured_output == {
        "full_name": "Alex Martin",
        "email": "alex.martin@example.com",
    }
    assert roles(attempt)[:2] == ["user", "assistant"]
    assert any(e.role == "tool" and e.tool_name == "end_call" for e in attempt.transcript)


def test_01_transfer_to_the_destination(caller: revox.Revox) -> None:
    attempt = call(
        caller, "01", transfer_destinations=[{"label": "Sales", "phone_number": "+14155550199"}]
    ).call_attempts[0]
    assert attempt.end_reason == "transfer" and attempt.result == "human"
    tool = next(e for e in attempt.transcript if e.role == "tool")
    assert tool.tool_name == "transfer_call" and tool.tool_arguments == {
        "phone_number": "+14155550199"
    }


def test_02_unanswered_question_becomes_a_pending_faq(caller: revox.Revox) -> None:
    assistant = caller.assistants.create(
        name="FAQ", prompt="p", call_retry_config=retry_config(1),  # type: ignore[arg-type]
        faq_items=[{"question": "What are your opening hours?", "answer": "9 to 5."}],
    ).assistant  # fmt: skip
    call_id = caller.call.create(phone_number="+14155550102", assistant_id=assistant.id).call.id
    wait_until_done(caller, call_id)
    updated = caller.assistants.retrieve(assistant.id)
    pending = [item for item in updated.faq_items or [] if item.needs_human_answer]
    assert len(pending) == 1 and pending[0].source == "ai"
    assert "Antarctica" in pending[0].question
    assert updated.pending_faq_count == 1


def test_04_busy_person_asks_for_a_callback(caller: revox.Revox) -> None:
    done = call(caller, "04")
    attempt = done.call_attempts[0]
    assert attempt.ended_by == "user" and attempt.result == "human", attempt.transcript
    assert done.outcome == "requested_callback_later", attempt.transcript


def test_05_hangs_up_at_once(caller: revox.Revox) -> None:
    attempt = call(caller, "05").call_attempts[0]
    assert attempt.ended_by == "user" and attempt.result == "human"


def test_06_endless_talker_hits_the_maximum_duration(caller: revox.Revox) -> None:
    attempt = call(caller, "06", max_call_duration_secs=30).call_attempts[0]
    assert attempt.ended_by == "system" and attempt.end_reason == "max_duration"


def test_07_stop_calling_me_puts_the_number_on_the_list(caller: revox.Revox) -> None:
    done = call(caller, "07", attempts=3)
    assert done.calls_count == 1  # no retry
    history = caller.call.phone_history().phone_history
    assert history["+14155550107"].do_not_contact is True
    try:
        caller.call.create(phone_number="+14155550107", assistant={"prompt": "p"})  # type: ignore[typeddict-item]
        raise AssertionError("a do-not-contact number was accepted")
    except revox.ConflictError:
        pass


def test_08_interrupted_mid_sentence_the_agent_stops_and_answers(caller: revox.Revox) -> None:
    entries = call(caller, "08").call_attempts[0].transcript
    first = next(e for e in entries if e.role == "assistant")
    full = "Hello, this is Acme calling about our spring offer."
    assert first.content != full and full.startswith(first.content)  # only what was said
    cut_in = next(i for i, e in enumerate(entries) if "interrupt" in e.content)
    assert entries[cut_in].role == "user"
    assert any(e.role == "assistant" for e in entries[cut_in + 1 :])  # then it answers


def test_09_silence_gives_up_with_unknown(caller: revox.Revox) -> None:
    attempt = call(caller, "09").call_attempts[0]
    assert attempt.result == "unknown" and attempt.end_reason == "user_inactive"


def test_20_voicemail_message_after_the_beep(caller: revox.Revox) -> None:
    attempt = call(caller, "20", voicemail_message="Please call Acme back.").call_attempts[0]
    assert attempt.result == "voicemail" and attempt.end_reason == "voicemail"
    contents = [e.content for e in attempt.transcript]
    assert "Please call Acme back." in contents and "[beep]" not in contents
    detection = (attempt.model_extra or {})["openrevox"]["answer_detection"]
    assert detection["result"] == "voicemail"
    (beep,) = detection["beeps"]  # a tone event, drawn from the call's seed
    assert 400 <= beep["hz"] <= 2000 and 200 <= beep["ms"] <= 1500


def test_21_long_greeting_without_message_hangs_up_at_once(caller: revox.Revox) -> None:
    attempt = call(caller, "21", attempts=2).call_attempts[0]
    assert attempt.result == "voicemail" and attempt.end_reason == "voicemail"
    assert "assistant" not in roles(attempt)


def test_30_ivr_navigated_or_not(caller: revox.Revox) -> None:
    navigated = call(caller, "30", ivr_navigation_enabled=True).call_attempts[0]
    assert navigated.result == "human"
    dtmf = next(e for e in navigated.transcript if e.role == "tool")
    assert dtmf.tool_name == "send_dtmf" and dtmf.tool_arguments == {"digits": "1"}
    refused = call(caller, "30").call_attempts[0]
    assert refused.result == "IVR" and refused.end_reason == "ivr_no_navigate"


def test_5n_reaches_the_person_on_the_last_attempt(caller: revox.Revox) -> None:
    done = call(caller, "51", attempts=2)
    assert [a.result for a in done.call_attempts] == ["human", None]
