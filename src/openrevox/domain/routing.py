"""Which network carries a call: decided per call, the same way at creation, in campaign
imports and launches, and when the dispatcher dials (SANDBOX.md, "When a call is
simulated"):

1. a test-mode key's calls are always simulated;
2. a reserved fictional number (+1 NPA 555 01XX) is never dialled for real: simulated;
3. any other call goes to the carrier of its caller-ID number (our own line), which must
   be a configured carrier (``OPENREVOX_TELEPHONY``); with no carrier configured (the
   embedded default) it is refused, never simulated silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openrevox.domain.sandbox_numbers import is_fictional

SIMULATED = "sim"  # the simulated network's name in OPENREVOX_TELEPHONY
HOW_TO_SIMULATE = (
    "use a test key (sk_test_...) or a sandbox number +1 NPA 555 01XX (docs/sandbox.md)"
)


@dataclass(frozen=True, slots=True)
class Route:
    """``provider``: the network that carries the call (``SIMULATED`` or a carrier's
    name); None when the call is refused, ``refusal`` saying why and what to do, and
    ``about`` which number is the problem (the destination, or the caller ID)."""

    provider: str | None
    refusal: str | None = None
    about: str = "phone_number"  # or "from_phone_number"

    @property
    def simulated(self) -> bool:
        return self.provider == SIMULATED


def carriers_of(configured: Iterable[str]) -> tuple[str, ...]:
    """The real carriers among the configured telephony providers."""
    return tuple(name for name in configured if name != SIMULATED)


def route_call(
    *,
    mode: str,
    remote_number: str,
    carriers: Iterable[str],
    line_number: str | None,
    line_provider: str | None,
) -> Route:
    """The route of one call. ``remote_number``: the other party (the callee of an
    outbound call); ``line_number``/``line_provider``: our own number on the call (the
    caller ID) and the provider it belongs to (None when it is not one of ours);
    ``carriers``: the configured real carriers (``carriers_of``)."""
    if mode == "test":
        return Route(SIMULATED)
    if is_fictional(remote_number):
        return Route(SIMULATED)
    available = tuple(carriers)
    if not available:
        return Route(
            None,
            f"{remote_number} is a real number and no carrier is configured, so a live key "
            "cannot call it: set OPENREVOX_TELEPHONY to a carrier (e.g. twilio) and call "
            f"from one of its numbers, or, to simulate the call, {HOW_TO_SIMULATE}",
        )
    listed = ", ".join(available)
    if line_number is None or is_fictional(line_number) or line_provider is None:
        shown = line_number or "no caller ID"
        return Route(
            None,
            f"the caller ID ({shown}) is a sandbox line, which calls sandbox numbers only: "
            f"call {remote_number} from a number of your carrier ({listed}) "
            "with from_phone_number",
            "from_phone_number",
        )
    if line_provider not in available:
        return Route(
            None,
            f"the caller ID {line_number} belongs to {line_provider}, which is not a "
            f"configured carrier (OPENREVOX_TELEPHONY has {listed}): add it, or call from "
            "a number of a configured carrier",
            "from_phone_number",
        )
    return Route(line_provider)
