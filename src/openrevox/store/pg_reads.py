"""The hot read of GET /call/{id} on PostgreSQL, straight on asyncpg.

Through SQLAlchemy one view costs the API process a pool checkout through a greenlet,
BEGIN, two statements, ROLLBACK, and row processing per column. Here
it is one prepared statement on a small asyncpg pool of the reader's own: the order row,
and its attempts aggregated by PostgreSQL into one JSON array that orjson decodes at once.
One statement is one snapshot, so the order and its attempts always agree. It hands over
rows ready to write out (``store/call_rows.py``): PostgreSQL formats the timestamps.
"""

from __future__ import annotations

import asyncio
import itertools

import asyncpg  # type: ignore[import-untyped]
import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from openrevox.domain.call_rows import CallRows
from openrevox.store.call_rows import ATTEMPT_ROW_FIELDS, attempt_row, order_row

# Options of SQLAlchemy's asyncpg adapter, not of asyncpg.connect.
_ADAPTER_OPTIONS = (
    "async_fallback",
    "async_creator_fn",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
)


def _wire_time(column: str) -> str:
    """The timestamp as the wire shows it (clock.iso's shape), formatted by PostgreSQL in
    the session's time zone, which the pool pins to UTC. MS truncates, as iso does."""
    return f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""


# OrderRow's fields in order, then the order's mode (which view a row answers), then
# its attempts: each a JSON array of AttemptRow's fields in order (no key repeated per
# attempt), newest first; the JSON columns as text inside it, the recording's key in
# has_audio's place.
_ORDER_ROW_COLUMNS = ", ".join(
    (
        "o.id, o.organization_id, o.campaign_id, c.name, o.direction, o.status,"
        " o.to_phone_number, o.from_phone_number, s.content, s.first_sentence_delay_ms,"
        " s.llm_model, o.call_retry_config, o.prompt_variables, o.metadata, o.contact",
        _wire_time("o.scheduled_at"),
        "o.calls_count, o.outcome, o.outcome_summary",
        _wire_time("o.created_at"),
        _wire_time("o.updated_at"),
        "o.mode",
    )
)
_ATTEMPT_ROW_COLUMNS = ", ".join(
    "recording_key"
    if name == "has_audio"
    else f"{name}::text"
    if name in ("transcript", "structured_output", "openrevox", "speech_events")
    else _wire_time(name)
    if name.endswith("_at")
    else name
    for name in ATTEMPT_ROW_FIELDS
)
_SELECT = (
    f"SELECT {_ORDER_ROW_COLUMNS},"
    f" (SELECT coalesce(json_agg(json_build_array({_ATTEMPT_ROW_COLUMNS})"
    "                            ORDER BY attempt_number DESC), '[]'::json)"
    "   FROM call_attempts WHERE call_order_id = o.id) AS attempts"
)
_SNAPSHOT_AND_CAMPAIGN = (
    " JOIN assistant_snapshots s ON s.id = o.snapshot_id"
    " LEFT JOIN campaigns c ON c.id = o.campaign_id"
)
VIEW_SQL = (
    _SELECT + " FROM call_orders o" + _SNAPSHOT_AND_CAMPAIGN + " WHERE o.id = $1"
    " AND o.organization_id = $2 AND o.mode = $3"
)
# Several views in one statement: each wanted (id, organization, mode) is matched whole,
# so a row only ever answers the organization and mode that asked for it.
VIEWS_SQL = (
    _SELECT + " FROM unnest($1::varchar[], $2::varchar[], $3::varchar[])"
    " AS k(id, organization_id, mode) JOIN call_orders o ON o.id = k.id"
    " AND o.organization_id = k.organization_id AND o.mode = k.mode" + _SNAPSHOT_AND_CAMPAIGN
)


def rows_from_record(row: asyncpg.Record) -> CallRows:
    """asyncpg hands json/jsonb over as text: written out as it is, but the contact."""
    *order, _mode, attempts = row
    return CallRows(
        order=order_row(order),
        attempts=tuple(attempt_row(values) for values in orjson.loads(attempts)),
    )


async def _no_reset(_conn: asyncpg.Connection) -> None:
    # The reader only runs one read-only statement per checkout and never changes session
    # state, so the default reset (a RESET ALL/UNLISTEN round trip per release) is waste.
    return None


Key = tuple[str, str, str]  # (call id, organization id, mode)
# The requests waiting for each wanted view (the same call may be asked for twice).
Batch = dict[Key, list["asyncio.Future[asyncpg.Record | None]"]]


class PgCallReader:
    """GET /call/{id}'s read, on a small asyncpg pool of its own (everything else keeps
    SQLAlchemy's pool), with the views wanted at the same time read together.

    A round trip costs the API process more than decoding what it brings back (a send
    that wakes the database, a wake-up when the answer lands, a pool checkout), so the
    views wanted while a statement is in flight, or within the same turn of the event
    loop, are read by the next statements: one round trip for up to ``MAX_BATCH`` views.
    This is not a cache. Every statement starts after the requests it answers arrived,
    and reads the committed state of that moment, so no response is older than its
    request. Alone, a request is read at once, by itself.
    """

    MAX_BATCH = 32

    def __init__(self, pool: asyncpg.Pool, *, max_statements: int = 2) -> None:
        self._pool = pool
        self._max_statements = max_statements  # statements in flight at once
        self._in_flight = 0
        self._waiting: Batch = {}
        self._flush_scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(cls, engine: AsyncEngine, *, max_statements: int = 2) -> PgCallReader:
        """A pool that connects exactly as ``engine`` does (same URL, same options)."""
        _args, kwargs = engine.dialect.create_connect_args(engine.url)
        for adapter_only in _ADAPTER_OPTIONS:
            kwargs.pop(adapter_only, None)
        kwargs["server_settings"] = {**kwargs.get("server_settings", {}), "timezone": "UTC"}
        pool = await asyncpg.create_pool(
            min_size=1, max_size=max_statements, reset=_no_reset, **kwargs
        )
        return cls(pool, max_statements=max_statements)

    async def view(self, *, organization_id: str, mode: str, call_id: str) -> CallRows | None:
        future: asyncio.Future[asyncpg.Record | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((call_id, organization_id, mode), []).append(future)
        self._schedule_flush()
        row = await future
        return None if row is None else rows_from_record(row)

    def _schedule_flush(self) -> None:
        # Not at once: the requests that arrived in the same turn of the loop join in.
        if not self._flush_scheduled and self._in_flight < self._max_statements:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._waiting and self._in_flight < self._max_statements:
            # The views waiting are shared out over the free statements: one statement
            # taking them all would leave the other idle, and the API process waiting on
            # PostgreSQL while PostgreSQL waits on it (at 32 connections, 16 and 16
            # rather than 32 and 0: see docs/benchmarks.md).
            free = self._max_statements - self._in_flight
            share = min(self.MAX_BATCH, -(-len(self._waiting) // free))
            keys = list(itertools.islice(self._waiting, share))
            batch = {key: self._waiting.pop(key) for key in keys}
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._read(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _read(self, batch: Batch) -> None:
        try:
            await self._settle(batch)
        finally:
            self._in_flight -= 1
            if self._waiting:
                self._schedule_flush()

    async def _settle(self, batch: Batch) -> None:
        try:
            rows = await self._fetch(list(batch))
        except Exception as error:
            if len(batch) > 1:
                # One request's bad id must not fail the others: read them one by one.
                for key, futures in batch.items():
                    await self._settle({key: futures})
                return
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        except BaseException:  # cancelled: the app is shutting down
            for futures in batch.values():
                for future in futures:
                    future.cancel()
            raise
        for key, futures in batch.items():
            for future in futures:
                if not future.done():  # its request may have gone (the client left)
                    future.set_result(rows.get(key))

    async def _fetch(self, keys: list[Key]) -> dict[Key, asyncpg.Record]:
        async with self._pool.acquire() as conn:
            # asyncpg prepares each statement once per connection and reuses it.
            if len(keys) == 1:
                row = await conn.fetchrow(VIEW_SQL, *keys[0])
                return {keys[0]: row} if row is not None else {}
            ids, organizations, modes = zip(*keys, strict=True)
            rows = await conn.fetch(VIEWS_SQL, ids, organizations, modes)
        return {(row["id"], row["organization_id"], row["mode"]): row for row in rows}

    async def close(self) -> None:
        await self._pool.close()
