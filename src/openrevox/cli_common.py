"""What the CLI's commands share: a database for one command, the caller's identity."""

from __future__ import annotations

import asyncio
from typing import Any

import typer

from openrevox.settings import Settings
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head


async def principal_for(db: Database, organization: str, mode: str) -> Any:
    from openrevox.store.repositories import accounts

    async with db.read() as conn:
        orgs = await accounts.list_organizations(conn)
        org = next((o for o in orgs if o.id == organization), None) if organization else None
        org = org or (orgs[0] if orgs and not organization else None)
        if org is None:
            raise typer.BadParameter("no such organization", param_hint="--org")
        user = await accounts.first_user_of(conn, org.id)
    assert user is not None
    return accounts.Principal(
        organization_id=org.id, mode="test" if mode == "test" else "live", user_id=user.id,
        key_id="cli", country=org.country,
    )  # fmt: skip


def with_db(work: Any, settings: Settings | None = None, *, pool_size: int = 2) -> Any:
    """Migrate, then run ``work(db)`` on a small engine of its own, and dispose of it."""
    settings = settings or Settings.from_env()
    upgrade_to_head(settings.database_url)

    async def main() -> Any:
        db = Database(create_engine(settings.database_url, pool_size=pool_size))
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())
