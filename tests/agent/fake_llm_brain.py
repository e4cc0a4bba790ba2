"""The scripted "mind" behind the fake OpenAI server: from an OpenAI chat request (the
system prompt, the messages, the tools offered) it decides the next assistant message
the way a competent model would on these scenarios. It knows nothing of our code: it
only reads what goes over the wire."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Decision:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _offered(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tool["function"]["name"]: tool["function"] for tool in request.get("tools") or []}


def _wanted_fields(system: str) -> list[str]:
    found = re.search(r"During the call, collect: (.+?)\.(\n|$)", system)
    return [part.strip() for part in found.group(1).split(",")] if found else []


def _asked(messages: list[dict[str, Any]]) -> str:
    return " ".join(
        str(m.get("content") or "") for m in messages if m["role"] == "assistant"
    ).lower()


def _faq(system: str) -> list[tuple[str, str]]:
    return re.findall(r"Q: (.+)\nA: (.+)", system)


def _greeting(system: str) -> str:
    exact = re.search(r'Your first words on the call are exactly: "(.+?)"', system)
    if exact:
        return exact.group(1)
    instruction = re.search(r"Open the call following this instruction: (.+)", system)
    return f"Hello! {instruction.group(1).strip()}" if instruction else "Hello there!"


def _after_tool(output: str, offered: dict[str, Any]) -> Decision:
    if output.startswith("recorded"):
        return Decision("That's a good question; a colleague will get back to you on it.")
    if output.startswith("added to the do-not-call list"):
        return Decision("Understood, we will not call you again. Goodbye.", [("end_call", {})])
    if output.startswith("noted: we will call back"):
        return Decision("Of course, we'll call you back later. Goodbye.", [("end_call", {})])
    if output.startswith("navigate the menu"):
        return Decision("", [("send_dtmf", {"digits": "1"})])
    if output.startswith("open times"):
        times = re.findall(r"\d{4}-\d\d-\d\dT[\d:.]+Z", output)
        if times and "book_meeting" in offered:
            booking = {"start_time": times[0], "name": "Alex Martin", "email": "alex@example.com"}
            return Decision("", [("book_meeting", booking)])
        return Decision("I couldn't find an open time; a colleague will follow up.")
    if output.startswith("booked"):
        return Decision("Great, the invitation is on its way. Goodbye!", [("end_call", {})])
    return Decision("Sorry, I couldn't do that; a colleague will follow up.")


def decide(request: dict[str, Any]) -> Decision:
    messages: list[dict[str, Any]] = request["messages"]
    system = str(messages[0].get("content") or "")
    offered = _offered(request)
    last = messages[-1]
    if last["role"] == "tool":
        return _after_tool(str(last.get("content") or ""), offered)
    said = str(last.get("content") or "") if last["role"] == "user" else ""
    text = said.lower()
    spoke_before = any(m["role"] == "assistant" and m.get("content") for m in messages)
    if re.search(r"leave a message|can't take your call|after the tone", text):
        return Decision("", [("answering_machine", {"kind": "voicemail"})])
    if "press 1" in text:
        if "send_dtmf" in offered:
            return Decision("", [("send_dtmf", {"digits": "1"})])
        return Decision("", [("answering_machine", {"kind": "ivr"})])
    if "record your name" in text:
        return Decision("", [("answering_machine", {"kind": "call_screening"})])
    if re.search(r"stop calling|do not call", text):
        return Decision("", [("do_not_call", {})])
    if "call me back" in text:
        return Decision("", [("schedule_callback", {})])
    if "human" in text and "transfer_call" in offered:
        destination = offered["transfer_call"]["parameters"]["properties"]["destination"]
        return Decision(
            "Sure, let me transfer you to a colleague.",
            [("transfer_call", {"destination": destination["enum"][0]})],
        )
    if "book a meeting" in text:
        if "check_availability" in offered:
            return Decision("Let me check the calendar.", [("check_availability", {})])
        return Decision("I can't book meetings myself, but a colleague will follow up.")
    if "who is this" in text:
        return Decision("Sorry! I'm the assistant calling on behalf of Acme.")
    if "goodbye" in text:
        return Decision("Goodbye!", [("end_call", {})])
    opening = "" if spoke_before else _greeting(system) + " "
    if "?" in said and spoke_before:
        for question, answer in _faq(system):
            if set(re.findall(r"\w{5,}", question.lower())) & set(re.findall(r"\w{5,}", text)):
                return Decision(answer)
        return Decision("", [("record_unanswered_question", {"question": said})])
    asked = _asked(messages)
    for wanted in _wanted_fields(system):
        if wanted.lower() not in asked:
            return Decision(f"{opening}Could you tell me your {wanted}?".strip())
    closing = re.search(r"Before you end the call, say exactly: (.+)", system)
    if closing or spoke_before:
        return Decision("" if closing else "Thank you for your time. Goodbye!", [("end_call", {})])
    return Decision(opening.strip() or "Hello!")


def extract(request: dict[str, Any]) -> dict[str, Any]:
    """The post-call JSON: fields from what the callee said, an outcome, a summary."""
    schema = request["response_format"]["json_schema"]["schema"]
    wanted = schema["properties"]["fields"]["properties"]
    transcript = str(request["messages"][-1]["content"])
    callee = " ".join(
        line.removeprefix("Callee: ")
        for line in transcript.splitlines()
        if line.startswith("Callee: ")
    )
    fields: dict[str, Any] = {}
    for name in wanted:
        value: Any = None
        if "email" in name:
            found = re.search(r"[\w.+-]+@[\w-]+\.[\w.]+\w", callee)
            value = found.group(0) if found else None
        elif "name" in name:
            found = re.search(r"My name is ([A-Z]\w+ [A-Z]\w+)", callee)
            value = found.group(1) if found else None
        elif wanted[name].get("type") == ["boolean", "null"]:
            value = "yes" if "yes" in callee.lower() else None  # coerced by the platform
        fields[name] = value
    outcome = "completed" if any(fields.values()) else None
    return {
        "fields": fields,
        "outcome": outcome,
        "outcome_summary": "The callee answered the questions." if outcome else "No decision.",
    }


def as_json(value: dict[str, Any]) -> str:
    return json.dumps(value)
