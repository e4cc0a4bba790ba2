"""What travels between the two ends of a call: mu-law audio frames, and out-of-band
events (DTMF digits as RFC 2833 sends them, transfer requests, hang-ups).

``Port`` is how one side sends; a real line's port writes to its carrier's media
stream, and ``Wire`` joins two sides of a simulated call in the same process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Dtmf:
    digits: str


@dataclass(frozen=True, slots=True)
class Transfer:
    number: str


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


Event = Dtmf | Transfer | Hangup


class Receiver(Protocol):
    def receive_audio(self, frame: bytes) -> None: ...
    def receive_event(self, event: Event) -> None: ...


class Port(Protocol):
    def send_audio(self, frame: bytes) -> None: ...
    def send_event(self, event: Event) -> None: ...


class _WirePort:
    def __init__(self) -> None:
        self.peer: Receiver | None = None
        self.closed = False

    def send_audio(self, frame: bytes) -> None:
        if self.peer is not None and not self.closed:
            self.peer.receive_audio(frame)

    def send_event(self, event: Event) -> None:
        if self.peer is not None and not self.closed:
            self.peer.receive_event(event)


class Wire:
    """A simulated call's line: what one end sends, the other receives at once."""

    def __init__(self) -> None:
        self.a = _WirePort()
        self.b = _WirePort()

    def connect(self, a: Receiver, b: Receiver) -> None:
        """``a`` receives what is sent on port ``b`` and the other way around."""
        self.a.peer, self.b.peer = b, a

    def cut(self) -> None:
        self.a.closed = self.b.closed = True
