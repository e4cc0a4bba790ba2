"""Dialling through Twilio, end to end with the official SDKs against the fake Twilio:
its statuses, SIP and REST codes become the contract's dial errors and the retry policy
applies; unclear creates (a timeout, a 500) are looked up before any new dial, a 429 is
retried without using up an attempt; callbacks that are forged, duplicated, reordered or
lost never move an attempt backwards or leave it ringing. No audio: nobody answers."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import LiveServer
from tests.dispatch.test_sandbox_numbers import wait_until_done
from tests.telephony.conftest import TwilioOrg
from tests.telephony.fake_twilio import FakeTwilio, wire
from tests.telephony.test_twilio_outbound import assistant, real_number


def openrevox_of(attempt: Any) -> dict[str, Any]:
    extra = attempt.model_extra or {}
    return extra.get("openrevox") or {}


def dial(line: TwilioOrg, code: str, attempts: int = 1) -> Any:
    created = line.client.call.create(
        phone_number=real_number(code),
        assistant=assistant(attempts),  # type: ignore[arg-type]
        prompt_variables={"first_name": "Alex"},
    )
    return wait_until_done(line.client, created.call.id, timeout=60)


def created_calls(fake: FakeTwilio) -> list[dict[str, Any]]:
    return [row for row in fake.ledger if row["created"]]


@pytest.mark.parametrize(
    ("code", "dial_error", "attempts_made", "sip"),
    [
        ("40", "busy", 2, 486),
        ("41", "no_answer", 2, 487),
        ("42", "number_non_attributed", 1, 404),
        ("43", "temporarily_unavailable", 2, 480),
    ],
)
def test_unanswered_calls_become_dial_errors_and_follow_the_retry_policy(
    twilio_org: TwilioOrg,
    fake_twilio: FakeTwilio,
    code: str,
    dial_error: str,
    attempts_made: int,
    sip: int,
) -> None:
    done = dial(twilio_org, code, attempts=2)
    assert [a.dial_error for a in done.call_attempts] == [dial_error] * attempts_made
    assert len(created_calls(fake_twilio)) == attempts_made
    facts = openrevox_of(done.call_attempts[0])["twilio"]
    assert facts["sip_response_code"] == sip
    assert facts["call_sid"] in fake_twilio.calls


def test_a_refused_create_is_a_dial_error_with_twilios_code(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio
) -> None:
    done = dial(twilio_org, "45", attempts=3)
    (attempt,) = done.call_attempts  # no_international_permission stops the order
    assert attempt.dial_error == "no_international_permission"
    assert openrevox_of(attempt)["twilio"]["rest_code"] == 21215
    assert created_calls(fake_twilio) == []


@pytest.mark.parametrize("fault", ["timeout", "500-created"])
def test_an_unclear_create_is_looked_up_not_dialled_again(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio, fault: str
) -> None:
    fake_twilio.create_faults = [fault]
    done = dial(twilio_org, "40")
    (attempt,) = done.call_attempts
    assert attempt.dial_error == "busy"
    assert len(fake_twilio.ledger) == 1  # one POST /Calls
    (made,) = created_calls(fake_twilio)
    assert openrevox_of(attempt)["twilio"]["call_sid"] == made["sid"]
    assert openrevox_of(attempt)["twilio"]["unclear_creates"] == 1


@pytest.mark.parametrize("fault", ["429", "500"])
def test_a_create_refused_for_now_is_retried_without_using_an_attempt(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio, fault: str
) -> None:
    fake_twilio.create_faults = [fault, fault]
    done = dial(twilio_org, "40")
    (attempt,) = done.call_attempts
    assert attempt.dial_error == "busy"
    assert [row["fault"] for row in fake_twilio.ledger] == [fault, fault, None]
    assert len(created_calls(fake_twilio)) == 1


def test_duplicated_and_reordered_callbacks_never_move_an_attempt_backwards(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.duplicate_callbacks = {"completed", "initiated"}
    fake_twilio.reorder_callbacks = True  # "ringing" arrives after "completed"
    done = dial(twilio_org, "41")
    (attempt,) = done.call_attempts
    assert attempt.dial_error == "no_answer"
    facts = openrevox_of(attempt)["twilio"]
    # The attempt ended on the first "no-answer": the repeat initiated changed nothing.
    assert facts["callbacks"][:3] == ["0:initiated", "0:initiated", "2:no-answer"]
    assert facts["call_status"] == "no-answer"
    sent = [c["CallStatus"] for c in next(iter(fake_twilio.calls.values())).callbacks]
    assert sent == ["initiated", "ringing", "no-answer"]  # "ringing" held, sent last
    time.sleep(1.0)  # the repeat "no-answer" and the late "ringing" came after the end
    again = twilio_org.client.call.retrieve(done.id).call
    assert again.status == done.status and again.call_attempts[0].status == attempt.status
    assert again.call_attempts[0].dial_error == "no_answer"
    assert again.call_attempts[0].started_at == attempt.started_at


def test_a_call_whose_callbacks_are_lost_is_reconciled_by_asking_twilio(
    twilio_org: TwilioOrg, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.drop_callbacks = {"initiated", "ringing", "completed"}
    done = dial(twilio_org, "40")
    (attempt,) = done.call_attempts
    assert attempt.dial_error == "busy"
    facts = openrevox_of(attempt)["twilio"]
    assert facts["reconciled"] is True and "callbacks" not in facts
    fetches = [r for r in fake_twilio.requests if r.method == "GET" and "/Calls/CA" in r.path]
    assert len(fetches) == 1


def test_forged_callbacks_are_refused(twilio_engine: LiveServer) -> None:
    url = f"{twilio_engine.url}/telephony/twilio/status/some-attempt?token=guess"
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed", "SequenceNumber": "9"}
    unsigned = httpx.post(url, data=form)
    assert unsigned.status_code == 403
    forged = wire.signature("not-the-auth-token", url, form)
    refused = httpx.post(url, data=form, headers={"X-Twilio-Signature": forged})
    assert refused.status_code == 403
    twiml = f"{twilio_engine.url}/telephony/twilio/twiml/some-attempt?token=guess"
    assert httpx.post(twiml, data=form).status_code == 403


def test_a_signed_callback_for_an_unknown_attempt_changes_nothing(
    twilio_engine: LiveServer, fake_twilio: FakeTwilio
) -> None:
    url = f"{twilio_engine.url}/telephony/twilio/twiml/some-attempt?token=guess"
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "in-progress"}
    signed = wire.signature(fake_twilio.auth_token, url, form)
    reply = httpx.post(url, data=form, headers={"X-Twilio-Signature": signed})
    assert reply.status_code == 200 and "<Hangup" in reply.text  # never a stream


async def test_a_stream_without_the_attempts_token_is_refused(
    twilio_engine: LiveServer, fake_twilio: FakeTwilio
) -> None:
    url = twilio_engine.url.replace("http://", "ws://") + "/telephony/twilio/media"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps(wire.connected()))
        start = wire.start(1, "MZ1", fake_twilio.account_sid, "CA1", {"attempt": "a"})
        await ws.send(json.dumps(start))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
