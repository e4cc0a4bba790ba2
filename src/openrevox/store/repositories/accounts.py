"""Organizations, users and API keys."""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode, generate_key, parse_key, secrets_match
from openrevox.store.tables import api_keys, organizations, users


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    country: str
    concurrency_limit: int
    webhook_secret: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    id: str
    organization_id: str
    email: str
    first_name: str | None
    last_name: str | None
    has_completed_onboarding: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's organization, mode and user."""

    organization_id: str
    mode: Mode
    user_id: str
    key_id: str
    country: str


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: str
    organization_id: str
    mode: Mode
    name: str
    lookup: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewKey:
    info: ApiKeyInfo
    secret: str  # shown once, never stored


async def count_organizations(conn: AsyncConnection) -> int:
    return int(
        (await conn.execute(sa.select(sa.func.count()).select_from(organizations))).scalar_one()
    )


async def create_organization(
    conn: AsyncConnection, *, name: str, country: str, now: datetime, concurrency_limit: int = 10
) -> Organization:
    org = Organization(
        id=str(uuid.uuid4()),
        name=name,
        country=country,
        concurrency_limit=concurrency_limit,
        webhook_secret=new_webhook_secret(),
        created_at=now,
    )
    await conn.execute(sa.insert(organizations).values(**_asdict(org)))
    return org


def new_webhook_secret() -> str:
    """Standard Webhooks' format: ``whsec_`` and the base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _asdict(obj: object) -> dict[str, object]:
    return {name: getattr(obj, name) for name in obj.__slots__}  # type: ignore[attr-defined]


async def get_organization(conn: AsyncConnection, organization_id: str) -> Organization | None:
    row = (
        (await conn.execute(sa.select(organizations).where(organizations.c.id == organization_id)))
        .mappings()
        .first()
    )
    return Organization(**row) if row else None


async def list_organizations(conn: AsyncConnection) -> list[Organization]:
    rows = (
        await conn.execute(sa.select(organizations).order_by(organizations.c.created_at))
    ).mappings()
    return [Organization(**row) for row in rows]


async def create_user(
    conn: AsyncConnection, *, organization_id: str, email: str, now: datetime
) -> User:
    user = User(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        email=email,
        first_name=None,
        last_name=None,
        has_completed_onboarding=False,
        created_at=now,
        updated_at=now,
    )
    await conn.execute(sa.insert(users).values(**_asdict(user)))
    return user


# A user as the API shows it: never the dashboard's password hash.
_USER = sa.select(*(users.c[field.name] for field in fields(User)))


async def get_user(conn: AsyncConnection, user_id: str) -> User | None:
    row = (await conn.execute(_USER.where(users.c.id == user_id))).mappings().first()
    return User(**row) if row else None


async def first_user_of(conn: AsyncConnection, organization_id: str) -> User | None:
    row = (
        (
            await conn.execute(
                _USER.where(users.c.organization_id == organization_id)
                .order_by(users.c.created_at)
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    return User(**row) if row else None


async def update_user(
    conn: AsyncConnection, user_id: str, changes: dict[str, object], now: datetime
) -> None:
    await conn.execute(
        sa.update(users).where(users.c.id == user_id).values(**changes, updated_at=now)
    )


async def create_api_key(
    conn: AsyncConnection,
    *,
    organization_id: str,
    user_id: str,
    mode: Mode,
    name: str,
    now: datetime,
    secret: str | None = None,
) -> NewKey:
    """A new key; ``secret`` lets a deployment seed a key it chose (bootstrap)."""
    secret = secret or generate_key(mode)
    parsed = parse_key(secret)
    if parsed is None or parsed.mode != mode:
        raise ValueError(f"an API key must look like sk_{mode}_ followed by 16+ characters")
    info = ApiKeyInfo(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        mode=mode,
        name=name,
        lookup=parsed.lookup,
        created_at=now,
        revoked_at=None,
    )
    await conn.execute(
        sa.insert(api_keys).values(**_asdict(info), user_id=user_id, secret_hash=parsed.secret_hash)
    )
    return NewKey(info=info, secret=secret)


_PRINCIPAL_QUERY = (
    sa.select(
        api_keys.c.id,
        api_keys.c.organization_id,
        api_keys.c.mode,
        api_keys.c.user_id,
        api_keys.c.secret_hash,
        api_keys.c.revoked_at,
        organizations.c.country,
    )
    .join(organizations, organizations.c.id == api_keys.c.organization_id)
    .where(api_keys.c.lookup == sa.bindparam("lookup"))
)


async def find_principal(conn: AsyncConnection, presented_key: str) -> Principal | None:
    parsed = parse_key(presented_key)
    if parsed is None:
        return None
    row = (await conn.execute(_PRINCIPAL_QUERY, {"lookup": parsed.lookup})).first()
    if row is None or row.revoked_at is not None:
        return None
    if not secrets_match(row.secret_hash, parsed.secret_hash):
        return None
    return Principal(
        organization_id=row.organization_id,
        mode=row.mode,
        user_id=row.user_id,
        key_id=row.id,
        country=row.country,
    )


async def list_api_keys(
    conn: AsyncConnection, organization_id: str | None = None
) -> list[ApiKeyInfo]:
    query = sa.select(
        api_keys.c.id,
        api_keys.c.organization_id,
        api_keys.c.mode,
        api_keys.c.name,
        api_keys.c.lookup,
        api_keys.c.created_at,
        api_keys.c.revoked_at,
    ).order_by(api_keys.c.created_at)
    if organization_id is not None:
        query = query.where(api_keys.c.organization_id == organization_id)
    return [ApiKeyInfo(**row) for row in (await conn.execute(query)).mappings()]


async def revoke_api_key(conn: AsyncConnection, key_id_or_lookup: str, now: datetime) -> bool:
    result = await conn.execute(
        sa.update(api_keys)
        .where(
            sa.or_(api_keys.c.id == key_id_or_lookup, api_keys.c.lookup == key_id_or_lookup[:16]),
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)


async def revoke_key_of(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, key_id: str, now: datetime
) -> bool:
    """Revoke one of an organization's keys of one mode (the dashboard's: a key of
    another organization or mode is not found, like one that does not exist)."""
    result = await conn.execute(
        sa.update(api_keys)
        .where(
            api_keys.c.id == key_id,
            api_keys.c.organization_id == organization_id,
            api_keys.c.mode == mode,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(result.rowcount)
