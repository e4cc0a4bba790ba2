"""The Alembic migrations build exactly the schema of ``openrevox.store.tables``, on
SQLite and PostgreSQL, and can be taken down to nothing and up again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from openrevox.settings import normalize_database_url
from openrevox.store.db import create_engine
from openrevox.store.migrate import alembic_config
from openrevox.store.tables import metadata
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
