"""What the providers' own websocket clients share: the URL scheme, the connect with its
faults, and the TTS connection carrying one context per utterance (Cartesia,
ElevenLabs). Each provider's messages stay in its own folder; only the plumbing is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Final, Generic, TypeVar

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from openrevox.audio.speech import SpeechFault

CONNECT_TIMEOUT: Final = 5.0
CLOSED: Final = object()  # queued to every open context when the connection is gone


def websocket_base(base_url: str) -> str:
    """A provider's base URL with an ``http(s)`` scheme made ``ws(s)``, no trailing slash."""
    base = base_url.rstrip("/")
    for http, ws in (("https://", "wss://"), ("http://", "ws://")):
        if base.startswith(http):
            base = ws + base[len(http) :]
    return base


async def connect(url: str, headers: dict[str, str], *, who: str, side: str) -> ClientConnection:
    """Open ``url``; a refusal or a network error is a ``{side}_unreachable`` fault."""
    try:
        return await websockets.connect(
            url, additional_headers=headers, open_timeout=CONNECT_TIMEOUT, max_size=None
        )
    except InvalidStatus as error:
        status = error.response.status_code
        raise SpeechFault(
            f"{side}_unreachable", f"{who} refused the connection: HTTP {status}"
        ) from error
    except (OSError, TimeoutError, websockets.WebSocketException) as error:
        raise SpeechFault(
            f"{side}_unreachable", f"{who}: {type(error).__name__}: {error}"
        ) from error


def close_status(
    connection: ClientConnection, closed: ConnectionClosed | None
) -> tuple[int | None, str | None]:
    """The close code and reason, from the connection or from the exception that ended it."""
    if closed is None:
        return connection.close_code, connection.close_reason
    if closed.rcvd is None:
        return 1006, ""
    return closed.rcvd.code, closed.rcvd.reason


class ContextSocket:
    """A call's TTS websocket: each utterance is a context whose messages are routed to
    its own queue; once the connection is gone every context gets ``CLOSED``."""

    who: ClassVar[str]  # the provider, as faults name it
    goodbye: ClassVar[dict[str, Any] | None] = None  # sent before closing, if any

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self._url = url
        self._headers = headers
        self._connection: ClientConnection | None = None
        self._contexts: dict[str, asyncio.Queue[Any]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._fault: SpeechFault | None = None

    async def start(self) -> None:
        self._connection = await connect(self._url, self._headers, who=self.who, side="tts")
        self._reader = asyncio.create_task(self._read())

    def _route(self, message: dict[str, Any]) -> str:
        """The context a message belongs to (a provider may note a fault here too)."""
        return str(message.get("context_id"))

    async def _read(self) -> None:
        assert self._connection is not None
        closed: ConnectionClosed | None = None
        try:
            async for raw in self._connection:
                message = json.loads(raw)
                queue = self._contexts.get(self._route(message))
                if queue is not None:
                    queue.put_nowait(message)
        except ConnectionClosed as error:
            closed = error
        code, reason = close_status(self._connection, closed)
        if self._fault is None:
            self._fault = SpeechFault(
                "tts_disconnected", f"{self.who} closed the connection ({code} {reason})".strip()
            )
        for queue in self._contexts.values():
            queue.put_nowait(CLOSED)

    async def send(self, message: dict[str, Any]) -> None:
        if self._fault is not None:
            raise self._fault
        if self._connection is None:
            raise SpeechFault("tts_unreachable", "not connected")
        try:
            await self._connection.send(json.dumps(message))
        except ConnectionClosed as closed:
            raise SpeechFault(
                "tts_disconnected", f"{self.who} closed the connection ({closed.code})"
            ) from closed

    def open_context(self) -> tuple[str, asyncio.Queue[Any]]:
        context_id = uuid.uuid4().hex
        queue: asyncio.Queue[Any] = asyncio.Queue()
        if self._fault is not None:
            queue.put_nowait(CLOSED)
        self._contexts[context_id] = queue
        return context_id, queue

    def close_context(self, context_id: str) -> None:
        self._contexts.pop(context_id, None)

    @property
    def fault(self) -> SpeechFault | None:
        return self._fault

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if self.goodbye is not None:
                with contextlib.suppress(Exception):
                    await connection.send(json.dumps(self.goodbye))
            with contextlib.suppress(Exception):
                await connection.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


S = TypeVar("S", bound=ContextSocket)


class ContextSynthesis(ABC, Generic[S]):
    """One utterance on a ``ContextSocket``: its context, its time to first audio, and a
    cancel that forgets the context at once and tells the provider when it knows of it."""

    def __init__(self, speech: S) -> None:
        self._speech = speech
        self._context_id, self._queue = speech.open_context()
        self._loop = asyncio.get_running_loop()
        self._pushed_at: float | None = None
        self._ttfb_ms: float | None = None
        self._ended = False
        self._cancelled = False

    def _pushed(self) -> None:
        if self._pushed_at is None:
            self._pushed_at = self._loop.time()

    def _heard(self) -> None:
        """Audio came: the first time, that is the time to first byte."""
        if self._ttfb_ms is None and self._pushed_at is not None:
            self._ttfb_ms = (self._loop.time() - self._pushed_at) * 1000

    @abstractmethod
    def _cancel_message(self) -> dict[str, Any] | None:
        """What tells the provider to stop this context (None: nothing to tell)."""

    async def cancel(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        self._queue.put_nowait(None)
        self._speech.close_context(self._context_id)
        message = self._cancel_message()
        if message is not None:
            with contextlib.suppress(SpeechFault):
                await self._speech.send(message)

    @property
    def ttfb_ms(self) -> float | None:
        return self._ttfb_ms
