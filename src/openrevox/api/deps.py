"""What every handler may ask for: the services of the app and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from openrevox.api.ratelimit import RateLimiter
from openrevox.domain.clock import Clock
from openrevox.errors import AuthenticationFailed, RateLimited
from openrevox.results.recording_links import RecordingLinks, RecordingSigner
from openrevox.results.recordings import Recordings
from openrevox.services.voices import VoiceService
from openrevox.settings import Settings
from openrevox.store.db import Database
from openrevox.store.repositories import accounts
from openrevox.store.repositories.accounts import Principal


@dataclass(slots=True)
class AppServices:
    settings: Settings
    db: Database
    clock: Clock
    rate_limiter: RateLimiter
    voices: VoiceService
    recording_signer: RecordingSigner
    recordings: Recordings

    def recording_links(self) -> RecordingLinks:
        """Signed ``recording_url`` of each attempt, for one response (no I/O)."""
        return RecordingLinks(
            self.recording_signer, self.clock.now(), self.settings.recording_retention_days
        )


def get_services(request: Request) -> AppServices:
    services: AppServices = request.app.state.services
    return services


Services = Annotated[AppServices, Depends(get_services)]


async def authenticate(request: Request, services: Services) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthenticationFailed(
            "missing API key: send 'Authorization: Bearer sk_live_...' (or sk_test_...)"
        )
    async with services.db.read() as conn:
        principal = await accounts.find_principal(conn, key.strip())
    if principal is None:
        raise AuthenticationFailed("invalid or revoked API key")
    wait = services.rate_limiter.acquire(principal.key_id)
    if wait > 0:
        raise RateLimited(f"too many requests; retry in {wait:.2f}s", retry_after=wait)
    return principal


Auth = Annotated[Principal, Depends(authenticate)]
