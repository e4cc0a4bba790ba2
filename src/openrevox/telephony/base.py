"""The seam between the engine and a phone network, and between a line and its agent.

A provider places one call attempt and reports what happened; when the callee answers,
the provider hands the live ``Line`` to a ``Conversation`` (the agent) until either side
hangs up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from openrevox.domain.answer_detection import Decision

DialError = Literal[
    "number_non_attributed",
    "too_many_calls",
    "busy",
    "temporarily_unavailable",
    "no_answer",
    "no_international_permission",
    "precondition_failed",
    "non_classified_error",
]
EndedBy = Literal["agent", "user", "system"]


@dataclass(frozen=True, slots=True)
class CallRequest:
    attempt_id: str
    call_order_id: str
    organization_id: str
    to_number: str
    from_number: str
    attempt_number: int  # 1-based
    max_attempts: int
    assistant: dict[str, Any]
    prompt_variables: dict[str, str]
    direction: Literal["outbound", "inbound"] = "outbound"
    mode: Literal["live", "test"] = "test"  # the mode of the key that ordered the call
    timezone: str = "UTC"  # the recipient's (the order's): meetings are booked in it

    @property
    def remote_number(self) -> str:
        """The other party: the callee of an outbound call, the caller of an inbound one."""
        return self.to_number if self.direction == "outbound" else self.from_number


@dataclass(slots=True)
class TranscriptEntry:
    role: Literal["user", "assistant", "tool", "human_agent"]
    content: str
    tool_name: str | None = None
    tool_arguments: dict[str, Any] | str | None = None
    tool_is_error: bool | None = None
    tool_output: str | None = None

    def wire(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "content": self.content,
            "tool_name": self.tool_name,
            "tool_arguments": self.tool_arguments,
            "tool_is_error": self.tool_is_error,
            "tool_output": self.tool_output,
        }


class Transcript(list[TranscriptEntry]):
    """The transcript of a live call: each change is reported as it happens, so that
    ``GET /call/{id}`` shows a call in progress."""

    def __init__(self, on_change: Callable[[list[TranscriptEntry]], None] | None = None) -> None:
        super().__init__()
        self._on_change = on_change

    def append(self, entry: TranscriptEntry) -> None:
        super().append(entry)
        self.changed()

    def changed(self) -> None:
        """Report the transcript again (after an entry was edited in place)."""
        if self._on_change is not None:
            self._on_change(self)


@dataclass(slots=True)
class CallResult:
    """What a finished attempt reports back to the engine."""

    dial_error: DialError | None = None
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    result: str | None = None  # human | voicemail | IVR | unknown | ios-screening-filter
    ended_by: EndedBy | None = None
    end_reason: str | None = None
    transcript: list[TranscriptEntry] = field(default_factory=list)
    do_not_contact: bool = False
    outcome: str | None = None
    structured_output: dict[str, Any] | None = None
    unanswered_questions: tuple[str, ...] = ()
    outcome_summary: str | None = None
    # The platform failed mid-call (LLM, TTS, STT): the attempt ends ``error`` with this
    # reason and the order's retry policy applies.
    platform_error: str | None = None
    # The contract's per-turn timings (audio: ``agent/audio/speech_log.py``); None when
    # the attempt had no conversation, ``[]`` at text fidelity.
    speech_events: list[dict[str, Any]] | None = None
    # openrevox's own facts about the attempt (a carrier's raw codes...): merged into the
    # attempt's ``openrevox`` object (domain/attempt_extension.py).
    facts: dict[str, Any] = field(default_factory=dict)


class LineFault(Exception):
    """The line's media failed mid-call (speech synthesis, recognition, transport): the
    attempt ends ``error`` with ``reason`` and the order's retry policy applies."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class CallEvents(Protocol):
    """Progress a provider reports while the attempt runs (persisted by the engine)."""

    async def ringing(self, at: datetime) -> None: ...
    async def answered(self, at: datetime) -> None: ...
    def transcript_changed(self, entries: list[TranscriptEntry]) -> None:
        """The transcript so far (called often: the engine coalesces the writes)."""
        ...


class Line(Protocol):
    """The agent's side of an answered call (text fidelity: utterances as text)."""

    async def hear(self, wait: float) -> str | None:
        """The callee's next utterance; None on silence for ``wait`` seconds."""
        ...

    async def say(self, text: str) -> str:
        """Speak ``text``; returns what was really said: all of it, or the words said
        before the callee cut in (barge-in)."""
        ...

    async def send_dtmf(self, digits: str) -> None: ...
    async def transfer(self, number: str) -> bool: ...
    async def hang_up(self) -> None: ...

    @property
    def callee_hung_up(self) -> bool: ...

    @property
    def callee_speaking(self) -> bool:
        """True while the callee is talking: the agent does not talk over them."""
        ...

    async def answered_by(self, ceiling: float) -> Decision:
        """Who answered (``domain/answer_detection.py``): as soon as the line's answer
        detection decides, at most ``ceiling`` seconds after the answer. The agent's
        first words wait for it."""
        ...

    async def heard_beep(self, wait: float) -> bool:
        """Whether an answering machine's beep was heard (now or within ``wait``
        seconds): a structured tone event, never an utterance."""
        ...


@runtime_checkable
class ReplyTimings(Protocol):
    """A line that logs the agent's speech timings (audio lines: ``speech_events``)."""

    def llm_replied(self, ttft_ms: float | None, model: str | None) -> None:
        """The agent's next words are a reply whose first token took ``ttft_ms``."""
        ...


@dataclass(frozen=True, slots=True)
class ConversationOutcome:
    result: str  # human | voicemail | IVR | unknown | ios-screening-filter
    ended_by: EndedBy
    end_reason: str | None
    transcript: list[TranscriptEntry]
    do_not_contact: bool = False
    outcome: str | None = None
    structured_output: dict[str, Any] | None = None
    unanswered_questions: tuple[str, ...] = ()
    outcome_summary: str | None = None
    error: str | None = None  # a platform fault ended the call (``llm_timeout``...)


class Conversation(Protocol):
    """The agent of one answered call."""

    async def run(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
    ) -> ConversationOutcome:
        """Hold the conversation, writing to ``transcript`` as it goes; ``seconds``
        scales a real duration to this network's."""
        ...


ConversationFactory = Callable[[CallRequest], Conversation]


class TelephonyProvider(Protocol):
    async def place_call(
        self, request: CallRequest, events: CallEvents, conversation: ConversationFactory
    ) -> CallResult: ...
