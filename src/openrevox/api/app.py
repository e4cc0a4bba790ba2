"""The FastAPI application: routes at ``/`` and (through PathNormalizer) under ``/api``."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from openrevox import __version__
from openrevox.api.deps import AppServices, PrincipalCache
from openrevox.api.docs import install_docs
from openrevox.api.errors import install_error_handlers
from openrevox.api.middleware import PathNormalizer
from openrevox.api.ratelimit import RateLimiter
from openrevox.api.routes import (
    account,
    assistants,
    calendly_connections,
    calls,
    campaigns,
    concurrency,
    phone_numbers,
    recordings,
    sandbox,
    voices,
    webhooks,
)
from openrevox.dispatch.runtime import build_carriers, build_worker
from openrevox.domain.clock import Clock, SystemClock
from openrevox.results.blobstore import build_blob_store
from openrevox.results.recording_links import load_signer
from openrevox.results.recordings import Recordings
from openrevox.results.runtime import Housekeeper, build_deliverer
from openrevox.services import sign_in
from openrevox.services.organizations import NewOrganization, bootstrap_if_empty
from openrevox.services.voices import VoiceService
from openrevox.settings import Settings
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head_async
from openrevox.store.pg_reads import PgCallReader
from openrevox.store.sqlite_reads import SqliteCallReader, sqlite_path
from openrevox.telephony.twilio.routes import PREFIX as TWILIO_PREFIX
from openrevox.telephony.twilio.routes import build_router as build_twilio_router
from openrevox.web import install_dashboard

log = logging.getLogger("openrevox")

YOUNG_GENERATION_THRESHOLD = 20_000

DESCRIPTION = """\
openrevox speaks the Revox REST API. Every route is served at `/` and under `/api`
(point the official SDK at `http://host:8000/api`). Authenticate with
`Authorization: Bearer sk_live_...` or a test-mode key `sk_test_...`.

Errors are JSON: `{"error": {"type", "message", "param", "code"}}`; 400 malformed JSON,
401 bad key, 404 unknown id (also another organization's), 409 business conflict
(`x-should-retry: false`), 422 invalid field (`param` names it), 429 with `Retry-After`.
"""


def announce_bootstrap(created: NewOrganization, sign_in_url: str | None = None) -> None:
    lines = [
        "",
        "openrevox: first start, created the default organization. Keys (shown once):",
        f"  live key: {created.live_key}",
    ]
    if created.test_key:
        lines.append(f"  test key: {created.test_key}")
    if sign_in_url:
        lines.append(f"  dashboard: {sign_in_url}  (one-time sign-in link, valid 24 h)")
    print("\n".join(lines) + "\n", flush=True)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    embedded_worker: bool = False,
) -> FastAPI:
    """The API; with ``embedded_worker`` it also carries calls in the same process."""
    settings = settings or Settings.from_env()
    clock = clock or SystemClock()
    # Built first: their routers are mounted with the app's, before it starts.
    carriers = build_carriers(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await upgrade_to_head_async(settings.database_url)
        db = Database(create_engine(settings.database_url))
        sign_in_url = None
        try:
            async with db.transaction() as conn:
                created = await bootstrap_if_empty(
                    conn,
                    country=settings.default_country,
                    now=clock.now(),
                    live_key=settings.bootstrap_api_key,
                    concurrency_limit=settings.organization_concurrency_limit,
                )
                if created is not None:
                    token = await sign_in.create_link(conn, created.user.id, clock.now())
                    sign_in_url = f"{settings.public_url}/app/sign-in/link/{token}"
        except IntegrityError:
            created = None  # another process bootstrapped at the same moment
        if created is not None:
            announce_bootstrap(created, sign_in_url)
        app.state.services = AppServices(
            settings=settings,
            db=db,
            clock=clock,
            rate_limiter=RateLimiter(
                per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
            ),
            principals=PrincipalCache(settings.auth_cache_seconds),
            sqlite_reader=(
                SqliteCallReader(path) if (path := sqlite_path(settings.database_url)) else None
            ),
            pg_reader=(await PgCallReader.open(db.engine) if db.dialect == "postgresql" else None),
            voices=VoiceService.from_settings(settings),
            recording_signer=await load_signer(db, settings, clock.now()),
            recordings=Recordings(
                db, build_blob_store(settings), retention_days=settings.recording_retention_days
            ),
            carriers=carriers,
        )
        background: list[tuple[Any, asyncio.Task[None]]] = []
        if embedded_worker:
            services = app.state.services
            app.state.worker = build_worker(settings, db, clock, carriers)
            runners = (
                app.state.worker,
                build_deliverer(settings, db, clock, services.recording_signer),
                Housekeeper(settings, db, clock),
            )
            for runner in runners:
                background.append((runner, asyncio.create_task(runner.run())))
        # Everything alive now (modules, routes, pools) lives as long as the process: keep
        # it out of the collector's full passes, which otherwise walk it all and stall
        # every request in flight for tens of milliseconds.
        gc.collect()
        gc.freeze()
        # And collect the young generation after 20,000 new objects rather than 700: under
        # load, each request in flight holds a few hundred (rows, decoded JSON, the wire
        # dict), so at 700 a collection ran every few requests and walked objects that
        # were about to be freed anyway. Reference counting frees all but cycles; those wait
        # a little longer.
        thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            for runner, _task in background:
                runner.stop()  # graceful: live calls are drained
            for _runner, task in background:
                await task
            if app.state.services.pg_reader is not None:
                await app.state.services.pg_reader.close()
            await app.state.services.voices.aclose()
            await app.state.services.recordings.store.aclose()
            for carrier in carriers.values():
                await carrier.aclose()
            await db.dispose()

    app = FastAPI(
        title="openrevox",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    routers = (
        account,
        assistants,
        calls,
        campaigns,
        phone_numbers,
        voices,
        concurrency,
        webhooks,
        recordings,
        sandbox,
        calendly_connections,
    )
    for module in routers:
        app.include_router(module.router)
    for carrier in carriers.values():
        app.mount(TWILIO_PREFIX, build_twilio_router(carrier))
    app.add_middleware(PathNormalizer)
    install_dashboard(app, lambda: app.state.services)  # pages under /app (not in the API)
    return app


def create_api_app() -> FastAPI:
    """The API built from the environment, for ``openrevox api --workers N``: uvicorn
    builds one in each worker process (the parent has already applied the migrations)."""
    return create_app(migrate=False)
