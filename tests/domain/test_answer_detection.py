"""The answer policy on hand-made evidence: each rule, its order, the ceiling, the
carrier's signal as one optional input, and the bookkeeping of an opening."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openrevox.domain.answer_detection import (
    CEILING,
    END_PAUSE,
    MACHINE_SPEECH,
    SILENT_AFTER,
    CarrierSignal,
    Evidence,
    Opening,
    Tone,
    cues,
    decide,
)

QUIET = Evidence(now=1.0, first_start=None, first_end=None, voiced_until=None, first_voice=0.0)


def hello(now: float = 1.6) -> Evidence:
    """'Hello?' from 0.5 to 1.0 s, transcribed, then quiet."""
    return Evidence(
        now=now, first_start=0.5, first_end=1.0, voiced_until=1.0, first_voice=0.5,
        transcript="Hello?", transcribed_until=1.1,
    )  # fmt: skip


def talking(now: float, transcript: str = "") -> Evidence:
    """A voice from 0.5 s still going at ``now``."""
    return Evidence(
        now=now, first_start=0.5, first_end=None, voiced_until=now, first_voice=now - 0.5,
        transcript=transcript, transcribed_until=now - 0.3 if transcript else 0.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, you've reached the Parkers, leave a message", ("voicemail",)),
        ("Sorry I cannot take your call", ("voicemail",)),
        ("for billing press 2", ("menu",)),
        ("Please listen as our menu has changed", ("menu",)),
        ("Please say your name and why you're calling", ("screening",)),
        ("If you record your name and reason for calling", ("screening",)),
        ("Hello? Who is this?", ()),
        ("Yeah, this is Dana, what can I do for you?", ()),
    ],
)
def test_cues_are_general_phrases_of_each_kind(text: str, expected: tuple[str, ...]) -> None:
    assert cues(text) == expected


def test_a_short_hello_then_quiet_is_a_person() -> None:
    decision = decide(hello())
    assert decision is not None and decision.label == "human"
    assert decision.reason == "timing:short_greeting" and decision.at == 1.6


def test_a_person_is_not_decided_before_their_words_are_heard() -> None:
    assert decide(replace(hello(), transcribed_until=0.8)) is None  # text of part of it


def test_a_person_who_answers_with_a_sentence_is_a_person() -> None:
    sentence = replace(hello(4.0), first_end=3.2, voiced_until=3.2, first_voice=2.7,
                       transcript="Yes, this is Dana speaking, who's calling?",
                       transcribed_until=3.4, now=3.7)  # fmt: skip
    decision = decide(sentence)
    assert decision is not None and (decision.label, decision.reason) == (
        "human",
        "timing:sentence",
    )


def test_a_greeting_still_going_waits_for_more_evidence() -> None:
    assert decide(talking(2.0, "Hi there")) is None


@pytest.mark.parametrize(
    ("transcript", "label"),
    [
        ("Hi you've reached Dana", "voicemail"),
        ("Thank you for calling. For sales press 1", "IVR"),
        ("Please state your name and the reason for your call", "ios-screening-filter"),
        # screening asks for a name like a voicemail does: screening wins
        ("Leave your name and reason for calling", "ios-screening-filter"),
    ],
)
def test_transcript_cues_decide_before_the_greeting_ends(transcript: str, label: str) -> None:
    decision = decide(talking(2.0, transcript))
    assert decision is not None and decision.label == label and decision.at == 2.0


def test_a_beep_is_a_voicemail_whatever_else_was_heard() -> None:
    beeped = replace(hello(), tones=(Tone(at=1.2, hz=1400.0),))
    decision = decide(beeped)
    assert decision is not None and (decision.label, decision.reason) == ("voicemail", "beep")
    assert decision.signals["tones"] == [{"at_ms": 1200, "hz": 1400, "ms": None}]


def test_silence_is_unknown_after_a_while_not_before() -> None:
    assert decide(replace(QUIET, now=SILENT_AFTER - 0.1)) is None
    decision = decide(replace(QUIET, now=SILENT_AFTER))
    assert decision is not None and decision.label == "unknown"


def test_at_the_ceiling_a_long_unbroken_greeting_is_a_voicemail() -> None:
    decision = decide(talking(CEILING, "Hi there it's Dana and Sam"))
    assert decision is not None and decision.label == "voicemail"
    assert decision.reason == "timing:long_greeting"


def test_at_the_ceiling_a_shorter_voice_is_taken_for_a_person() -> None:
    evidence = replace(talking(CEILING), first_start=CEILING - MACHINE_SPEECH + 0.3)
    evidence = replace(evidence, first_voice=MACHINE_SPEECH - 0.3)
    decision = decide(evidence)
    assert decision is not None and (decision.label, decision.reason) == ("human", "ceiling")


def test_final_forces_a_decision_before_the_ceiling() -> None:
    assert decide(talking(2.0)) is None
    forced = decide(talking(2.0), final=True)
    assert forced is not None and forced.label == "human" and forced.confidence == 0.5


# -- the carrier's detection: one optional signal --


def carrier(label: str, *, beep: bool = False, raw: str = "") -> CarrierSignal:
    return CarrierSignal(source="twilio", label=label, at=1.8, beep=beep, raw=raw)  # type: ignore[arg-type]


def test_a_carriers_machine_with_a_beep_is_a_voicemail() -> None:
    evidence = replace(talking(2.0), carrier=carrier("machine", beep=True, raw="machine_end_beep"))
    decision = decide(evidence)
    assert decision is not None and (decision.label, decision.reason) == (
        "voicemail",
        "carrier:beep",
    )
    assert decision.signals["carrier"] == {
        "source": "twilio", "label": "machine", "beep": True, "raw": "machine_end_beep",
        "at_ms": 1800,
    }  # fmt: skip


def test_a_carriers_verdict_settles_the_ceiling_but_not_our_evidence() -> None:
    long_voice = talking(CEILING)
    said_human = decide(replace(long_voice, carrier=carrier("human", raw="human")))
    assert said_human is not None and said_human.label == "human"
    short = replace(talking(CEILING), first_voice=1.0)
    said_machine = decide(replace(short, carrier=carrier("machine", raw="machine_start")))
    assert said_machine is not None and said_machine.label == "voicemail"
    # our own evidence comes first: a person's hello against a carrier's "machine"
    ours = decide(replace(hello(), carrier=carrier("machine", raw="machine_start")))
    assert ours is not None and ours.label == "human"
    # a cue against a carrier's "human"
    cued = decide(replace(talking(2.0, "press 1 for sales"), carrier=carrier("human")))
    assert cued is not None and cued.label == "IVR"


def test_a_carrier_saying_human_turns_silence_into_a_person() -> None:
    decision = decide(replace(QUIET, now=SILENT_AFTER, carrier=carrier("human")))
    assert decision is not None and (decision.label, decision.reason) == ("human", "carrier:human")


# -- an opening, gathered as it comes --


def test_an_opening_ends_its_first_utterance_at_a_pause() -> None:
    opening = Opening()
    opening.voice(0.5, 0.7)
    opening.voice(0.7, 1.0)
    opening.voice(1.1, 1.2)  # a short gap: the same utterance
    assert opening.first_ended(1.2 + END_PAUSE - 0.01) is None
    assert opening.first_ended(1.2 + END_PAUSE) == 1.2
    opening.voice(2.0, 2.5)  # after a pause: a second utterance, not counted
    evidence = opening.evidence(2.6)
    assert (evidence.first_start, evidence.first_end, evidence.first_voice) == (0.5, 1.2, 0.7)


def test_an_opening_asks_for_text_at_a_pause_and_while_a_greeting_goes_on() -> None:
    opening = Opening()
    opening.voice(0.5, 1.2)
    assert not opening.wants_transcript(1.3)  # still within the voice's tail
    assert opening.wants_transcript(1.45)
    opening.asked(1.45)
    assert not opening.wants_transcript(1.5)  # once per pause
    opening.heard("hello", 1.45)
    long = Opening()
    long.voice(0.5, 1.4)
    assert not long.wants_transcript(1.4)  # under a second of voice
    long.voice(1.4, 1.6)
    assert long.wants_transcript(1.6)
    long.asked(1.6)
    long.voice(1.6, 2.0)
    assert not long.wants_transcript(2.0)
    long.voice(2.0, 2.2)
    assert long.wants_transcript(2.2)


def test_an_opening_decides_once_and_keeps_every_beep_in_its_facts() -> None:
    opening = Opening()
    opening.voice(0.5, 1.0)
    opening.heard("Hello?", 1.2)
    decision = opening.decide(1.9)
    assert decision is not None and decision.label == "human"
    opening.tone(Tone(at=3.0, hz=850.0, seconds=0.4))
    assert opening.decide(3.5) is decision
    facts = opening.facts()["answer_detection"]
    assert facts["result"] == "human" and facts["decided_ms"] == 1900
    assert facts["beeps"] == [{"at_ms": 3000, "hz": 850, "ms": 400}]
    assert Opening().facts() == {}
