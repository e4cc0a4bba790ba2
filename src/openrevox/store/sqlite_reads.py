"""The hot read of GET /call/{id} on SQLite, straight on the driver.

Through SQLAlchemy's async layer one view costs about a millisecond of CPU (a dozen
thread hops of aiosqlite, statement compilation, row processing). A point read on a
read-only ``sqlite3`` connection in WAL mode takes tens of microseconds and never waits
for writers, so it runs on the event loop directly; everything else keeps using the
async engine. The rows decode to the same records as ``repositories.calls``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection
from datetime import datetime
from typing import Any

import orjson

from openrevox.store.repositories.calls import (
    ATTEMPT_BOOL_FIELDS,
    ATTEMPT_JSON_FIELDS,
    ATTEMPT_TIME_FIELDS,
    ORDER_JSON_FIELDS,
    ORDER_TIME_FIELDS,
    VIEW_ORDER_COLUMNS,
    AttemptRecord,
    CallOrderRecord,
    CallView,
)

_ORDER_FIELDS = CallOrderRecord.__slots__
_ATTEMPT_FIELDS = AttemptRecord.__slots__
# One mapped page read costs no system call and no copy, against a pread per page that
# misses SQLite's small page cache (a view touches ~15 pages of a large database).
MMAP_BYTES = 1 << 30

_ORDER_SQL = (
    f"SELECT {VIEW_ORDER_COLUMNS}"
    " FROM call_orders o JOIN assistant_snapshots s ON s.id = o.snapshot_id"
    " LEFT JOIN campaigns c ON c.id = o.campaign_id"
    " WHERE o.id = ? AND o.organization_id = ? AND o.mode = ?"
)
_ATTEMPTS_SQL = (
    "SELECT " + ", ".join(_ATTEMPT_FIELDS) + " FROM call_attempts"
    " WHERE call_order_id = ? ORDER BY attempt_number DESC"
)


def _at(fields: tuple[str, ...], names: Collection[str]) -> tuple[int, ...]:
    return tuple(i for i, name in enumerate(fields) if name in names)


# Positions of the values to decode: the records are built positionally, in field order.
_ORDER_JSON_AT = _at(_ORDER_FIELDS, ORDER_JSON_FIELDS)
_ORDER_TIMES_AT = _at(_ORDER_FIELDS, ORDER_TIME_FIELDS)
_ORDER_BOOLS_AT = _at(_ORDER_FIELDS, {"skip_calling_window"})
_ATTEMPT_JSON_AT = _at(_ATTEMPT_FIELDS, ATTEMPT_JSON_FIELDS)
_ATTEMPT_TIMES_AT = _at(_ATTEMPT_FIELDS, ATTEMPT_TIME_FIELDS)
_ATTEMPT_BOOLS_AT = _at(_ATTEMPT_FIELDS, ATTEMPT_BOOL_FIELDS)

_loads = orjson.loads
_fromisoformat = datetime.fromisoformat


def _decoded(
    row: tuple[Any, ...],
    json_at: tuple[int, ...],
    times_at: tuple[int, ...],
    bools_at: tuple[int, ...],
) -> list[Any]:
    """The row's values as the record holds them. One loop per kind, no call per value
    but the decoder's own: a Python-level decoder per column cost ~10% more."""
    values = list(row)
    for i in json_at:
        if (value := values[i]) is not None:
            values[i] = _loads(value)
    for i in times_at:
        if (value := values[i]) is not None:
            # Stored as naive UTC text. Parsing it with its offset appended gives the
            # aware datetime at once: several times faster than parsing, then
            # replace(tzinfo=UTC).
            values[i] = _fromisoformat(value + "+00:00")
    for i in bools_at:
        values[i] = bool(values[i])  # stored as 0 or 1
    return values


def _order(row: tuple[Any, ...]) -> CallOrderRecord:
    return CallOrderRecord(*_decoded(row, _ORDER_JSON_AT, _ORDER_TIMES_AT, _ORDER_BOOLS_AT))


def _attempt(row: tuple[Any, ...]) -> AttemptRecord:
    return AttemptRecord(*_decoded(row, _ATTEMPT_JSON_AT, _ATTEMPT_TIMES_AT, _ATTEMPT_BOOLS_AT))


class SqliteCallReader:
    """One read-only connection per thread that uses it (in practice: the event loop's)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _cursor(self) -> sqlite3.Cursor:
        # One cursor for every statement of the thread: conn.execute makes a new one each
        # time, and a view runs four.
        cursor: sqlite3.Cursor | None = getattr(self._local, "cursor", None)
        if cursor is None:
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
            )
            conn.execute("PRAGMA busy_timeout=2000")
            conn.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            cursor = self._local.cursor = conn.cursor()
        return cursor

    def view(self, *, organization_id: str, mode: str, call_id: str) -> CallView | None:
        cursor = self._cursor()
        cursor.execute("BEGIN")  # one snapshot for the order and its attempts
        try:
            row = cursor.execute(_ORDER_SQL, (call_id, organization_id, mode)).fetchone()
            attempts = cursor.execute(_ATTEMPTS_SQL, (call_id,)).fetchall() if row else []
        finally:
            cursor.execute("COMMIT")
        if row is None:
            return None
        return CallView(order=_order(row), attempts=tuple(_attempt(a) for a in attempts))


def sqlite_path(database_url: str) -> str | None:
    """The file of a SQLite URL, or None (in-memory or another database)."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    return path if path and path != ":memory:" else None
