"""Twilio as a ``TelephonyProvider``: dial through the Calls API, follow the call by its
signed status callbacks, and run the conversation on its Media Stream.

One attempt is one ``_Dial``: its per-attempt token is in every URL we hand Twilio
(TwiML, status callback) and comes back as a ``<Parameter>`` of the stream, so a
request that does not carry it is refused. Callbacks apply in order of the call's
progress, never backwards, however late or often they come; a call whose callbacks are
lost is looked up at Twilio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from openrevox.audio.line import callee_hints, preload
from openrevox.audio.speech import SpeechFactory
from openrevox.audio.tts import Style, voice_speed
from openrevox.telephony.base import (
    CallEvents,
    CallRequest,
    CallResult,
    ConversationFactory,
    ConversationOutcome,
    DialError,
    LineFault,
    Transcript,
)
from openrevox.telephony.carrier_line import CarrierLine
from openrevox.telephony.twilio import dial_errors
from openrevox.telephony.twilio.config import TwilioConfig
from openrevox.telephony.twilio.rest import CallInfo, TwilioRest, TwilioRestException, Unclear
from openrevox.telephony.twilio.stream import TwilioStream

log = logging.getLogger("openrevox.twilio")

STATUS_EVENTS: Final = ["initiated", "ringing", "answered", "completed"]
# How far each status moves a call: a callback never moves it back.
_RANK: Final = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
_TERMINAL_RANK: Final = 4
TIME_LIMIT_MARGIN: Final = 30  # s beyond max_call_duration_secs: Twilio ends it anyway
# Retries of a create that Twilio refused for now (429) or left unclear with no call
# made: they do not use up an attempt.
CREATE_BACKOFF: Final = (0.5, 1.0, 2.0, 4.0, 8.0)
ANSWER_TO_STREAM: Final = 10.0  # s for the stream to connect once the call is answered
# Twilio's ``Status`` for the end of an unclear or abandoned call.
HANG_UP: Final = "completed"


def _rank(status: str) -> int:
    return _RANK.get(status, _TERMINAL_RANK)


class DialRefused(Exception):
    def __init__(self, dial_error: DialError, raw: dict[str, Any]) -> None:
        super().__init__(dial_error)
        self.dial_error = dial_error
        self.raw = raw


@dataclass
class _Dial:
    """What is known of one attempt's call, fed by callbacks and the stream."""

    request: CallRequest
    token: str
    events: CallEvents
    sid: str | None = None
    status: str = "queued"
    sequence: int = -1
    sip_code: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    stream: asyncio.Future[TwilioStream] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    progressed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ended(self) -> bool:
        return _rank(self.status) == _TERMINAL_RANK


class _Pacer:
    """At most ``per_second`` creates a second from this process."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(loop.time(), self._next) + self._interval


class TwilioCarrier:
    """Places calls through Twilio and serves their media streams."""

    def __init__(
        self,
        config: TwilioConfig,
        *,
        rest: TwilioRest | None = None,
        speech: SpeechFactory | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.rest = rest or TwilioRest(config)
        self.now = now
        self.speech = speech  # the agent's voice and ears per call; None: the local kit
        self._dials: dict[str, _Dial] = {}
        self._pacer = _Pacer(config.calls_per_second)
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    # -- the dispatcher's side (TelephonyProvider) --

    async def place_call(
        self, request: CallRequest, events: CallEvents, conversation: ConversationFactory
    ) -> CallResult:
        dial = _Dial(request, secrets.token_urlsafe(18), events)
        self._dials[request.attempt_id] = dial
        warm = asyncio.create_task(self._warm_up(request.assistant))
        try:
            result = await self._carry(dial, warm, conversation)
            result.facts["twilio"] = dict(dial.raw)
            return result
        finally:
            warm.cancel()
            self._dials.pop(request.attempt_id, None)

    async def _carry(
        self, dial: _Dial, warm: asyncio.Task[None], conversation: ConversationFactory
    ) -> CallResult:
        try:
            await self._create(dial)
        except DialRefused as refused:
            dial.raw.update(refused.raw)
            return CallResult(dial_error=refused.dial_error, ended_at=self.now())
        stream = await self._until_answered(dial)
        if stream is None:
            return self._unanswered(dial)
        await warm
        return await self._converse(dial, stream, conversation)

    async def _warm_up(self, assistant: Mapping[str, Any]) -> None:
        """Load the models while the phone rings (the first words must not wait)."""
        opening = []
        if assistant.get("first_sentence"):
            style = Style(speed=voice_speed(assistant.get("voice")))
            opening.append((str(assistant["first_sentence"]), style))
        await asyncio.to_thread(preload, (callee_hints(assistant),), opening)

    def _urls(self, dial: _Dial) -> tuple[str, str]:
        base = f"{self.config.public_url}/telephony/twilio"
        query = f"?token={dial.token}"
        attempt = dial.request.attempt_id
        return f"{base}/twiml/{attempt}{query}", f"{base}/status/{attempt}{query}"

    def _create_params(self, dial: _Dial) -> dict[str, Any]:
        twiml_url, status_url = self._urls(dial)
        max_duration = int(dial.request.assistant.get("max_call_duration_secs") or 600)
        return {
            "to": dial.request.to_number,
            "from_": dial.request.from_number,
            "url": twiml_url,
            "method": "POST",
            "status_callback": status_url,
            "status_callback_method": "POST",
            "status_callback_event": STATUS_EVENTS,
            "timeout": self.config.ring_timeout_seconds,
            "time_limit": max_duration + TIME_LIMIT_MARGIN,
        }

    async def _create(self, dial: _Dial) -> None:
        """POST /Calls, never twice for one call: an unclear answer is looked up at
        Twilio before trying again; a 429 waits and tries again."""
        params = self._create_params(dial)
        since = self.now() - timedelta(seconds=2)
        for backoff in (*CREATE_BACKOFF, None):
            await self._pacer.wait()
            try:
                info = await self.rest.create_call(**params)
            except TwilioRestException as error:
                dial.raw["rest_status"], dial.raw["rest_code"] = error.status, error.code
                if error.status == 429 and backoff is not None:
                    await self._sleep(backoff)
                    continue
                raise DialRefused(
                    dial_errors.from_rest_error(error.code, error.status), dict(dial.raw)
                ) from error
            except Unclear as unclear:
                log.warning("attempt %s: %s; looking the call up", dial.request.attempt_id, unclear)
                dial.raw["unclear_creates"] = int(dial.raw.get("unclear_creates", 0)) + 1
                if dial.sid is not None:  # a callback with our token already named it
                    return
                found = await self._look_up(dial, since)
                if found is not None:
                    self._adopt(dial, found)
                    return
                if backoff is None:
                    raise DialRefused("non_classified_error", dict(dial.raw)) from unclear
                await self._sleep(backoff)
                continue
            self._adopt(dial, info)
            return

    async def _look_up(self, dial: _Dial, since: datetime) -> CallInfo | None:
        """The call this attempt made, if Twilio has one: to this number, from this
        caller ID, since the dial began, and not another live attempt's."""
        taken = {other.sid for other in self._dials.values() if other.sid and other is not dial}
        for wait in (0.0, 0.5, 1.0):
            await self._sleep(wait)
            try:
                calls = await self.rest.find(
                    to=dial.request.to_number, from_=dial.request.from_number, since=since
                )
            except Exception as error:
                log.warning("looking up attempt %s failed: %s", dial.request.attempt_id, error)
                continue
            mine = [call for call in calls if call.sid not in taken]
            if mine:
                return mine[0]
            return None
        raise DialRefused("non_classified_error", {**dial.raw, "lookup": "failed"})

    def _adopt(self, dial: _Dial, info: CallInfo) -> None:
        dial.sid = info.sid
        dial.raw["call_sid"] = info.sid
        if _rank(info.status) > _rank(dial.status):
            dial.status = info.status

    async def _until_answered(self, dial: _Dial) -> TwilioStream | None:
        """The stream once it connects; None when the call ended unanswered."""
        loop = asyncio.get_running_loop()
        give_up = (
            loop.time() + self.config.ring_timeout_seconds + self.config.callback_grace_seconds
        )
        while not dial.stream.done():
            if dial.ended:
                return None
            if dial.status == "in-progress" and dial.answered_at is not None:
                limit = (dial.answered_at - self.now()).total_seconds() + ANSWER_TO_STREAM
                give_up = min(give_up, loop.time() + max(limit, 0.0))
            dial.progressed.clear()
            waiter = asyncio.ensure_future(dial.progressed.wait())
            remaining = give_up - loop.time()
            if remaining <= 0:
                waiter.cancel()
                await self._reconcile(dial)
                return None
            watched: set[asyncio.Future[Any]] = {waiter, dial.stream}
            await asyncio.wait(watched, timeout=remaining, return_when="FIRST_COMPLETED")
            waiter.cancel()
        return dial.stream.result()

    async def _reconcile(self, dial: _Dial) -> None:
        """Callbacks stopped coming: ask Twilio how the call ended; if it has not, end
        it (a call nobody carries must not stay ringing or live)."""
        assert dial.sid is not None
        dial.raw["reconciled"] = True
        try:
            info = await self.rest.fetch(dial.sid)
        except Exception as error:
            log.warning(
                "attempt %s: fetching %s failed: %s", dial.request.attempt_id, dial.sid, error
            )
            info = None
        if info is not None and _rank(info.status) == _TERMINAL_RANK:
            await self.apply_status(dial, {"CallStatus": info.status}, sequence=None)
            return
        with contextlib.suppress(Exception):
            await self.rest.hang_up(dial.sid)
        dial.status = "no-answer" if dial.answered_at is None else "failed"
        dial.raw["ended_by_us"] = "no stream" if dial.answered_at else "ring timeout"

    def _unanswered(self, dial: _Dial) -> CallResult:
        if dial.answered_at is not None:  # answered, but the stream never came
            return CallResult(
                ringing_at=dial.ringing_at,
                answered_at=dial.answered_at,
                ended_at=self.now(),
                result="unknown",
                ended_by="system",
                end_reason="media_stream_missing",
                platform_error="media_stream_missing",
            )
        error = dial_errors.from_status(dial.status, dial.sip_code)
        return CallResult(dial_error=error, ringing_at=dial.ringing_at, ended_at=self.now())

    async def _converse(
        self, dial: _Dial, stream: TwilioStream, conversation: ConversationFactory
    ) -> CallResult:
        request = dial.request
        if dial.ringing_at is None:
            dial.ringing_at = self.now()
            await dial.events.ringing(dial.ringing_at)
        if dial.answered_at is None:
            dial.answered_at = self.now()
        await dial.events.answered(dial.answered_at)
        line = CarrierLine.open(stream, request.assistant, self.speech)
        stream.attach(line.audio.side)
        transcript = Transcript(dial.events.transcript_changed)
        try:
            await line.connect()
            outcome = await conversation(request).run(request, line, lambda s: s, transcript)
        except LineFault as fault:
            line.speech_failed(fault.reason, str(fault))
            heard = any(entry.role == "user" for entry in transcript)
            outcome = ConversationOutcome(
                result="human" if heard else "unknown",
                ended_by="system",
                end_reason=fault.reason,
                transcript=transcript,
                error=fault.reason,
            )
        finally:
            await line.hang_up()
        await self._end(dial, stream)
        error = outcome.error
        end_reason, ended_by = outcome.end_reason, outcome.ended_by
        if stream.dropped and error is None:
            dial.raw["stream"] = "dropped"
            error, end_reason, ended_by = "media_stream_lost", "media_stream_lost", "system"
        return CallResult(
            ringing_at=dial.ringing_at,
            answered_at=dial.answered_at,
            ended_at=self.now(),
            result=outcome.result,
            ended_by=ended_by,
            end_reason=end_reason,
            transcript=outcome.transcript,
            do_not_contact=outcome.do_not_contact,
            outcome=outcome.outcome,
            structured_output=outcome.structured_output,
            unanswered_questions=outcome.unanswered_questions,
            outcome_summary=outcome.outcome_summary,
            platform_error=error,
            speech_events=line.speech_events(),
            facts={"speech": line.speech_record, **line.answer_facts()},
        )

    async def _end(self, dial: _Dial, stream: TwilioStream) -> None:
        """Hang up at Twilio unless the call already ended there, and close the socket."""
        if not stream.stopped and not dial.ended and dial.sid is not None:
            try:
                await self.rest.hang_up(dial.sid)
            except Exception as error:  # TimeLimit ends it anyway
                log.warning("hanging up %s failed: %s", dial.sid, error)
        await stream.close()

    # -- the router's side: callbacks and streams --

    def dial_for(self, attempt_id: str, token: str) -> _Dial | None:
        dial = self._dials.get(attempt_id)
        if dial is None or not secrets.compare_digest(dial.token, token):
            return None
        return dial

    async def apply_status(
        self, dial: _Dial, form: Mapping[str, str], *, sequence: int | None
    ) -> bool:
        """Apply one status callback; False when it would move the call backwards (a
        duplicate, or one overtaken by a later one)."""
        status = str(form.get("CallStatus") or "")
        if sequence is not None:
            dial.raw.setdefault("callbacks", []).append(f"{sequence}:{status}")
        if not status or _rank(status) <= _rank(dial.status):
            return False
        if sequence is not None:
            dial.sequence = max(dial.sequence, sequence)
        dial.status = status
        dial.raw["call_status"] = status
        if form.get("CallSid") and dial.sid is None:
            dial.sid = dial.raw["call_sid"] = str(form["CallSid"])
        sip = form.get("SipResponseCode")
        if sip and sip.isdigit():
            dial.sip_code = int(sip)
            dial.raw["sip_response_code"] = dial.sip_code
        at = self.now()
        if status == "ringing" and dial.ringing_at is None:
            dial.ringing_at = at
            await dial.events.ringing(at)
        elif status == "in-progress" and dial.answered_at is None:
            dial.answered_at = at
            if dial.ringing_at is None:
                dial.ringing_at = at
                await dial.events.ringing(at)
        dial.progressed.set()
        return True

    def accept_stream(self, stream: TwilioStream) -> bool:
        """Hand a stream to the attempt it names, once: the token must match, the call
        must be this attempt's, and no stream may be running for it already."""
        params = stream.start.parameters
        dial = self.dial_for(params.get("attempt", ""), params.get("token", ""))
        if dial is None or dial.stream.done() or dial.ended:
            return False
        if dial.sid is not None and stream.start.call_sid and stream.start.call_sid != dial.sid:
            return False
        dial.stream.set_result(stream)
        return True

    async def number_kind(self, number: str) -> str | None:
        """What ``number`` is on the account: ``owned_number``, ``verified_caller_id``,
        or None (not the account's: it cannot be a caller ID)."""
        return await self.rest.number_kind(number)

    async def aclose(self) -> None:
        await self.rest.aclose()
