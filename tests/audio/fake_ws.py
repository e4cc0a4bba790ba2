"""What the fake speech providers share: a ``websockets`` server on loopback, run from a
background thread with its own event loop (as a remote service would be: the code under
test never shares its loop), handshake checks (path, key), and a log of the handshakes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response


class WsFake:
    api_key = "fake-speech-key-0123456789"
    path = "/"

    def __init__(self) -> None:
        self.url = ""  # http://127.0.0.1:port (a provider's base URL)
        self.handshakes: list[dict[str, str]] = []
        self.refuse_status: int | None = None  # every handshake answered with this
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + self.path

    # -- to override --

    def authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def session(self, connection: ServerConnection) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        self.handshakes.clear()
        self.refuse_status = None

    # -- plumbing --

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes.append({k.lower(): v for k, v in request.headers.raw_items()})
        path = request.path.split("?", 1)[0]
        if self.refuse_status is not None:
            status = HTTPStatus(self.refuse_status)
            return connection.respond(status, f"{status.phrase}\n")
        if path != self.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def start(self) -> WsFake:
        ready: Future[str] = Future()

        async def main() -> None:
            self._server = await serve(
                self.session, "127.0.0.1", 0, process_request=self._process_request
            )
            port = self._server.sockets[0].getsockname()[1]
            ready.set_result(f"http://127.0.0.1:{port}")
            await self._server.serve_forever()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        self.url = ready.result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def call(self, function: Callable[..., Any], *args: Any) -> None:
        """Run ``function`` on the fake's loop (to change it while it serves)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(function, *args)


class SttFake(WsFake):
    """A fake live STT: the knobs the Deepgram and Soniox fakes both take."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.controls.clear()
        self.final_delay = 0.35
        self.canned_text: str | None = None
        self.interim_every: float | None = 1.0
        self.error_after: float | None = None
        self.drop_after: float | None = None
        self.close_code = 1011
        self.audio_seconds = 0.0
