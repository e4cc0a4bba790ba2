"""After an LLM-held call: one JSON-schema completion gives the extracted fields, the
call's outcome and a one-sentence explanation of it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson

from openrevox.agent.llm.chat import ChatModel, LLMError
from openrevox.results.structured_output import coerce, json_schema
from openrevox.telephony.base import TranscriptEntry

log = logging.getLogger("openrevox.agent")

OUTCOMES = ("interested", "not_interested", "completed", "requested_callback_later")


@dataclass(frozen=True, slots=True)
class PostCall:
    structured_output: dict[str, Any] | None
    outcome: str | None
    outcome_summary: str | None


def transcript_for_llm(transcript: list[TranscriptEntry]) -> str:
    lines = []
    for entry in transcript:
        if entry.role == "tool":
            lines.append(f"[tool {entry.tool_name}: {entry.tool_output or entry.content}]")
        else:
            speaker = "Agent" if entry.role == "assistant" else "Callee"
            lines.append(f"{speaker}: {entry.content}")
    return "\n".join(lines)


def _schema(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "fields": json_schema(fields),
            "outcome": {"type": ["string", "null"], "enum": [*OUTCOMES, None]},
            "outcome_summary": {"type": "string"},
        },
        "required": ["fields", "outcome", "outcome_summary"],
    }


async def analyse(
    model: ChatModel,
    assistant: dict[str, Any],
    transcript: list[TranscriptEntry],
    known_outcome: str | None,
) -> PostCall:
    """Extraction is best effort: an LLM that fails here leaves the fields empty (the
    call itself went well) and is logged."""
    fields = list(assistant.get("structured_output_config") or [])
    instructions = (
        "Read this phone call transcript. Fill `fields` with what the callee said "
        "(null when not said; never guess). `outcome`: interested, not_interested, "
        "completed, requested_callback_later, or null when the call reached no decision. "
        "`outcome_summary`: one sentence explaining the outcome."
    )
    if assistant.get("structured_output_prompt"):
        instructions += "\n" + str(assistant["structured_output_prompt"])
    messages = [
        {"role": "system", "content": instructions},
        {"role": "user", "content": transcript_for_llm(transcript)},
    ]
    try:
        raw = orjson.loads(await model.complete_json(messages, _schema(fields)))
    except (LLMError, orjson.JSONDecodeError) as error:
        log.warning("post-call extraction failed: %s", error)
        return PostCall(coerce(fields, {}), known_outcome, None)
    if not isinstance(raw, dict):
        return PostCall(coerce(fields, {}), known_outcome, None)
    values = raw.get("fields") if isinstance(raw.get("fields"), dict) else {}
    outcome = raw.get("outcome") if raw.get("outcome") in OUTCOMES else None
    summary = raw.get("outcome_summary")
    return PostCall(
        structured_output=coerce(fields, values or {}),
        outcome=known_outcome or outcome,
        outcome_summary=str(summary)[:500] if summary else None,
    )
