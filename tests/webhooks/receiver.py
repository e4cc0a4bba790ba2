"""A webhook receiver on loopback that verifies every signature with the
``standardwebhooks`` package, and that can fail (500) or go away (refused)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]


@dataclass
class Receiver:
    secret: str = ""
    fail_next: int = 0  # answer 500 to that many requests
    received: list[Received] = field(default_factory=list)
    refused_signatures: int = 0
    hits: int = 0
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: Request) -> JSONResponse:
        self.hits += 1
        body = await request.body()
        if self.fail_next > 0:
            self.fail_next -= 1
            return JSONResponse({"error": "try later"}, status_code=500)
        try:
            Webhook(self.secret).verify(body, dict(request.headers))
        except Exception:
            self.refused_signatures += 1
            return JSONResponse({"error": "bad signature"}, status_code=400)
        self.received.append(Received(request.headers["webhook-id"], orjson.loads(body)))
        return JSONResponse({"ok": True})

    def start(self) -> Receiver:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        server = self._server

        def serve() -> None:
            asyncio.run(server.serve(sockets=[sock]))

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Go away: connections are refused until ``start`` again (same port)."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None

    def ids(self) -> list[str]:
        return [item.webhook_id for item in self.received]
