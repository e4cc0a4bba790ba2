"""Caller IDs from the Twilio account: ``POST /phone-numbers/import`` checks the number
against the account's incoming numbers and verified caller IDs (the fake Twilio's, read
through the official ``twilio`` client); the first becomes the live default caller ID."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import revox

from tests.agent.fake_openai import FakeOpenAI
from tests.conftest import LiveServer, make_settings
from tests.dispatch.test_sandbox_numbers import wait_until_done
from tests.telephony.conftest import twilio_settings_changes
from tests.telephony.fake_twilio import FakeTwilio
from tests.telephony.test_twilio_outbound import assistant, real_number
from tests.test_cli import Cli, _env


def new_number() -> str:
    return f"+16285{uuid.uuid4().int % 10**6:06d}"


def import_number(server: LiveServer, key: str, number: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/phone-numbers/import",
        json={"phone_number": number, **body},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_an_owned_number_and_a_verified_caller_id_are_imported(
    twilio_engine: LiveServer, fake_twilio: FakeTwilio
) -> None:
    org = twilio_engine.new_org()
    owned, verified = new_number(), new_number()
    fake_twilio.incoming_numbers.add(owned)
    fake_twilio.verified_caller_ids.add(verified)
    first = import_number(twilio_engine, org.live_key, owned, label="main line")
    assert first.status_code == 200, first.text
    number = first.json()["phone_number"]
    assert (number["phone_number"], number["provider"], number["source"], number["type"]) == (
        owned,
        "twilio",
        "user_imported",
        "owned_number",
    )
    assert number["label"] == "main line"
    second = import_number(twilio_engine, org.live_key, verified)
    assert second.json()["phone_number"]["type"] == "verified_caller_id"
    again = import_number(twilio_engine, org.live_key, owned)
    assert again.status_code == 409 and again.json()["error"]["param"] == "phone_number"
    # The first imported number is the live default caller ID: a call with no
    # from_phone_number is placed from it.
    fake_twilio.reset()
    created = httpx.post(
        f"{twilio_engine.url}/api/call",
        json={
            "phone_number": real_number("40"),
            "assistant": assistant(),
            "prompt_variables": {"first_name": "Alex"},
        },
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert created.status_code == 200, created.text
    client = revox.Revox(api_key=org.live_key, base_url=f"{twilio_engine.url}/api", max_retries=0)
    done = wait_until_done(client, created.json()["call"]["id"], timeout=30)
    assert done.call_attempts[0].dial_error == "busy"
    assert fake_twilio.ledger[0]["from"] == owned


def test_a_number_not_on_the_account_is_refused(
    twilio_engine: LiveServer, fake_twilio: FakeTwilio
) -> None:
    org = twilio_engine.new_org()
    refused = import_number(twilio_engine, org.live_key, new_number())
    assert refused.status_code == 422
    assert refused.json()["error"]["param"] == "phone_number"
    assert "twilio account" in refused.json()["error"]["message"]
    sandbox = import_number(twilio_engine, org.live_key, "+14155550150")
    assert sandbox.status_code == 422 and "sandbox" in sandbox.json()["error"]["message"]
    unknown = import_number(twilio_engine, org.live_key, new_number(), provider="telnyx")
    assert unknown.status_code == 422 and unknown.json()["error"]["param"] == "provider"
    test_key = import_number(twilio_engine, org.test_key, new_number())
    assert test_key.status_code == 422 and test_key.json()["error"]["param"] == "provider"


def test_a_live_call_from_a_sandbox_line_is_refused_on_from_phone_number(
    twilio_engine: LiveServer,
) -> None:
    org = twilio_engine.new_org()  # only its sandbox lines: no Twilio number
    created = httpx.post(
        f"{twilio_engine.url}/api/call",
        json={
            "phone_number": real_number("00"),
            "assistant": assistant(),
            "prompt_variables": {"first_name": "Alex"},
        },
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert created.status_code == 422
    assert created.json()["error"]["param"] == "from_phone_number"


def test_a_carrier_call_with_the_local_speech_kit_is_refused_unless_allowed(
    twilio_database_urls: dict[str, str],
    fake_twilio: FakeTwilio,
    fake_openai: FakeOpenAI,
    tmp_path: Path,
) -> None:
    settings = make_settings(
        twilio_database_urls["sqlite"],
        tmp_path,
        **{**twilio_settings_changes(fake_twilio, fake_openai), "local_speech": "refuse"},
    )
    server = LiveServer(settings, public=True).start()
    try:
        org = server.new_org()
        number = new_number()
        fake_twilio.incoming_numbers.add(number)
        assert import_number(server, org.live_key, number).status_code == 200
        body = {
            "phone_number": real_number("00"),
            "assistant": assistant(voice={"provider": "cartesia", "id": "voice-1"}),
            "prompt_variables": {"first_name": "Alex"},
        }
        headers = {"Authorization": f"Bearer {org.live_key}"}
        refused = httpx.post(f"{server.url}/api/call", json=body, headers=headers)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["param"] == "phone_number"
        assert "OPENREVOX_CARTESIA_API_KEY" in error["message"]
        assert "OPENREVOX_SONIOX_API_KEY" in error["message"]
        assert "OPENREVOX_LOCAL_SPEECH=allow" in error["message"]
        simulated = httpx.post(
            f"{server.url}/api/call",
            json={**body, "phone_number": "+14155550100"},  # a sandbox number: simulated
            headers={"Authorization": f"Bearer {org.test_key}"},
        )
        assert simulated.status_code == 200, simulated.text
    finally:
        server.stop()


def test_openrevox_numbers_import_registers_a_twilio_number(
    fake_twilio: FakeTwilio, tmp_path: Path
) -> None:
    cli = Cli(
        _env(
            f"sqlite:///{tmp_path / 'cli.db'}",
            tmp_path,
            OPENREVOX_TELEPHONY="sim,twilio",
            OPENREVOX_TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
            OPENREVOX_TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
            OPENREVOX_TWILIO_API_BASE_URL=fake_twilio.url,
            OPENREVOX_PUBLIC_URL="https://openrevox.example",
        )
    )
    cli.run("migrate")
    cli.run("orgs", "create", "Acme", "--email", f"{uuid.uuid4().hex}@example.test")
    owned, stranger = new_number(), new_number()
    fake_twilio.incoming_numbers.add(owned)
    imported = cli.run("numbers", "import", owned, "--label", "main")
    assert f"{owned}  twilio owned_number (the default caller ID)" in imported.stdout
    refused = cli.run("numbers", "import", stranger, expect=1)
    assert "neither a phone number of your twilio account" in refused.stderr
