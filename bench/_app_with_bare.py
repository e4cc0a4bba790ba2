"""The real openrevox app plus a "bare" twin of GET /call/{id}, for bench/get_call.py.

uvicorn loads it with ``--factory _app_with_bare:create`` (``--app-dir bench``). It reads
the usual ``OPENREVOX_*`` variables, plus ``OPENREVOX_BENCH_SAMPLE_CALL_ID``: the call
fetched once at startup (through the same repository and wire code as the real route)
whose JSON the bare routes return from memory (recording links signed at startup).

- ``GET /bench/bare-call`` runs the same ``Auth`` and ``Services`` dependencies as
  ``GET /call/{id}`` (so it still does the API-key lookup in the database) and returns
  the pre-built dict through the same ``JSON`` response class: against it, the ratio
  isolates the call lookup (two queries, row decoding, ``call_wire``).
- ``GET /bench/bare-call-noauth`` skips authentication too: the framework floor.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI

from openrevox.api.app import create_app
from openrevox.api.deps import AppServices, Auth, Services
from openrevox.api.responses import JSON
from openrevox.api.routes import calls as calls_routes
from openrevox.api.wire import call_wire
from openrevox.settings import Settings
from openrevox.store.repositories import calls
from openrevox.store.tables import call_orders

SAMPLE_ENV = "OPENREVOX_BENCH_SAMPLE_CALL_ID"


async def _load_payload(services: AppServices, call_id: str) -> dict[str, Any]:
    async with services.db.read() as conn:
        owner = (
            await conn.execute(
                sa.select(call_orders.c.organization_id, call_orders.c.mode).where(
                    call_orders.c.id == call_id
                )
            )
        ).one()
        view = await calls.get_view(
            conn, organization_id=owner.organization_id, mode=owner.mode, call_id=call_id
        )
    if view is None:
        raise RuntimeError(f"sample call {call_id} not found")
    # Same links as the route (signed, expiring on the minute): fine for a run of minutes.
    return {"call": call_wire(view, services.recording_links())}


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

    # Declared as the app declares GET /call/{id}: on a router of their own, included.
    bench = APIRouter()

    @bench.get("/bench/bare-call", include_in_schema=False)
    async def bare_call(principal: Auth, services: Services) -> JSON:
        return JSON(payload)

    @bench.get("/bench/bare-call-noauth", include_in_schema=False)
    async def bare_call_noauth() -> JSON:
        return JSON(payload)

    app.include_router(bench)
    _match_where_get_call_is(app, bench)
    return app


def _match_where_get_call_is(app: FastAPI, bench: APIRouter) -> None:
    """Move the bench router to just before the calls router, so that a bare request is
    routed as GET /call/{id} is: through the same routers before it, then one included
    router. Routes are matched in order and each one tried costs microseconds: left at
    the end, the bare routes would be tried after every route of the app (about 45 more
    than GET /call/{id}) and pay ~0.1 ms per request that GET /call/{id} does not."""
    routes = app.router.routes

    def position(router: APIRouter) -> int:
        return next(
            i for i, route in enumerate(routes) if getattr(route, "original_router", None) is router
        )

    included = routes.pop(position(bench))
    routes.insert(position(calls_routes.router), included)
