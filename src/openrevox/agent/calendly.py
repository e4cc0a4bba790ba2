"""Calendly API v2, the two calls a booking needs: the event type's available times
(``GET /event_type_available_times``) and the booking (``POST /invitees``, Calendly's
Scheduling API), and the seam through which an agent finds the client of a call's
``calendly.connection_id``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx


class CalendlyError(Exception):
    pass


class CalendlyConnections(Protocol):
    """The Calendly client of an organization's connection, resolved when a call needs it."""

    async def client_for(self, organization_id: str, connection_id: str) -> Calendly | None:
        """None when the organization has no such connection; raises ``CalendlyError``
        when it has one that cannot be used (its token cannot be decrypted)."""
        ...


def spoken_time(start_time: str, timezone: str) -> str:
    """A Calendly start time (UTC, ISO 8601) as said to the invitee, in their timezone:
    ``Tuesday, December 8 at 9:00 AM``."""
    moment = datetime.fromisoformat(start_time.replace("Z", "+00:00")).astimezone(
        ZoneInfo(timezone)
    )
    hour = moment.strftime("%I:%M %p").lstrip("0")
    return f"{moment:%A}, {moment:%B} {moment.day} at {hour}"


@dataclass(frozen=True, slots=True)
class Calendly:
    base_url: str
    token: str
    timeout: float = 10.0

    def event_type_uri(self, event_type_id: str) -> str:
        """The contract's ``event_type_id`` is either the URI or its last segment."""
        if event_type_id.startswith("http"):
            return event_type_id
        return f"https://api.calendly.com/event_types/{event_type_id}"

    async def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}"}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout, trust_env=False
            ) as client:
                response = await client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise CalendlyError(f"Calendly unreachable: {type(error).__name__}") from error
        if response.status_code >= 400:
            try:
                body = response.json()
                message = body.get("message") or body.get("title") or response.text
            except ValueError:
                message = response.text
            raise CalendlyError(f"Calendly answered {response.status_code}: {message}"[:300])
        data = response.json()
        return data if isinstance(data, dict) else {}

    async def available_times(
        self, event_type_id: str, start: datetime, days: int = 7
    ) -> list[str]:
        """Start times (ISO 8601, UTC) still open within ``days`` (Calendly allows 7)."""
        end = start + timedelta(days=min(days, 7))
        data = await self._send(
            "GET",
            "/event_type_available_times",
            params={
                "event_type": self.event_type_uri(event_type_id),
                "start_time": start.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "end_time": end.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            },
        )
        return [
            str(slot["start_time"])
            for slot in data.get("collection") or []
            if slot.get("status") == "available" and slot.get("start_time")
        ]

    def invitee_request(
        self, event_type_id: str, *, start_time: str, name: str, email: str, timezone: str,
        phone: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The body of ``POST /invitees``: the invitee books in their own timezone."""
        invitee: dict[str, Any] = {"name": name, "email": email, "timezone": timezone}
        if phone:
            invitee["text_reminder_number"] = phone
        return {
            "event_type": self.event_type_uri(event_type_id),
            "start_time": start_time,
            "invitee": invitee,
        }

    async def book(
        self, event_type_id: str, *, start_time: str, name: str, email: str, timezone: str,
        phone: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Book the invitee; Calendly sends the invitation. Returns the invitee resource."""
        body = self.invitee_request(
            event_type_id, start_time=start_time, name=name, email=email, timezone=timezone,
            phone=phone,
        )  # fmt: skip
        data = await self._send("POST", "/invitees", json=body)
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise CalendlyError("Calendly's answer has no invitee resource")
        return resource
