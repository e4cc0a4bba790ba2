"""The reserved fictional range of the simulated network: +1 NPA 555 01XX (SANDBOX.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator

_FICTIONAL = re.compile(r"^\+1([2-9]\d{2})55501(\d{2})$")
OWN_LINE_CODES = range(90, 99)  # XX 90-98: an organization's own sandbox lines

# Area codes handed out for organizations' own lines, in order (several timezones).
OWN_LINE_AREA_CODES: tuple[str, ...] = (
    "212", "415", "312", "305", "206", "617", "512", "303", "702", "808",
    "646", "213", "404", "503", "612", "215", "602", "713", "214", "801",
)  # fmt: skip


def is_fictional(e164: str) -> bool:
    """True for the reserved range, which never reaches a real carrier."""
    return _FICTIONAL.match(e164) is not None


def behaviour_code(e164: str) -> str | None:
    """The two digits XX that pick the simulated behaviour, or None outside the range."""
    match = _FICTIONAL.match(e164)
    return match.group(2) if match else None


def own_line_candidates() -> Iterator[str]:
    for area in OWN_LINE_AREA_CODES:
        for code in OWN_LINE_CODES:
            yield f"+1{area}55501{code:02d}"
