"""The key-completeness checker itself must catch what it is there to catch."""

from __future__ import annotations

from revox.types.call_retrieve_response import CallRetrieveResponse

from tests.contract import missing_keys


def test_an_empty_call_misses_every_required_key() -> None:
    missing = missing_keys(CallRetrieveResponse, {"call": {}})
    assert "call.contact" in missing
    assert "call.call_attempts" in missing
    assert "call.assistant" in missing


def test_nested_attempt_keys_are_checked() -> None:
    missing = missing_keys(
        CallRetrieveResponse, {"call": {"call_attempts": [{"id": "a"}], "last_call_attempt": None}}
    )
    assert "call.call_attempts[0].handled_by_ai" in missing
    assert "call.last_call_attempt" not in missing
