"""The person on the far side of a fake Twilio call: a sandbox persona (``person.py``)
speaking real audio into the media stream and hearing ours, with the simulated
callee's mouth and ear (``telephony/sim/audio_line.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from openrevox.audio.engine import loop_engine
from openrevox.audio.wire import Dtmf, Event, Hangup
from openrevox.telephony.sim.audio_line import AudioPersonLine, callee_side, sim_turns
from openrevox.telephony.sim.line import Utterance


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


class FarSide(AudioPersonLine):
    """An ``AudioPersonLine`` whose person speaks and hears on a Twilio media stream."""

    def __init__(self, send_frame: Callable[[bytes], None], hints: Sequence[str]) -> None:
        super().__init__(speed=1.0)
        self.port = _StreamPort(send_frame)
        self.callee = callee_side(loop_engine(), self.port, hints, sim_turns(), "far side")
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

    async def person_hears(self, wait: float) -> Utterance | None:
        utterance = await super().person_hears(wait)
        if utterance is not None and utterance.dtmf is None:
            self.heard.append(utterance.text)
        return utterance

    async def person_hangs_up(self) -> None:
        self.person_hung_up = True
        self.hung_up.set()
