"""The hot read of GET /call/{id} on SQLite, straight on the driver.

Through SQLAlchemy's async layer one view costs about a millisecond of CPU (a dozen
thread hops of aiosqlite, statement compilation, row processing). A point read on a
read-only ``sqlite3`` connection in WAL mode takes tens of microseconds and never waits
for writers, so it runs on the event loop directly; everything else keeps using the
async engine. It hands over rows ready to write out (``store/call_rows.py``).
"""

from __future__ import annotations

import sqlite3
import threading

from openrevox.domain.call_rows import CallRows
from openrevox.store.call_rows import (
    ATTEMPT_ROW_FIELDS,
    attempt_row,
    iso_of_stored,
    order_row,
)

# One mapped page read costs no system call and no copy, against a pread per page that
# misses SQLite's small page cache (a view touches several pages of a large database).
MMAP_BYTES = 1 << 30

# In OrderRow's field order.
_ORDER_SQL = (
    "SELECT o.id, o.organization_id, o.campaign_id, c.name, o.direction, o.status,"
    " o.to_phone_number, o.from_phone_number, s.content, s.first_sentence_delay_ms,"
    " s.llm_model, o.call_retry_config,"
    " o.prompt_variables, o.metadata, o.contact, o.scheduled_at, o.calls_count, o.outcome,"
    " o.outcome_summary, o.created_at, o.updated_at"
    " FROM call_orders o JOIN assistant_snapshots s ON s.id = o.snapshot_id"
    " LEFT JOIN campaigns c ON c.id = o.campaign_id"
    " WHERE o.id = ? AND o.organization_id = ? AND o.mode = ?"
)
# In AttemptRow's field order, with the recording's key in has_audio's place; the large
# JSON columns as bytes (written out as they are: no decoding to str and back).
_BLOB_COLUMNS = frozenset({"speech_events"})
_ATTEMPTS_SQL = (
    "SELECT "
    + ", ".join(
        "recording_key"
        if name == "has_audio"
        else f"CAST({name} AS BLOB)"
        if name in _BLOB_COLUMNS
        else name
        for name in ATTEMPT_ROW_FIELDS
    )
    + " FROM call_attempts WHERE call_order_id = ? ORDER BY attempt_number DESC"
)


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

    def view(self, *, organization_id: str, mode: str, call_id: str) -> CallRows | None:
        cursor = self._cursor()
        cursor.execute("BEGIN")  # one snapshot for the order and its attempts
        try:
            row = cursor.execute(_ORDER_SQL, (call_id, organization_id, mode)).fetchone()
            attempts = cursor.execute(_ATTEMPTS_SQL, (call_id,)).fetchall() if row else []
        finally:
            cursor.execute("COMMIT")
        if row is None:
            return None
        return CallRows(
            order=order_row(row, iso_of_stored),
            attempts=tuple(attempt_row(a, iso_of_stored) for a in attempts),
        )


def sqlite_path(database_url: str) -> str | None:
    """The file of a SQLite URL, or None (in-memory or another database)."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[1] if ":///" in database_url else ""
    return path if path and path != ":memory:" else None
