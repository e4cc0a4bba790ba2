"""Who answered: the one policy that combines the evidence of a call's first seconds.

The evidence (``Opening``) is gathered by whoever hears the line: the audio kit from
real audio (``audio/answer.py``: voice activity, the beep detector, a recogniser's
transcript of the opening), the simulated network at text fidelity from its utterances
and structured tone events, a carrier from its own detection (a ``CarrierSignal``).
``decide`` reads a snapshot of it (``Evidence``) and answers as soon as the evidence
allows, or None to keep listening; at ``CEILING`` it always answers. Times are seconds
since the answer. docs/answer-detection.md describes the rules and their measured
figures (bench/answer_detection.py).

Rules, strongest first:

1. a beep (a steady tone of 0.1 s or more): ``voicemail``;
2. the transcript's cues: call screening asking for a name and a reason, then a menu
   (press/dial a digit), then a voicemail greeting;
3. the carrier's beep (a machine that ended with a beep): ``voicemail``;
4. timing: a short first utterance followed by quiet, its transcript without a cue:
   ``human`` (a person says "hello?" and waits); a longer one that ended, the same;
5. no voice at all by ``SILENT_AFTER``: ``unknown``;
6. at the ceiling: a carrier's verdict if it gave one, else a long unbroken greeting is
   a ``voicemail``, anything else ``human`` (a person taken for a machine is the costly
   error: the agent would hang up on them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Label = Literal["human", "voicemail", "IVR", "ios-screening-filter", "unknown"]
Cue = Literal["screening", "menu", "voicemail"]
CarrierLabel = Literal["human", "machine", "fax", "unknown"]

# The agent's first sentence waits for the decision at most this long after the answer.
# Only a voice that goes on without a pause can keep it waiting that long (silence is
# decided at SILENT_AFTER, a short greeting at its pause): the agent would not talk over
# it anyway, and a menu's or a greeting's words come with time.
CEILING: Final = 6.0
# Quiet after a voice that ends the first utterance: a person who said hello waits
# longer than this; a recorded greeting goes on to its next sentence sooner.
END_PAUSE: Final = 0.8
# A first utterance up to this long, then quiet: a person who said hello and waits.
SHORT_UTTERANCE: Final = 1.6
# Quiet from the answer with no voice at all: nobody speaks, the agent may.
SILENT_AFTER: Final = 2.5
# An unbroken voice this long by the ceiling, with no cue: a machine's greeting.
MACHINE_SPEECH: Final = 4.5
# The recogniser is asked about the opening every this much voice while it goes on.
CHECK_EVERY: Final = 0.6
FIRST_CHECK: Final = 1.0
_EPSILON: Final = 1e-9  # sums of durations in floating point
_PAUSED: Final = 0.2  # quiet after which the recogniser hears the utterance so far

# Phrases, not a corpus: what voicemail greetings, phone menus and call-screening
# assistants say in general (never copied from the evaluation corpus, whose texts are
# held out of every list here; docs/answer-detection.md).
_CUES: Final[tuple[tuple[Cue, re.Pattern[str]], ...]] = (
    (
        "screening",
        re.compile(
            r"\b(record|say|state|tell me) (your|you're) name\b|\bname and (the )?reason\b"
            r"|\breason for (your )?call(ing)?\b|\bscreening\b|\bwhy (you're|you are) calling\b"
            r"|\bsee if (this|the) person is available\b"
        ),
    ),
    (
        "menu",
        re.compile(
            r"\b(press|dial|select)( one| two| three| four| five| six| seven| eight| nine"
            r"| zero| star| pound| \d)\b|\bmenu\b|\boptions? (have|has) changed\b"
            r"|\bfor (sales|support|billing|english)\b.*\bpress\b|\bextension\b"
        ),
    ),
    (
        "voicemail",
        re.compile(
            r"\bleave (a|your|me a) (message|name)\b|\bafter the (tone|beep)\b"
            r"|\b(can't|cannot|can not|unable to) (take|get to|answer|come to)\b"
            r"|\bnot available\b|\bvoice ?mail\b|\bmailbox\b|\byou('ve| have) reached\b"
            r"|\bget back to you\b|\bat the tone\b|\brecord your message\b"
            r"|\bhave reached\b|\bmessage\b|\bbeep\b"
        ),
    ),
)
_LABEL_OF_CUE: Final[dict[Cue, Label]] = {
    "screening": "ios-screening-filter",
    "menu": "IVR",
    "voicemail": "voicemail",
}


def cues(text: str) -> tuple[Cue, ...]:
    """The cues ``text`` carries, strongest first (see ``_CUES``)."""
    spoken = " ".join(re.findall(r"[a-z0-9']+", text.lower()))
    return tuple(cue for cue, pattern in _CUES if pattern.search(spoken))


@dataclass(frozen=True, slots=True)
class Tone:
    """A steady tone heard ``at`` seconds after the answer (its start)."""

    at: float
    hz: float
    seconds: float | None = None  # its length, when it has ended


@dataclass(frozen=True, slots=True)
class CarrierSignal:
    """A carrier's own detection (Twilio's ``AnsweredBy``, Telnyx's result), as a small
    typed value: who it says answered, whether the machine ended with a beep, when."""

    source: str  # "twilio", "telnyx"...
    label: CarrierLabel
    at: float
    beep: bool = False
    raw: str = ""  # the carrier's own word (``machine_end_beep``...)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A snapshot of the opening at ``now``."""

    now: float
    first_start: float | None  # the first voice's start
    first_end: float | None  # the first utterance's end (quiet of END_PAUSE after it)
    voiced_until: float | None  # the last voice heard so far
    first_voice: float  # the first utterance's length so far (short pauses included)
    tones: tuple[Tone, ...] = ()
    transcript: str = ""
    transcribed_until: float = 0.0  # the audio the transcript covers
    carrier: CarrierSignal | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    label: Label
    confidence: float
    at: float  # seconds after the answer
    reason: str
    signals: dict[str, Any] = field(default_factory=dict)

    def facts(self) -> dict[str, Any]:
        """The attempt's ``openrevox.answer_detection`` object."""
        return {
            "result": self.label,
            "confidence": round(self.confidence, 2),
            "decided_ms": round(self.at * 1000),
            "reason": self.reason,
            "signals": self.signals,
        }


def _signals(evidence: Evidence) -> dict[str, Any]:
    signals: dict[str, Any] = {
        "first_voice_ms": _ms(evidence.first_start),
        "first_utterance_ms": round(evidence.first_voice * 1000),
        "first_end_ms": _ms(evidence.first_end),
        "tones": [
            {"at_ms": _ms(tone.at), "hz": round(tone.hz), "ms": _ms(tone.seconds)}
            for tone in evidence.tones
        ],
        "transcript": evidence.transcript,
        "cues": list(cues(evidence.transcript)),
    }
    if evidence.carrier is not None:
        carrier = evidence.carrier
        signals["carrier"] = {
            "source": carrier.source,
            "label": carrier.label,
            "beep": carrier.beep,
            "raw": carrier.raw,
            "at_ms": _ms(carrier.at),
        }
    return signals


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def decide(evidence: Evidence, *, final: bool = False) -> Decision | None:
    """Who answered, from ``evidence``; None while it is too early to say (never when
    ``final`` or at the ceiling)."""
    final = final or evidence.now >= CEILING

    def made(label: Label, confidence: float, reason: str) -> Decision:
        return Decision(label, confidence, evidence.now, reason, _signals(evidence))

    if evidence.tones:
        return made("voicemail", 0.98, "beep")
    found = cues(evidence.transcript)
    if found:
        return made(_LABEL_OF_CUE[found[0]], 0.95, f"transcript:{found[0]}")
    carrier = evidence.carrier
    if carrier is not None and carrier.label == "machine" and carrier.beep:
        return made("voicemail", 0.9, "carrier:beep")
    first_end = evidence.first_end
    heard_it_all = first_end is not None and evidence.transcribed_until >= first_end
    if first_end is not None and heard_it_all:
        if evidence.first_voice <= SHORT_UTTERANCE:
            return made("human", 0.9, "timing:short_greeting")
        return made("human", 0.7, "timing:sentence")
    if evidence.first_start is None and evidence.now >= SILENT_AFTER:
        if carrier is not None and carrier.label == "human":
            return made("human", 0.6, "carrier:human")
        return made("unknown", 0.8, "silence")
    if not final:
        return None
    if carrier is not None and carrier.label in ("human", "machine"):
        label: Label = "human" if carrier.label == "human" else "voicemail"
        return made(label, 0.6, f"carrier:{carrier.label}")
    if evidence.first_voice >= MACHINE_SPEECH:
        return made("voicemail", 0.6, "timing:long_greeting")
    if evidence.first_start is None:
        return made("unknown", 0.5, "silence")
    return made("human", 0.5, "ceiling")


class Opening:
    """The evidence of one call's opening, gathered as it comes (voice spans, tones,
    transcripts, the carrier's signal); pure bookkeeping, no I/O."""

    def __init__(self) -> None:
        self._first_start: float | None = None
        self._first_end: float | None = None
        self._voiced_until: float | None = None
        self._first_voice = 0.0
        self._tones: list[Tone] = []
        self._transcript = ""
        self._transcribed_until = 0.0
        self._carrier: CarrierSignal | None = None
        self._asked_until = 0.0
        self.decision: Decision | None = None

    def voice(self, start: float, end: float) -> None:
        """Voice from ``start`` to ``end`` (consecutive spans may touch)."""
        if end <= start or self._first_end is not None:
            return
        if self._voiced_until is not None and start - self._voiced_until >= END_PAUSE - _EPSILON:
            self._first_end = self._voiced_until  # a pause ended the first utterance
            return
        if self._first_start is None:
            self._first_start = start
        self._voiced_until = max(end, self._voiced_until or end)
        self._first_voice = self._voiced_until - self._first_start

    def tone(self, tone: Tone) -> None:
        self._tones.append(tone)

    def heard(self, text: str, until: float) -> None:
        """The recogniser's text of the opening's audio up to ``until``."""
        if until >= self._transcribed_until:
            self._transcript, self._transcribed_until = text, until

    def carrier(self, signal: CarrierSignal) -> None:
        self._carrier = signal

    def wants_transcript(self, now: float) -> bool:
        """Whether the recogniser should hear the opening up to ``now``: once the
        voice paused (its text decides between a person and a machine), and every
        ``CHECK_EVERY`` of unbroken voice from ``FIRST_CHECK`` (a greeting's cues,
        before it ends)."""
        if self.decision is not None or self._voiced_until is None:
            return False
        if now - self._voiced_until >= _PAUSED and self._transcribed_until < self._voiced_until:
            return self._asked_until < self._voiced_until  # once per pause
        voice = self._first_voice if self._first_end is None else 0.0
        return voice >= FIRST_CHECK and now - self._asked_until >= CHECK_EVERY

    def asked(self, now: float) -> None:
        """The recogniser was asked about the audio up to ``now``."""
        self._asked_until = now

    @property
    def speaking_for(self) -> float:
        """Seconds of voice in the first utterance so far (0 once it ended)."""
        return 0.0 if self._first_end is not None else self._first_voice

    def first_ended(self, now: float) -> float | None:
        if self._first_end is not None:
            return self._first_end
        if self._voiced_until is not None and now - self._voiced_until >= END_PAUSE - _EPSILON:
            return self._voiced_until
        return None

    @property
    def tones(self) -> tuple[Tone, ...]:
        return tuple(self._tones)

    def facts(self) -> dict[str, Any]:
        """The attempt's ``openrevox`` facts: the decision (if one was made) and every
        tone heard in the call, before or after it."""
        if self.decision is None:
            return {}
        beeps = [
            {"at_ms": _ms(tone.at), "hz": round(tone.hz), "ms": _ms(tone.seconds)}
            for tone in self._tones
        ]
        return {"answer_detection": {**self.decision.facts(), "beeps": beeps}}

    @property
    def transcribed_until(self) -> float:
        return self._transcribed_until

    def evidence(self, now: float) -> Evidence:
        return Evidence(
            now=now,
            first_start=self._first_start,
            first_end=self.first_ended(now),
            voiced_until=self._voiced_until,
            first_voice=self._first_voice,
            tones=tuple(self._tones),
            transcript=self._transcript,
            transcribed_until=self._transcribed_until,
            carrier=self._carrier,
        )

    def decide(self, now: float, *, final: bool = False) -> Decision | None:
        """The decision, made once: later calls return the same one."""
        if self.decision is None:
            self.decision = decide(self.evidence(now), final=final)
        return self.decision
