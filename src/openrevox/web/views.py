"""What the call page shows of an attempt: its transcript as turns the player can follow,
tool calls as such, and the timings of its speech events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from openrevox.domain.transcripts import speaks
from openrevox.store.repositories.calls import AttemptRecord


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # assistant | user | tool | human_agent | ...
    content: str
    spoken: bool  # heard on the recording (assistant and callee speech)
    tool_name: str | None
    tool_arguments: str | None
    tool_output: str | None
    tool_is_error: bool
    start_ms: float | None  # from speech_events; None: the player estimates
    end_ms: float | None


@dataclass(frozen=True, slots=True)
class AttemptView:
    record: AttemptRecord
    turns: list[Turn]
    speech_events: list[dict[str, Any]]
    timing: str  # "speech_events" | "estimated" | "none"
    recording_url: str | None


_SPEAKER_OF_ROLE = {"assistant": "agent", "user": "user"}


def _arguments(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _speech_events(attempt: AttemptRecord) -> list[dict[str, Any]]:
    # Filled by carriers and audio calls where the store keeps them (the contract's
    # per-turn timings); attempts without them show the estimate.
    events = getattr(attempt, "speech_events", None)
    extension = getattr(attempt, "openrevox", None)
    if events is None and isinstance(extension, dict):
        events = extension.get("speech_events")
    if not isinstance(events, list):
        return []
    usable = [
        event
        for event in events
        if isinstance(event, dict) and isinstance(event.get("started_speaking_at_ms"), int | float)
    ]
    return sorted(usable, key=lambda event: float(event["started_speaking_at_ms"]))


def turns_of(
    transcript: Sequence[dict[str, Any]] | None, events: list[dict[str, Any]]
) -> tuple[list[Turn], str]:
    """The transcript's turns, timed from ``speech_events`` when each spoken turn has its
    event (in order, per speaker), else left for the player's proportional estimate."""
    entries = list(transcript or ())
    spoken_roles = [
        _SPEAKER_OF_ROLE.get(str(entry.get("role")))
        for entry in entries
        if str(entry.get("role")) in _SPEAKER_OF_ROLE and str(entry.get("content") or "").strip()
    ]
    real = [event for event in events if event.get("is_real_turn", True)]
    by_speaker: dict[str, list[dict[str, Any]]] = {"agent": [], "user": []}
    for event in real:
        by_speaker.setdefault(str(event.get("speaker")), []).append(event)
    timed = bool(spoken_roles) and all(
        spoken_roles.count(speaker) == len(by_speaker.get(speaker, []))
        for speaker in ("agent", "user")
    )
    used = {"agent": 0, "user": 0}
    turns: list[Turn] = []
    for entry in entries:
        role = str(entry.get("role"))
        content = str(entry.get("content") or "")
        speaker = _SPEAKER_OF_ROLE.get(role)
        spoken = speaker is not None and bool(content.strip())
        start = end = None
        if spoken and timed and speaker is not None:
            event = by_speaker[speaker][used[speaker]]
            used[speaker] += 1
            start = float(event["started_speaking_at_ms"])
            stop = event.get("stopped_speaking_at_ms")
            end = float(stop) if isinstance(stop, int | float) else None
        turns.append(
            Turn(
                role=role,
                content=content,
                spoken=spoken,
                tool_name=entry.get("tool_name"),
                tool_arguments=_arguments(entry.get("tool_arguments")),
                tool_output=_arguments(entry.get("tool_output")),
                tool_is_error=bool(entry.get("tool_is_error")),
                start_ms=start,
                end_ms=end,
            )
        )
    if timed:
        return turns, "speech_events"
    return turns, "estimated" if speaks(entries) else "none"


def attempt_view(attempt: AttemptRecord, recording_url: str | None) -> AttemptView:
    events = _speech_events(attempt)
    turns, timing = turns_of(attempt.transcript, events)
    return AttemptView(attempt, turns, events, timing, recording_url)
