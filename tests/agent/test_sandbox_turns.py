"""Turn-taking between the sandbox agent and every answering persona, at text fidelity:
no agent utterance is cut short unless the callee barged in (persona 08 does, on purpose),
and no answer is taken for a question the callee never heard in full."""

from __future__ import annotations

import re
from typing import Any

import revox

from tests.agent.fake_calendly import EVENT_TYPE, FakeCalendly
from tests.agent.test_sandbox_agent_calls import FIELDS
from tests.agent.test_sandbox_booking import connect
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

PERSONAS = ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "20", "21", "30", "48")
COMPLETE = re.compile(r"[.!?]$")  # every sentence the agent says ends so


def truncated_without_barge_in(transcript: list[Any]) -> list[str]:
    """Agent utterances cut short that no interruption of the callee explains."""
    found = []
    for index, entry in enumerate(transcript):
        if entry.role != "assistant" or COMPLETE.search(entry.content.strip()):
            continue
        following = next((e for e in transcript[index + 1 :] if e.role != "tool"), None)
        if following is None or following.role != "user" or "interrupt" not in following.content:
            found.append(entry.content)
    return found


def test_no_agent_utterance_is_cut_short_without_a_barge_in(
    caller: revox.Revox, fake_calendly: FakeCalendly
) -> None:
    connection_id = connect(caller, fake_calendly)
    assistant: dict[str, Any] = {
        "prompt": "You call on behalf of Acme about the spring offer.",
        "first_sentence": "Hello, this is Acme calling about our spring offer.",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(1),
        "structured_output_config": FIELDS,
        "faq_items": [{"question": "Do you ship to Antarctica?", "answer": "No, sorry."}],
        "calendly": {"connection_id": connection_id, "event_type_id": EVENT_TYPE},
        "voicemail_message": "Please call Acme back.",
        "ivr_navigation_enabled": True,
        "max_call_duration_secs": 30,
    }
    ids = {
        code: caller.call.create(phone_number=f"+1415555{100 + int(code):04d}",
                                 assistant=assistant).call.id  # type: ignore[arg-type]
        for code in PERSONAS
    }  # fmt: skip
    done = {code: wait_until_done(caller, call_id, timeout=90) for code, call_id in ids.items()}
    garbled = {}
    for code, order in done.items():
        transcript = order.call_attempts[0].transcript or []
        cut = truncated_without_barge_in(transcript)
        if cut:
            garbled[code] = cut
    assert garbled == {}
    # A value is only ever taken from the answer to its own question, said in full.
    expected = {"full_name": "Alex Martin", "email": "alex.martin@example.com"}
    for order in done.values():
        extracted = order.call_attempts[0].structured_output or {}
        assert {k: v for k, v in extracted.items() if v is not None}.items() <= expected.items()
    assert done["00"].call_attempts[0].structured_output == expected
