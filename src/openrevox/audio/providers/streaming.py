"""What the live recognitions (Deepgram, Soniox) share: audio queued to a writer task,
``finalize`` requests waiting in order for their final transcript, a keepalive in
silences, and one fault failing every waiter. Each provider's messages stay in its own
folder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from openrevox.audio.speech import SpeechFault

FINAL_TIMEOUT: Final = 5.0  # a finalize with no final transcript by then: the provider is stuck
KEEPALIVE_SECONDS: Final = 5.0


class StreamingRecognition:
    """The state and tasks of one call's live recognition stream."""

    def __init__(self) -> None:
        self.on_interim: Callable[[str], None] | None = None
        # SPEECH_END / UTTERANCE_END, for recognisers that detect end of speech (Deepgram)
        self.on_endpoint: Callable[[str], None] | None = None
        self._outbox: asyncio.Queue[bytes | None] = asyncio.Queue()  # None: finalize
        self._finals: list[str] = []  # final transcripts since the last finalize
        self._waiting: deque[asyncio.Future[str]] = deque()
        self._tasks: list[asyncio.Task[None]] = []
        self._fault: SpeechFault | None = None
        self._closing = False
        self._last_sent = 0.0

    def _run(self, *tasks: Coroutine[Any, Any, None]) -> None:
        self._last_sent = asyncio.get_running_loop().time()
        self._tasks = [asyncio.create_task(task) for task in tasks]

    async def _final(self) -> str:
        """Ask for the final transcript (after the audio already queued) and wait for it."""
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append(done)
        self._outbox.put_nowait(None)
        try:
            return await asyncio.wait_for(asyncio.shield(done), FINAL_TIMEOUT)
        except TimeoutError as error:
            self._fail(
                SpeechFault("stt_timeout", f"no final transcript within {FINAL_TIMEOUT:g} s")
            )
            raise self._fault or SpeechFault("stt_timeout") from error

    def _answer(self, text: str) -> None:
        """The oldest waiting finalize gets ``text``."""
        if self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_result(text)

    async def _pump(
        self,
        send_audio: Callable[[bytes], Awaitable[None]],
        send_finalize: Callable[[], Awaitable[None]],
    ) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = await self._outbox.get()
            if item is None:
                await send_finalize()
            else:
                await send_audio(item)
            self._last_sent = loop.time()

    async def _keep_alive_with(self, send_keep_alive: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS / 2)
            if loop.time() - self._last_sent >= KEEPALIVE_SECONDS and self._outbox.empty():
                await send_keep_alive()
                self._last_sent = loop.time()

    def _fail(self, fault: SpeechFault) -> None:
        if self._fault is None and not self._closing:
            self._fault = fault
        while self._waiting:
            waiting = self._waiting.popleft()
            if not waiting.done():
                waiting.set_exception(self._fault or fault)

    async def _stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
