"""Calendly API v2, the two calls a booking needs: the event type's available times
(``GET /event_type_available_times``) and the booking (``POST /invitees``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx


class CalendlyError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Calendly:
    base_url: str
    token: str
    timeout: float = 10.0

    def _event_type_uri(self, event_type_id: str) -> str:
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
                "event_type": self._event_type_uri(event_type_id),
                "start_time": start.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                "end_time": end.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            },
        )
        return [
            str(slot["start_time"])
            for slot in data.get("collection") or []
            if slot.get("status") == "available" and slot.get("start_time")
        ]

    async def book(
        self, event_type_id: str, *, start_time: str, name: str, email: str, timezone: str,
        phone: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Book the invitee; Calendly sends the invitation. Returns the invitee resource."""
        invitee: dict[str, Any] = {"name": name, "email": email, "timezone": timezone}
        if phone:
            invitee["text_reminder_number"] = phone
        data = await self._send(
            "POST",
            "/invitees",
            json={
                "event_type": self._event_type_uri(event_type_id),
                "start_time": start_time,
                "invitee": invitee,
            },
        )
        resource = data.get("resource")
        if not isinstance(resource, dict):
            raise CalendlyError("Calendly's answer has no invitee resource")
        return resource
