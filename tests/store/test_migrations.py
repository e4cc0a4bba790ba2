"""The Alembic migrations build exactly the schema of ``openrevox.store.tables``, on
SQLite and PostgreSQL, and can be taken down to nothing and up again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from openrevox.services.calls import order_values
from openrevox.settings import normalize_database_url
from openrevox.store.db import create_engine
from openrevox.store.migrate import alembic_config
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calls import snapshot_values
from openrevox.store.tables import (
    assistant_snapshots,
    call_attempts,
    call_orders,
    metadata,
    organizations,
)
from openrevox.store.types import UTCDateTime
from tests.conftest import POSTGRES_ADMIN_URL


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The async URL of a database with nothing in it."""
    if request.param == "sqlite":
        yield normalize_database_url(f"sqlite:///{tmp_path / 'migrations.db'}")
        return
    name = f"openrevox_migrations_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield normalize_database_url(f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}")
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _differences(url: str) -> list[Any]:
    """What autogenerate would write to make the database match the tables module."""

    def compare(connection: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async def run() -> list[Any]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(url, pool_size=1)
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
                return set(names)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations have branched: {heads}"


def test_upgrade_head_matches_the_tables_module(empty_database: str) -> None:
    command.upgrade(alembic_config(empty_database), "head")
    assert _differences(empty_database) == []
    assert set(metadata.tables) <= _tables(empty_database)


def test_downgrade_base_then_upgrade_head_again(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert _tables(empty_database) <= {"alembic_version"}, "downgrade left tables behind"
    command.upgrade(config, "head")
    assert _differences(empty_database) == []


def test_snapshot_call_fields_are_filled_from_the_content(empty_database: str) -> None:
    """0002 keeps beside each snapshot the two values of it a call shows at its top level:
    existing snapshots get exactly what was read from their content before (the delay, or
    400 ms when absent, an explicit null kept; the model as it is), and new ones are
    written with them (repositories.calls.snapshot_values)."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0001")
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    model = {"type": "dedicated-instance", "provider": "openai", "model": "gpt-4.1"}
    contents = {
        "with-both": {"first_sentence_delay_ms": 250, "llm_model": model, "name": "a"},
        "without": {"name": "b"},
        "nulls": {"first_sentence_delay_ms": None, "llm_model": None},
    }
    snapshots = sa.table(
        "assistant_snapshots",
        sa.column("id", sa.String),
        sa.column("organization_id", sa.String),
        sa.column("content", sa.JSON),
        sa.column("created_at", UTCDateTime),
    )

    async def seed() -> None:
        engine = create_engine(empty_database, pool_size=1)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    sa.insert(organizations).values(
                        id="org",
                        name="o",
                        country="US",
                        concurrency_limit=1,
                        webhook_secret="s",
                        created_at=now,
                    )
                )
                await conn.execute(
                    sa.insert(snapshots),
                    [
                        {"id": key, "organization_id": "org", "content": content, "created_at": now}
                        for key, content in contents.items()
                    ],
                )
        finally:
            await engine.dispose()

    async def read() -> dict[str, tuple[Any, Any]]:
        engine = create_engine(empty_database, pool_size=1)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(
                        assistant_snapshots.c.id,
                        assistant_snapshots.c.first_sentence_delay_ms,
                        assistant_snapshots.c.llm_model,
                    )
                )
                return {row.id: (row.first_sentence_delay_ms, row.llm_model) for row in rows}
        finally:
            await engine.dispose()

    asyncio.run(seed())
    command.upgrade(config, "head")
    filled = asyncio.run(read())
    assert filled == {"with-both": (250, model), "without": (400, None), "nulls": (None, None)}
    for key, content in contents.items():
        values = snapshot_values(key, organization_id="org", content=content, now=now)
        assert (values["first_sentence_delay_ms"], values["llm_model"]) == filled[key]


def test_own_end_reasons_become_contract_values_and_facts(empty_database: str) -> None:
    """0003 rewrites the reasons openrevox wrote into end_reason before it kept to the
    contract's enum: each becomes its contract value (domain/end_reasons.py) with the
    reason kept as the attempt's openrevox.error_reason; contract values stay; down
    again, the reasons come back."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0002")
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    reasons = {"a1": "worker_lost", "a2": "llm_timeout", "a3": "tool_end_call", "a4": None}
    attempts = sa.table(
        "call_attempts",
        *(sa.column(name, sa.String) for name in ("id", "call_order_id", "organization_id")),
        *(sa.column(name, sa.String) for name in ("status", "phone_number", "end_reason")),
        sa.column("attempt_number", sa.Integer),
        sa.column("handled_by_ai", sa.Boolean),
        sa.column("handled_by_human", sa.Boolean),
        sa.column("created_at", UTCDateTime),
    )

    async def execute(*statements: Any) -> None:
        engine = create_engine(empty_database, pool_size=1)
        try:
            async with engine.begin() as conn:
                for statement, *params in statements:
                    await conn.execute(statement, *params)
        finally:
            await engine.dispose()

    async def read() -> dict[str, tuple[Any, Any]]:
        engine = create_engine(empty_database, pool_size=1)
        try:
            async with engine.connect() as conn:
                columns = [sa.column("id"), sa.column("end_reason")]
                if "openrevox" in await conn.run_sync(
                    lambda c: {col["name"] for col in sa.inspect(c).get_columns("call_attempts")}
                ):
                    columns.append(call_attempts.c.openrevox)
                rows = await conn.execute(sa.select(*columns).select_from(call_attempts))
                return {row[0]: tuple(row[1:]) for row in rows}
        finally:
            await engine.dispose()

    organization = dict(
        id="org", name="o", country="US", concurrency_limit=1, webhook_secret="s", created_at=now
    )
    snapshot = dict(id="s", organization_id="org", content={}, created_at=now)
    order = order_values(
        call_id="o1", principal=Principal("org", "live", "u", "k", "US"), assistant_id=None,
        snapshot_id="s", retry_config={}, timezone="UTC", to_number="+12125550100",
        from_number="+12125550190", status="completed", due=None, prompt_variables=None,
        metadata=None, now=now,
    )  # fmt: skip
    asyncio.run(
        execute(
            (sa.insert(organizations).values(**organization),),
            (sa.insert(assistant_snapshots).values(**snapshot),),
            (sa.insert(call_orders).values(**order),),
            (
                sa.insert(attempts),
                [
                    dict(
                        id=key,
                        call_order_id="o1",
                        organization_id="org",
                        attempt_number=n,
                        status="error",
                        phone_number="+12125550100",
                        end_reason=reason,
                        handled_by_ai=False,
                        handled_by_human=False,
                        created_at=now,
                    )
                    for n, (key, reason) in enumerate(reasons.items(), start=1)
                ],
            ),
        )
    )
    command.upgrade(config, "head")
    assert asyncio.run(read()) == {
        "a1": ("connection_timeout", {"error_reason": "worker_lost"}),
        "a2": ("client_initiated", {"error_reason": "llm_timeout"}),
        "a3": ("tool_end_call", None),
        "a4": (None, None),
    }
    command.downgrade(config, "0002")
    assert asyncio.run(read()) == {key: (reason,) for key, reason in reasons.items()}
