"""The dashboard's sign-in state: passwords, sessions, failed attempts, one-time links.

Secrets handed to browsers (session cookies, link tokens) are stored as SHA-256 only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.tables import (
    organizations,
    sign_in_failures,
    sign_in_links,
    users,
    web_sessions,
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Account:
    user_id: str
    organization_id: str
    email: str
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class WebSession:
    token_hash: str
    user_id: str
    email: str
    organization_id: str
    organization_name: str
    country: str
    mode: Mode
    csrf_token: str
    expires_at: datetime


async def account_by_email(conn: AsyncConnection, email: str) -> Account | None:
    row = (
        await conn.execute(
            sa.select(
                users.c.id, users.c.organization_id, users.c.email, users.c.password_hash
            ).where(sa.func.lower(users.c.email) == email.strip().lower())
        )
    ).first()
    return Account(*row) if row else None


async def set_password_hash(
    conn: AsyncConnection, user_id: str, password_hash: str, now: datetime
) -> None:
    await conn.execute(
        sa.update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=now)
    )
    # A new password signs every browser out.
    await conn.execute(sa.delete(web_sessions).where(web_sessions.c.user_id == user_id))


async def create_session(
    conn: AsyncConnection,
    *,
    token: str,
    account: Account,
    mode: Mode,
    csrf_token: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(sa.delete(web_sessions).where(web_sessions.c.expires_at <= now))
    await conn.execute(
        sa.insert(web_sessions).values(
            token_hash=token_hash(token),
            user_id=account.user_id,
            organization_id=account.organization_id,
            mode=mode,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
    )


_SESSION = (
    sa.select(
        web_sessions.c.token_hash,
        web_sessions.c.user_id,
        users.c.email,
        web_sessions.c.organization_id,
        organizations.c.name,
        organizations.c.country,
        web_sessions.c.mode,
        web_sessions.c.csrf_token,
        web_sessions.c.expires_at,
    )
    .join(users, users.c.id == web_sessions.c.user_id)
    .join(organizations, organizations.c.id == web_sessions.c.organization_id)
)


async def find_session(conn: AsyncConnection, token: str, now: datetime) -> WebSession | None:
    row = (
        await conn.execute(
            _SESSION.where(
                web_sessions.c.token_hash == token_hash(token), web_sessions.c.expires_at > now
            )
        )
    ).first()
    return WebSession(*row) if row else None


async def delete_session(conn: AsyncConnection, token: str) -> None:
    await conn.execute(
        sa.delete(web_sessions).where(web_sessions.c.token_hash == token_hash(token))
    )


async def set_session_mode(conn: AsyncConnection, token: str, mode: Mode) -> None:
    await conn.execute(
        sa.update(web_sessions)
        .where(web_sessions.c.token_hash == token_hash(token))
        .values(mode=mode)
    )


@dataclass(frozen=True, slots=True)
class Failures:
    failures: int
    last_failed_at: datetime
    locked_until: datetime | None


async def failures_of(conn: AsyncConnection, scopes: list[str]) -> dict[str, Failures]:
    rows = await conn.execute(
        sa.select(
            sign_in_failures.c.scope,
            sign_in_failures.c.failures,
            sign_in_failures.c.last_failed_at,
            sign_in_failures.c.locked_until,
        ).where(sign_in_failures.c.scope.in_(scopes))
    )
    return {row.scope: Failures(row.failures, row.last_failed_at, row.locked_until) for row in rows}


async def write_failures(conn: AsyncConnection, scope: str, failures: Failures) -> None:
    values = {
        "failures": failures.failures,
        "last_failed_at": failures.last_failed_at,
        "locked_until": failures.locked_until,
    }
    updated = await conn.execute(
        sa.update(sign_in_failures).where(sign_in_failures.c.scope == scope).values(**values)
    )
    if not updated.rowcount:
        try:
            async with conn.begin_nested():
                await conn.execute(sa.insert(sign_in_failures).values(scope=scope, **values))
        except IntegrityError:  # another process counted the first failure at this moment
            await conn.execute(
                sa.update(sign_in_failures)
                .where(sign_in_failures.c.scope == scope)
                .values(failures=sign_in_failures.c.failures + 1, **{
                    key: value for key, value in values.items() if key != "failures"
                })
            )  # fmt: skip


async def clear_failures(conn: AsyncConnection, scope: str) -> None:
    await conn.execute(sa.delete(sign_in_failures).where(sign_in_failures.c.scope == scope))


async def create_link(
    conn: AsyncConnection, *, token: str, user_id: str, now: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        sa.insert(sign_in_links).values(
            token_hash=token_hash(token),
            user_id=user_id,
            created_at=now,
            expires_at=expires_at,
            used_at=None,
        )
    )


async def use_link(conn: AsyncConnection, token: str, now: datetime) -> Account | None:
    """The account a valid unused link signs in, marking it used (one time only)."""
    used = await conn.execute(
        sa.update(sign_in_links)
        .where(
            sign_in_links.c.token_hash == token_hash(token),
            sign_in_links.c.used_at.is_(None),
            sign_in_links.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(sign_in_links.c.user_id)
    )
    user_id = used.scalar()
    if user_id is None:
        return None
    row = (
        await conn.execute(
            sa.select(
                users.c.id, users.c.organization_id, users.c.email, users.c.password_hash
            ).where(users.c.id == user_id)
        )
    ).first()
    return Account(*row) if row else None
