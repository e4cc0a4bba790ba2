"""Live updates of a call page, as server-sent events.

The stream polls the database (every ``POLL_SECONDS``) rather than listening to the
process that carries the call: on PostgreSQL the call may be carried by a worker on
another machine, and the database is the one place every process writes to. Each region
of the page (summary, attempts, webhooks) is rendered on the server for this visitor and
sent only when it changed; the page swaps it in place. The stream ends once the call has
ended and its webhook events are no longer pending (or after ``MAX_STREAM_SECONDS``, when
the browser reconnects)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from openrevox.web.auth import require_visitor
from openrevox.web.calls import live_context, load_call
from openrevox.web.context import web_services
from openrevox.web.templating import SECURITY_HEADERS, render

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
# One stream lasts this long, then the browser's EventSource reconnects (after the
# ``retry`` below) and the page skips regions it already has: a server shutting down
# waits for open streams, so none may last long.
MAX_STREAM_SECONDS = 20.0
RETRY_MS = 1000
REGIONS = ("summary", "attempts", "webhooks")


def sse(event: str, data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event}\n{lines}\n".encode()


async def call_stream(request: Request) -> Response:
    visitor = await require_visitor(request)
    services = web_services(request)
    call_id = request.path_params["call_id"]
    await load_call(services, visitor, call_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[bytes]:
        sent: dict[str, str] = {}
        started = last_write = time.monotonic()
        yield f"retry: {RETRY_MS}\n\n".encode()
        while time.monotonic() - started < MAX_STREAM_SECONDS:
            if await request.is_disconnected():
                return
            view, attempts, event_views = await load_call(services, visitor, call_id)
            context = live_context(visitor, view, attempts, event_views)
            for region in REGIONS:
                html = render(f"_{region}.html", context)
                if sent.get(region) != html:
                    sent[region] = html
                    last_write = time.monotonic()
                    yield sse(region, html)
            if not context["live"]:
                yield sse("done", view.order.status)
                return
            if time.monotonic() - last_write > KEEPALIVE_SECONDS:
                last_write = time.monotonic()
                yield b": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {**SECURITY_HEADERS, "x-accel-buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
