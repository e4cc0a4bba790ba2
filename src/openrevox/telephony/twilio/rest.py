"""Twilio's Calls REST API through the official ``twilio`` client, pointed at
``OPENREVOX_TWILIO_API_BASE_URL`` (Twilio's own by default; a fake in tests)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from openrevox.telephony.twilio.config import TwilioConfig

__all__ = ["CallInfo", "TwilioRest", "TwilioRestException", "Unclear"]


class Unclear(Exception):
    """Twilio's answer to a request that may have changed something is unknown (a
    timeout, a dropped connection, a 5xx): look before doing it again."""


@dataclass(frozen=True, slots=True)
class CallInfo:
    sid: str
    status: str
    to: str
    from_: str
    start_time: datetime | None
    date_created: datetime | None


def _info(call: Any) -> CallInfo:
    return CallInfo(
        sid=str(call.sid),
        status=str(call.status),
        to=str(call.to),
        from_=str(call._from),
        start_time=call.start_time,
        date_created=call.date_created,
    )


class TwilioRest:
    def __init__(self, config: TwilioConfig) -> None:
        self._config = config
        self._http: AsyncTwilioHttpClient | None = None
        self._made: Client | None = None

    @property
    def _client(self) -> Client:
        """Made on first use: its HTTP session belongs to the running event loop."""
        if self._made is None:
            config = self._config
            self._http = AsyncTwilioHttpClient(timeout=config.request_timeout_seconds)
            if config.api_key_sid is not None:
                client = Client(
                    config.api_key_sid,
                    config.api_key_secret,
                    config.account_sid,
                    http_client=self._http,
                )
            else:
                client = Client(config.account_sid, config.auth_token, http_client=self._http)
            # Every request goes to ``{base_url}/2010-04-01/...`` (twilio.base.domain).
            client.api.base_url = config.api_base_url.rstrip("/")
            self._made = client
        return self._made

    async def create_call(self, **params: Any) -> CallInfo:
        """POST /Calls. Raises ``TwilioRestException`` when Twilio refused (4xx, 429),
        ``Unclear`` when the call may or may not exist (5xx, timeout, network)."""
        try:
            # The async client ignores its own timeout (twilio 9.x): ours bounds the wait.
            async with asyncio.timeout(self._config.request_timeout_seconds):
                call = await self._client.calls.create_async(**params)
        except TwilioRestException as error:
            if error.status >= 500:
                raise Unclear(f"Twilio answered {error.status}: {error.msg}") from error
            raise
        except (TimeoutError, OSError) as error:
            raise Unclear(f"no answer from Twilio: {error!r}") from error
        except Exception as error:  # aiohttp's client errors
            if type(error).__module__.startswith("aiohttp"):
                raise Unclear(f"no answer from Twilio: {error!r}") from error
            raise
        return _info(call)

    async def fetch(self, sid: str) -> CallInfo:
        async with asyncio.timeout(self._config.request_timeout_seconds):
            return _info(await self._client.calls(sid).fetch_async())

    async def find(self, *, to: str, from_: str, since: datetime) -> list[CallInfo]:
        """Calls to ``to`` from ``from_`` started at or after ``since`` (newest first)."""
        async with asyncio.timeout(self._config.request_timeout_seconds):
            calls = await self._client.calls.list_async(
                to=to, from_=from_, start_time_after=since, limit=20
            )
        return [_info(call) for call in calls]

    async def number_kind(self, number: str) -> str | None:
        """``owned_number`` for one of the account's incoming numbers,
        ``verified_caller_id`` for a verified caller ID, None when it is neither."""
        async with asyncio.timeout(self._config.request_timeout_seconds):
            owned = await self._client.incoming_phone_numbers.list_async(
                phone_number=number, limit=1
            )
            if owned:
                return "owned_number"
            verified = await self._client.outgoing_caller_ids.list_async(
                phone_number=number, limit=1
            )
        return "verified_caller_id" if verified else None

    async def hang_up(self, sid: str) -> None:
        """End the call whatever its state (``Status=completed``; a call still ringing
        is ``canceled`` by Twilio)."""
        async with asyncio.timeout(self._config.request_timeout_seconds):
            await self._client.calls(sid).update_async(status="completed")

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
