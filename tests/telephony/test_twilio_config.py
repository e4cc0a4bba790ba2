"""Twilio's settings are checked when the server is built, each message naming the
variable to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from openrevox.api.app import create_app
from openrevox.settings import Settings
from openrevox.telephony.twilio.config import TwilioConfig, TwilioConfigError

SID = "AC" + "0" * 32


def test_an_unknown_telephony_provider_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENREVOX_TELEPHONY", "sim,twillio")
    with pytest.raises(ValueError, match="OPENREVOX_TELEPHONY is a comma list of sim, twilio"):
        Settings.from_env()
    monkeypatch.setenv("OPENREVOX_TELEPHONY", " Sim , twilio ")
    settings = Settings.from_env()
    assert settings.telephony_provider == "sim,twilio" and settings.carriers == ("twilio",)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"account_sid": "ACnope"}, "OPENREVOX_TWILIO_ACCOUNT_SID"),
        ({"auth_token": ""}, "OPENREVOX_TWILIO_AUTH_TOKEN is required"),
        ({"api_key_sid": "SK" + "1" * 32}, "go together"),
        ({"api_key_sid": "XX", "api_key_secret": "s"}, "OPENREVOX_TWILIO_API_KEY_SID must"),
        ({"public_url": "localhost:8000"}, "OPENREVOX_PUBLIC_URL"),
        ({"api_base_url": "ftp://x"}, "OPENREVOX_TWILIO_API_BASE_URL"),
        ({"calls_per_second": 0}, "OPENREVOX_TWILIO_CALLS_PER_SECOND"),
        ({"ring_timeout_seconds": 2}, "OPENREVOX_TWILIO_RING_TIMEOUT_SECONDS"),
    ],
)
def test_each_bad_setting_is_named(changes: dict[str, object], variable: str) -> None:
    values: dict[str, object] = {
        "account_sid": SID,
        "auth_token": "token",
        "public_url": "https://openrevox.example",
        **changes,
    }
    with pytest.raises(TwilioConfigError, match=variable):
        TwilioConfig(**values)  # type: ignore[arg-type]


def test_the_websocket_base_follows_the_public_url() -> None:
    secure = TwilioConfig(account_sid=SID, auth_token="t", public_url="https://a.example")
    assert secure.websocket_url == "wss://a.example"
    plain = TwilioConfig(account_sid=SID, auth_token="t", public_url="http://127.0.0.1:8000")
    assert plain.websocket_url == "ws://127.0.0.1:8000"


def test_a_server_with_twilio_but_no_credentials_does_not_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, telephony_provider="sim,twilio")
    with pytest.raises(TwilioConfigError, match="OPENREVOX_TWILIO_ACCOUNT_SID"):
        create_app(settings, migrate=False)
