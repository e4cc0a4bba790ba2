"""The person on the far side of a fake Twilio call: a sandbox persona (``person.py``)
speaking real audio into the media stream and hearing ours, with the simulated
callee's mouth and ear (``telephony/sim/audio_line.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from openrevox.audio.ear import Ear, Inbox
from openrevox.audio.engine import loop_engine
from openrevox.audio.mouth import Mouth
from openrevox.audio.side import CallSide
from openrevox.audio.speech import UtteranceRecognition
from openrevox.audio.stt import PocketsphinxTranscriber, shared_recognizer
from openrevox.audio.tones import beep
from openrevox.audio.tts import CALLEE, local_speech
from openrevox.audio.wire import Dtmf, Event, Hangup
from openrevox.telephony.sim.audio_line import PICKUP_SECONDS, sim_turns
from openrevox.telephony.sim.line import SimLine, Utterance


class _StreamPort:
    """What the callee says goes to Twilio's side of the socket as ``media``."""

    def __init__(self, send_frame: Callable[[bytes], None]) -> None:
        self._send_frame = send_frame
        self.hung_up = False

    def send_audio(self, frame: bytes) -> None:
        self._send_frame(frame)

    def send_event(self, event: Event) -> None:
        if isinstance(event, Hangup):
            self.hung_up = True


class FarSide(SimLine):
    """A ``SimLine`` whose person side is real audio on a Twilio media stream."""

    def __init__(self, send_frame: Callable[[bytes], None], hints: Sequence[str]) -> None:
        super().__init__(speed=1.0)
        self.port = _StreamPort(send_frame)
        self.callee = CallSide(
            loop_engine(),
            Mouth(local_speech(CALLEE), stream=False),
            Ear(
                UtteranceRecognition(PocketsphinxTranscriber(shared_recognizer(tuple(hints)))),
                Inbox(),
                turns=sim_turns(),
                name="far side's ear",
                beeps=False,
            ),
            self.port,
        )
        self.hung_up = asyncio.Event()
        self._answered_at = asyncio.get_running_loop().time()
        self.heard: list[str] = []

    def attach(self) -> None:
        self.callee.attach()

    def hear_frame(self, frame: bytes) -> None:
        self.callee.receive_audio(frame)

    def hear_dtmf(self, digit: str) -> None:
        self.callee.receive_event(Dtmf(digit))

    def line_closed(self) -> None:
        """Our side of the call is gone (hung up, or the stream closed)."""
        self.agent_hung_up = True
        self.callee.receive_event(Hangup())

    def close(self) -> None:
        self.callee.close()

    async def person_says(self, text: str, *, interrupt: bool = False) -> None:
        del interrupt  # real audio: the callee's own ear hears when the agent's turn ends
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
                self.heard.append(item)
                return Utterance(item)

    async def person_hangs_up(self) -> None:
        self.person_hung_up = True
        self.hung_up.set()
