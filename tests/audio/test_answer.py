"""The classifier's features on real audio: voice spans from pipecat's VAD over Silero,
the beep detector's tone, the recogniser's cues, and the decision they lead to (the
policy itself: tests/domain/test_answer_detection.py)."""

from __future__ import annotations

import numpy as np
import pytest

from openrevox.audio import codec
from openrevox.audio.answer import AnswerListener, classify
from openrevox.audio.codec import RATE, Samples
from openrevox.audio.tones import beep
from openrevox.audio.tts import CALLEE, Synthesizer
from openrevox.domain.answer_detection import CEILING, CarrierSignal


@pytest.fixture(scope="module")
def voice() -> Synthesizer:
    return Synthesizer()


def clip(voice: Synthesizer, *parts: str | float | Samples) -> Samples:
    """Silences (seconds), sentences (the callee's voice) and samples, over mu-law."""
    pieces = []
    for part in parts:
        if isinstance(part, float):
            pieces.append(np.zeros(round(part * RATE), dtype=np.int16))
        elif isinstance(part, str):
            pieces.append(voice.sentence(part, CALLEE).samples)
        else:
            pieces.append(part)
    return codec.ulaw_decode(codec.ulaw_encode(np.concatenate(pieces)))


def test_the_listener_keeps_voice_spans_and_tones_in_audio_time() -> None:
    listener = AnswerListener()
    for _ in range(50):  # one second of frames
        listener.frame(np.zeros(160, dtype=np.int16))
    for voiced in (False, True, True, False):
        listener.window(voiced)
    listener.beep(1200.0, started_frame=40)
    evidence = listener.opening.evidence(listener.now)
    assert listener.now == 1.0
    assert evidence.first_start == pytest.approx(0.032)  # the second 32 ms window
    assert evidence.first_voice == pytest.approx(0.064)
    assert [(tone.at, tone.hz) for tone in evidence.tones] == [(0.8, 1200.0)]
    assert len(listener.audio()) == RATE


def test_a_hello_is_a_person_soon_after_it(voice: Synthesizer) -> None:
    decision = classify(clip(voice, 0.6, "Hello?", 3.0)).decision
    assert decision.label == "human" and decision.reason == "timing:short_greeting"
    assert decision.at < 2.6  # the hello ends at 1.3 s; the recogniser's time counts
    assert 0.4 < decision.signals["first_voice_ms"] / 1000 < 0.9


def test_a_voicemail_greeting_is_known_by_its_words_before_it_ends(voice: Synthesizer) -> None:
    greeting = "Hi, you've reached Robin. I can't come to the phone, leave me a message."
    decision = classify(clip(voice, 0.5, greeting, 0.4, beep(0.5, 700.0))).decision
    assert decision.label == "voicemail" and decision.reason == "transcript:voicemail"


def test_a_beep_alone_is_a_voicemail_with_its_frequency(voice: Synthesizer) -> None:
    decision = classify(clip(voice, 0.8, beep(0.3, 1850.0), 2.0)).decision
    assert (decision.label, decision.reason) == ("voicemail", "beep")
    (tone,) = decision.signals["tones"]
    assert abs(tone["hz"] - 1850) <= 25 and abs(tone["at_ms"] - 800) <= 40


def test_silence_is_unknown_and_a_carriers_human_is_taken(voice: Synthesizer) -> None:
    silence = clip(voice, CEILING + 1.0)
    assert classify(silence).decision.label == "unknown"
    human = CarrierSignal(source="twilio", label="human", at=1.0, raw="human")
    decided = classify(silence, carrier=human).decision
    assert (decided.label, decided.signals["carrier"]["raw"]) == ("human", "human")
