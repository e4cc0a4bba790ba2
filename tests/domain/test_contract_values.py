"""The values openrevox writes into the contract's enum keys are exactly SDK 0.5.0's,
and every reason of its own maps onto one of them (domain/end_reasons.py)."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from revox.types.call_retrieve_response import Call, CallCallAttempt

from openrevox.domain import attempt_extension
from openrevox.domain.end_reasons import (
    AGENT_FAULT,
    END_REASONS,
    ERROR_END_REASONS,
    WireEndReason,
    wire_end_reason,
)
from openrevox.domain.lifecycle import DIAL_ERRORS, RESULTS, AttemptStatus, OrderStatus
from openrevox.telephony.base import DialError, EndedBy


def literal_values(model: Any, field: str) -> tuple[str, ...]:
    """The values of a model field's Literal (inside Optional)."""
    annotation = model.model_fields[field].annotation
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is typing.Literal:
            return typing.get_args(arg)
    raise AssertionError(f"{model.__name__}.{field} is not a Literal")


def test_end_reasons_are_the_contracts_in_its_order() -> None:
    assert literal_values(CallCallAttempt, "end_reason") == END_REASONS


@pytest.mark.parametrize(
    ("ours", "model", "field"),
    [
        (set(DIAL_ERRORS), CallCallAttempt, "dial_error"),
        (set(typing.get_args(DialError)), CallCallAttempt, "dial_error"),
        (set(RESULTS), CallCallAttempt, "result"),
        (set(typing.get_args(EndedBy)), CallCallAttempt, "ended_by"),
        ({status.value for status in AttemptStatus}, CallCallAttempt, "status"),
        ({status.value for status in OrderStatus}, Call, "status"),
        ({"inbound", "outbound"}, Call, "direction"),
    ],
)
def test_enum_values_are_exactly_the_contracts(ours: set[str], model: Any, field: str) -> None:
    assert ours == set(literal_values(model, field))


def test_every_reason_of_ours_becomes_a_contract_value_and_is_kept_as_a_fact() -> None:
    for reason, wire in ERROR_END_REASONS.items():
        assert reason not in END_REASONS
        assert wire in END_REASONS
        assert wire_end_reason(reason) == WireEndReason(wire, reason)
    assert wire_end_reason("worker_lost").end_reason == "connection_timeout"
    assert wire_end_reason("llm_timeout").end_reason == "client_initiated"


def test_contract_reasons_pass_through_and_unknown_ones_are_agent_faults() -> None:
    for reason in (*END_REASONS, None):
        assert wire_end_reason(reason) == WireEndReason(reason, None)
    assert wire_end_reason("turn_model_crashed") == WireEndReason(AGENT_FAULT, "turn_model_crashed")


def test_facts_merge_key_by_key_and_drop_missing_values() -> None:
    stored = {"error_reason": "worker_lost", "carrier": {"code": 1}}
    assert attempt_extension.merge(stored, {"carrier": {"code": 2}, "speech": None}) == {
        "error_reason": "worker_lost",
        "carrier": {"code": 2},
    }
    assert attempt_extension.merge(None, {"error_reason": None}) is None
    assert attempt_extension.error_facts("provider_error", "x" * 500) == {
        "error_reason": "provider_error",
        "error_detail": "x" * attempt_extension.ERROR_DETAIL_CHARS,
    }
    assert attempt_extension.facts_text({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert attempt_extension.facts_text(None) == ""
