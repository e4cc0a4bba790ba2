"""Every dial-error and retry row of SANDBOX.md through the official SDK: the engine
dials the simulated network and the attempts show the documented outcomes."""

from __future__ import annotations

import time
from typing import Any

import pytest
import revox

TERMINAL = {"completed", "cancelled", "errored"}


def retry_config(attempts: int, delay: int = 0) -> dict[str, Any]:
    return {
        "allowed_days": [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ],
        "call_twice_in_a_row": False,
        "calling_windows": [
            {
                "calling_window_start_time": "00:00",
                "calling_window_end_time": "24:00",
                "retry_delay_seconds": delay,
            }
        ],
        "max_retry_attempts": attempts,
    }


def place(caller: revox.Revox, code: str, attempts: int, **assistant: Any) -> str:
    config = {
        "prompt": "You call on behalf of Acme.",
        "first_sentence": "Hello, this is Acme.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(attempts),
        **assistant,
    }
    return caller.call.create(
        phone_number=f"+1212555{100 + int(code):04d}", assistant=config
    ).call.id  # type: ignore[arg-type]


def wait_until_done(caller: revox.Revox, call_id: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call = caller.call.retrieve(call_id).call
        if call.status in TERMINAL:
            return call
        time.sleep(0.1)
    raise AssertionError(f"call {call_id} still {call.status} after {timeout}s")


@pytest.mark.parametrize(
    ("code", "dial_error", "attempts_made"),
    [
        ("40", "busy", 2),
        ("41", "no_answer", 2),
        ("42", "number_non_attributed", 1),
        ("43", "temporarily_unavailable", 2),
        ("44", "too_many_calls", 2),
        ("45", "no_international_permission", 1),
        ("46", "precondition_failed", 1),
        ("47", "non_classified_error", 2),
    ],
)
def test_dial_errors_retry_or_stop_as_documented(
    caller: revox.Revox, code: str, dial_error: str, attempts_made: int
) -> None:
    call = wait_until_done(caller, place(caller, code, attempts=2))
    assert call.status == "completed"
    assert call.calls_count == attempts_made
    assert len(call.call_attempts) == attempts_made
    for attempt in call.call_attempts:
        assert attempt.dial_error == dial_error
        assert attempt.status == "completed"
        assert attempt.result is None and attempt.answered_at is None
        assert attempt.handled_by_ai is False
        assert attempt.started_at and attempt.ended_at
    assert (
        call.last_call_attempt is not None and call.last_call_attempt.id == call.call_attempts[0].id
    )
    assert call.next_call_at is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("code", "failure"), [("52", "no_answer"), ("63", "busy")])
def test_5n_and_6n_reach_the_person_after_n_failures(
    caller: revox.Revox, code: str, failure: str
) -> None:
    failures = int(code[1])
    call = wait_until_done(caller, place(caller, code, attempts=failures + 1))
    assert call.calls_count == failures + 1
    oldest_first = list(reversed(call.call_attempts))
    assert [a.dial_error for a in oldest_first] == [failure] * failures + [None]
    assert oldest_first[-1].result == "human"
    assert [a.id for a in call.call_attempts] == [
        a.id for a in sorted(call.call_attempts, key=lambda a: a.started_at, reverse=True)
    ]  # type: ignore[arg-type, return-value]


def test_5n_without_enough_attempts_never_reaches_the_person(caller: revox.Revox) -> None:
    call = wait_until_done(caller, place(caller, "53", attempts=2))
    assert [a.dial_error for a in call.call_attempts] == ["no_answer", "no_answer"]
    assert call.status == "completed"


def test_call_screening_retries_and_shows_the_result(caller: revox.Revox) -> None:
    call = wait_until_done(caller, place(caller, "48", attempts=2))
    assert [a.result for a in call.call_attempts] == ["ios-screening-filter"] * 2


def test_a_cooperative_person_resolves_the_order_at_once(caller: revox.Revox) -> None:
    call = wait_until_done(caller, place(caller, "00", attempts=3))
    assert call.calls_count == 1
    attempt = call.call_attempts[0]
    assert attempt.result == "human" and attempt.status == "completed"
    assert attempt.answered_at is not None and attempt.handled_by_ai is True
    assert attempt.ended_by == "agent" and attempt.end_reason == "tool_end_call"
    roles = [entry.role for entry in attempt.transcript or []]
    assert "user" in roles and "assistant" in roles
    assert (attempt.transcript or [])[0].content in ("Hello?", "Hello, this is Acme.")


def test_retry_delay_is_honoured(caller: revox.Revox) -> None:
    config = {"prompt": "p", "call_retry_config": retry_config(2, delay=2)}
    call_id = caller.call.create(phone_number="+12125550140", assistant=config).call.id  # type: ignore[arg-type]
    call = wait_until_done(caller, call_id)
    first, second = reversed(call.call_attempts)
    from datetime import datetime

    gap = datetime.fromisoformat(second.started_at) - datetime.fromisoformat(first.ended_at)  # type: ignore[arg-type]
    assert gap.total_seconds() >= 1.9
