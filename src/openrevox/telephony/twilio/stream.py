"""One call's Twilio Media Stream: the bidirectional websocket of ``<Connect><Stream>``.

Twilio sends ``connected``, ``start`` (with our ``<Parameter>`` values as
``customParameters``), then ``media`` (base64 8 kHz mu-law, 20 ms a message), ``dtmf``,
``mark`` and ``stop``. We send ``media`` back (Twilio plays it in order), ``mark`` to
learn when audio was played, ``clear`` to drop what is queued. ``TwilioStream`` is the
``Port`` the agent's audio side writes to, and delivers what arrives to its receiver.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from openrevox.audio.wire import Dtmf, Event, Hangup, Receiver

log = logging.getLogger("openrevox.twilio.stream")


class StreamRefused(Exception):
    """The first messages were not a Twilio stream start we expect."""


@dataclass(frozen=True, slots=True)
class StreamStart:
    stream_sid: str
    call_sid: str
    account_sid: str
    parameters: dict[str, str]
    media_format: dict[str, Any] = field(default_factory=dict)


async def read_start(ws: WebSocket) -> StreamStart:
    """Read ``connected`` (optional) then ``start``."""
    for _ in range(2):
        message = json.loads(await ws.receive_text())
        if message.get("event") == "connected":
            continue
        if message.get("event") != "start":
            raise StreamRefused(f"expected start, got {message.get('event')!r}")
        start = message.get("start") or {}
        return StreamStart(
            stream_sid=str(message.get("streamSid") or start.get("streamSid") or ""),
            call_sid=str(start.get("callSid") or ""),
            account_sid=str(start.get("accountSid") or ""),
            parameters={str(k): str(v) for k, v in (start.get("customParameters") or {}).items()},
            media_format=dict(start.get("mediaFormat") or {}),
        )
    raise StreamRefused("no start message")


class TwilioStream:
    """The websocket as a ``Port`` (what the agent's side sends) and a source of frames
    and events for its ``Receiver`` (what the callee sends)."""

    def __init__(self, ws: WebSocket, start: StreamStart) -> None:
        self.ws = ws
        self.start = start
        self.receiver: Receiver | None = None
        self.stopped = False  # Twilio sent ``stop``: the call ended on its side
        self.closed = asyncio.Event()  # the socket is gone, for whatever reason
        self.hangup_requested = asyncio.Event()  # our side hung up
        self.dropped = False  # the socket went away mid-call, not by Twilio's stop or ours
        self._closing = False
        self.frames_in = 0
        self.frames_out = 0
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()

    def attach(self, receiver: Receiver) -> None:
        """Deliver what arrives to ``receiver`` from now on (a stream that already
        closed delivers its hang-up at once: the agent must not wait for it)."""
        self.receiver = receiver
        if self.closed.is_set():
            receiver.receive_event(Hangup())

    # -- Port: our side's audio and events --

    def send_audio(self, frame: bytes) -> None:
        if self.closed.is_set():
            return
        self.frames_out += 1
        payload = base64.b64encode(frame).decode()
        self._outbox.put_nowait(
            json.dumps(
                {
                    "event": "media",
                    "streamSid": self.start.stream_sid,
                    "media": {"payload": payload},
                }
            )
        )

    def send_event(self, event: Event) -> None:
        if isinstance(event, Hangup):
            self.hangup_requested.set()
        # DTMF and transfers go through call updates on Twilio (issue 18), not the stream.

    def clear(self) -> None:
        """Drop the audio Twilio has queued but not played yet (barge-in)."""
        self._outbox.put_nowait(json.dumps({"event": "clear", "streamSid": self.start.stream_sid}))

    # -- the socket --

    async def pump(self) -> None:
        """Carry messages both ways until the socket closes."""
        sender = asyncio.create_task(self._send_loop())
        try:
            while True:
                try:
                    text = await self.ws.receive_text()
                except (WebSocketDisconnect, RuntimeError):
                    break
                self._handle(json.loads(text))
                if self.stopped:
                    break
        finally:
            self.dropped = not (self.stopped or self._closing or self.hangup_requested.is_set())
            self.closed.set()
            self._outbox.put_nowait(None)
            sender.cancel()
            if self.receiver is not None:
                self.receiver.receive_event(Hangup())

    async def close(self) -> None:
        self._closing = True
        self.closed.set()
        self._outbox.put_nowait(None)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # already closed
            await self.ws.close()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("event")
        if kind == "media":
            media = message.get("media") or {}
            if media.get("track", "inbound") != "inbound":
                return
            self.frames_in += 1
            if self.receiver is not None:
                self.receiver.receive_audio(base64.b64decode(media.get("payload") or ""))
        elif kind == "dtmf":
            digit = str((message.get("dtmf") or {}).get("digit") or "")
            if digit and self.receiver is not None:
                self.receiver.receive_event(Dtmf(digit))
        elif kind == "stop":
            self.stopped = True

    async def _send_loop(self) -> None:
        while True:
            text = await self._outbox.get()
            if text is None:
                return
            try:
                await self.ws.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
