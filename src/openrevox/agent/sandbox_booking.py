"""The sandbox agent books a meeting through Calendly, for real: the assistant's
``calendly.connection_id`` is resolved to the organization's connection, the event type's
open times are read (``GET /event_type_available_times``), the callee gives a name and an
email, and ``POST /invitees`` books the first open time in the callee's timezone.

Each Calendly request is a ``tool`` transcript entry carrying the request and what
Calendly answered (``tool_is_error`` when it refused or could not be reached). With no
usable connection, the agent offers no booking and claims none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openrevox.agent.calendly import Calendly, CalendlyConnections, CalendlyError, spoken_time
from openrevox.telephony.base import CallRequest

RecordTool = Callable[[str, dict[str, Any], str, bool], None]
NO_BOOKING = "I can't book meetings myself, but a colleague will follow up with you."
# What the agent asks for, as structured-output fields (the same extraction rules).
DETAILS: dict[str, dict[str, Any]] = {
    "name": {"name": "full_name", "type": "string", "description": "full name"},
    "email": {"name": "email", "type": "string", "description": "email address"},
}


@dataclass(slots=True)
class _Slot:
    calendly: Calendly
    start_time: str
    name: str | None = None
    email: str | None = None


class SandboxBooking:
    """One call's booking, from the offer to ``POST /invitees``."""

    def __init__(
        self, request: CallRequest, connections: CalendlyConnections | None, tool: RecordTool
    ) -> None:
        self.request = request
        self.config: dict[str, Any] = dict(request.assistant.get("calendly") or {})
        self.connections = connections
        self.tool = tool
        self.slot: _Slot | None = None

    @property
    def event_type_id(self) -> str:
        return str(self.config.get("event_type_id") or "")

    async def _client(self) -> Calendly | None:
        connection_id = str(self.config.get("connection_id") or "")
        if self.connections is None or not connection_id or not self.event_type_id:
            return None
        try:
            return await self.connections.client_for(self.request.organization_id, connection_id)
        except CalendlyError as error:  # the connection exists but cannot be used
            self.tool("check_availability", {"connection_id": connection_id}, str(error), True)
            return None

    async def offer(self, known: dict[str, Any]) -> str:
        """What to say when the callee asks for a meeting: an open time (then the
        details are asked for), or why no booking can be made."""
        calendly = await self._client()
        if calendly is None:
            return NO_BOOKING
        arguments = {"event_type": calendly.event_type_uri(self.event_type_id)}
        try:
            times = await calendly.available_times(self.event_type_id, datetime.now(UTC))
        except CalendlyError as error:
            self.tool("check_availability", arguments, str(error), True)
            return "I can't reach our calendar right now; a colleague will follow up to book it."
        self.tool("check_availability", arguments, "open times: " + (", ".join(times) or "none"),
                  False)  # fmt: skip
        if not times:
            return "There is no open time this week; a colleague will follow up to book one."
        self.slot = _Slot(calendly, times[0], known.get("name"), known.get("email"))
        return f"I can book you on {spoken_time(times[0], self.request.timezone)}, your time."

    def missing(self) -> str | None:
        """The detail to ask for next (``name``, ``email``), None when none is."""
        if self.slot is None:
            return None
        if not self.slot.name:
            return "name"
        return "email" if not self.slot.email else None

    def take(self, detail: str, value: Any) -> None:
        if self.slot is not None and isinstance(value, str) and value:
            setattr(self.slot, detail, value)

    async def book(self) -> tuple[str, bool]:
        """Book the open time: what to say, and whether the meeting was booked."""
        slot, self.slot = self.slot, None
        assert slot is not None and slot.name and slot.email
        request = slot.calendly.invitee_request(
            self.event_type_id, start_time=slot.start_time, name=slot.name, email=slot.email,
            timezone=self.request.timezone, phone=self.request.remote_number,
        )  # fmt: skip
        try:
            invitee = await slot.calendly.book(
                self.event_type_id, start_time=slot.start_time, name=slot.name,
                email=slot.email, timezone=self.request.timezone,
                phone=self.request.remote_number,
            )  # fmt: skip
        except CalendlyError as error:
            self.tool("book_meeting", request, str(error), True)
            return "I'm sorry, the booking did not go through; a colleague will follow up.", False
        output = (
            f"booked: invitee {invitee.get('uri')}, event {invitee.get('event')}, "
            f"status {invitee.get('status')}, timezone {invitee.get('timezone')}"
        )
        self.tool("book_meeting", request, output, False)
        when = spoken_time(slot.start_time, self.request.timezone)
        return f"You're booked on {when}; the invitation goes to {slot.email}.", True
