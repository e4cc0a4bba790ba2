"""Routing per call (SANDBOX.md, "When a call is simulated"), as one pure function."""

from __future__ import annotations

from openrevox.domain.routing import SIMULATED, Route, carriers_of, route_call

REAL = "+33612345678"
RESERVED = "+12125550100"
SANDBOX_LINE = "+12125550190"
TWILIO_LINE = "+14155238886"


def route(
    mode: str = "live",
    remote: str = REAL,
    carriers: tuple[str, ...] = (),
    line: str | None = SANDBOX_LINE,
    provider: str | None = None,
) -> Route:
    return route_call(
        mode=mode, remote_number=remote, carriers=carriers, line_number=line, line_provider=provider
    )


def test_a_test_key_is_always_simulated_whatever_the_carriers() -> None:
    assert route("test", REAL) == Route(SIMULATED)
    assert route("test", REAL, ("twilio",), TWILIO_LINE, "twilio") == Route(SIMULATED)


def test_a_reserved_number_is_simulated_for_live_keys_too() -> None:
    assert route("live", RESERVED) == Route(SIMULATED)
    assert route("live", RESERVED, ("twilio",), TWILIO_LINE, "twilio").simulated


def test_a_live_call_to_a_real_number_without_a_carrier_is_refused_saying_what_to_set() -> None:
    refused = route("live", REAL)
    assert refused.provider is None and refused.about == "phone_number"
    assert refused.refusal is not None
    assert "OPENREVOX_TELEPHONY" in refused.refusal and "test key" in refused.refusal
    assert REAL in refused.refusal


def test_a_live_call_to_a_real_number_goes_to_the_carrier_of_its_caller_id() -> None:
    assert route("live", REAL, ("twilio", "telnyx"), TWILIO_LINE, "twilio") == Route("twilio")
    assert route("live", REAL, ("twilio", "telnyx"), "+15551230000", "telnyx").provider == "telnyx"


def test_a_sandbox_caller_id_cannot_reach_a_real_number() -> None:
    for line, provider in ((SANDBOX_LINE, "sip"), (None, None), (TWILIO_LINE, None)):
        refused = route("live", REAL, ("twilio",), line, provider)
        assert refused.provider is None and refused.about == "from_phone_number"
        assert refused.refusal is not None and "twilio" in refused.refusal


def test_a_caller_id_of_a_carrier_not_configured_is_refused() -> None:
    refused = route("live", REAL, ("telnyx",), TWILIO_LINE, "twilio")
    assert refused.provider is None and refused.about == "from_phone_number"
    assert refused.refusal is not None and "twilio" in refused.refusal


def test_sim_is_no_carrier() -> None:
    assert carriers_of(("sim",)) == ()
    assert carriers_of(("sim", "twilio")) == ("twilio",)
