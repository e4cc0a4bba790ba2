"""The one interface every LLM provider implements, and the types it speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = dict[str, Any]  # an OpenAI chat message: role, content, tool_calls, tool_call_id
ToolSpec = dict[str, Any]  # an OpenAI tool: {"type": "function", "function": {...}}


class LLMError(Exception):
    """The model could not answer: ``reason`` is what the attempt records
    (``llm_timeout``, ``llm_error``, ``llm_unreachable``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]
    raw_arguments: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the assistant's answer, as it streams."""

    text: str


@dataclass(slots=True)
class Reply:
    """The whole answer of one completion: its text and the tools it called."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)

    def as_message(self) -> Message:
        message: Message = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.raw_arguments},
                }
                for call in self.tool_calls
            ]
        return message


class ChatModel(Protocol):
    """A chat model behind an OpenAI-compatible endpoint."""

    @property
    def name(self) -> str: ...

    def stream(
        self, messages: list[Message], tools: list[ToolSpec] | None = None
    ) -> AsyncIterator[TextDelta | Reply]:
        """Text deltas as they come, then the whole ``Reply`` last. Raises ``LLMError``."""
        ...

    async def complete_json(self, messages: list[Message], schema: dict[str, Any]) -> str:
        """One non-streamed completion constrained to a JSON schema: its raw text."""
        ...
