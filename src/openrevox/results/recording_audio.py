"""A simulated call's recording, made from its transcript with the bundled Piper voice.

The file is what a call recorder would keep: PCM 16-bit stereo WAV, the agent on the left
channel and the callee on the right, at the voice's own 22,050 Hz (no resampling, so no
artefacts and no extra CPU; every browser plays PCM WAV at any rate). Turns follow each
other with short silences; the callee speaks about two semitones lower than the agent so
the two are told apart on one speaker too. An answering machine's beep is a real tone: the
tones the line heard (``openrevox.answer_detection.beeps``: their pitch and length) end the
callee's opening, and a ``[beep]`` in an older transcript is a 1 kHz tone in its place;
tool entries and other bracketed stage directions are not spoken.

Synthesis is CPU-bound: call ``render_recording`` in a worker thread.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from openrevox.voices.local_tts import LocalSpeech

AGENT: Final = 0  # left
CALLEE: Final = 1  # right
CHANNEL_OF_ROLE: Final = {"assistant": AGENT, "user": CALLEE}

LEAD_IN_SECONDS: Final = 0.3
GAP_SECONDS: Final = 0.45  # between two turns
BEEP_HZ: Final = 1000.0
BEEP_SECONDS: Final = 0.6
BEEP_LEVEL: Final = 0.35  # of full scale, about -9 dBFS
FADE_SECONDS: Final = 0.005  # no click at the tone's edges
# The callee's voice: synthesised faster by this factor, then stretched back to its
# natural length, which lowers its pitch by the same factor (~2 semitones).
CALLEE_PITCH: Final = 0.89

_DIRECTION = re.compile(r"(\[[^\]]*\])")

Samples = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Beep:
    hz: float = BEEP_HZ
    seconds: float = BEEP_SECONDS


Piece = str | Beep


@dataclass(frozen=True, slots=True)
class Turn:
    channel: int
    pieces: tuple[Piece, ...]


def beeps_of(facts: Mapping[str, Any] | None) -> tuple[Beep, ...]:
    """The tones an attempt's line heard, from its ``openrevox`` facts."""
    detection = (facts or {}).get("answer_detection") or {}
    beeps: list[Beep] = []
    for tone in detection.get("beeps") or ():
        try:
            beeps.append(Beep(float(tone["hz"]), float(tone["ms"]) / 1000))
        except (KeyError, TypeError, ValueError):
            continue  # a fact we cannot play is left out, never guessed
    return tuple(beep for beep in beeps if beep.hz > 0 and beep.seconds > 0)


def turns_of(transcript: Sequence[dict[str, Any]] | None, beeps: Sequence[Beep] = ()) -> list[Turn]:
    """What is heard on the line, in order: spoken text and beeps, by channel."""
    turns: list[Turn] = []
    for entry in transcript or ():
        channel = CHANNEL_OF_ROLE.get(str(entry.get("role")))
        content = str(entry.get("content") or "")
        if channel is None or not content.strip():
            continue  # tool calls and results, system notes
        pieces = tuple(_pieces(content))
        if pieces:
            turns.append(Turn(channel, pieces))
    if beeps and not any(isinstance(piece, Beep) for turn in turns for piece in turn.pieces):
        turns.insert(_end_of_callee_opening(turns), Turn(CALLEE, tuple(beeps)))
    return turns


def _end_of_callee_opening(turns: Sequence[Turn]) -> int:
    """Where a machine's beep sounds: after the callee's first turns (its greeting), before
    the agent's first turn that follows them (the agent waits for the beep)."""
    heard_callee = False
    for index, turn in enumerate(turns):
        if turn.channel == CALLEE:
            heard_callee = True
        elif heard_callee:
            return index
    return len(turns)


def _pieces(content: str) -> Iterator[Piece]:
    for part in _DIRECTION.split(content):
        if _DIRECTION.fullmatch(part):
            if part.strip("[] ").lower() == "beep":
                yield Beep()
            continue  # another stage direction: not audible
        if re.search(r"\w", part):
            yield part.strip()


def beep(rate: int, shape: Beep = Beep()) -> Samples:
    count = round(shape.seconds * rate)
    time = np.arange(count) / rate
    tone = np.sin(2 * np.pi * shape.hz * time) * BEEP_LEVEL
    fade = min(round(FADE_SECONDS * rate), count // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        tone[:fade] *= ramp
        tone[-fade:] *= ramp[::-1]
    return (tone * 32767).astype(np.int16)


def lower_pitch(samples: Samples, factor: float) -> Samples:
    """Stretch by 1/factor (linear interpolation): played at the same rate, every
    frequency is multiplied by ``factor``."""
    if len(samples) < 2:
        return samples
    length = round(len(samples) / factor)
    positions = np.linspace(0, len(samples) - 1, length)
    stretched = np.interp(positions, np.arange(len(samples)), samples.astype(np.float64))
    return np.clip(np.round(stretched), -32768, 32767).astype(np.int16)


def _decode(wav_bytes: bytes, rate: int) -> Samples:
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        if wav.getframerate() != rate or wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError("the voice did not produce mono 16-bit audio at its own rate")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16)


def speak(speech: LocalSpeech, text: str, channel: int, rate: int) -> Samples:
    if channel == CALLEE:
        return lower_pitch(
            _decode(speech.synthesize_wav(text, speed=1 / CALLEE_PITCH), rate), CALLEE_PITCH
        )
    return _decode(speech.synthesize_wav(text), rate)


def render_recording(
    transcript: Sequence[dict[str, Any]] | None,
    speech: LocalSpeech,
    beeps: Sequence[Beep] = (),
) -> bytes:
    """The stereo WAV of a transcript and the tones heard (blocking: seconds of CPU for a
    typical call)."""
    rate = speech.sample_rate
    placed: list[tuple[int, int, Samples]] = []  # (start sample, channel, audio)
    cursor = round(LEAD_IN_SECONDS * rate)
    gap = round(GAP_SECONDS * rate)
    for turn in turns_of(transcript, beeps):
        for piece in turn.pieces:
            audio = (
                beep(rate, piece)
                if isinstance(piece, Beep)
                else speak(speech, piece, turn.channel, rate)
            )
            placed.append((cursor, turn.channel, audio))
            cursor += len(audio) + gap // 3  # a breath between sentences of one turn
        cursor += gap - gap // 3
    return encode_stereo(placed, total=cursor, rate=rate)


def encode_stereo(placed: list[tuple[int, int, Samples]], *, total: int, rate: int) -> bytes:
    frames = np.zeros((max(total, 1), 2), dtype=np.int16)
    for start, channel, audio in placed:
        frames[start : start + len(audio), channel] = audio
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames.astype("<i2").tobytes())
    return buffer.getvalue()


def duration_of(wav_bytes: bytes) -> float:
    with wave.open(io.BytesIO(wav_bytes), "rb") as wav:
        return wav.getnframes() / wav.getframerate()
