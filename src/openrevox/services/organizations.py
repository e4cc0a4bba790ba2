"""Creating organizations with their first user, keys and sandbox lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import MODES
from openrevox.store.repositories import accounts, phone_numbers


@dataclass(frozen=True, slots=True)
class NewOrganization:
    organization: accounts.Organization
    user: accounts.User
    live_key: str
    test_key: str | None


async def create_organization_with_keys(
    conn: AsyncConnection,
    *,
    name: str,
    email: str,
    country: str,
    now: datetime,
    live_key: str | None = None,
    with_test_key: bool = True,
    concurrency_limit: int = 10,
) -> NewOrganization:
    org = await accounts.create_organization(
        conn, name=name, country=country, now=now, concurrency_limit=concurrency_limit
    )
    user = await accounts.create_user(conn, organization_id=org.id, email=email, now=now)
    live = await accounts.create_api_key(
        conn, organization_id=org.id, user_id=user.id, mode="live", name="default", now=now,
        secret=live_key,
    )  # fmt: skip
    test = None
    if with_test_key:
        test = await accounts.create_api_key(
            conn, organization_id=org.id, user_id=user.id, mode="test", name="default", now=now
        )
    for mode in MODES:
        await phone_numbers.provision_sandbox_line(
            conn, organization_id=org.id, mode=mode, now=now, label="Sandbox line"
        )
    return NewOrganization(
        organization=org,
        user=user,
        live_key=live.secret,
        test_key=test.secret if test else None,
    )


async def bootstrap_if_empty(
    conn: AsyncConnection,
    *,
    country: str,
    now: datetime,
    live_key: str | None,
    concurrency_limit: int = 10,
) -> NewOrganization | None:
    """First start of an empty database: the default organization and its keys."""
    if await accounts.count_organizations(conn) > 0:
        return None
    return await create_organization_with_keys(
        conn,
        name="Default organization",
        email="owner@openrevox.local",
        country=country,
        now=now,
        live_key=live_key,
        with_test_key=True,
        concurrency_limit=concurrency_limit,
    )
