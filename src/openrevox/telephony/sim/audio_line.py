"""A simulated line at audio fidelity: both ends of one call, talking in real audio.

The persona scripts (``person.py``) run unchanged on it: ``person_says`` speaks into the
line in real time with the callee's voice (the bundled Piper voice, two semitones
higher than the agent's), ``person_hears`` returns what the callee's own VAD, turn model
and pocketsphinx made of the agent's audio, ``person_beeps`` plays a real tone (its
frequency and length drawn from the line's seed). The agent's answer detection listens
to the audio (``audio/answer.py``), not to the persona's script. The agent
gets its ``AudioLine`` face (``hear``/``say``/``speak``...). Between them, 8 kHz mu-law
frames every 20 ms, paced by the process's audio engine, and out-of-band events (DTMF,
hang-up). Everything runs in real time: the speed factor is 1.

The agent's voice and ears are the ones the call was given (a speech provider's or the
local kit's); the callee always speaks and hears with the local kit. A speech provider's
failure reaches the agent as a ``LineFault``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Final

from openrevox.audio.ear import Ear, Inbox, TurnPolicy
from openrevox.audio.engine import AudioEngine, loop_engine
from openrevox.audio.line import AudioLine, agent_hints, callee_hints, preload
from openrevox.audio.mouth import Mouth
from openrevox.audio.side import CallSide
from openrevox.audio.speech import (
    SpeechFault,
    SpeechToText,
    TextToSpeech,
    UtteranceRecognition,
)
from openrevox.audio.stt import PocketsphinxTranscriber, shared_recognizer
from openrevox.audio.tones import beep
from openrevox.audio.tts import CALLEE, Style, local_speech, voice_speed
from openrevox.audio.turn import shared_smart_turn
from openrevox.audio.wire import Dtmf, Hangup, Port, Wire
from openrevox.domain.answer_detection import Decision
from openrevox.telephony.base import LineFault
from openrevox.telephony.sim.line import SimLine, Utterance
from openrevox.telephony.sim.person import MACHINE_OPENINGS

# Both ears end a turn after half a second of quiet when the turn model agrees, after
# a second otherwise: the synthetic voices pause briefly inside an utterance, and
# smart-turn's verdicts on them are unreliable (docs/audio-fidelity.md).
MIN_PAUSE: Final = 0.5
MAX_PAUSE: Final = 1.0
# A callee who answers speaks once the phone is at their ear, not in the very first
# frame (pipecat's VAD gates on a volume window that needs 0.4 s of audio to fill).
PICKUP_SECONDS: Final = 0.6


def sim_turns() -> TurnPolicy:
    return TurnPolicy(model=shared_smart_turn(), min_pause=MIN_PAUSE, max_pause=MAX_PAUSE)


def callee_side(
    engine: AudioEngine, port: Port, hints: Sequence[str], turns: TurnPolicy, name: str = "callee"
) -> CallSide:
    """A simulated person's mouth and ear on ``port``, with the local kit."""
    return CallSide(
        engine,
        Mouth(local_speech(CALLEE), stream=False),  # a person says a sentence in one go
        Ear(
            UtteranceRecognition(PocketsphinxTranscriber(shared_recognizer(tuple(hints)))),
            Inbox(),
            turns=turns,
            name=f"{name}'s ear",
            beeps=False,  # a callee never hears an answering machine's beep
        ),
        port,
    )


class AudioPersonLine(SimLine):
    """A ``SimLine`` whose person speaks and hears real audio through ``callee``: the
    simulated audio line and a fake carrier's far side both run the personas on it."""

    callee: CallSide
    _answered_at: float

    async def person_says(self, text: str, *, interrupt: bool = False) -> None:
        # Real audio: the callee's own ear decides when the agent's turn ended.
        del interrupt
        if self.person_hung_up or self.agent_hung_up:
            return
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(self._answered_at + PICKUP_SECONDS - loop.time(), 0.0))
        self.person_speaking = True
        try:
            await self.callee.mouth.say(text)
        finally:
            self.person_speaking = False

    async def person_beeps(self) -> None:
        hz, seconds = self.beep_shape()
        await self.callee.mouth.play(beep(seconds, hz))

    async def person_waits_for_the_agent_to_speak(self, wait: float) -> bool:
        """Until the callee hears the agent talking (True), or ``wait`` seconds passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while not self.callee.ear.hearing:
            if loop.time() >= deadline or self.agent_hung_up:
                return False
            await asyncio.sleep(0.02)
        return True

    async def person_hears(self, wait: float) -> Utterance | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            item = await self.callee.ear.inbox.get(max(deadline - loop.time(), 0.0))
            if item is None or isinstance(item, Hangup):
                return None
            if isinstance(item, Dtmf):
                return Utterance("", dtmf=item.digits)
            if isinstance(item, str):
                return Utterance(item)


class AudioSimLine(AudioPersonLine):
    """Both ends of one simulated audio call (a ``SimLine`` whose utterances are audio)."""

    def __init__(self, agent: AudioLine, callee: CallSide, wire: Wire, seed: int = 0) -> None:
        super().__init__(speed=1.0, seed=seed)
        self.agent = agent
        self.callee = callee
        self._wire = wire
        self._answered_at = asyncio.get_running_loop().time()

    @classmethod
    async def open(
        cls,
        assistant: Mapping[str, Any],
        *,
        engine: AudioEngine | None = None,
        stt: SpeechToText | None = None,
        tts: TextToSpeech | None = None,
        seed: int = 0,
    ) -> AudioSimLine:
        """Answer: both ends on the wire, in the engine (models loaded first); the
        audio starts now. The agent's speech providers are not connected yet
        (``connect``)."""
        heard_by_agent, heard_by_callee = callee_hints(assistant), agent_hints(assistant)
        opening = [("Hello?", CALLEE)]  # most personas' first word
        opening += [(text, CALLEE) for text in MACHINE_OPENINGS]
        if assistant.get("first_sentence"):
            speed = voice_speed(assistant.get("voice"))
            opening.append((str(assistant["first_sentence"]), Style(speed=speed)))
        await asyncio.to_thread(preload, (heard_by_agent, heard_by_callee), opening)
        engine = engine or loop_engine()
        wire = Wire()
        turns = sim_turns()
        agent = AudioLine.open(engine, wire.a, assistant, turns=turns, stt=stt, tts=tts)
        callee = callee_side(engine, wire.b, heard_by_callee, turns)
        wire.connect(agent.side, callee)
        agent.side.attach()
        callee.attach()
        return cls(agent, callee, wire, seed)

    async def connect(self) -> None:
        """Connect the agent's speech providers (``LineFault`` when one cannot be
        reached)."""
        try:
            await self.agent.start()
        except SpeechFault as fault:
            raise LineFault(fault.reason, fault.detail) from fault

    def llm_replied(self, ttft_ms: float | None, model: str | None) -> None:
        self.agent.llm_replied(ttft_ms, model)

    # -- the agent's side (telephony.base.Line) --

    async def hear(self, wait: float) -> str | None:
        try:
            return await self.agent.hear(wait)
        except SpeechFault as fault:
            raise LineFault(fault.reason, fault.detail) from fault

    async def say(self, text: str) -> str:
        self.agent_speaking = True
        try:
            return await self.agent.say(text)
        except SpeechFault as fault:
            raise LineFault(fault.reason, fault.detail) from fault
        finally:
            self.agent_speaking = False

    async def answered_by(self, ceiling: float) -> Decision:
        return await self.agent.answered_by(ceiling)

    async def heard_beep(self, wait: float) -> bool:
        return await self.agent.heard_beep(wait)

    def answer_facts(self) -> dict[str, Any]:
        return self.agent.answer_detection.listener.opening.facts()

    async def send_dtmf(self, digits: str) -> None:
        await self.agent.send_dtmf(digits)

    async def transfer(self, number: str) -> bool:
        self.transfers.append(number)
        return await self.agent.transfer(number)

    async def hang_up(self) -> None:
        self.agent_hung_up = True
        await self.agent.hang_up()
        self.callee.close()
        self._wire.cut()

    @property
    def callee_hung_up(self) -> bool:
        return self.person_hung_up

    @property
    def callee_speaking(self) -> bool:
        return self.agent.callee_speaking

    # -- the simulated person's side --

    async def person_hangs_up(self) -> None:
        self.person_hung_up = True
        self.callee.port.send_event(Hangup())
        self.callee.close()
