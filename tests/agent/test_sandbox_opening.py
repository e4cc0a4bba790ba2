"""``first_sentence_mode: generated`` with the sandbox agent: the first sentence is an
instruction, so the agent says an opening composed from it (docs/sandbox.md), never the
instruction itself."""

from __future__ import annotations

import revox

from openrevox.agent.opening import generated_first_sentence
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

INSTRUCTION = "Greet {{first_name}} warmly and tell them about the {{offer}}."


def test_the_opening_greets_by_name_and_says_who_calls_and_why() -> None:
    assistant = {
        "name": "Sam",
        "prompt": "You call on behalf of Acme Bakery.",
        "first_sentence": INSTRUCTION,
    }
    variables = {"first_name": "Alex", "offer": "spring offer"}
    assert generated_first_sentence(assistant, variables) == (
        "Hello Alex, this is Sam from Acme Bakery. I'm calling about the spring offer."
    )


def test_an_unnamed_assistant_speaks_for_its_company_and_points_of_view_turn() -> None:
    assistant = {
        "name": "Inline assistant",
        "prompt": "You call on behalf of Acme about their unpaid invoice.",
        "first_sentence": "Introduce yourself.",
    }
    assert generated_first_sentence(assistant, {}) == (
        "Hello, I'm calling on behalf of Acme about your unpaid invoice."
    )


def test_with_nothing_to_go_on_the_opening_is_a_plain_greeting() -> None:
    assistant = {"name": "", "prompt": "Be nice.", "first_sentence": None}
    assert generated_first_sentence(assistant, {}) == "Hello, thank you for taking my call."


def test_a_generated_first_sentence_is_never_read_aloud_as_its_instruction(
    caller: revox.Revox,
) -> None:
    call_id = caller.call.create(
        phone_number="+14155550100",
        assistant={  # type: ignore[typeddict-item]
            "name": "Sam",
            "prompt": "You call on behalf of Acme Bakery.",
            "first_sentence": INSTRUCTION,
            "first_sentence_mode": "generated",
            "call_retry_config": retry_config(1),  # type: ignore[typeddict-item]
        },
        prompt_variables={"first_name": "Alex", "offer": "spring offer"},
    ).call.id
    entries = wait_until_done(caller, call_id).call_attempts[0].transcript
    first = next(e for e in entries if e.role == "assistant")
    assert first.content == (
        "Hello Alex, this is Sam from Acme Bakery. I'm calling about the spring offer."
    )
    assert not any("Greet" in e.content for e in entries if e.role == "assistant")


def test_call_screening_hears_who_calls_and_why(caller: revox.Revox) -> None:
    call_id = caller.call.create(
        phone_number="+14155550148",
        assistant={  # type: ignore[typeddict-item]
            "prompt": "You call on behalf of Acme about the spring offer.",
            "call_retry_config": retry_config(1),  # type: ignore[typeddict-item]
        },
    ).call.id
    attempt = wait_until_done(caller, call_id).call_attempts[0]
    assert attempt.result == "ios-screening-filter"
    said = [e.content for e in attempt.transcript if e.role == "assistant"]
    assert said == ["Hello, I'm calling on behalf of Acme about the spring offer."]
