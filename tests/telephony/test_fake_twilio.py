"""The fake Twilio checked by code we did not write: the official ``twilio`` package
parses its REST replies and errors, and its ``RequestValidator`` accepts the fake's
signatures; its Media Streams messages have the shape of Twilio's documented examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.telephony.fake_twilio import FakeTwilio, wire


def client_for(fake: FakeTwilio, token: str | None = None) -> Client:
    client = Client(fake.account_sid, token or fake.auth_token)
    client.api.base_url = fake.url
    return client


def test_the_official_client_creates_fetches_and_lists_calls(fake_twilio: FakeTwilio) -> None:
    fake_twilio.reset()
    fake_twilio.answer_after = 30  # stays ringing while we look
    client = client_for(fake_twilio)
    created = client.calls.create(
        to="+14155230041", from_="+14155550000", url="http://127.0.0.1:9/twiml", timeout=5
    )
    assert created.sid.startswith("CA") and len(created.sid) == 34
    assert created.status == "queued" and created.to == "+14155230041"
    assert created.direction == "outbound-api"
    assert isinstance(created.date_created, datetime)
    fetched = client.calls(created.sid).fetch()
    assert fetched.sid == created.sid and fetched._from == "+14155550000"
    since = datetime.now(UTC) - timedelta(minutes=1)
    listed = client.calls.list(to="+14155230041", start_time_after=since)
    assert [call.sid for call in listed] == [created.sid]
    assert client.calls.list(to="+14155230099") == []
    ended = client.calls(created.sid).update(status="completed")
    assert ended.sid == created.sid
    assert fake_twilio.ledger[0]["to"] == "+14155230041"
    fake_twilio.answer_after = 1.0


def test_errors_come_back_as_twilio_rest_exceptions(fake_twilio: FakeTwilio) -> None:
    fake_twilio.reset()
    with pytest.raises(TwilioRestException) as refused:
        client_for(fake_twilio, "wrong-token").calls.create(
            to="+14155230000", from_="+14155550000", url="http://127.0.0.1:9/twiml"
        )
    assert refused.value.status == 401 and refused.value.code == 20003
    with pytest.raises(TwilioRestException) as geo:
        client_for(fake_twilio).calls.create(
            to="+14155230045", from_="+14155550000", url="http://127.0.0.1:9/twiml"
        )
    assert geo.value.status == 400 and geo.value.code == 21215
    fake_twilio.create_faults = ["429"]
    with pytest.raises(TwilioRestException) as limited:
        client_for(fake_twilio).calls.create(
            to="+14155230000", from_="+14155550000", url="http://127.0.0.1:9/twiml"
        )
    assert limited.value.status == 429 and limited.value.code == 20429
    with pytest.raises(TwilioRestException) as missing:
        client_for(fake_twilio).calls("CA" + "0" * 32).fetch()
    assert missing.value.status == 404 and missing.value.code == 20404


def test_signatures_pass_the_official_validator() -> None:
    url = "https://openrevox.example/telephony/twilio/status/a1?token=t0k"
    params = {"CallSid": "CA123", "CallStatus": "ringing", "SequenceNumber": "1"}
    signed = wire.signature("secret-token", url, params)
    validator = RequestValidator("secret-token")
    assert validator.validate(url, params, signed)
    assert not validator.validate(url, {**params, "CallStatus": "completed"}, signed)
    assert not RequestValidator("other-token").validate(url, params, signed)


def test_stream_messages_match_twilios_documented_examples() -> None:
    # https://www.twilio.com/docs/voice/media-streams/websocket-messages
    assert wire.connected() == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start = wire.start(1, "MZ1", "AC1", "CA1", {"token": "t"})
    assert set(start) == {"event", "sequenceNumber", "start", "streamSid"}
    assert set(start["start"]) == {
        "accountSid",
        "streamSid",
        "callSid",
        "tracks",
        "mediaFormat",
        "customParameters",
    }
    assert start["start"]["mediaFormat"] == {
        "encoding": "audio/x-mulaw",
        "sampleRate": 8000,
        "channels": 1,
    }
    media = json.loads(wire.media(3, "MZ1", 1, 20, b"\xff" * 160))
    assert media["media"]["track"] == "inbound" and media["sequenceNumber"] == "3"
    assert set(media["media"]) == {"track", "chunk", "timestamp", "payload"}
    assert wire.dtmf(5, "MZ1", "1")["dtmf"] == {"track": "inbound_track", "digit": "1"}
    assert wire.stop(6, "MZ1", "AC1", "CA1")["stop"] == {"accountSid": "AC1", "callSid": "CA1"}
    assert wire.mark(4, "MZ1", "m")["mark"] == {"name": "m"}
