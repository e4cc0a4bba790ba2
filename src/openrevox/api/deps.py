"""What every handler may ask for: the services of the app and the caller's identity."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openrevox.api.ratelimit import RateLimiter
from openrevox.domain.clock import Clock
from openrevox.errors import AuthenticationFailed, RateLimited
from openrevox.results.recording_links import RecordingLinks, RecordingSigner
from openrevox.results.recordings import Recordings
from openrevox.services.phone_numbers import NumberChecker
from openrevox.services.voices import VoiceService
from openrevox.settings import Settings
from openrevox.store.db import Database
from openrevox.store.pg_reads import PgCallReader
from openrevox.store.repositories import accounts
from openrevox.store.repositories.accounts import Principal
from openrevox.store.sqlite_reads import SqliteCallReader


class PrincipalCache:
    """Who a presented key is, remembered for a few seconds per process: the key lookup is
    most of an authenticated request's cost. A revoked key stops working everywhere within
    ``ttl`` seconds (OPENREVOX_AUTH_CACHE_SECONDS; 0 disables the cache)."""

    def __init__(self, ttl: float, *, max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def lock_for(self, key: str) -> asyncio.Lock:
        if len(self._locks) >= self.max_size:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(key, asyncio.Lock())

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_size:
            self._entries.clear()  # rare: cheaper than an LRU on the hot path
        self._entries[key] = (time.monotonic() + self.ttl, principal)


@dataclass(slots=True)
class AppServices:
    settings: Settings
    db: Database
    clock: Clock
    rate_limiter: RateLimiter
    principals: PrincipalCache
    sqlite_reader: SqliteCallReader | None  # GET /call/{id}'s fast read on SQLite
    pg_reader: PgCallReader | None  # and on PostgreSQL
    voices: VoiceService
    recording_signer: RecordingSigner
    recordings: Recordings
    # The configured carriers by name: they check numbers imported from their accounts.
    carriers: Mapping[str, NumberChecker] = field(default_factory=dict)

    def recording_links(self) -> RecordingLinks:
        """Signed ``recording_url`` of each attempt, for one response (no I/O)."""
        return RecordingLinks(
            self.recording_signer, self.clock.now(), self.settings.recording_retention_days
        )


async def get_services(request: Request) -> AppServices:  # async: no threadpool hop
    services: AppServices = request.app.state.services
    return services


Services = Annotated[AppServices, Depends(get_services)]


# Published in the OpenAPI document (Swagger's Authorize button); we answer 401 ourselves.
bearer = HTTPBearer(auto_error=False, description="sk_live_... or sk_test_...")


async def authenticate(
    request: Request,
    services: Services,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationFailed(
            "missing API key: send 'Authorization: Bearer sk_live_...' (or sk_test_...)"
        )
    presented = key.strip()
    principal = services.principals.get(presented)
    if principal is None:
        # One lookup per key at a time: when a cached key expires under load, the other
        # requests wait for that lookup instead of all querying at once.
        async with services.principals.lock_for(presented):
            principal = services.principals.get(presented)
            if principal is None:
                async with services.db.read() as conn:
                    principal = await accounts.find_principal(conn, presented)
                if principal is None:
                    raise AuthenticationFailed("invalid or revoked API key")
                services.principals.put(presented, principal)
    wait = services.rate_limiter.acquire(principal.key_id)
    if wait > 0:
        raise RateLimited(f"too many requests; retry in {wait:.2f}s", retry_after=wait)
    return principal


Auth = Annotated[Principal, Depends(authenticate)]
