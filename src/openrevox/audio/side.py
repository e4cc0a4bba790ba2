"""One side of a live audio call: a mouth, an ear and a port, driven by the engine."""

from __future__ import annotations

from collections.abc import Sequence

from openrevox.audio.codec import Samples, ulaw_encode
from openrevox.audio.ear import Ear
from openrevox.audio.engine import AudioEngine
from openrevox.audio.mouth import Mouth
from openrevox.audio.silero import SileroState
from openrevox.audio.wire import Event, Hangup, Port


class CallSide:
    """Sends its mouth's frames on its port, hears what arrives, and collects the
    other side's events (DTMF, transfers, hang-up) in the ear's inbox, in order.
    ``recording``, when set to a list, keeps every frame sent (one per tick since the
    side was attached: this side's channel of the call's recording)."""

    def __init__(self, engine: AudioEngine, mouth: Mouth, ear: Ear, port: Port) -> None:
        self.engine = engine
        self.mouth = mouth
        self.ear = ear
        self.port = port
        self.other_hung_up = False
        self.events: list[Event] = []
        self._inbox = ear.inbox
        self._attached = False
        self.recording: list[bytes] | None = None

    def attach(self) -> None:
        if not self._attached:
            self._attached = True
            self.engine.add(self)

    def close(self) -> None:
        """Leave the engine; stop speaking and hearing."""
        if self._attached:
            self._attached = False
            self.engine.remove(self)
        self.mouth.close()
        self.ear.close()

    # -- the wire (Receiver) --

    def receive_audio(self, frame: bytes) -> None:
        self.ear.receive(frame)

    def receive_event(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, Hangup):
            self.other_hung_up = True
        self._inbox.put(event)

    # -- the engine (Endpoint) --

    def emit(self) -> None:
        frame = ulaw_encode(self.mouth.frame())
        if self.recording is not None:
            self.recording.append(frame)
        self.port.send_audio(frame)

    def windows(self) -> list[Samples]:
        return self.ear.windows()

    @property
    def vad_stream(self) -> SileroState:
        return self.ear.vad.stream

    def advance(self, windows: Sequence[Samples], confidences: Sequence[float]) -> None:
        self.ear.advance(windows, confidences)
