"""Batched writes that are one statement on both databases: executemany on SQLite,
``unnest()`` of one array per column on PostgreSQL (one round trip for any number of
rows)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.types import UTCDateTime

# The SQL text written here names only the tables' own columns (looked up in their
# metadata) and quotes them as the dialect does; every value is a bound parameter.
_PG = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]


@functools.lru_cache(maxsize=256)
def _pg_element(column: sa.Column[Any]) -> tuple[str, str, bool]:
    """(array type of the parameter, cast from its element to the column, JSON?) on
    PostgreSQL."""
    kind = column.type
    if isinstance(kind, sa.JSON):
        return "text[]", "::jsonb", True
    if isinstance(kind, sa.Boolean):
        return "boolean[]", "", False
    if isinstance(kind, sa.Integer):
        return "integer[]", "", False
    if isinstance(kind, UTCDateTime):
        return "timestamptz[]", "", False
    return "text[]", "", False


def _json_none(column: sa.Column[Any]) -> str | None:
    """What the ORM stores for ``None`` in this JSON column: JSON ``null`` unless the type
    says ``none_as_null``."""
    return None if getattr(column.type, "none_as_null", False) else "null"


def unnest_arrays(
    table: sa.Table, columns: Mapping[str, list[Any]], *, orm_nulls: bool = False
) -> tuple[str, list[str], dict[str, Any]]:
    """``unnest(...) AS v(keys)`` of one array per column, each value cast to its
    column's type (``v."key"...``), and the array parameters. ``None`` in a JSON column
    is SQL NULL, or with ``orm_nulls`` what an ORM insert stores (JSON ``null``)."""
    arrays: dict[str, Any] = {}
    arguments, values = [], []
    for index, (key, items) in enumerate(columns.items()):
        array, cast, is_json = _pg_element(table.c[key])
        if is_json:
            none = _json_none(table.c[key]) if orm_nulls else None
            items = [none if item is None else orjson.dumps(item).decode() for item in items]
        arrays[f"a{index}"] = items
        arguments.append(f"CAST(:a{index} AS {array})")
        values.append(f"v.{_PG.quote_identifier(table.c[key].name)}{cast}")
    names = ", ".join(_PG.quote_identifier(table.c[key].name) for key in columns)
    return f"unnest({', '.join(arguments)}) AS v({names})", values, arrays


def grouped_by_columns(
    changes: Mapping[str, Mapping[str, Any]],
) -> dict[tuple[str, ...], tuple[list[str], list[Mapping[str, Any]]]]:
    """Rows by their set of columns: (ids, values) for each."""
    groups: dict[tuple[str, ...], tuple[list[str], list[Mapping[str, Any]]]] = {}
    for row_id, values in changes.items():
        ids, rows = groups.setdefault(tuple(values), ([], []))
        ids.append(row_id)
        rows.append(values)
    return groups


async def insert_rows(
    conn: AsyncConnection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: sa.Column[Any] | None = None,
    orm_nulls: bool = False,
) -> list[Any]:
    """Insert rows that all have the same keys; ``skip_conflicts``: rows whose key is
    taken are left out; ``returning``: that column of the rows inserted; ``orm_nulls``:
    ``None`` in a JSON column is stored as an ORM insert stores it (JSON ``null`` on
    PostgreSQL, as on SQLite), not as SQL NULL."""
    if not rows:
        return []
    keys = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        source, values, params = unnest_arrays(
            table, {key: [row[key] for row in rows] for key in keys}, orm_nulls=orm_nulls
        )
        names = ", ".join(_PG.quote_identifier(table.c[key].name) for key in keys)
        target = _PG.format_table(table)
        sql = f"INSERT INTO {target} ({names}) SELECT {', '.join(values)} FROM {source}"
        if skip_conflicts:
            sql += " ON CONFLICT DO NOTHING"
        if returning is not None:
            sql += f" RETURNING {_PG.quote_identifier(returning.name)}"
        result = await conn.execute(sa.text(sql), params)
        return list(result.scalars()) if returning is not None else []
    statement: Any = sa.insert(table)
    if skip_conflicts:
        statement = sqlite_dialect.insert(table).on_conflict_do_nothing()
    if returning is not None:
        statement = statement.returning(returning)
        return list((await conn.execute(statement, list(rows))).scalars())
    await conn.execute(statement, list(rows))
    return []


def in_list(column: sa.ColumnElement[Any], values: Iterable[str], dialect: str) -> Any:
    """``column IN values`` as one parameter, however many values: an array on
    PostgreSQL (``= ANY``), a JSON array on SQLite (``json_each``). An expanding IN would
    bind one parameter per value, past the databases' limits (32,766 on SQLite)."""
    if dialect == "postgresql":
        array = sa.bindparam(None, list(values), type_=postgresql.ARRAY(sa.Text))
        return column == sa.any_(array)
    listed: sa.Select[Any] = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(None, orjson.dumps(list(values)).decode(), type_=sa.Text))
    )
    return column.in_(listed)
