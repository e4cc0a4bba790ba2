"""The LLM agent: the assistant's prompt, voice and tools driven by a chat model.

One turn: the callee's utterance joins the context, the model streams its answer, each
sentence is spoken as soon as it is complete, and the tools it calls run (the model
speaks again after a tool whose result it must relay). If the callee starts talking
while the agent speaks, the agent stops: the transcript and the context keep only what
was really said. After the call, one JSON-schema completion extracts the fields, the
outcome and its explanation.

It talks to a ``telephony.base.Line``, so the same agent serves text and audio fidelity.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from openrevox.agent.answering import answered
from openrevox.agent.calendly import Calendly, CalendlyConnections, CalendlyError, spoken_time
from openrevox.agent.instructions import system_prompt, tool_specs, transfer_numbers
from openrevox.agent.llm.chat import ChatModel, LLMError, Message, Reply, TextDelta, ToolCall
from openrevox.agent.post_call import PostCall, analyse
from openrevox.domain.prompts import interpolate
from openrevox.results.structured_output import coerce
from openrevox.telephony.base import (
    CallRequest,
    ConversationOutcome,
    EndedBy,
    Line,
    ReplyTimings,
    Transcript,
    TranscriptEntry,
)

SILENCE_TIMEOUT = 10.0  # seconds of silence before the agent gives up
BEEP_WAIT = 4.0  # seconds a voicemail's beep may take after its greeting
# The line's decisions that end the LLM's part: the answering_machine tool's kinds.
_MACHINES = {"voicemail": "voicemail", "IVR": "ivr", "ios-screening-filter": "call_screening"}
MAX_TOOL_ROUNDS = 6  # completions in one turn (tool results relayed in between)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SILENCE_GOODBYE = "I can't hear you, so I'll let you go. Goodbye."
log = logging.getLogger(__name__)


class _Ended(Exception):
    def __init__(self, outcome: ConversationOutcome) -> None:
        super().__init__(outcome.end_reason)
        self.outcome = outcome


class _Call:
    """The state of one LLM-held call."""

    def __init__(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
        model: ChatModel,
        calendly: Calendly | None,
    ) -> None:
        self.request = request
        self.assistant = request.assistant
        self.variables = request.prompt_variables
        self.line = line
        self.seconds = seconds
        self.transcript = transcript
        self.model = model
        self.calendly = calendly
        # No usable Calendly connection: the booking is neither offered nor promised.
        told = self.assistant if calendly else {**self.assistant, "calendly": None}
        self.messages: list[Message] = [
            {
                "role": "system",
                "content": system_prompt(told, self.variables, request.remote_number),
            }
        ]
        self.tools = tool_specs(told)
        self.heard_person = False
        self.do_not_contact = False
        self.outcome: str | None = None
        self.unanswered: list[str] = []
        self.said_closing = False
        self.deadline = asyncio.get_running_loop().time() + seconds(
            float(self.assistant.get("max_call_duration_secs") or 600)
        )

    # -- the line --
    def expired(self) -> bool:
        return asyncio.get_running_loop().time() >= self.deadline

    def result(self) -> str:
        return "human" if self.heard_person else "unknown"

    async def hear(self, wait: float) -> str | None:
        """The next utterance; later if the callee is still speaking when ``wait`` ends."""
        heard = await self.line.hear(wait)
        while heard is None and self.line.callee_speaking and not self.expired():
            heard = await self.line.hear(1.0)
        if heard is None:  # the callee may have finished (and hung up) as the wait ended
            heard = await self.line.hear(0.0)
        if heard:
            self.transcript.append(TranscriptEntry(role="user", content=heard))
            self.messages.append({"role": "user", "content": heard})
            self.heard_person = True
        return heard

    async def _wait_for_turn(self) -> bool:
        """Never start talking over the callee; False once the call ran out of time."""
        while self.line.callee_speaking and not self.expired():  # noqa: ASYNC110 - polls the line
            await asyncio.sleep(0.01)
        return not self.expired()

    async def say_verbatim(self, text: str) -> bool:
        """Speak a fixed sentence (first sentence, voicemail, closing) in full."""
        if not await self._wait_for_turn():
            return False
        text = interpolate(text, self.variables)
        entry = TranscriptEntry(role="assistant", content=text)
        self.transcript.append(entry)
        said = await self.line.say(text)
        if said != text:  # cut off: keep what was really said
            entry.content = said
            self.transcript.changed()
        self.messages.append({"role": "assistant", "content": said})
        return True

    def tool(self, call: ToolCall | None, output: str, *, error: bool = False) -> None:
        """A tool's entry in the transcript (none when the line's answer detection,
        not the model, acted: its decision is in the attempt's ``openrevox`` facts)."""
        if call is None:
            return
        self.transcript.append(
            TranscriptEntry(
                role="tool",
                content=output,
                tool_name=call.name,
                tool_arguments=call.arguments,
                tool_is_error=error,
                tool_output=output,
            )
        )

    def end(
        self, result: str, end_reason: str | None, ended_by: EndedBy = "agent"
    ) -> ConversationOutcome:
        return ConversationOutcome(
            result=result,
            ended_by=ended_by,
            end_reason=end_reason,
            transcript=self.transcript,
            do_not_contact=self.do_not_contact,
            outcome=self.outcome,
            unanswered_questions=tuple(self.unanswered),
        )

    async def hang_up(self, result: str, end_reason: str, ended_by: EndedBy = "agent") -> _Ended:
        await self.line.hang_up()
        return _Ended(self.end(result, end_reason, ended_by))

    # -- one turn of the model --
    async def turn(self) -> None:
        for _ in range(MAX_TOOL_ROUNDS):
            reply, said, interrupted = await self._generate()
            message: Message = {"role": "assistant", "content": said or None}
            calls = [] if interrupted else reply.tool_calls  # barge-in: the agent stops
            if calls:
                message["tool_calls"] = Reply(tool_calls=calls).as_message()["tool_calls"]
            if said or calls:
                self.messages.append(message)
            if not calls:
                return
            speak_again = False
            for call in calls:
                output, again = await self.run_tool(call)
                self.messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
                speak_again = speak_again or again
            if not speak_again:
                return

    async def _generate(self) -> tuple[Reply, str, bool]:
        """Stream one completion, speaking each sentence once complete. Returns the
        reply, what was really said, and whether the callee cut in."""
        spoken: list[str] = []
        entry: TranscriptEntry | None = None
        pending, interrupted, reply = "", False, Reply()

        async def speak(sentence: str) -> None:
            nonlocal entry, interrupted
            sentence = sentence.strip()
            if not sentence or interrupted:
                return
            if self.expired() or (spoken and self.line.callee_speaking):
                interrupted = True
                return
            if not spoken and not await self._wait_for_turn():
                interrupted = True
                return
            spoken.append(sentence)
            if entry is None:
                entry = TranscriptEntry(role="assistant", content=sentence)
                self.transcript.append(entry)
            else:
                entry.content = " ".join(spoken)
                self.transcript.changed()
            said = await self.line.say(sentence)
            if said != sentence:  # the callee cut in: keep what was really said
                interrupted = True
                spoken[-1] = said
                entry.content = " ".join(part for part in spoken if part)
                self.transcript.changed()

        asked_at, timed = asyncio.get_running_loop().time(), False
        async for item in self.model.stream(self.messages, self.tools):
            if isinstance(item, TextDelta):
                if not timed and isinstance(self.line, ReplyTimings):
                    timed = True
                    ttft = (asyncio.get_running_loop().time() - asked_at) * 1000
                    self.line.llm_replied(ttft, self.model.name)
                pending += item.text
                *sentences, pending = SENTENCE_END.split(pending)
                for sentence in sentences:
                    await speak(sentence)
            else:
                reply = item
        await speak(pending)
        return reply, " ".join(spoken), interrupted

    # -- tools --
    async def run_tool(self, call: ToolCall) -> tuple[str, bool]:
        """Run one tool: its output for the model, and whether the model speaks next.
        A tool that ends the call raises ``_Ended``."""
        handler = getattr(self, f"_tool_{call.name}", None)
        if handler is None or not any(t["function"]["name"] == call.name for t in self.tools):
            output = f"unknown tool {call.name}"
            self.tool(call, output, error=True)
            return output, True
        result: tuple[str, bool] = await handler(call)
        return result

    async def _tool_end_call(self, call: ToolCall) -> tuple[str, bool]:
        closing = self.assistant.get("end_of_call_sentence")
        if closing and not self.said_closing:
            self.said_closing = True
            await self.say_verbatim(str(closing))
        self.tool(call, "call ended")
        raise await self.hang_up(self.result(), "tool_end_call")

    async def _tool_answering_machine(self, call: ToolCall) -> tuple[str, bool]:
        return await self.answering_machine(str(call.arguments.get("kind") or "voicemail"), call)

    async def answering_machine(self, kind: str, call: ToolCall | None = None) -> tuple[str, bool]:
        """A machine answered (the LLM's tool ``call``, or the line's answer detection):
        leave the voicemail message after the beep, leave the menu, or introduce
        ourselves to call screening; raises ``_Ended`` unless navigating a menu."""
        if kind == "ivr":
            if self.assistant.get("ivr_navigation_enabled"):
                output = "navigate the menu with send_dtmf"
                self.tool(call, output)
                return output, True
            self.heard_person = False
            self.tool(call, "automated menu: hanging up (IVR navigation is off)")
            raise await self.hang_up("IVR", "ivr_no_navigate")
        if kind == "call_screening":
            self.tool(call, "call screening: introducing ourselves, then hanging up")
            name = self.assistant.get("name") or "an assistant"
            await self.say_verbatim(f"Hello, this is {name} calling.")
            raise await self.hang_up("ios-screening-filter", "user_unavailable")
        self.heard_person = False
        message = self.assistant.get("voicemail_message")
        if not message:
            self.tool(call, "voicemail: hanging up (no voicemail message)")
            raise await self.hang_up("voicemail", "voicemail")
        self.tool(call, "voicemail: leaving the message after the beep")
        while await self.hear(0.5) is not None:  # the rest of the greeting
            pass
        await self.line.heard_beep(BEEP_WAIT)
        self.heard_person = False
        await self.say_verbatim(str(message))
        raise await self.hang_up("voicemail", "voicemail")

    async def _tool_record_unanswered_question(self, call: ToolCall) -> tuple[str, bool]:
        question = str(call.arguments.get("question") or "").strip()
        if question:
            self.unanswered.append(question)
        output = "recorded: tell the callee a colleague will get back to them"
        self.tool(call, output)
        return output, True

    async def _tool_do_not_call(self, call: ToolCall) -> tuple[str, bool]:
        self.do_not_contact, self.outcome = True, "not_interested"
        output = "added to the do-not-call list: confirm, say goodbye and end the call"
        self.tool(call, output)
        return output, True

    async def _tool_schedule_callback(self, call: ToolCall) -> tuple[str, bool]:
        self.outcome = "requested_callback_later"
        output = "noted: we will call back later; say goodbye and end the call"
        self.tool(call, output)
        return output, True

    async def _tool_transfer_call(self, call: ToolCall) -> tuple[str, bool]:
        numbers = transfer_numbers(self.assistant)
        label = str(call.arguments.get("destination") or "")
        number = numbers.get(label) or next(iter(numbers.values()))
        mode = self.assistant.get("human_transfer_mode") or "cold"
        if not await self.line.transfer(number):
            output = f"transfer to {number} failed: tell the callee nobody is available"
            self.tool(call, output, error=True)
            return output, True
        briefing = ""
        if mode == "warm":  # the colleague hears what the callee wanted before the bridge
            said = [e.content for e in self.transcript if e.role == "user"][-3:]
            briefing = "; briefed: " + " / ".join(said)
        self.tool(call, f"transferred to {number} ({mode}){briefing}")
        raise await self.hang_up("human", "transfer")

    async def _tool_send_dtmf(self, call: ToolCall) -> tuple[str, bool]:
        digits = re.sub(r"[^0-9*#]", "", str(call.arguments.get("digits") or ""))
        if not digits:
            self.tool(call, "no valid digit", error=True)
            return "no valid digit: use 0-9, * or #", True
        await self.line.send_dtmf(digits)
        self.heard_person = False  # a menu is not a person
        self.tool(call, f"sent DTMF {digits}")
        return f"sent {digits}; wait for what comes next", False

    async def _tool_skip_turn(self, call: ToolCall) -> tuple[str, bool]:
        self.tool(call, "listening")
        return "listening", False

    async def _tool_check_availability(self, call: ToolCall) -> tuple[str, bool]:
        calendly, event_type = self._calendly()
        if calendly is None:
            self.tool(call, "booking is not available", error=True)
            return "booking is not available: a colleague will follow up", True
        try:
            times = await calendly.available_times(event_type, datetime.now(UTC))
        except CalendlyError as error:
            self.tool(call, str(error), error=True)
            return f"{error}; apologise, a colleague will follow up", True
        zone = self.request.timezone
        output = f"open times (start_time in UTC, then in the callee's timezone {zone}): " + (
            ", ".join(f"{t} ({spoken_time(t, zone)})" for t in times[:6]) or "none this week"
        )
        self.tool(call, output)
        return output, True

    async def _tool_book_meeting(self, call: ToolCall) -> tuple[str, bool]:
        calendly, event_type = self._calendly()
        arguments = call.arguments
        if calendly is None:
            self.tool(call, "booking is not available", error=True)
            return "booking is not available: a colleague will follow up", True
        try:
            invitee = await calendly.book(
                event_type,
                start_time=str(arguments.get("start_time") or ""),
                name=str(arguments.get("name") or "Guest"),
                email=str(arguments.get("email") or ""),
                timezone=self.request.timezone,
                phone=self.request.remote_number,
            )
        except CalendlyError as error:
            self.tool(call, str(error), error=True)
            return f"{error}; ask for another time or details", True
        self.outcome = "interested"
        output = f"booked; invitation sent ({invitee.get('uri') or 'confirmed'})"
        self.tool(call, output)
        return output, True

    def _calendly(self) -> tuple[Calendly | None, str]:
        config = self.assistant.get("calendly") or {}
        return self.calendly, str(config.get("event_type_id") or "")


class LLMAgent:
    """A ``Conversation`` held by a chat model (see the module's docstring)."""

    def __init__(self, model: ChatModel, calendly: CalendlyConnections | None = None) -> None:
        self.model = model
        self.calendly = calendly

    async def _calendly_for(self, request: CallRequest) -> Calendly | None:
        config = request.assistant.get("calendly") or {}
        if self.calendly is None or not config.get("connection_id"):
            return None
        try:
            return await self.calendly.client_for(
                request.organization_id, str(config["connection_id"])
            )
        except CalendlyError as error:
            log.warning("attempt %s books nothing: %s", request.attempt_id, error)
            return None

    async def run(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
    ) -> ConversationOutcome:
        calendly = await self._calendly_for(request)
        call = _Call(request, line, seconds, transcript, self.model, calendly)
        try:
            await self._converse(call)
            raise AssertionError("a conversation ends by _Ended")  # pragma: no cover
        except _Ended as ended:
            outcome = ended.outcome
        except LLMError as error:  # the call ends cleanly; the retry policy applies
            await line.hang_up()
            return _with_error(call.end(call.result(), error.reason, "system"), error.reason)
        return _with_post_call(outcome, await self._post_call(call, outcome))

    async def _post_call(self, call: _Call, outcome: ConversationOutcome) -> PostCall:
        fields = list(call.assistant.get("structured_output_config") or [])
        if outcome.result != "human":
            return PostCall(coerce(fields, {}), call.outcome, None)
        return await analyse(self.model, call.assistant, list(call.transcript), call.outcome)

    async def _converse(self, call: _Call) -> None:
        assistant, line = call.assistant, call.line
        decision = await answered(call.request, line, call.seconds)
        heard = await call.hear(0.0)  # what was said so far, once the callee finished
        call.heard_person = decision.label == "human"
        kind = _MACHINES.get(decision.label)
        if kind is not None and not (kind == "ivr" and assistant.get("ivr_navigation_enabled")):
            await call.answering_machine(kind)
        if heard is None and line.callee_hung_up:
            raise _Ended(call.end(call.result(), "participant_removed", "user"))
        mode = assistant.get("first_sentence_mode") or "generated"
        first = assistant.get("first_sentence")
        if heard or mode == "generated" or (mode == "static" and not first):
            await call.turn()
        elif mode == "static" and first:
            await call.say_verbatim(str(first))
        silence = 0.0
        while True:
            if call.expired():
                if assistant.get("max_duration_end_message"):
                    await line.say(str(assistant["max_duration_end_message"]))
                raise await call.hang_up(call.result(), "max_duration", "system")
            heard = await call.hear(2.0)
            if heard is None:
                if line.callee_hung_up:
                    raise _Ended(call.end(call.result(), "participant_removed", "user"))
                silence += 2.0
                if silence >= SILENCE_TIMEOUT:
                    await call.say_verbatim(SILENCE_GOODBYE)
                    raise await call.hang_up(call.result(), "user_inactive")
                continue
            silence = 0.0
            await call.turn()


def _with_post_call(outcome: ConversationOutcome, post: PostCall) -> ConversationOutcome:
    return replace(
        outcome,
        outcome=post.outcome,
        structured_output=post.structured_output,
        outcome_summary=post.outcome_summary,
    )


def _with_error(outcome: ConversationOutcome, reason: str) -> ConversationOutcome:
    return replace(outcome, end_reason=reason, error=reason)
