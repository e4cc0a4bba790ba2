"""The real openrevox app plus a "bare" twin of GET /call/{id}, for bench/get_call.py.

uvicorn loads it with ``--factory _app_with_bare:create`` (``--app-dir bench``). It reads
the usual ``OPENREVOX_*`` variables, plus ``OPENREVOX_BENCH_SAMPLE_CALL_ID``: the call
fetched once at startup (through the same reader and wire code as the real route) whose
JSON the bare routes return from memory (recording links signed at startup).

- ``GET /bench/bare-call`` runs the same ``Auth`` and ``Services`` dependencies as
  ``GET /call/{id}`` (so it still does the API-key lookup in the database) and returns
  the pre-built dict through the same ``JSON`` response class: against it, the ratio
  isolates the call lookup (the read, row decoding, ``call_rows_wire``).
- ``GET /bench/bare-call-noauth`` skips authentication too: the framework floor.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from openrevox.api.app import create_app
from openrevox.api.deps import AppServices, Auth, Services
from openrevox.api.responses import JSON
from openrevox.api.routes import calls as calls_routes
from openrevox.settings import Settings
from openrevox.store.repositories import calls
from openrevox.store.tables import call_orders
from openrevox.wire import call_rows, call_rows_wire

SAMPLE_ENV = "OPENREVOX_BENCH_SAMPLE_CALL_ID"


async def _load_payload(services: AppServices, call_id: str) -> dict[str, Any]:
    """GET /call/{id}'s body for this call, read as the route reads it (the same bytes)."""
    async with services.db.read() as conn:
        owner = (
            await conn.execute(
                sa.select(call_orders.c.organization_id, call_orders.c.mode).where(
                    call_orders.c.id == call_id
                )
            )
        ).one()
    where = {"organization_id": owner.organization_id, "mode": owner.mode, "call_id": call_id}
    if services.sqlite_reader is not None:
        rows = services.sqlite_reader.view(**where)
    elif services.pg_reader is not None:
        rows = await services.pg_reader.view(**where)
    else:
        async with services.db.read() as conn:
            view = await calls.get_view(conn, **where)
        rows = None if view is None else call_rows(view)
    if rows is None:
        raise RuntimeError(f"sample call {call_id} not found")
    # Same links as the route (signed, expiring on the minute): fine for a run of minutes.
    urls = services.recording_links().of_rows(rows.attempts)
    return {"call": call_rows_wire(rows, urls)}


def create() -> FastAPI:
    sample_id = os.environ[SAMPLE_ENV]
    app = create_app(Settings.from_env(), migrate=False)
    payload: dict[str, Any] = {}
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_):
            payload.update(await _load_payload(app_.state.services, sample_id))
            yield

    app.router.lifespan_context = lifespan

    async def bare_call(principal: Auth, services: Services) -> JSON:
        return JSON(payload)

    async def bare_call_noauth() -> JSON:
        return JSON(payload)

    _route_beside_get_call(bare_call, bare_call_noauth)
    return app


def _route_beside_get_call(bare: Callable[..., Any], noauth: Callable[..., Any]) -> None:
    """Declare the bare routes in GET /call/{id}'s own router, around it: the bare route
    first, GET /call/{id} second, the unauthenticated one after. Routes are matched in
    order and each one tried costs microseconds, so a bare request is routed as GET
    /call/{id} is (through the same routers before it) and GET /call/{id} still pays for
    trying one route more than the bare one: the ratio is not flattered."""
    router = calls_routes.router
    router.add_api_route("/bench/bare-call", bare, methods=["GET"], include_in_schema=False)
    router.add_api_route(
        "/bench/bare-call-noauth", noauth, methods=["GET"], include_in_schema=False
    )
    *rest, bare_route, noauth_route = router.routes
    get_call = rest.pop(0)
    assert getattr(get_call, "path", None) == "/call/{call_id}", "GET /call/{id} moved"
    router.routes[:] = [bare_route, get_call, noauth_route, *rest]
