"""Twilio's settings, checked when the server starts (``OPENREVOX_TWILIO_*``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

TWILIO_API = "https://api.twilio.com"
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_API_KEY_SID = re.compile(r"^SK[0-9a-fA-F]{32}$")


class TwilioConfigError(ValueError):
    """A Twilio setting is missing or malformed (the message names the variable)."""


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    account_sid: str
    # Always required: Twilio signs callbacks with it even when REST uses an API key.
    auth_token: str
    public_url: str
    api_key_sid: str | None = None
    api_key_secret: str | None = None
    api_base_url: str = TWILIO_API
    calls_per_second: float = 1.0
    ring_timeout_seconds: int = 30  # Twilio's ``Timeout``: how long the phone rings
    # How long past the ring timeout a call may stay silent before we ask Twilio.
    callback_grace_seconds: float = 15.0
    request_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        for message in config_errors(self):
            raise TwilioConfigError(message)

    @property
    def websocket_url(self) -> str:
        """The public base for the media websocket (ws:// or wss://)."""
        scheme, rest = self.public_url.split("://", 1)
        return ("wss://" if scheme == "https" else "ws://") + rest


def config_errors(config: TwilioConfig) -> list[str]:
    errors: list[str] = []
    if not _ACCOUNT_SID.match(config.account_sid or ""):
        errors.append(
            "OPENREVOX_TWILIO_ACCOUNT_SID must be your Twilio account SID "
            "(AC followed by 32 hex digits)"
        )
    if not config.auth_token:
        errors.append(
            "OPENREVOX_TWILIO_AUTH_TOKEN is required: Twilio signs its callbacks and "
            "media streams with it, even when an API key pair is used for REST"
        )
    if (config.api_key_sid is None) != (config.api_key_secret is None):
        errors.append(
            "OPENREVOX_TWILIO_API_KEY_SID and OPENREVOX_TWILIO_API_KEY_SECRET go together: "
            "set both or neither"
        )
    elif config.api_key_sid is not None and not _API_KEY_SID.match(config.api_key_sid):
        errors.append("OPENREVOX_TWILIO_API_KEY_SID must be an API key SID (SK + 32 hex digits)")
    for name, url in (
        ("OPENREVOX_PUBLIC_URL", config.public_url),
        ("OPENREVOX_TWILIO_API_BASE_URL", config.api_base_url),
    ):
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(f"{name} must be an http(s) URL, not {url!r}")
    if not 5 <= config.ring_timeout_seconds <= 600:
        errors.append("OPENREVOX_TWILIO_RING_TIMEOUT_SECONDS must be 5 to 600 (Twilio's range)")
    if not config.calls_per_second > 0:
        errors.append("OPENREVOX_TWILIO_CALLS_PER_SECOND must be a positive number")
    return errors
