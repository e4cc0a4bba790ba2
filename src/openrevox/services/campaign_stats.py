"""Campaign figures: row_stats, funnel_stats and the statistics report, all derived from
the call orders so that they always agree with the rows. The counting is the database's
(GROUP BY, distinct numbers): a campaign's orders are never loaded to count them."""

from __future__ import annotations

import statistics as stats
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.clock import iso
from openrevox.store.repositories import campaign_figures
from openrevox.store.repositories.calls import CallOrderRecord
from openrevox.store.repositories.campaign_figures import LeadRecord
from openrevox.store.repositories.campaigns import CampaignRecord

HOT_LEAD_OUTCOMES = ("interested",)
LEAD_OUTCOMES = ("interested", "requested_callback_later")  # funnel_stats' total_leads
LEAD_LIST_OUTCOMES = ("requested_callback_later", "interested")  # the report's lead lists
OUTCOME_LABELS = {
    "interested": "Interested",
    "not_interested": "Not interested",
    "completed": "Completed",
    "requested_callback_later": "Callback requested",
    "none": "No outcome",
}


def row_stats(counts: dict[tuple[str, bool], int], skipped: int) -> dict[str, int]:
    """Each order counts once. pending: launched, never dialled yet; retry: dialled and
    waiting for another attempt; calling: live or post-processing; failed: errored or
    cancelled; skipped: left out at launch (do-not-contact)."""
    out = dict.fromkeys(
        ("calling", "completed", "failed", "not_launched", "pending", "retry", "skipped", "total"),
        0,
    )
    for (status, attempted), n in counts.items():
        out["total"] += n
        if status == "not_launched":
            out["not_launched"] += n
        elif status in ("calling", "post_processing"):
            out["calling"] += n
        elif status == "completed":
            out["completed"] += n
        elif status == "errored" or status == "cancelled":
            out["failed"] += n
        else:  # initializing, queued_for_calling, scheduled, paused
            out["retry" if attempted else "pending"] += n
    # Skipped rows were cancelled at launch: count them as skipped, not failed.
    out["skipped"] = skipped
    out["failed"] = max(out["failed"] - skipped, 0)
    return out


def funnel_stats(orders: list[CallOrderRecord]) -> dict[str, int]:
    """From loaded orders; the API counts the same in SQL (``funnel_counts``)."""
    hot = {o.to_phone_number for o in orders if o.outcome in HOT_LEAD_OUTCOMES}
    human = {o.to_phone_number for o in orders if o.last_result == "human"}
    leads = {o.to_phone_number for o in orders if o.outcome in LEAD_OUTCOMES}
    return {"hot": len(hot), "talked_to_human": len(human), "total_leads": len(leads)}


async def funnel_counts(
    conn: AsyncConnection, campaign_ids: list[str]
) -> dict[str, dict[str, int]]:
    """``funnel_stats`` of each campaign, counted by the database."""
    return await campaign_figures.funnel_counts(
        conn, campaign_ids, hot_outcomes=HOT_LEAD_OUTCOMES, lead_outcomes=LEAD_OUTCOMES
    )


def campaign_status(campaign: CampaignRecord, counts: dict[tuple[str, bool], int]) -> str:
    """``completed`` once cancelled or once every launched order has ended and none waits
    to be launched; ``paused`` while paused; else ``running``."""
    if campaign.is_cancelled:
        return "completed"
    if campaign.status == "paused":
        return "paused"
    open_statuses = {
        "not_launched",
        "initializing",
        "queued_for_calling",
        "scheduled",
        "calling",
        "post_processing",
        "paused",
    }
    total = sum(counts.values())
    still_open = sum(n for (status, _), n in counts.items() if status in open_statuses)
    return "completed" if total and not still_open else "running"


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _lead(order: LeadRecord) -> dict[str, Any]:
    variables = order.prompt_variables or {}
    name = " ".join(filter(None, [order.contact.get("first_name"), order.contact.get("last_name")]))
    number = order.to_phone_number if order.direction == "outbound" else order.from_phone_number
    return {
        "attempt_id": order.newest_attempt_id,
        "call_id": order.id,
        "direction": order.direction,
        "email": order.contact.get("email") or variables.get("email"),
        "last_activity_at": iso(order.last_attempt_at or order.updated_at),
        "name": name or number,
        "phone": number,
        "summary": order.outcome_summary,
    }


async def statistics(
    conn: AsyncConnection,
    campaign: CampaignRecord,
    status: str,
    assistant: dict[str, Any] | None,
    imported_rows: int,
) -> dict[str, Any]:
    """The statistics report, counted by the database (``campaign_figures.statistics_figures``)."""
    config = campaign.call_retry_config or {}
    figures = await campaign_figures.statistics_figures(
        conn,
        campaign.id,
        hot_outcomes=HOT_LEAD_OUTCOMES,
        lead_outcomes=LEAD_LIST_OUTCOMES,
        need_timezone=not config.get("timezone"),
    )
    fields = [f["name"] for f in (assistant or {}).get("structured_output_config") or []]
    durations = figures.human_durations or []
    leads = figures.leads or []
    first, last = figures.first_activity_at, figures.last_activity_at
    return {
        "campaign": {
            "id": campaign.id,
            "agent_name": (assistant or {}).get("name"),
            "first_activity_at": iso(first),
            "has_activity": first is not None,
            "is_cancelled": campaign.is_cancelled,
            "last_activity_at": iso(last),
            "max_attempts_per_contact": config.get("max_retry_attempts"),
            "name": campaign.name,
            "status": status,
            "timezone": config.get("timezone") or figures.first_timezone or "UTC",
        },
        "data_extraction": (
            {"fields": fields, "intro": f"{len(fields)} field(s) extracted from each answered call"}
            if fields
            else None
        ),
        "effort": {
            "calls_total": figures.outbound_attempts + figures.inbound_calls,
            "inbound_calls": figures.inbound_calls,
            "outbound_attempts": figures.outbound_attempts,
        },
        "funnel": {
            "called": {"count": figures.called, "imported_rows": imported_rows},
            "reached": {
                "count": figures.reached,
                "inbound": figures.reached_inbound,
                "outbound": figures.reached_outbound,
                "overlap": figures.reached_both,
                "pct_of_called": _pct(figures.reached, figures.called),
            },
            "real_exchanges": {
                "count": figures.real_exchanges,
                "pct_of_reached": _pct(figures.real_exchanges, figures.reached),
            },
            "hot_leads": {
                "count": figures.hot,
                "pct_of_reached": _pct(figures.hot, figures.reached),
            },
        },
        "hot_lead_outcomes": list(HOT_LEAD_OUTCOMES),
        "inbound": {"unique_callers": figures.inbound_callers},
        "jump_in": {
            "joined_calls": len(durations),
            "median_conversation_seconds": stats.median(durations) if durations else None,
            "median_time_to_join_seconds": None,
        },
        "leads": {
            "callback_requested": [
                _lead(o) for o in leads if o.outcome == "requested_callback_later"
            ],
            "interested": [_lead(o) for o in leads if o.outcome == "interested"],
        },
        "outcome_breakdown": [
            {"count": count, "label": OUTCOME_LABELS.get(outcome, outcome), "outcome": outcome}
            for outcome, count in sorted((figures.outcomes or {}).items())
        ],
    }
