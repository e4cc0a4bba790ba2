"""The dashboard's list of calls: the filters of /call/search, one light row per order,
paged by keyset on (created_at, id) so that page 500 costs what page 1 does."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.repositories.call_search import CallQuery, where_of
from openrevox.store.tables import assistants, call_orders, call_search_text, campaigns

# Counting stops here: "1,000+" says as much as an exact figure on a page of 50, and
# counting every match of a broad filter (a row read each) is what made lists slow.
COUNT_CAP = 1_000


@dataclass(frozen=True, slots=True)
class CallLine:
    id: str
    status: str
    direction: str
    to_phone_number: str
    from_phone_number: str
    last_result: str | None
    outcome: str | None
    calls_count: int
    contact: dict[str, Any]
    assistant_name: str | None
    campaign_name: str | None
    created_at: datetime
    last_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class Cursor:
    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class CallPage:
    lines: list[CallLine]
    count: int  # capped at COUNT_CAP
    newer: Cursor | None  # the first line, when newer lines exist
    older: Cursor | None  # the last line, when older lines exist


_c = call_orders.c
_s = call_search_text.c
_COLUMNS = (
    _c.id,
    _c.status,
    _c.direction,
    _c.to_phone_number,
    _c.from_phone_number,
    _c.last_result,
    _c.outcome,
    _c.calls_count,
    _c.contact,
    assistants.c.name.label("assistant_name"),
    campaigns.c.name.label("campaign_name"),
    _c.created_at,
    _c.last_attempt_at,
)


def _named(source: sa.FromClause) -> sa.FromClause:
    return source.outerjoin(assistants, assistants.c.id == _c.assistant_id).outerjoin(
        campaigns, campaigns.c.id == _c.campaign_id
    )


def _keyset(query: CallQuery) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]], Any, Any]:
    """What to read, the conditions, and the two columns of the keyset. A search is
    driven by ``call_search_text``: its index is read newest first with the text in it,
    so only matching orders are opened, and a rare word costs one pass over that narrow
    index rather than over the orders."""
    where = where_of(replace(query, text=None))
    if not query.text:
        return _named(call_orders), where, _c.created_at, _c.id
    source = call_search_text.join(call_orders, _c.id == _s.call_order_id)
    where += [
        _s.organization_id == query.organization_id,
        _s.mode == query.mode,
        _s.text.contains(query.text.lower(), autoescape=True),
    ]
    return _named(source), where, _s.created_at, _s.call_order_id


def _at(cursor: Cursor, created_at: Any, id_: Any) -> sa.Tuple:
    # Bound with the columns' own types: on SQLite a timestamp is compared as stored text.
    return sa.tuple_(
        sa.literal(cursor.created_at, type_=created_at.type),
        sa.literal(cursor.id, type_=id_.type),
    )


async def page(
    conn: AsyncConnection,
    query: CallQuery,
    *,
    size: int,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> CallPage:
    """Newest first; ``before`` pages to older lines, ``after`` back to newer ones."""
    source, where, created_at, id_ = _keyset(query)
    key = sa.tuple_(created_at, id_)
    statement = sa.select(*_COLUMNS).select_from(source).where(*where).limit(size + 1)
    if after is not None:
        statement = statement.where(key > _at(after, created_at, id_)).order_by(
            created_at.asc(), id_.asc()
        )
    else:
        statement = statement.order_by(created_at.desc(), id_.desc())
        if before is not None:
            statement = statement.where(key < _at(before, created_at, id_))
    rows = [CallLine(**row) for row in (await conn.execute(statement)).mappings()]
    more = len(rows) > size
    rows = rows[:size]
    if after is not None:
        rows.reverse()
        newer_exists, older_exists = more, True
    else:
        newer_exists, older_exists = before is not None, more
    if before is None and after is None and not more:
        count = len(rows)  # the first page holds them all: nothing more to count
    else:
        capped = sa.select(sa.literal(1)).select_from(source).where(*where).limit(COUNT_CAP)
        count = (
            await conn.execute(sa.select(sa.func.count()).select_from(capped.subquery()))
        ).scalar_one()
    return CallPage(
        lines=rows,
        count=int(count),
        newer=Cursor(rows[0].created_at, rows[0].id) if rows and newer_exists else None,
        older=Cursor(rows[-1].created_at, rows[-1].id) if rows and older_exists else None,
    )


async def assistant_names(
    conn: AsyncConnection, *, organization_id: str, mode: Mode
) -> list[tuple[str, str]]:
    """(id, name) of the organization's assistants, for the filter menu."""
    rows = await conn.execute(
        sa.select(assistants.c.id, assistants.c.name)
        .where(assistants.c.organization_id == organization_id, assistants.c.mode == mode)
        .order_by(assistants.c.name, assistants.c.id)
    )
    return [(row.id, row.name) for row in rows]


async def campaign_names(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, limit: int = 200
) -> list[tuple[str, str]]:
    """(id, name) of the newest campaigns, for the filter menu."""
    rows = await conn.execute(
        sa.select(campaigns.c.id, campaigns.c.name)
        .where(campaigns.c.organization_id == organization_id, campaigns.c.mode == mode)
        .order_by(campaigns.c.created_at.desc(), campaigns.c.id)
        .limit(limit)
    )
    return [(row.id, row.name) for row in rows]
