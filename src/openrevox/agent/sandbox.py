"""The sandbox agent: a deterministic dialogue policy for simulated calls (no LLM).

It follows the assistant's first sentence, detects voicemail, IVR menus and call
screening, asks for each structured-output field, answers from the FAQ, uses its tools
(DTMF, transfer, end call) by rule and ends politely. It is a real agent for the
simulated network and for tests; it never replaces an LLM on a real line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from openrevox.agent import understanding as understand
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
LISTEN_FIRST = 3.0  # seconds the agent listens after answer, to catch machines


class _Call:
    def __init__(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
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
        self.deadline = asyncio.get_running_loop().time() + seconds(
            float(self.assistant.get("max_call_duration_secs") or 600)
        )

    def expired(self) -> bool:
        return asyncio.get_running_loop().time() >= self.deadline

    async def say(self, text: str) -> bool:
        """Speak once the callee has finished; False if the call ran out of time first."""
        while self.line.callee_speaking and not self.expired():  # noqa: ASYNC110 - polls a flag of the line
            await asyncio.sleep(0.01)
        if self.expired():
            return False
        text = interpolate(text, self.variables)
        entry = TranscriptEntry(role="assistant", content=text)
        self.transcript.append(entry)
        said = await self.line.say(text)
        if said != text:  # cut off: the transcript keeps what was really said
            entry.content = said
            self.transcript.changed()
        return True

    async def hear(self, wait: float) -> str | None:
        """The next utterance within ``wait`` seconds, or later if the callee is still
        speaking when the wait ends (never cut someone off mid-sentence)."""
        heard = await self.line.hear(wait)
        while heard is None and self.line.callee_speaking and not self.expired():
            heard = await self.line.hear(1.0)
        if heard:
            self.transcript.append(TranscriptEntry(role="user", content=heard))
            if heard != "[beep]":
                self.heard_person = True
        return heard

    def tool(self, name: str, arguments: dict[str, Any], output: str) -> None:
        self.transcript.append(
            TranscriptEntry(role="tool", content=output, tool_name=name, tool_arguments=arguments,
                            tool_is_error=False, tool_output=output)
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


class SandboxAgent:
    async def run(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
    ) -> ConversationOutcome:
        call = _Call(request, line, seconds, transcript)
        assistant = request.assistant
        await asyncio.sleep(seconds(float(assistant.get("first_sentence_delay_ms") or 0) / 1000))
        first = await call.hear(LISTEN_FIRST)
        if first:
            machine = await self._answer_machine(call, first)
            if isinstance(machine, ConversationOutcome):
                return machine
            if machine == "navigated":
                first = await call.hear(LISTEN_FIRST * 3)
        if line.callee_hung_up:
            return call.done(
                "human" if call.heard_person else "unknown", "user", "participant_removed"
            )
        return await self._converse(call, first)

    async def _answer_machine(self, call: _Call, text: str) -> ConversationOutcome | str | None:
        """Voicemail, call screening or an IVR menu, whenever one speaks: the outcome that
        ends the call, ``"navigated"`` after sending DTMF, or None for a person."""
        assistant = call.assistant
        if understand.is_voicemail(text):
            return await self._leave_voicemail(call, text)
        if understand.is_screening(text):
            await call.say(f"Hello, this is {assistant.get('name') or 'an assistant'} calling.")
            return await call.hang_up("ios-screening-filter", "user_unavailable")
        if understand.is_ivr(text):
            if not assistant.get("ivr_navigation_enabled"):
                return await call.hang_up("IVR", "ivr_no_navigate")
            digit = understand.ivr_choice(text)
            call.tool("send_dtmf", {"digits": digit}, f"sent DTMF {digit}")
            await call.line.send_dtmf(digit)
            call.heard_person = False  # a menu is not a person
            return "navigated"
        return None

    async def _leave_voicemail(self, call: _Call, greeting: str) -> ConversationOutcome:
        message = call.assistant.get("voicemail_message")
        if not message:
            return await call.hang_up("voicemail", "voicemail")
        heard: str | None = greeting
        while heard is not None and "[beep]" not in heard:
            heard = await call.hear(SILENCE_TIMEOUT)
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
        else:  # generated, with no LLM: greet, then follow the first-sentence instruction
            await call.say(
                sentence or f"Hello, this is {assistant.get('name') or 'your assistant'}."
            )

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
            machine = await self._answer_machine(call, reply)
            if isinstance(machine, ConversationOutcome):
                return machine
            if machine == "navigated":
                await self._opening(call)  # a person picks up after the menu
                continue
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
            await call.say("I'm sorry, nobody else is available right now.")
        elif understand.wants_meeting(reply):
            if assistant.get("calendly"):
                call.tool(
                    "book_meeting",
                    {"event_type_id": assistant["calendly"]["event_type_id"]},
                    "booking requested",
                )
                await call.say(
                    "Great, I've requested a booking; you'll receive the invitation by email."
                )
                call.outcome = "interested"
            else:
                await call.say("I can't book meetings myself, but a colleague will follow up.")
        elif pending is not None:
            field = next(f for f in fields if f["name"] == pending)
            value = understand.extract(field, reply)
            if value is not None:
                call.output[pending] = value
        elif "?" in reply:
            answer = understand.faq_answer(
                reply, [dict(item) for item in assistant.get("faq_items") or []]
            )
            if answer:
                await call.say(answer)
            else:
                call.unanswered.append(reply)
                await call.say("That's a good question; I'll ask a colleague and get back to you.")
        return None

    async def _ask(self, call: _Call, fields: list[dict[str, Any]]) -> str | None:
        """Ask for the next field not asked yet; None once every field was asked."""
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
