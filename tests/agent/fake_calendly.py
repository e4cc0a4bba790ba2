"""A stand-in for Calendly's API v2 (the scheduling API): available times of an event
type and the booking of an invitee, in Calendly's wire format over real HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.voices.fake_server import FakeProvider

EVENT_TYPE = "https://api.calendly.com/event_types/b2330295-2a91-4a1d-bb73-99e7707663d5"


def _error(status: int, title: str, message: str) -> JSONResponse:
    return JSONResponse({"title": title, "message": message}, status_code=status)


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class FakeCalendly(FakeProvider):
    """Accepts ``api_key`` and any token added to ``tokens`` (one per Calendly account)."""

    api_key = "calendly-pat-0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = {self.api_key}

    def reset(self) -> None:
        super().reset()
        self.tokens = {self.api_key}

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme == "Bearer" and token in self.tokens

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/event_type_available_times", self._times, methods=["GET"]),
                Route("/invitees", self._book, methods=["POST"]),
            ]
        )

    def _slots(self) -> list[str]:
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        return [
            (start + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            for hour in (0, 1, 3)
        ]

    async def _times(self, request: Request) -> Response:
        recorded = await self.record(request)
        if not self._authorized(recorded.headers):
            return _error(401, "Unauthenticated", "The access token is invalid")
        if recorded.query.get("event_type") != EVENT_TYPE:
            return _error(404, "Resource Not Found", "The event type was not found")
        collection = [
            {"status": "available", "invitees_remaining": 1, "start_time": slot,
             "scheduling_url": "https://calendly.com/acme/30min"}
            for slot in self._slots()
        ]  # fmt: skip
        return JSONResponse({"collection": collection})

    async def _book(self, request: Request) -> Response:
        recorded = await self.record(request)
        if not self._authorized(recorded.headers):
            return _error(401, "Unauthenticated", "The access token is invalid")
        body: dict[str, Any] = recorded.json()
        invitee = body.get("invitee") or {}
        if body.get("event_type") != EVENT_TYPE:
            return _error(404, "Resource Not Found", "The event type was not found")
        if not invitee.get("email") or not invitee.get("timezone"):
            return _error(400, "Invalid Argument", "invitee.email and timezone are required")
        if not _known_zone(str(invitee["timezone"])):
            return _error(400, "Invalid Argument", "invitee.timezone is not a valid time zone")
        if body.get("start_time") not in self._slots():
            return _error(400, "Invalid Argument", "The selected time is no longer available")
        event = f"https://api.calendly.com/scheduled_events/{uuid.uuid4()}"
        resource = {
            "uri": f"{event}/invitees/{uuid.uuid4()}",
            "email": invitee["email"],
            "name": invitee.get("name"),
            "status": "active",
            "timezone": invitee["timezone"],
            "event": event,
            "created_at": datetime.now(UTC).isoformat(),
        }
        return JSONResponse({"resource": resource}, status_code=201)
