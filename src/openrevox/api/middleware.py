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
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]
        ):
            await _refuse_nul(send)
            return
        if scope["type"] in ("http", "websocket"):
            path = normalize_path(scope["path"])
            if path != scope["path"]:
                scope = dict(scope)
                scope["path"] = path
                scope["raw_path"] = path.encode()
        await self.app(scope, receive, send)


async def _refuse_nul(send: Send) -> None:
    body = (
        b'{"error":{"type":"invalid_request_error","message":"the URL may not contain NUL'
        b' characters","param":null,"code":"invalid_url"}}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
