"""The sandbox agent: a deterministic dialogue policy for simulated calls (no LLM).

It waits for the line's answer detection (``domain/answer_detection.py``: who answered,
a person, a voicemail, an IVR menu or call screening) before its first sentence and acts
on it (leaves the voicemail message after the beep, navigates or leaves the menu,
introduces itself to call screening); then it follows the assistant's first sentence,
asks for each structured-output field, answers from the FAQ, uses its tools (DTMF,
transfer, Calendly booking, end call) by rule and ends politely. It is a real agent for
the simulated network and for tests; it never replaces an LLM on a real line.

One reply is one turn: what the agent has to say after the callee spoke (an FAQ answer,
then the next question) is said as one utterance, so the callee answers once, to the
whole of it, and never talks over the second half.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from openrevox.agent import understanding as understand
from openrevox.agent.answering import answered
from openrevox.agent.calendly import CalendlyConnections
from openrevox.agent.opening import generated_first_sentence
from openrevox.agent.sandbox_booking import DETAILS, SandboxBooking
from openrevox.domain.prompts import interpolate
from openrevox.results.structured_output import coerce
from openrevox.telephony.base import (
    CallRequest,
    ConversationOutcome,
    EndedBy,
    Line,
    Transcript,
    TranscriptEntry,
)

SILENCE_TIMEOUT = 10.0  # seconds of silence before the agent gives up
BOOKING = "booking:"  # prefix of a pending booking detail (``booking:email``)
LISTEN_AFTER_MENU = 9.0  # seconds the agent waits for someone after a menu choice
BEEP_WAIT = 4.0  # seconds a voicemail's beep may take after its greeting


class _Call:
    def __init__(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
        calendly: CalendlyConnections | None,
    ) -> None:
        self.assistant = request.assistant
        self.variables = request.prompt_variables
        self.line = line
        self.transcript = transcript
        self.heard_person = False
        self.output: dict[str, Any] = {}
        self.outcome: str | None = None
        self.do_not_contact = False
        self.unanswered: list[str] = []
        self.asked: set[str] = set()
        self.queued: list[str] = []  # said with the next utterance: one turn
        self.booking = SandboxBooking(request, calendly, self.tool)
        self.deadline = asyncio.get_running_loop().time() + seconds(
            float(self.assistant.get("max_call_duration_secs") or 600)
        )

    def expired(self) -> bool:
        return asyncio.get_running_loop().time() >= self.deadline

    def queue(self, text: str) -> None:
        """Say ``text`` at the start of the next utterance (the same turn)."""
        self.queued.append(text)

    async def say(self, text: str) -> bool:
        """Speak (after what was queued) once the callee has finished; False if the call
        ran out of time first."""
        while self.line.callee_speaking and not self.expired():  # noqa: ASYNC110 - polls a flag of the line
            await asyncio.sleep(0.01)
        if self.expired():
            return False
        text = " ".join([*self.queued, interpolate(text, self.variables)])
        self.queued.clear()
        entry = TranscriptEntry(role="assistant", content=text)
        self.transcript.append(entry)
        said = await self.line.say(text)
        if not said:  # the callee hung up first: nothing was said
            self.transcript.remove(entry)
            self.transcript.changed()
        elif said != text:  # cut off: the transcript keeps what was really said
            entry.content = said
            self.transcript.changed()
        return True

    async def hear(self, wait: float) -> str | None:
        """The next utterance within ``wait`` seconds, or later if the callee is still
        speaking when the wait ends (never cut someone off mid-sentence)."""
        heard = await self.line.hear(wait)
        while heard is None and self.line.callee_speaking and not self.expired():
            heard = await self.line.hear(1.0)
        if heard is None:  # the callee may have finished (and hung up) as the wait ended
            heard = await self.line.hear(0.0)
        if heard:
            self.transcript.append(TranscriptEntry(role="user", content=heard))
            self.heard_person = True
        return heard

    def tool(self, name: str, arguments: dict[str, Any], output: str, error: bool = False) -> None:
        self.transcript.append(
            TranscriptEntry(role="tool", content=output, tool_name=name, tool_arguments=arguments,
                            tool_is_error=error, tool_output=output)
        )  # fmt: skip

    def done(self, result: str, ended_by: EndedBy, end_reason: str | None) -> ConversationOutcome:
        return ConversationOutcome(
            result=result,
            ended_by=ended_by,
            end_reason=end_reason,
            transcript=self.transcript,
            do_not_contact=self.do_not_contact,
            outcome=self.outcome,
            structured_output=coerce(
                self.assistant.get("structured_output_config") or [], self.output
            ),
            unanswered_questions=tuple(self.unanswered),
        )

    async def hang_up(
        self, result: str, end_reason: str, ended_by: EndedBy = "agent"
    ) -> ConversationOutcome:
        await self.line.hang_up()
        return self.done(result, ended_by, end_reason)


def _detail_of(field_name: str) -> str | None:
    """The booking detail a structured-output field holds (by its name), if any."""
    name = field_name.lower()
    if "email" in name:
        return "email"
    return "name" if name in ("name", "full_name", "fullname") else None


class SandboxAgent:
    """``calendly``: the organizations' Calendly connections (None: no booking)."""

    def __init__(self, calendly: CalendlyConnections | None = None) -> None:
        self.calendly = calendly

    async def run(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
    ) -> ConversationOutcome:
        call = _Call(request, line, seconds, transcript, self.calendly)
        decision = await answered(request, line, seconds)
        first = await call.hear(0.0)  # what was said so far, once the callee finished
        call.heard_person = decision.label == "human"
        if decision.label == "voicemail":
            return await self._leave_voicemail(call)
        if decision.label == "ios-screening-filter":
            await call.say(generated_first_sentence(call.assistant, call.variables))
            return await call.hang_up("ios-screening-filter", "user_unavailable")
        if decision.label == "IVR":
            if not call.assistant.get("ivr_navigation_enabled"):
                return await call.hang_up("IVR", "ivr_no_navigate")
            digit = understand.ivr_choice(first or str(decision.signals.get("transcript", "")))
            call.tool("send_dtmf", {"digits": digit}, f"sent DTMF {digit}")
            await call.line.send_dtmf(digit)
            call.heard_person = False  # a menu is not a person
            first = await call.hear(LISTEN_AFTER_MENU)
        if line.callee_hung_up:
            return call.done(
                "human" if call.heard_person else "unknown", "user", "participant_removed"
            )
        return await self._converse(call, first)

    async def _leave_voicemail(self, call: _Call) -> ConversationOutcome:
        message = call.assistant.get("voicemail_message")
        if not message:
            return await call.hang_up("voicemail", "voicemail")
        while await call.hear(0.5) is not None:  # the rest of the greeting
            pass
        await call.line.heard_beep(BEEP_WAIT)
        call.heard_person = False
        await call.say(message)
        return await call.hang_up("voicemail", "voicemail")

    async def _opening(self, call: _Call) -> None:
        assistant = call.assistant
        mode = assistant.get("first_sentence_mode", "generated")
        sentence = assistant.get("first_sentence")
        if mode == "none":
            return
        if mode == "static" and sentence:
            await call.say(sentence)
        else:  # generated: the sentence is an instruction; a rule composes the opening
            await call.say(generated_first_sentence(assistant, call.variables))

    async def _converse(self, call: _Call, first: str | None) -> ConversationOutcome:
        assistant = call.assistant
        fields = list(assistant.get("structured_output_config") or [])
        await self._opening(call)
        pending: str | None = None  # the field we just asked for
        heard = first if assistant.get("first_sentence_mode") == "none" else None
        silence = 0.0
        while True:
            if call.expired():
                if assistant.get("max_duration_end_message"):
                    await call.say(assistant["max_duration_end_message"])
                return await call.hang_up(
                    "human" if call.heard_person else "unknown", "max_duration", "system"
                )
            if heard is None:
                heard = await call.hear(2.0)
                if heard is None:
                    if call.line.callee_hung_up:
                        return call.done(
                            "human" if call.heard_person else "unknown",
                            "user",
                            "participant_removed",
                        )
                    silence += 2.0
                    if silence >= SILENCE_TIMEOUT:
                        await call.say("I can't hear you, so I'll let you go. Goodbye.")
                        return await call.hang_up(
                            "human" if call.heard_person else "unknown", "user_inactive"
                        )
                    continue
            silence = 0.0
            reply, heard = heard, None
            ended = await self._react(call, reply, pending, fields)
            if ended is not None:
                return ended
            pending = await self._ask(call, fields)
            if pending is None:
                return await self._goodbye(call)

    async def _react(
        self, call: _Call, reply: str, pending: str | None, fields: list[dict[str, Any]]
    ) -> ConversationOutcome | None:
        assistant = call.assistant
        if understand.wants_no_more_calls(reply):
            call.do_not_contact, call.outcome = True, "not_interested"
            await call.say("I understand, we will not call you again. Goodbye.")
            return await call.hang_up("human", "tool_end_call")
        if understand.wants_callback(reply):
            call.outcome = "requested_callback_later"
            if not call.line.callee_hung_up:
                await call.say("Of course, we'll call you back later. Goodbye.")
                return await call.hang_up("human", "tool_end_call")
            return call.done("human", "user", "participant_removed")
        if understand.wants_human(reply):
            destinations = assistant.get("transfer_destinations") or []
            if destinations:
                number = destinations[0]["phone_number"]
                await call.say("Sure, let me transfer you to a colleague.")
                call.tool("transfer_call", {"phone_number": number}, f"transferred to {number}")
                await call.line.transfer(number)
                return await call.hang_up("human", "transfer")
            call.queue("I'm sorry, nobody else is available right now.")
        elif understand.wants_meeting(reply) and call.booking.slot is None:
            call.queue(await call.booking.offer(self._known(call, fields)))
        elif pending is not None and pending.startswith(BOOKING):
            detail = pending.removeprefix(BOOKING)
            value = understand.extract(DETAILS[detail], reply)
            call.booking.take(detail, value)
            for field in fields:  # a field asking for the same detail is answered too
                if value is not None and _detail_of(str(field["name"])) == detail:
                    call.output.setdefault(field["name"], value)
            if call.booking.slot is not None and call.booking.missing() is None:
                said, booked = await call.booking.book()
                call.queue(said)
                if booked:
                    call.outcome = "interested"
        elif pending is not None:
            field = next(f for f in fields if f["name"] == pending)
            value = understand.extract(field, reply)
            if value is not None:
                call.output[pending] = value
        elif understand.is_question(reply):
            answer = understand.faq_answer(
                reply, [dict(item) for item in assistant.get("faq_items") or []]
            )
            if answer:
                call.queue(answer)
            else:
                call.unanswered.append(reply)
                call.queue("That's a good question; I'll ask a colleague and get back to you.")
        return None

    @staticmethod
    def _known(call: _Call, fields: list[dict[str, Any]]) -> dict[str, Any]:
        """The callee's name and email when the structured output already has them."""
        known: dict[str, Any] = {}
        for field in fields:
            detail, value = _detail_of(str(field["name"])), call.output.get(field["name"])
            if detail is not None and isinstance(value, str) and value:
                known.setdefault(detail, value)
        return known

    async def _ask(self, call: _Call, fields: list[dict[str, Any]]) -> str | None:
        """Ask for what a booking under way lacks, else the next field not asked yet;
        None once every field was asked."""
        detail = call.booking.missing()
        if detail is not None:
            await call.say(f"Could you tell me your {DETAILS[detail]['description']}?")
            return BOOKING + detail
        for field in fields:
            name = str(field["name"])
            if name not in call.output and name not in call.asked:
                call.asked.add(name)
                label = field.get("description") or name.replace("_", " ")
                await call.say(f"Could you tell me your {label}?")
                return name
        return None

    async def _goodbye(self, call: _Call) -> ConversationOutcome:
        result = "human" if call.heard_person else "unknown"
        if call.outcome is None and call.heard_person:
            call.outcome = "completed"
        farewell = call.assistant.get("end_of_call_sentence") or "Thank you for your time. Goodbye!"
        if not await call.say(farewell):  # the callee never let us speak: time is up
            return await call.hang_up(result, "max_duration", "system")
        call.tool("end_call", {}, "call ended")
        return await call.hang_up(result, "tool_end_call")
