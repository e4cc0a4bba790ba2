"""How the call page times a transcript against its recording: from speech_events when
every spoken turn has its event, else left to the player's proportional estimate."""

from __future__ import annotations

from typing import Any

from openrevox.web.views import turns_of

TRANSCRIPT: list[dict[str, Any]] = [
    {"role": "assistant", "content": "Hi Ada, this is Acme."},
    {"role": "user", "content": "Hello?"},
    {"role": "tool", "content": "ok", "tool_name": "lookup", "tool_arguments": {"a": 1}},
    {"role": "user", "content": "   "},  # nothing said: not a spoken turn
    {"role": "assistant", "content": "Bye!"},
]


def _event(speaker: str, start: float, stop: float | None, real: bool = True) -> dict[str, Any]:
    return {
        "speaker": speaker,
        "started_speaking_at_ms": start,
        "stopped_speaking_at_ms": stop,
        "is_real_turn": real,
    }


def test_speech_events_time_each_spoken_turn_in_order_per_speaker() -> None:
    events = [
        _event("agent", 200, 1500),
        _event("user", 1800, 2300),
        _event("user", 2400, 2450, real=False),  # a blip: not a turn
        _event("agent", 3000, None),
    ]
    turns, source = turns_of(TRANSCRIPT, events)
    assert source == "speech_events"
    spoken = [(t.content, t.start_ms, t.end_ms) for t in turns if t.spoken]
    assert spoken == [
        ("Hi Ada, this is Acme.", 200.0, 1500.0),
        ("Hello?", 1800.0, 2300.0),
        ("Bye!", 3000.0, None),
    ]
    tool = turns[2]
    assert (tool.role, tool.tool_name, tool.tool_arguments) == ("tool", "lookup", '{"a":1}')
    assert not tool.spoken and tool.start_ms is None


def test_without_matching_events_the_player_estimates() -> None:
    turns, source = turns_of(TRANSCRIPT, [_event("agent", 0, 100)])  # one event, 3 turns
    assert source == "estimated"
    assert all(t.start_ms is None for t in turns)
    assert turns_of(TRANSCRIPT, [])[1] == "estimated"
    assert turns_of([{"role": "tool", "content": "x"}], [])[1] == "none"
    assert turns_of(None, []) == ([], "none")
