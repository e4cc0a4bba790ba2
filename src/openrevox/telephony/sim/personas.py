"""What each reserved number does on each attempt (SANDBOX.md), as pure functions."""

from __future__ import annotations

import random
from dataclasses import dataclass

from openrevox.domain.sandbox_numbers import behaviour_code
from openrevox.telephony.base import DialError

DIAL_ERROR_CODES: dict[str, DialError] = {
    "40": "busy",
    "41": "no_answer",
    "42": "number_non_attributed",
    "43": "temporarily_unavailable",
    "44": "too_many_calls",
    "45": "no_international_permission",
    "46": "precondition_failed",
    "47": "non_classified_error",
}
ANSWERING_CODES = (
    "00",
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "20",
    "21",
    "30",
    "48",
)
# Code 99: a realistic mix (weights out of 100), picked by the call id and attempt.
DEMO_MIX: tuple[tuple[str, int], ...] = (
    ("00", 35), ("41", 15), ("20", 12), ("40", 8), ("04", 6), ("05", 5), ("30", 4),
    ("07", 3), ("48", 3), ("43", 3), ("02", 3), ("01", 2), ("42", 1),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One attempt's behaviour: a dial error, or who answers (a persona code)."""

    dial_error: DialError | None
    persona: str | None


def behaviour_for(number: str, *, call_order_id: str, attempt_number: int) -> Behaviour:
    """Deterministic: the same number, attempt and call give the same behaviour.
    Numbers outside the reserved range behave as 00 (a cooperative person)."""
    code = behaviour_code(number) or "00"
    if code == "99":
        picker = random.Random(f"{call_order_id}:{attempt_number}")
        code = picker.choices([c for c, _ in DEMO_MIX], weights=[w for _, w in DEMO_MIX])[0]
    if code in DIAL_ERROR_CODES:
        return Behaviour(dial_error=DIAL_ERROR_CODES[code], persona=None)
    if code[0] in "56" and code[1] in "123456789":
        failures = int(code[1])
        if attempt_number <= failures:
            return Behaviour(dial_error="no_answer" if code[0] == "5" else "busy", persona=None)
        return Behaviour(dial_error=None, persona="00")
    if code in ANSWERING_CODES:
        return Behaviour(dial_error=None, persona=code)
    return Behaviour(dial_error=None, persona="00")
