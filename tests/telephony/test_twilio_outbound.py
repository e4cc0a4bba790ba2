"""Outbound calls through Twilio, end to end: the official ``revox`` SDK orders a live
call, the worker dials the fake Twilio with the official ``twilio`` client, the fake
rings a sandbox persona, fetches our TwiML, signs its status callbacks and connects its
Media Stream to our websocket; the agent (the fake OpenAI-compatible LLM) talks to the
persona in real 8 kHz mu-law audio."""

from __future__ import annotations

import time
from typing import Any

from openrevox.audio.line import agent_hints
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done
from tests.telephony.conftest import TwilioOrg
from tests.telephony.fake_twilio import FakeTwilio

# One field: on a loaded machine the persona's answer to a second question can be cut by
# a barge-in, and what the fake LLM then does is not what these tests are about.
FIELDS = [{"name": "full_name", "required": True, "type": "string", "description": "full name"}]


def assistant(attempts: int = 1, delay: int = 0, **changes: Any) -> dict[str, Any]:
    return {
        "prompt": "You call {{first_name}} on behalf of Acme about the spring offer.",
        "first_sentence": "Hello {{first_name}}, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(attempts, delay),
        "max_call_duration_secs": 90,
        **changes,
    }


def real_number(code: str) -> str:
    """A real-looking US number (outside the reserved range) whose last two digits pick
    the fake's far side, as SANDBOX.md's XX."""
    return f"+1415523{int(code):04d}"


def place(line: TwilioOrg, code: str, timeout: float = 90.0, **config: Any) -> Any:
    created = line.client.call.create(
        phone_number=real_number(code),
        assistant=assistant(**config),  # type: ignore[arg-type]
        prompt_variables={"first_name": "Alex"},
    )
    return wait_until_done(line.client, created.call.id, timeout=timeout)


def test_a_person_answers_and_gives_their_details(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.hints = agent_hints(assistant())
    started = time.monotonic()
    done = place(twilio_org, "00", structured_output_config=FIELDS)
    attempt = done.call_attempts[0]
    assert attempt.result == "human", attempt
    talk = [(entry.role, entry.content) for entry in attempt.transcript]
    assert attempt.structured_output == {"full_name": "Alex Martin"}, talk
    said = [entry.content for entry in attempt.transcript if entry.role == "assistant"]
    assert said[0].startswith("Hello Alex, this is Acme calling about our spring offer.")
    heard = [entry.content.lower() for entry in attempt.transcript if entry.role == "user"]
    assert any("martin" in text for text in heard), heard
    (dial,) = fake_twilio.ledger
    call = fake_twilio.calls[dial["sid"]]
    assert call.to == real_number("00") and call.from_ == twilio_org.caller_id
    assert call.time_limit == 90 + 30 and call.timeout == 5  # the test server rings 5 s
    assert call.stream_parameters is not None
    assert call.stream_parameters["attempt"] == attempt.id
    assert call.frames_from_app > 100  # our agent's audio reached the far side
    assert call.status == "completed"
    events = [callback["event"] for callback in call.callbacks]
    assert events == ["initiated", "ringing", "answered", "completed"]
    assert time.monotonic() - started < 80


def test_a_stream_dropped_mid_call_ends_the_attempt_and_the_order_retries(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.hints = agent_hints(assistant())
    fake_twilio.drop_stream_after = 4.0  # the first call's socket dies; the second is fine
    done = place(twilio_org, "00", attempts=2, structured_output_config=FIELDS)
    first, second = sorted(done.call_attempts, key=lambda attempt: attempt.started_at)
    assert first.status == "error" and first.end_reason == "connection_timeout"
    assert first.ended_by == "system" and first.answered_at is not None
    facts = first.model_extra["openrevox"]
    assert facts["error_reason"] == "media_stream_lost"
    assert facts["twilio"]["stream"] == "dropped"
    first_call = fake_twilio.calls[facts["twilio"]["call_sid"]]
    assert first_call.stream_end == "dropped" and first_call.status == "completed"
    assert second.result == "human" and second.dial_error is None
    assert len([row for row in fake_twilio.ledger if row["created"]]) == 2
