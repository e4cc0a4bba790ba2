"""Path tolerance: the API answers at ``/`` and under ``/api``, and ``//`` is one slash."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_SLASHES = re.compile(r"/{2,}")


def normalize_path(path: str) -> str:
    path = _SLASHES.sub("/", path)
    if path == "/api" or path.startswith("/api/"):
        path = path[4:] or "/"
    return path


class PathNormalizer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = normalize_path(scope["path"])
            if path != scope["path"]:
                scope = dict(scope)
                scope["path"] = path
                scope["raw_path"] = path.encode()
        await self.app(scope, receive, send)
