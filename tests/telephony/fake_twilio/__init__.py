"""A stand-in for Twilio speaking its wire formats over real HTTP and websockets."""

from tests.telephony.fake_twilio.server import FakeCall, FakeTwilio

__all__ = ["FakeCall", "FakeTwilio"]
