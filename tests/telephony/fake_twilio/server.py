"""A fake Twilio: the Calls REST API (form-encoded requests, Twilio's JSON and error
bodies), the life of each call (status callbacks signed with X-Twilio-Signature, the
TwiML fetched from the call's ``Url``, a bidirectional Media Stream to the
``<Connect><Stream>`` websocket), and on the far side a sandbox persona speaking real
audio, chosen by the last two digits of the number dialled as SANDBOX.md's XX (busy,
no answer, a number that does not exist... map to Twilio's statuses and SIP codes).

It keeps a ledger of every ``POST /Calls`` it received, and has knobs for faults: refused
or unclear creates (429, 500, a reply slower than the client waits), duplicated,
reordered and dropped callbacks, a stream dropped mid-call.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from openrevox.telephony.sim import person
from tests.telephony.fake_twilio import wire
from tests.telephony.fake_twilio.far_side import FarSide
from tests.voices.fake_server import FakeProvider

log = logging.getLogger("tests.fake_twilio")

# XX -> (terminal CallStatus, SipResponseCode) of calls that are never answered.
UNANSWERED: dict[str, tuple[str, int]] = {
    "40": ("busy", 486),
    "41": ("no-answer", 487),
    "42": ("failed", 404),
    "43": ("failed", 480),
    "44": ("failed", 503),
    "46": ("failed", 412),
    "47": ("failed", 500),
}
# XX -> a refused POST /Calls (HTTP status, Twilio error code, message).
REFUSED: dict[str, tuple[int, int, str]] = {
    "45": (
        400,
        21215,
        "Account not authorized to call {to}. Perhaps you need to enable some "
        "international permissions: https://www.twilio.com/console/voice/calls/geo-permissions",
    ),
}
TERMINAL = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass
class FakeCall:
    sid: str
    account_sid: str
    to: str
    from_: str
    url: str
    method: str
    status_callback: str | None
    status_callback_method: str
    status_events: tuple[str, ...]
    timeout: int
    time_limit: int
    created: datetime
    code: str  # the persona XX
    status: str = "queued"
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_at: datetime | None = None
    sequence: int = 0
    callbacks: list[dict[str, str]] = field(default_factory=list)
    hang_up: asyncio.Event = field(default_factory=asyncio.Event)
    stream_parameters: dict[str, str] | None = None
    stream_end: str | None = None  # stop | dropped | closed_by_app
    heard_by_callee: list[str] = field(default_factory=list)
    frames_from_app: int = 0
    marks: list[str] = field(default_factory=list)
    clears: int = 0

    def resource(self) -> dict[str, Any]:
        duration = (
            str(int((self.end_time - self.answered_at).total_seconds()))
            if self.end_time and self.answered_at
            else ("0" if self.end_time else None)
        )
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": wire.API_VERSION,
            "caller_name": None,
            "date_created": wire.rfc2822(self.created),
            "date_updated": wire.rfc2822(self.end_time or self.start_time or self.created),
            "direction": "outbound-api",
            "duration": duration,
            "end_time": wire.rfc2822(self.end_time),
            "forwarded_from": None,
            "from": self.from_,
            "from_formatted": self.from_,
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": self.sid,
            "start_time": wire.rfc2822(self.start_time),
            "status": self.status,
            "subresource_uris": {
                "notifications": f"{uri}/Notifications.json",
                "recordings": f"{uri}/Recordings.json",
                "payments": f"{uri}/Payments.json",
                "events": f"{uri}/Events.json",
                "siprec": f"{uri}/Siprec.json",
                "streams": f"{uri}/Streams.json",
                "transcriptions": f"{uri}/Transcriptions.json",
                "user_defined_message_subscriptions": f"{uri}/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": f"{uri}/UserDefinedMessages.json",
            },
            "to": self.to,
            "to_formatted": self.to,
            "trunk_sid": None,
            "uri": f"{uri}.json",
        }


class FakeTwilio(FakeProvider):
    account_sid = "AC" + "0123456789abcdef" * 2
    api_key = "unused"
    auth_token = "fake-twilio-auth-token-0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, FakeCall] = {}
        self.ledger: list[dict[str, Any]] = []  # every POST /Calls, refused or not
        self.hints: tuple[str, ...] = ()  # what the far side's ear expects to hear
        self.answer_after = 1.0  # seconds of ringing before a person answers
        self.max_ring_seconds = 2.0  # a no-answer rings this long (Timeout, capped)
        self.hang_seconds = 3.0  # how long a "timeout" create takes to reply
        self.incoming_numbers: set[str] = set()  # the account's own numbers
        self.verified_caller_ids: set[str] = set()
        self.reset_knobs()
        self._tasks: set[asyncio.Task[None]] = set()

    def reset_knobs(self) -> None:
        # Each POST /Calls takes the next: "429", "500" (no call made), "500-created"
        # (the call is made, the reply is a 500), "timeout" (made, the reply comes late).
        self.create_faults: list[str] = []
        self.drop_callbacks: set[str] = set()  # status events never sent
        self.duplicate_callbacks: set[str] = set()  # status events sent twice
        self.reorder_callbacks = False  # "ringing" is held back until after the next one
        # The next stream's socket dies this many seconds in (no ``stop``); once.
        self.drop_stream_after: float | None = None
        self.send_dtmf: str | None = None  # digits the callee presses once connected

    def reset(self) -> None:
        super().reset()
        self.calls.clear()
        self.ledger.clear()
        self.incoming_numbers.clear()
        self.verified_caller_ids.clear()
        self.reset_knobs()

    def dials_to(self, number: str) -> list[dict[str, Any]]:
        return [row for row in self.ledger if row["to"] == number and row["created"]]

    def app(self) -> Starlette:
        base = "/2010-04-01/Accounts/{account}/Calls"
        account = "/2010-04-01/Accounts/{account}"
        return Starlette(
            routes=[
                Route(account + "/IncomingPhoneNumbers.json", self._incoming, methods=["GET"]),
                Route(account + "/OutgoingCallerIds.json", self._caller_ids, methods=["GET"]),
                Route(base + ".json", self._create, methods=["POST"]),
                Route(base + ".json", self._list, methods=["GET"]),
                Route(base + "/{sid}.json", self._fetch, methods=["GET"]),
                Route(base + "/{sid}.json", self._update, methods=["POST"]),
            ]
        )

    # -- REST --

    def _authorized(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if header != f"Basic {expected}":
            body = wire.error_body(401, 20003, "Authenticate")
            return JSONResponse(body, status_code=401)
        if request.path_params["account"] != self.account_sid:
            body = wire.error_body(404, 20404, "The requested resource was not found")
            return JSONResponse(body, status_code=404)
        return None

    async def _create(self, request: Request) -> Response:
        await self.record(request)
        refused = self._authorized(request)
        if refused is not None:
            return refused
        form = await _form(request)
        fault = self.create_faults.pop(0) if self.create_faults else None
        to, from_ = str(form.get("To") or ""), str(form.get("From") or "")
        row: dict[str, Any] = {"to": to, "from": from_, "fault": fault, "created": False}
        self.ledger.append(row)
        missing = [name for name in ("To", "From", "Url") if not form.get(name)]
        if missing:
            body = wire.error_body(400, 21205, f"Missing required parameter {missing[0]}.")
            return JSONResponse(body, status_code=400)
        if fault == "429":
            body = wire.error_body(429, 20429, "Too Many Requests")
            return JSONResponse(body, status_code=429)
        if fault == "500":
            return JSONResponse(wire.error_body(500, 20500, "Internal Server Error"), 500)
        code = to[-2:]
        if code in REFUSED:
            status, error, message = REFUSED[code]
            return JSONResponse(wire.error_body(status, error, message.format(to=to)), status)
        now = datetime.now(UTC)
        call = FakeCall(
            sid=wire.sid("CA"),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            url=str(form["Url"]),
            method=str(form.get("Method") or "POST"),
            status_callback=str(form["StatusCallback"]) if form.get("StatusCallback") else None,
            status_callback_method=str(form.get("StatusCallbackMethod") or "POST"),
            status_events=tuple(str(v) for v in form.getlist("StatusCallbackEvent"))
            or ("completed",),
            timeout=int(str(form.get("Timeout") or 60)),
            time_limit=int(str(form.get("TimeLimit") or 14400)),
            created=now,
            start_time=now,
            code=self._persona(to, code),
        )
        self.calls[call.sid] = call
        row.update(created=True, sid=call.sid)
        task = asyncio.create_task(self._run(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if fault == "500-created":
            return JSONResponse(wire.error_body(500, 20500, "Internal Server Error"), 500)
        if fault == "timeout":
            await asyncio.sleep(self.hang_seconds)
        return JSONResponse(call.resource(), status_code=201)

    def _persona(self, to: str, code: str) -> str:
        """5N / 6N: no answer / busy on the first N dials of the number, then 00."""
        if code[0] in "56" and code[1] in "123456789":
            earlier = len(self.dials_to(to))
            if earlier < int(code[1]):
                return "41" if code[0] == "5" else "40"
            return "00"
        return code

    async def _list(self, request: Request) -> Response:
        await self.record(request)
        refused = self._authorized(request)
        if refused is not None:
            return refused
        query = request.query_params
        calls = sorted(self.calls.values(), key=lambda call: call.created, reverse=True)
        for name, attribute in (("To", "to"), ("From", "from_"), ("Status", "status")):
            if query.get(name):
                calls = [call for call in calls if getattr(call, attribute) == query[name]]
        for name, keep in (
            ("StartTime>", lambda at, bound: at >= bound),
            ("StartTime<", lambda at, bound: at <= bound),
        ):
            if query.get(name):
                bound = _parse_time(query[name])
                calls = [c for c in calls if c.start_time and keep(c.start_time, bound)]
        if query.get("StartTime"):
            day = _parse_time(query["StartTime"]).date()
            calls = [c for c in calls if c.start_time and c.start_time.date() == day]
        size = int(query.get("PageSize") or 50)

        uri = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        return JSONResponse(
            {
                "calls": [call.resource() for call in calls[:size]],
                "end": max(min(len(calls), size) - 1, 0),
                "first_page_uri": f"{uri}?PageSize={size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={size}&Page=0",
            }
        )

    async def _incoming(self, request: Request) -> Response:
        return await self._numbers(request, "incoming_phone_numbers", self.incoming_numbers)

    async def _caller_ids(self, request: Request) -> Response:
        return await self._numbers(request, "outgoing_caller_ids", self.verified_caller_ids)

    async def _numbers(self, request: Request, key: str, numbers: set[str]) -> Response:
        """A list of the account's numbers, filtered by ``PhoneNumber``."""
        await self.record(request)
        refused = self._authorized(request)
        if refused is not None:
            return refused
        wanted = request.query_params.get("PhoneNumber")
        kind = "IncomingPhoneNumbers" if key == "incoming_phone_numbers" else "OutgoingCallerIds"
        uri = f"/2010-04-01/Accounts/{self.account_sid}/{kind}.json"
        now = wire.rfc2822(datetime.now(UTC))
        rows = [
            {
                "account_sid": self.account_sid,
                "date_created": now,
                "date_updated": now,
                "friendly_name": number,
                "phone_number": number,
                "sid": wire.sid("PN"),
                "uri": uri.replace(".json", f"/{number}.json"),
            }
            for number in sorted(numbers)
            if wanted in (None, number)
        ]
        return JSONResponse(
            {
                key: rows,
                "end": max(len(rows) - 1, 0),
                "first_page_uri": f"{uri}?PageSize=50&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize=50&Page=0",
            }
        )

    def _call_or_404(self, request: Request) -> FakeCall | Response:
        call = self.calls.get(request.path_params["sid"])
        if call is None:
            message = f"The requested resource {request.url.path} was not found"
            return JSONResponse(wire.error_body(404, 20404, message), status_code=404)
        return call

    async def _fetch(self, request: Request) -> Response:
        await self.record(request)
        refused = self._authorized(request)
        if refused is not None:
            return refused
        call = self._call_or_404(request)
        return call if isinstance(call, Response) else JSONResponse(call.resource())

    async def _update(self, request: Request) -> Response:
        await self.record(request)
        refused = self._authorized(request)
        if refused is not None:
            return refused
        call = self._call_or_404(request)
        if isinstance(call, Response):
            return call
        status = str((await _form(request)).get("Status") or "")
        if status in ("completed", "canceled") and call.status not in TERMINAL:
            call.hang_up.set()
        return JSONResponse(call.resource())

    # -- the life of a call --

    async def _run(self, call: FakeCall) -> None:
        try:
            await self._progress(call)
        except Exception:
            log.exception("fake call %s failed", call.sid)
            await self._end(call, "failed", 500)

    async def _progress(self, call: FakeCall) -> None:
        await asyncio.sleep(0.05)
        await self._callback(call, "initiated", "initiated")
        if call.code in UNANSWERED:
            status, sip = UNANSWERED[call.code]
            if status == "no-answer":
                await self._callback(call, "ringing", "ringing")
                ring = min(call.timeout, self.max_ring_seconds)
                if await _cut(call, ring):
                    return await self._end(call, "canceled", 487)
            elif status == "busy":
                await asyncio.sleep(0.2)
            await self._end(call, status, sip)
            return
        await self._callback(call, "ringing", "ringing")
        if await _cut(call, self.answer_after):
            return await self._end(call, "canceled", 487)
        call.status = "in-progress"
        call.answered_at = datetime.now(UTC)
        twiml = await self._fetch_twiml(call)
        await self._callback(call, "answered", "in-progress")
        stream = twiml.find("./Connect/Stream")
        if stream is not None and stream.get("url"):
            parameters = {
                str(p.get("name")): str(p.get("value")) for p in stream.findall("./Parameter")
            }
            call.stream_parameters = parameters
            await self._stream(call, str(stream.get("url")), parameters)
        await self._end(call, "completed", 200)

    async def _end(self, call: FakeCall, status: str, sip: int) -> None:
        if call.status in TERMINAL:
            return
        call.status = status
        call.end_time = datetime.now(UTC)
        extra = {"SipResponseCode": str(sip)}
        if status == "completed" and call.answered_at is not None:
            seconds = str(int((call.end_time - call.answered_at).total_seconds()))
            extra.update(CallDuration=seconds, Duration=seconds)
        await self._callback(call, "completed", status, extra)

    def _params(self, call: FakeCall, status: str) -> dict[str, str]:
        return {
            "AccountSid": call.account_sid,
            "ApiVersion": wire.API_VERSION,
            "CallSid": call.sid,
            "CallStatus": status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
        }

    async def _post_signed(self, url: str, params: dict[str, str]) -> httpx.Response:
        headers = {"X-Twilio-Signature": wire.signature(self.auth_token, url, params)}
        async with httpx.AsyncClient(timeout=15) as client:
            return await client.post(url, data=params, headers=headers)

    async def _fetch_twiml(self, call: FakeCall) -> ET.Element:
        reply = await self._post_signed(call.url, self._params(call, "in-progress"))
        if reply.status_code != 200:
            log.warning("TwiML fetch for %s answered %s", call.sid, reply.status_code)
            return ET.fromstring("<Response><Hangup/></Response>")
        return ET.fromstring(reply.text)

    async def _callback(
        self, call: FakeCall, event: str, status: str, extra: dict[str, str] | None = None
    ) -> None:
        if call.status_callback is None or event not in call.status_events:
            return
        call.sequence += 1
        params = {
            **self._params(call, status),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(call.sequence - 1),
            "Timestamp": wire.rfc2822(datetime.now(UTC)) or "",
            **(extra or {}),
        }
        call.callbacks.append({"event": event, **params})
        if event in self.drop_callbacks:
            return
        if self.reorder_callbacks and event == "ringing":
            call.callbacks[-1]["held"] = "1"
            return  # sent after the next one
        times = 2 if event in self.duplicate_callbacks else 1
        held = [c for c in call.callbacks if c.pop("held", None)]
        for _ in range(times):
            await self._deliver(call, params)
        for params_held in held:
            await self._deliver(call, {k: v for k, v in params_held.items() if k != "event"})

    async def _deliver(self, call: FakeCall, params: dict[str, str]) -> None:
        assert call.status_callback is not None
        try:
            await self._post_signed(call.status_callback, params)
        except httpx.HTTPError as error:
            log.warning("status callback for %s failed: %s", call.sid, error)

    async def _stream(self, call: FakeCall, url: str, parameters: dict[str, str]) -> None:
        """The bidirectional Media Stream, with the persona on the far side."""
        stream_sid = wire.sid("MZ")
        sequence = iter(range(1, 1 << 30))
        outbox: asyncio.Queue[str | None] = asyncio.Queue()
        chunk = iter(range(1, 1 << 30))
        started = asyncio.get_running_loop().time()

        def send_frame(frame: bytes) -> None:
            ms = int((asyncio.get_running_loop().time() - started) * 1000)
            outbox.put_nowait(wire.media(next(sequence), stream_sid, next(chunk), ms, frame))

        async with websockets.connect(url) as ws:
            await ws.send(json.dumps(wire.connected()))
            start = wire.start(next(sequence), stream_sid, call.account_sid, call.sid, parameters)
            await ws.send(json.dumps(start))
            far = FarSide(send_frame, self.hints)
            far.attach()

            async def sender() -> None:
                while (text := await outbox.get()) is not None:
                    await ws.send(text)

            async def receiver() -> None:
                async for text in ws:
                    message = json.loads(text)
                    kind = message.get("event")
                    if kind == "media":
                        call.frames_from_app += 1
                        far.hear_frame(base64.b64decode(message["media"]["payload"]))
                    elif kind == "mark":
                        call.marks.append(message["mark"]["name"])
                        outbox.put_nowait(
                            json.dumps(
                                wire.mark(next(sequence), stream_sid, message["mark"]["name"])
                            )
                        )
                    elif kind == "clear":
                        call.clears += 1

            tasks = {
                "sender": asyncio.create_task(sender()),
                "receiver": asyncio.create_task(receiver()),
                "persona": asyncio.create_task(person.play(call.code, far)),
                "hung_up": asyncio.create_task(far.hung_up.wait()),
                "rest": asyncio.create_task(call.hang_up.wait()),
            }
            if self.send_dtmf:
                outbox.put_nowait(json.dumps(wire.dtmf(next(sequence), stream_sid, self.send_dtmf)))
            drop, self.drop_stream_after = self.drop_stream_after, None
            if drop is not None:
                tasks["drop"] = asyncio.create_task(asyncio.sleep(drop))
            tasks["limit"] = asyncio.create_task(asyncio.sleep(call.time_limit))
            watched = {tasks[name] for name in ("receiver", "hung_up", "rest", "limit")}
            if "drop" in tasks:
                watched.add(tasks["drop"])
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            if tasks.get("drop") in done:
                call.stream_end = "dropped"
                ws.transport.abort()  # no stop, no close frame: the connection just dies
            elif tasks["receiver"] in done:
                call.stream_end = "closed_by_app"
            else:
                call.stream_end = "stop"
                await outbox.put(None)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(tasks["sender"], 1.0)
                with contextlib.suppress(Exception):
                    await ws.send(
                        json.dumps(
                            wire.stop(next(sequence), stream_sid, call.account_sid, call.sid)
                        )
                    )
            far.line_closed()
            far.close()
            call.heard_by_callee = list(far.heard)
            for task in tasks.values():
                task.cancel()
            for task in tasks.values():
                with contextlib.suppress(BaseException):
                    await task


async def _cut(call: FakeCall, seconds: float) -> bool:
    """Wait ``seconds``; True if the call was hung up through REST meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(call.hang_up.wait(), seconds)
    return call.hang_up.is_set()


class _Form(dict[str, str]):
    """A form-encoded body (the Calls API takes no multipart)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


async def _form(request: Request) -> _Form:
    return _Form(parse_qsl((await request.body()).decode(), keep_blank_values=True))


def _parse_time(text: str) -> datetime:
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
