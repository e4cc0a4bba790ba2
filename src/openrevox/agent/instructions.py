"""What the LLM is told: the assistant's prompt with its variables, the call's facts,
the FAQ, and the tools it may use (OpenAI tool specs)."""

from __future__ import annotations

from typing import Any

from openrevox.agent.llm.chat import ToolSpec
from openrevox.domain.prompts import interpolate


def _function(
    tool_name: str, description: str, properties: dict[str, dict[str, Any]] | None = None
) -> ToolSpec:
    properties = properties or {}
    return {
        "type": "function",
        "function": {
            "name": tool_name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": sorted(properties),
            },
        },
    }


def transfer_numbers(assistant: dict[str, Any]) -> dict[str, str]:
    """Transfer destinations by label (the older ``transfer_phone_number`` as ``default``)."""
    numbers = {
        str(item.get("label") or item["phone_number"]): str(item["phone_number"])
        for item in assistant.get("transfer_destinations") or []
        if item.get("phone_number")
    }
    if not numbers and assistant.get("transfer_phone_number"):
        numbers["default"] = str(assistant["transfer_phone_number"])
    return numbers


def tool_specs(assistant: dict[str, Any]) -> list[ToolSpec]:
    tools = [
        _function(
            "end_call",
            "Hang up. Use it once the conversation is over and you have said goodbye.",
        ),
        _function(
            "answering_machine",
            "Call this as soon as you realise you are not talking to a person: a voicemail "
            "greeting, an automated phone menu (IVR) or a call-screening assistant.",
            {"kind": {"type": "string", "enum": ["voicemail", "ivr", "call_screening"]}},
        ),
        _function(
            "record_unanswered_question",
            "Record a question of the callee you cannot answer from your instructions or "
            "the FAQ, so that a colleague answers it later. Never invent an answer.",
            {"question": {"type": "string", "description": "the callee's question"}},
        ),
        _function(
            "do_not_call",
            "The callee asked not to be called again: put them on the do-not-call list.",
        ),
        _function(
            "schedule_callback",
            "The callee asked to be called back later.",
        ),
    ]
    numbers = transfer_numbers(assistant)
    if numbers:
        tools.append(
            _function(
                "transfer_call",
                "Transfer the call to a human colleague when the callee asks for one.",
                {"destination": {"type": "string", "enum": sorted(numbers)}},
            )
        )
    if assistant.get("ivr_navigation_enabled"):
        tools.append(
            _function(
                "send_dtmf",
                "Press keys on the phone keypad to navigate an automated menu (IVR).",
                {"digits": {"type": "string", "description": "digits, * or #"}},
            )
        )
        tools.append(
            _function("skip_turn", "Stay silent this turn (e.g. while a menu is playing).")
        )
    if assistant.get("calendly"):
        tools.append(
            _function(
                "check_availability",
                "List the open meeting times of the next days.",
            )
        )
        tools.append(
            _function(
                "book_meeting",
                "Book a meeting at one of the open times; Calendly e-mails the invitation.",
                {
                    "start_time": {"type": "string", "description": "an open time, ISO 8601"},
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                },
            )
        )
    return tools


def system_prompt(assistant: dict[str, Any], variables: dict[str, str], remote: str) -> str:
    parts = [interpolate(str(assistant.get("prompt") or ""), variables)]
    parts.append(
        "You are on a live phone call with " + remote + ". Speak in short, natural "
        "sentences; no lists, no markdown, no emojis. Use the tools when they apply."
    )
    mode = assistant.get("first_sentence_mode") or "generated"
    first = assistant.get("first_sentence")
    if first and mode == "static":
        parts.append(f'Your first words on the call are exactly: "{interpolate(first, variables)}"')
    elif first and mode == "generated":
        parts.append("Open the call following this instruction: " + interpolate(first, variables))
    if assistant.get("voicemail_message"):
        parts.append(
            "If a voicemail greeting answers, call answering_machine with kind voicemail; "
            "the message is left for you."
        )
    else:
        parts.append("If a voicemail greeting answers, call answering_machine (voicemail).")
    if assistant.get("ivr_navigation_enabled"):
        parts.append(
            "If an automated menu answers, choose the option that reaches a person (or "
            "sales) with send_dtmf."
        )
    faq = [item for item in assistant.get("faq_items") or [] if item.get("answer")]
    if faq:
        lines = [f"Q: {item['question']}\nA: {item['answer']}" for item in faq]
        parts.append("Answers you may give (FAQ):\n" + "\n".join(lines))
    fields = assistant.get("structured_output_config") or []
    if fields:
        wanted = ", ".join(
            str(field.get("description") or field["name"]).strip() for field in fields
        )
        parts.append(f"During the call, collect: {wanted}.")
    if assistant.get("end_of_call_sentence"):
        parts.append(
            "Before you end the call, say exactly: " + str(assistant["end_of_call_sentence"])
        )
    return "\n\n".join(part for part in parts if part)
