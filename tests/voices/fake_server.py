"""What the fake providers share: a Starlette app served over real HTTP on loopback from a
background thread, a log of every request it got, and multipart parsing."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request

# An MP3 frame header after an ID3 tag: enough for "is this the audio we were sent".
FAKE_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + b"\x00" * 64


@dataclass(frozen=True)
class UploadedFile:
    field: str
    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], list[UploadedFile]]:
    """multipart/form-data read with the standard library's MIME parser."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    assert isinstance(message, EmailMessage) and message.is_multipart(), "not multipart"
    form: dict[str, str] = {}
    files: list[UploadedFile] = []
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        filename = part.get_filename()
        if filename is None:
            form[name] = payload.decode()
        else:
            files.append(UploadedFile(name, filename, part.get_content_type(), payload))
    return form, files


class FakeProvider:
    """Shared plumbing: the uvicorn thread, the request log and a switchable outage."""

    api_key = "test-key-0123456789"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.outage_status: int | None = None  # when set, every request answers it
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def app(self) -> Starlette:
        raise NotImplementedError

    def reset(self) -> None:
        self.requests.clear()
        self.outage_status = None

    async def record(self, request: Request) -> RecordedRequest:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        form: dict[str, str] = {}
        files: list[UploadedFile] = []
        if content_type.startswith("multipart/form-data"):
            form, files = parse_multipart(content_type, body)
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            form=form,
            files=files,
        )
        self.requests.append(recorded)
        return recorded

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def start(self) -> FakeProvider:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(self.app(), log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
