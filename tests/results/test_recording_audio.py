"""The transcript-to-stereo renderer, with a stand-in voice that hums a 300 Hz tone (fast
and exactly measurable); the real Piper voice is exercised end to end in test_recordings."""

from __future__ import annotations

import io
import wave

import numpy as np

from openrevox.results.recording_audio import (
    BEEP_SECONDS,
    CALLEE_PITCH,
    GAP_SECONDS,
    Beep,
    beeps_of,
    render_recording,
    turns_of,
)
from tests.results.audio import decode

RATE = 22050
HUM_HZ = 300.0


class HummingVoice:
    """Speaks every character as 40 ms of a 300 Hz tone (faster speech: shorter)."""

    sample_rate = RATE

    def __init__(self) -> None:
        self.spoken: list[tuple[str, float]] = []

    def synthesize_wav(self, text: str, *, speed: float = 1.0) -> bytes:
        self.spoken.append((text, speed))
        count = int(len(text) * 0.04 / speed * RATE)
        tone = np.sin(2 * np.pi * HUM_HZ * np.arange(count) / RATE) * 8000
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(tone.astype("<i2").tobytes())
        return buffer.getvalue()


def entry(role: str, content: str | None, **tool: object) -> dict[str, object]:
    return {"role": role, "content": content, **tool}


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[spectrum.argmax()])


def test_tool_entries_and_stage_directions_are_not_spoken() -> None:
    transcript = [
        entry("user", "Hello?"),
        entry("tool", "transferred", tool_name="transfer_call"),
        entry("assistant", "Hi [pause] there."),
        entry("assistant", "   "),
        entry("user", "[dtmf 1]"),
        entry("system", "note"),
    ]
    voice = HummingVoice()
    render_recording(transcript, voice)  # type: ignore[arg-type]
    assert [text for text, _ in voice.spoken] == ["Hello?", "Hi", "there."]
    assert len(turns_of(transcript)) == 2


def test_agent_left_callee_right_one_after_the_other() -> None:
    voice = HummingVoice()
    transcript = [entry("assistant", "a" * 25), entry("user", "b" * 25)]
    audio = decode(render_recording(transcript, voice))  # type: ignore[arg-type]
    assert (audio.channels, audio.rate) == (2, RATE)
    agent, callee = audio.active_windows(0), audio.active_windows(1)
    assert agent.any() and callee.any() and not (agent & callee).any()
    last_agent = np.flatnonzero(agent).max()
    first_callee = np.flatnonzero(callee).min()
    silence = (first_callee - last_agent - 1) * 0.05
    assert GAP_SECONDS - 0.1 <= silence <= GAP_SECONDS + 0.1
    # Each turn lasts what the voice said (1 s for 25 characters).
    assert abs(agent.sum() * 0.05 - 1.0) < 0.1 and abs(callee.sum() * 0.05 - 1.0) < 0.1


def test_the_callee_speaks_lower_at_a_natural_pace() -> None:
    voice = HummingVoice()
    audio = decode(render_recording([entry("user", "c" * 50)], voice))  # type: ignore[arg-type]
    assert voice.spoken == [("c" * 50, 1 / CALLEE_PITCH)]
    right = audio.samples[:, 1]
    sounding = right[np.abs(right) > 0]
    assert abs(len(sounding) / RATE - 2.0) < 0.05  # 50 characters: 2 s, as the agent would
    assert abs(dominant_hz(sounding) - HUM_HZ * CALLEE_PITCH) < 3


def test_a_beep_is_a_one_kilohertz_tone_on_the_speakers_channel() -> None:
    voice = HummingVoice()
    transcript = [entry("user", "Leave a message. [beep]")]
    audio = decode(render_recording(transcript, voice))  # type: ignore[arg-type]
    right = audio.samples[:, 1]
    active = np.flatnonzero(np.abs(right) > 0)
    beep = right[active[-1] - int(BEEP_SECONDS * RATE) + 1 : active[-1] + 1]
    assert abs(dominant_hz(beep) - 1000.0) < 2
    assert audio.tone_ratio(1, 1000.0, active[-1] - int(0.5 * RATE), int(0.4 * RATE)) > 0.95
    assert not audio.samples[:, 0].any()  # nothing on the agent's side


def test_an_empty_transcript_gives_a_valid_short_file() -> None:
    audio = decode(render_recording([], HummingVoice()))  # type: ignore[arg-type]
    assert audio.channels == 2 and audio.duration < 0.5


def test_the_tones_the_line_heard_end_the_callees_opening() -> None:
    facts = {"answer_detection": {"beeps": [{"at_ms": 2100, "hz": 620, "ms": 400}]}}
    beeps = beeps_of(facts)
    assert beeps == (Beep(620.0, 0.4),)
    transcript = [entry("user", "Leave a message."), entry("assistant", "Hi, call us back.")]
    turns = turns_of(transcript, beeps)
    assert [turn.channel for turn in turns] == [1, 1, 0]
    assert turns[1].pieces == beeps
    audio = decode(render_recording(transcript, HummingVoice(), beeps))  # type: ignore[arg-type]
    callee = np.flatnonzero(audio.samples[:, 1])
    agent = np.flatnonzero(audio.samples[:, 0])
    assert callee[-1] < agent[0]  # the agent speaks after the beep
    assert audio.tone_ratio(1, 620.0, callee[-1] - int(0.3 * RATE), int(0.2 * RATE)) > 0.95


def test_unreadable_tone_facts_are_left_out() -> None:
    facts = {"answer_detection": {"beeps": [{"hz": "x", "ms": 300}, {"hz": 500}, None]}}
    assert beeps_of(facts) == ()
    assert beeps_of(None) == ()
