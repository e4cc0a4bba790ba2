"""The agent's ``Line`` at audio fidelity.

The agent's logic (the sandbox agent, an LLM agent) talks to a ``telephony.base.Line``
and never sees audio: ``say`` is synthesized and streamed as paced mu-law frames,
``hear`` returns the callee's next utterance as VAD, the turn model and pocketsphinx
heard it, ``callee_speaking`` is true from the moment the VAD hears the callee start
until their utterance is transcribed, DTMF travels out of band (as RFC 2833 sends it).

Barge-in: when the callee starts speaking while the agent talks (the VAD hears them
start, or the STT sends interim words), the agent stops at once (the synthesis is
cancelled), and ``say`` returns the words really said, which is
what the transcript keeps.

The voice and the ears are the speech interfaces of ``speech.py``: a provider's
(``providers/``) or the bundled local kit's. A provider's failure raises its
``SpeechFault`` from ``start``, ``say`` or ``hear`` (the phone line turns it into a
``LineFault``). What was said and heard, and when, is logged
as the call's ``speech_events`` (``speech_log.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from openrevox.audio.ambience import ambience_for
from openrevox.audio.answer import AnswerDetection, AnswerListener
from openrevox.audio.codec import RATE
from openrevox.audio.ear import Ear, Inbox, TurnPolicy
from openrevox.audio.engine import AudioEngine
from openrevox.audio.mouth import Mouth
from openrevox.audio.side import CallSide
from openrevox.audio.silero import shared_silero
from openrevox.audio.speech import (
    SpeechFault,
    SpeechToText,
    TextToSpeech,
    UtteranceRecognition,
)
from openrevox.audio.speech_log import SpeechLog
from openrevox.audio.stt import PocketsphinxTranscriber, shared_recognizer
from openrevox.audio.tts import Style, Synthesizer, local_speech, voice_speed
from openrevox.audio.tts import sentences as split_sentences
from openrevox.audio.turn import shared_smart_turn
from openrevox.audio.wire import Dtmf, Hangup, Port, Transfer
from openrevox.domain.answer_detection import Decision


def callee_hints(assistant: Mapping[str, Any]) -> tuple[str, ...]:
    """What the callee is likely to say, from the assistant (phrase hints for the agent's
    recognizer, as STT services take them): FAQ questions, the fields asked for and
    their options, the assistant's name."""
    hints: list[str] = []
    for item in assistant.get("faq_items") or []:
        hints.append(str(item.get("question") or ""))
    for field in assistant.get("structured_output_config") or []:
        hints.append(str(field.get("description") or field.get("name", "")).replace("_", " "))
        hints.extend(str(option) for option in field.get("enum_options") or [])
    hints.append(str(assistant.get("name") or ""))
    return tuple(hint for hint in hints if hint.strip())


class AudioLine:
    """The agent's side of an audio call (a ``telephony.base.Line``)."""

    def __init__(self, side: CallSide, *, barge_in: bool = True) -> None:
        self.side = side
        self.barge_in = barge_in
        self.transfers: list[str] = []
        self.speech_log = SpeechLog()
        side.mouth.on_said = self.speech_log.agent_said
        side.ear.on_heard = self.speech_log.user_heard
        self._closed = False
        listener = side.ear.listener or AnswerListener()
        side.ear.listener = listener
        self.answer_detection = AnswerDetection(listener)

    @classmethod
    def open(
        cls,
        engine: AudioEngine,
        port: Port,
        assistant: Mapping[str, Any],
        *,
        turns: TurnPolicy,
        stt: SpeechToText | None = None,
        tts: TextToSpeech | None = None,
    ) -> AudioLine:
        """The agent's side for ``assistant`` (background sound; with the local kit,
        its voice speed and hints), not yet attached to the engine."""
        mouth = Mouth(
            tts or local_speech(Style(speed=voice_speed(assistant.get("voice")))),
            background=ambience_for(
                assistant.get("background_sound"), assistant.get("background_sound_volume")
            ),
        )
        line: AudioLine | None = None

        def barge_in() -> None:
            if line is not None and line.barge_in and mouth.speaking:
                mouth.interrupt()

        ear = Ear(
            stt or local_recognition(assistant),
            Inbox(),
            turns=turns,
            on_speech_start=barge_in,
            name="agent's ear",
        )
        line = cls(CallSide(engine, mouth, ear, port))

        def heard_words(text: str) -> None:
            # A streaming STT's interim words are the callee talking too: a second
            # trigger for barge-in, beside the VAD's start of speech.
            if text.strip():
                barge_in()

        ear.stt.on_interim = heard_words
        return line

    async def start(self) -> None:
        """Connect the voice and the ears (``SpeechFault`` when a provider cannot be
        reached); answer detection starts listening."""
        self.answer_detection.start()
        try:
            await asyncio.gather(self.side.mouth.voice.start(), self.side.ear.stt.start())
        except SpeechFault:
            await self.close_speech()
            raise

    async def close_speech(self) -> None:
        """Close the providers' connections."""
        for closing in (self.side.mouth.voice.close(), self.side.ear.stt.close()):
            with contextlib.suppress(Exception):  # a provider already gone
                await closing

    def llm_replied(self, ttft_ms: float | None, model: str | None) -> None:
        self.speech_log.llm_replied(ttft_ms, model)

    # -- telephony.base.Line --

    async def hear(self, wait: float) -> str | None:
        side = self.side
        if side.other_hung_up and side.ear.inbox.empty and not side.ear.hearing:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            item = await side.ear.inbox.get(max(deadline - loop.time(), 0.0))
            if item is None or isinstance(item, Hangup):
                return None
            if isinstance(item, SpeechFault):
                raise item
            if isinstance(item, str):
                return item

    async def say(self, text: str) -> str:
        if self._closed or self.side.other_hung_up:
            return ""
        return await self.side.mouth.say(text)

    async def answered_by(self, ceiling: float) -> Decision:
        return await self.answer_detection.decision(ceiling)

    async def heard_beep(self, wait: float) -> bool:
        try:
            await asyncio.wait_for(self.side.ear.beeped.wait(), wait)
        except TimeoutError:
            return False
        return True

    async def send_dtmf(self, digits: str) -> None:
        self.side.port.send_event(Dtmf(digits))

    async def transfer(self, number: str) -> bool:
        self.transfers.append(number)
        self.side.port.send_event(Transfer(number))
        return True

    async def hang_up(self) -> None:
        if not self._closed:
            self._closed = True
            self.side.port.send_event(Hangup())
            self.answer_detection.close()
            self.side.close()
            await self.close_speech()

    @property
    def callee_hung_up(self) -> bool:
        return self.side.other_hung_up

    @property
    def callee_speaking(self) -> bool:
        return self.side.ear.hearing


def local_recognition(assistant: Mapping[str, Any]) -> UtteranceRecognition:
    """The local kit's ears for ``assistant`` (pocketsphinx with its hints)."""
    return UtteranceRecognition(PocketsphinxTranscriber(shared_recognizer(callee_hints(assistant))))


def agent_hints(assistant: Mapping[str, Any]) -> Sequence[str]:
    """What the agent is likely to say (phrase hints for a simulated callee's ear)."""
    texts = [
        assistant.get("first_sentence"),
        assistant.get("end_of_call_sentence"),
        assistant.get("voicemail_message"),
        assistant.get("max_duration_end_message"),
        *(item.get("answer") for item in assistant.get("faq_items") or []),
    ]
    return tuple(str(text) for text in texts if text)


def preload(
    hint_sets: Iterable[Sequence[str]] = (), sentences: Iterable[tuple[str, Style]] = ()
) -> None:
    """Load every model an audio call needs (blocking, long the first time in a process,
    little after): Silero, smart-turn, the Piper voice, the recognizers for
    ``hint_sets``, and ``sentences`` into the voice's cache (a call's opening lines:
    they are spoken as soon as the line is up). Without it the first call's first
    words would wait for them."""
    shared_silero()
    shared_smart_turn().probability(np.zeros(RATE, dtype=np.int16))
    voice = Synthesizer()
    voice.sentence("Hello.")
    for text, style in sentences:
        for sentence in split_sentences(text):
            voice.sentence(sentence, style)
    for hints in hint_sets:
        shared_recognizer(hints).warm_up()
