"""Twilio's wire formats as the fake writes them: the Call resource, error bodies,
request signatures and the Media Streams messages (written here from Twilio's docs,
not with the ``twilio`` package, so that the package can check them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(at: datetime | None) -> str | None:
    return format_datetime(at) if at is not None else None


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: HMAC-SHA1 of the URL followed by each POST parameter's name
    and value, sorted by name, in base64."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def connected() -> dict[str, Any]:
    return {"event": "connected", "protocol": "Call", "version": "1.0.0"}


def start(
    sequence: int, stream_sid: str, account_sid: str, call_sid: str, parameters: dict[str, str]
) -> dict[str, Any]:
    return {
        "event": "start",
        "sequenceNumber": str(sequence),
        "start": {
            "accountSid": account_sid,
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": parameters,
        },
        "streamSid": stream_sid,
    }


def media(sequence: int, stream_sid: str, chunk: int, timestamp_ms: int, frame: bytes) -> str:
    # Written by hand: ~50 of these a second per call.
    payload = base64.b64encode(frame).decode()
    return (
        f'{{"event":"media","sequenceNumber":"{sequence}","media":{{"track":"inbound",'
        f'"chunk":"{chunk}","timestamp":"{timestamp_ms}","payload":"{payload}"}},'
        f'"streamSid":"{stream_sid}"}}'
    )


def mark(sequence: int, stream_sid: str, name: str) -> dict[str, Any]:
    return {
        "event": "mark",
        "sequenceNumber": str(sequence),
        "streamSid": stream_sid,
        "mark": {"name": name},
    }


def dtmf(sequence: int, stream_sid: str, digit: str) -> dict[str, Any]:
    return {
        "event": "dtmf",
        "streamSid": stream_sid,
        "sequenceNumber": str(sequence),
        "dtmf": {"track": "inbound_track", "digit": digit},
    }


def stop(sequence: int, stream_sid: str, account_sid: str, call_sid: str) -> dict[str, Any]:
    return {
        "event": "stop",
        "sequenceNumber": str(sequence),
        "streamSid": stream_sid,
        "stop": {"accountSid": account_sid, "callSid": call_sid},
    }
