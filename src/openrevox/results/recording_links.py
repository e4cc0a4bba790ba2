"""Signed, expiring recording links: ``{public_url}/recordings/{attempt_id}.wav?expires=
<unix>&signature=<hex>``. Signing is one HMAC, no I/O, so every API answer can carry
fresh links. The signature is the credential: whoever holds the link may listen until it
expires, as with S3 presigned URLs."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from urllib.parse import quote

from openrevox.domain.call_rows import AttemptRow
from openrevox.domain.clock import iso
from openrevox.domain.transcripts import speaks
from openrevox.errors import Forbidden
from openrevox.settings import Settings
from openrevox.store.db import Database
from openrevox.store.repositories import server_secrets
from openrevox.store.repositories.calls import AttemptRecord

SECRET_NAME = "secret_key"
_PURPOSE = b"openrevox recording links v1"
# Expiries are rounded up to this step, so links handed out within the same minute are
# the same URL and a browser's cache can serve a replay.
EXPIRY_STEP_SECONDS = 60
_BLOCK = hashlib.sha256().block_size
# What quote(..., safe="") leaves as is: attempt ids (UUIDs) need no quoting, and checking
# that costs half of quoting them.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


class RecordingSigner:
    def __init__(self, secret: bytes, *, public_url: str, ttl_seconds: int = 3600) -> None:
        if not secret:
            raise ValueError("the signing secret is empty")
        # A key of its own, derived from the server secret: a signature made for another
        # purpose with the same secret can never pass as a recording link.
        self._key = hmac.new(secret, _PURPOSE, hashlib.sha256).digest()
        # HMAC (RFC 2104) keyed once: the SHA-256 states after the inner and the outer
        # padded key, which each signature copies. Half the cost of a new hmac.new per
        # link, and a third less than copying a keyed hmac object (its Python wrappers).
        padded = self._key.ljust(_BLOCK, b"\0")  # the key is a digest: never longer
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
        self.public_url = public_url.rstrip("/")
        self.ttl_seconds = ttl_seconds

    def signature(self, attempt_id: str, expires: int) -> str:
        inner = self._inner.copy()
        inner.update(f"{attempt_id}\n{expires}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def expiry(self, now: datetime) -> int:
        raw = now.timestamp() + self.ttl_seconds
        return math.ceil(raw / EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS

    def url(self, attempt_id: str, expires: int) -> str:
        quoted = attempt_id if _UNRESERVED(attempt_id) else quote(attempt_id, safe="")
        return (
            f"{self.public_url}/recordings/{quoted}.wav"
            f"?expires={expires}&signature={self.signature(attempt_id, expires)}"
        )

    def url_for(self, attempt_id: str, now: datetime) -> str:
        return self.url(attempt_id, self.expiry(now))

    def verify(self, attempt_id: str, expires: int, signature: str, now: datetime) -> None:
        """Raise Forbidden unless the link is genuine and not yet expired."""
        expected = self.signature(attempt_id, expires)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise Forbidden("the recording link's signature is invalid", code="bad_signature")
        if now.timestamp() >= expires:
            raise Forbidden(
                "the recording link has expired; fetch the call again for a fresh link",
                code="link_expired",
            )


def retention_cutoff(now: datetime, retention_days: float | None) -> datetime | None:
    return None if retention_days is None else now - timedelta(days=retention_days)


def has_recording(attempt: AttemptRecord, cutoff: datetime | None) -> bool:
    """An answered, finished attempt, within retention, with audio stored or a transcript
    to make it from."""
    if attempt.answered_at is None or attempt.ended_at is None:
        return False
    if cutoff is not None and attempt.created_at < cutoff:
        return False  # pruned, or about to be
    return attempt.recording_key is not None or speaks(attempt.transcript)


class RecordingLinks:
    """``attempt -> recording_url`` for one response: what ``call_wire`` takes."""

    def __init__(
        self, signer: RecordingSigner, now: datetime, retention_days: float | None = None
    ) -> None:
        self._signer = signer
        self._now = now
        self._cutoff = retention_cutoff(now, retention_days)
        self._expires = signer.expiry(now)

    def __call__(self, attempt: AttemptRecord) -> str | None:
        if not has_recording(attempt, self._cutoff):
            return None
        return self._signer.url(attempt.id, self._expires)

    def of_rows(self, attempts: Sequence[AttemptRow]) -> list[str | None]:
        """The same links for GET /call/{id}'s rows (``store/call_rows.py``), whose
        timestamps are ISO text: in one shape, text order is time order."""
        cutoff = iso(self._cutoff)
        return [
            self._signer.url(attempt.id, self._expires)
            if attempt.has_audio
            and attempt.answered_at is not None
            and attempt.ended_at is not None
            and (cutoff is None or attempt.created_at >= cutoff)
            else None
            for attempt in attempts
        ]


def links_signed_when_used(
    signer: RecordingSigner, now: Callable[[], datetime], retention_days: float | None = None
) -> Callable[[AttemptRecord], str | None]:
    """A link maker that reads the clock at each use (long-lived holders such as the
    webhook deliverer, which signs links at delivery time)."""
    return lambda attempt: RecordingLinks(signer, now(), retention_days)(attempt)


async def load_secret(db: Database, configured: str | None, now: datetime) -> bytes:
    """``OPENREVOX_SECRET_KEY`` when set; otherwise the one random secret in the database,
    created by whichever process asks first."""
    if configured:
        return configured.encode()
    value = await server_secrets.get_or_create(db, SECRET_NAME, secrets.token_urlsafe(48), now)
    return value.encode()


async def load_signer(db: Database, settings: Settings, now: datetime) -> RecordingSigner:
    """The signer every process (API, worker, webhook delivery) builds the same way."""
    secret = await load_secret(db, settings.secret_key, now)
    return RecordingSigner(
        secret, public_url=settings.public_url, ttl_seconds=settings.recording_url_ttl_seconds
    )
