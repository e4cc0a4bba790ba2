"""Signing in to the dashboard: passwords, rate-limited attempts, sessions, links.

Wrong passwords are counted per account and per client address in the database, so every
process of a deployment shares the count: after ``FREE_FAILURES`` in a row, that account
(or address) is locked for ``LOCK_BASE_SECONDS``, doubling with each further failure up to
``LOCK_MAX_SECONDS``; a failure older than ``FAILURE_MEMORY`` is forgotten."""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.domain.passwords import hash_password, password_problem, verify_password
from openrevox.errors import InvalidField
from openrevox.store.db import Database
from openrevox.store.repositories import web_auth
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.web_auth import Account, Failures, WebSession

FREE_FAILURES = 5
LOCK_BASE_SECONDS = 30.0
LOCK_MAX_SECONDS = 900.0
FAILURE_MEMORY = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=7)
LINK_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str  # the cookie's value; only its hash is stored
    session: WebSession


@dataclass(frozen=True, slots=True)
class Locked:
    retry_after: float  # seconds


class WrongCredentials(Exception):
    """Unknown email or wrong password (never saying which)."""


def principal_of(session: WebSession) -> Principal:
    """Who the services see: the signed-in user's organization in the session's mode."""
    return Principal(
        organization_id=session.organization_id,
        mode=session.mode,
        user_id=session.user_id,
        key_id="web",
        country=session.country,
    )


def _scopes(email: str, client_ip: str) -> list[str]:
    return [f"account:{email.strip().lower()}", f"ip:{client_ip}"]


def _lock_seconds(failures: int) -> float:
    return min(LOCK_BASE_SECONDS * 2.0 ** (failures - FREE_FAILURES), LOCK_MAX_SECONDS)


async def lock_of(db: Database, email: str, client_ip: str, now: datetime) -> Locked | None:
    async with db.read() as conn:
        found = await web_auth.failures_of(conn, _scopes(email, client_ip))
    waits = [
        (entry.locked_until - now).total_seconds()
        for entry in found.values()
        if entry.locked_until is not None and entry.locked_until > now
    ]
    return Locked(retry_after=math.ceil(max(waits))) if waits else None


async def _count_failure(conn: AsyncConnection, scopes: list[str], now: datetime) -> None:
    found = await web_auth.failures_of(conn, scopes)
    for scope in scopes:
        before = found.get(scope)
        count = 1
        if before is not None and now - before.last_failed_at < FAILURE_MEMORY:
            count = before.failures + 1
        locked = now + timedelta(seconds=_lock_seconds(count)) if count >= FREE_FAILURES else None
        await web_auth.write_failures(conn, scope, Failures(count, now, locked))


async def sign_in(
    db: Database, *, email: str, password: str, client_ip: str, now: datetime
) -> SignedIn | Locked:
    """A new session, or Locked while too many attempts failed; raises WrongCredentials."""
    locked = await lock_of(db, email, client_ip, now)
    if locked is not None:
        return locked
    async with db.read() as conn:
        account = await web_auth.account_by_email(conn, email)
    # scrypt is ~0.1 s of CPU: off the event loop, so other requests go on meanwhile.
    matches = await asyncio.to_thread(
        verify_password, password, account.password_hash if account else None
    )
    scopes = _scopes(email, client_ip)
    if account is None or not matches:
        async with db.transaction() as conn:
            await _count_failure(conn, scopes, now)
        raise WrongCredentials
    async with db.transaction() as conn:
        await web_auth.clear_failures(conn, scopes[0])
        return await _open_session(conn, account, now)


async def _open_session(conn: AsyncConnection, account: Account, now: datetime) -> SignedIn:
    token = secrets.token_urlsafe(32)
    await web_auth.create_session(
        conn,
        token=token,
        account=account,
        mode="test",  # a new session starts in test mode: nothing real happens by mistake
        csrf_token=secrets.token_urlsafe(32),
        now=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session = await web_auth.find_session(conn, token, now)
    assert session is not None
    return SignedIn(token, session)


async def sign_in_with_link(db: Database, token: str, now: datetime) -> SignedIn | None:
    async with db.transaction() as conn:
        account = await web_auth.use_link(conn, token, now)
        if account is None:
            return None
        return await _open_session(conn, account, now)


async def create_link(conn: AsyncConnection, user_id: str, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    await web_auth.create_link(
        conn, token=token, user_id=user_id, now=now, expires_at=now + LINK_LIFETIME
    )
    return token


async def session_of(db: Database, token: str, now: datetime) -> WebSession | None:
    async with db.read() as conn:
        return await web_auth.find_session(conn, token, now)


async def sign_out(db: Database, token: str) -> None:
    async with db.transaction() as conn:
        await web_auth.delete_session(conn, token)


async def switch_mode(db: Database, token: str, mode: Mode) -> None:
    async with db.transaction() as conn:
        await web_auth.set_session_mode(conn, token, mode)


async def set_password(conn: AsyncConnection, user_id: str, password: str, now: datetime) -> None:
    """Set a user's password (signs their browsers out); refuses a weak one."""
    problem = password_problem(password)
    if problem:
        raise InvalidField(problem, param="password")
    await web_auth.set_password_hash(conn, user_id, hash_password(password), now)
