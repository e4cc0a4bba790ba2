"""A campaign's figures (funnel counts, the statistics report), aggregated in SQL: a
campaign of 100k orders is counted by the database, never loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.store.tables import call_attempts, call_orders, campaign_rows


async def funnel_counts(
    conn: AsyncConnection,
    campaign_ids: list[str],
    *,
    hot_outcomes: tuple[str, ...],
    lead_outcomes: tuple[str, ...],
) -> dict[str, dict[str, int]]:
    """Per campaign, distinct numbers (``to_phone_number``): with a hot outcome, last
    answered by a human, with a lead outcome."""
    counts = {cid: {"hot": 0, "talked_to_human": 0, "total_leads": 0} for cid in campaign_ids}
    if not campaign_ids:
        return counts
    o = call_orders.c

    def numbers(condition: Any) -> Any:
        return sa.func.count(sa.distinct(sa.case((condition, o.to_phone_number))))

    rows = await conn.execute(
        sa.select(
            o.campaign_id,
            numbers(o.outcome.in_(hot_outcomes)),
            numbers(o.last_result == "human"),
            numbers(o.outcome.in_(lead_outcomes)),
        )
        .where(o.campaign_id.in_(campaign_ids))
        .group_by(o.campaign_id)
    )
    for campaign_id, hot, human, leads in rows:
        counts[campaign_id] = {
            "hot": int(hot),
            "talked_to_human": int(human),
            "total_leads": int(leads),
        }
    return counts


@dataclass(frozen=True, slots=True)
class LeadRecord:
    """What the statistics' lead lists show of an order."""

    id: str
    direction: str
    to_phone_number: str
    from_phone_number: str
    contact: dict[str, Any]
    prompt_variables: dict[str, str] | None
    last_attempt_at: datetime | None
    updated_at: datetime
    outcome: str | None
    outcome_summary: str | None
    newest_attempt_id: str | None


@dataclass(slots=True)
class StatisticsFigures:
    """The counts of a campaign's statistics report. Contacts are distinct numbers: the
    callee of an outbound order, the caller of an inbound one."""

    called: int = 0  # contacts with at least one attempt
    reached: int = 0  # contacts with an attempt answered by a human
    reached_outbound: int = 0
    reached_inbound: int = 0
    reached_both: int = 0
    real_exchanges: int = 0  # reached contacts with an attempt of 2+ user turns
    hot: int = 0
    inbound_callers: int = 0
    outbound_attempts: int = 0
    inbound_calls: int = 0
    first_activity_at: datetime | None = None
    last_activity_at: datetime | None = None
    outcomes: dict[str, int] | None = None  # of the orders with an attempt; "none" for none
    human_durations: list[float] | None = None  # seconds, attempts a human handled
    first_timezone: str | None = None  # of the first row's order
    leads: list[LeadRecord] | None = None


def _user_turns_at_least_two(dialect: str) -> Any:
    """An attempt whose transcript has two or more ``{"role": "user"}`` entries."""
    if dialect == "postgresql":  # a second match exists
        return sa.literal_column(
            "CASE WHEN jsonb_typeof(call_attempts.transcript) = 'array' THEN"
            " jsonb_path_query_array(call_attempts.transcript,"
            " 'strict $[*] ? (@.role == \"user\")') -> 1 IS NOT NULL ELSE false END"
        )
    count = (
        "(SELECT count(*) FROM json_each(CASE WHEN json_type(call_attempts.transcript)"
        " = 'array' THEN call_attempts.transcript ELSE '[]' END) AS turns WHERE CASE"
        " WHEN turns.type = 'object' THEN json_extract(turns.value, '$.role') END = 'user')"
    )
    return sa.literal_column(count) >= 2


def _flag(condition: Any) -> Any:
    return sa.func.max(sa.case((condition, 1), else_=0))


def _count(condition: Any) -> Any:
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _total(column: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(column), 0)


async def statistics_figures(
    conn: AsyncConnection,
    campaign_id: str,
    *,
    hot_outcomes: tuple[str, ...],
    lead_outcomes: tuple[str, ...],
    need_timezone: bool,
) -> StatisticsFigures:
    """One pass over the campaign's attempts (grouped by order) and orders (grouped by
    contact) for the counts; small queries for the outcome breakdown, the human-handled
    durations (when any), the first row's timezone and the leads."""
    a, o, r = call_attempts.c, call_orders.c, campaign_rows.c
    in_campaign = o.campaign_id == campaign_id
    joined = sa.and_(
        a.handled_by_human.is_(True), a.answered_at.is_not(None), a.ended_at.is_not(None)
    )
    # One row per attempt (or per order without any), its flags computed first: what is
    # then grouped by contact is a few integers, not the transcripts. MATERIALIZED:
    # PostgreSQL would merge it into the grouping and sort the transcripts.
    exchange = sa.and_(a.transcript.is_not(None), _user_turns_at_least_two(conn.dialect.name))
    outbound, inbound = o.direction == "outbound", o.direction == "inbound"
    rows = (
        sa.select(
            sa.case((outbound, o.to_phone_number), else_=o.from_phone_number).label("contact"),
            sa.case((a.id.is_not(None), 1), else_=0).label("attempted"),
            sa.case((sa.and_(outbound, a.id.is_not(None)), 1), else_=0).label("attempt_out"),
            sa.case((sa.and_(inbound, a.id.is_not(None)), 1), else_=0).label("attempt_in"),
            sa.case((sa.and_(outbound, a.result == "human"), 1), else_=0).label("human_out"),
            sa.case((sa.and_(inbound, a.result == "human"), 1), else_=0).label("human_in"),
            sa.case((exchange, 1), else_=0).label("exchange"),
            sa.case((o.outcome.in_(hot_outcomes), 1), else_=0).label("hot"),
            sa.case((inbound, 1), else_=0).label("inbound"),
            a.started_at,
            sa.case((joined, 1), else_=0).label("joined"),
        )
        .select_from(call_orders.outerjoin(call_attempts, a.call_order_id == o.id))
        .where(in_campaign)
        .cte("campaign_attempts")
        .prefix_with("MATERIALIZED")
    )
    per_contact = (
        sa.select(
            sa.func.max(rows.c.attempted).label("called"),
            sa.func.max(rows.c.human_out).label("out"),
            sa.func.max(rows.c.human_in).label("in_"),
            sa.func.max(rows.c.exchange).label("exchange"),
            sa.func.max(rows.c.hot).label("hot"),
            sa.func.max(rows.c.inbound).label("inbound"),
            sa.func.sum(rows.c.attempt_out).label("attempts_out"),
            sa.func.sum(rows.c.attempt_in).label("attempts_in"),
            sa.func.min(rows.c.started_at).label("first_at"),
            sa.func.max(rows.c.started_at).label("last_at"),
            sa.func.sum(rows.c.joined).label("joined"),
        )
        .group_by(rows.c.contact)
        .subquery("per_contact")
    )
    c = per_contact.c
    reached = sa.or_(c.out == 1, c.in_ == 1)
    totals = (
        await conn.execute(
            sa.select(
                _total(c.called),
                _total(sa.case((reached, 1), else_=0)),
                _total(c.out),
                _total(c.in_),
                _total(sa.case((sa.and_(c.out == 1, c.in_ == 1), 1), else_=0)),
                _total(sa.case((sa.and_(reached, c.exchange == 1), 1), else_=0)),
                _total(c.hot),
                _total(c.inbound),
                _total(c.attempts_out),
                _total(c.attempts_in),
                _total(c.joined),
                sa.func.min(c.first_at),
                sa.func.max(c.last_at),
            )
        )
    ).one()
    counts = [int(value) for value in totals[:11]]
    figures = StatisticsFigures(
        called=counts[0],
        reached=counts[1],
        reached_outbound=counts[2],
        reached_inbound=counts[3],
        reached_both=counts[4],
        real_exchanges=counts[5],
        hot=counts[6],
        inbound_callers=counts[7],
        outbound_attempts=counts[8],
        inbound_calls=counts[9],
        first_activity_at=totals[11],
        last_activity_at=totals[12],
    )
    figures.outcomes = {}
    if figures.called:
        outcome = sa.func.coalesce(sa.func.nullif(o.outcome, ""), "none")
        attempted = sa.exists().where(a.call_order_id == o.id)
        breakdown = await conn.execute(
            sa.select(outcome, sa.func.count()).where(in_campaign, attempted).group_by(outcome)
        )
        figures.outcomes = {name: int(count) for name, count in breakdown}

    figures.human_durations = []
    if counts[10]:  # attempts a human handled
        handled = await conn.execute(
            sa.select(a.answered_at, a.ended_at)
            .select_from(call_attempts.join(call_orders, o.id == a.call_order_id))
            .where(in_campaign, joined)
        )
        figures.human_durations = [(end - start).total_seconds() for start, end in handled]

    if need_timezone:  # the first row's order's, else any order's
        first_row = (
            sa.select(r.call_order_id)
            .where(r.campaign_id == campaign_id, r.call_order_id.is_not(None))
            .order_by(r.row_index)
            .limit(1)
            .scalar_subquery()
        )
        for order in (first_row, sa.select(o.id).where(in_campaign).limit(1).scalar_subquery()):
            figures.first_timezone = (
                await conn.execute(sa.select(o.timezone).where(o.id == order, in_campaign))
            ).scalar()
            if figures.first_timezone is not None:
                break

    newest = (
        sa.select(a.id)
        .where(a.call_order_id == o.id)
        .order_by(a.attempt_number.desc())
        .limit(1)
        .scalar_subquery()
    )
    leads = await conn.execute(
        sa.select(
            o.id,
            o.direction,
            o.to_phone_number,
            o.from_phone_number,
            o.contact,
            o.prompt_variables,
            o.last_attempt_at,
            o.updated_at,
            o.outcome,
            o.outcome_summary,
            newest.label("newest_attempt_id"),
        )
        .select_from(call_orders.outerjoin(campaign_rows, r.call_order_id == o.id))
        .where(in_campaign, o.outcome.in_(lead_outcomes))
        .order_by(r.row_index.nulls_last(), o.id)
    )
    figures.leads = [LeadRecord(**row) for row in leads.mappings()]
    return figures
