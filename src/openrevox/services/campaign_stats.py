"""Campaign figures: row_stats, funnel_stats and the statistics report, all derived from
the call orders so that they always agree with the rows."""

from __future__ import annotations

import statistics as stats
from collections import Counter
from typing import Any

from openrevox.domain.clock import iso
from openrevox.store.repositories.calls import AttemptRecord, CallOrderRecord
from openrevox.store.repositories.campaigns import CampaignRecord

HOT_LEAD_OUTCOMES = ("interested",)
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
    hot = {o.to_phone_number for o in orders if o.outcome in HOT_LEAD_OUTCOMES}
    human = {o.to_phone_number for o in orders if o.last_result == "human"}
    leads = {
        o.to_phone_number for o in orders if o.outcome in ("interested", "requested_callback_later")
    }
    return {"hot": len(hot), "talked_to_human": len(human), "total_leads": len(leads)}


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


def _newest(attempts: list[AttemptRecord]) -> AttemptRecord | None:
    return attempts[0] if attempts else None


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _lead(order: CallOrderRecord, last: AttemptRecord | None) -> dict[str, Any]:
    variables = order.prompt_variables or {}
    name = " ".join(filter(None, [order.contact.get("first_name"), order.contact.get("last_name")]))
    number = order.to_phone_number if order.direction == "outbound" else order.from_phone_number
    return {
        "attempt_id": last.id if last else None,
        "call_id": order.id,
        "direction": order.direction,
        "email": order.contact.get("email") or variables.get("email"),
        "last_activity_at": iso(order.last_attempt_at or order.updated_at),
        "name": name or number,
        "phone": number,
        "summary": order.outcome_summary,
    }


def statistics(
    campaign: CampaignRecord,
    status: str,
    assistant: dict[str, Any] | None,
    orders: list[CallOrderRecord],
    attempts: dict[str, list[AttemptRecord]],
    imported_rows: int,
) -> dict[str, Any]:
    def contact(order: CallOrderRecord) -> str:
        return order.to_phone_number if order.direction == "outbound" else order.from_phone_number

    outbound_attempts = sum(len(attempts[o.id]) for o in orders if o.direction == "outbound")
    inbound_calls = sum(len(attempts[o.id]) for o in orders if o.direction == "inbound")
    called = {contact(o) for o in orders if attempts[o.id]}
    reached_out = {
        contact(o)
        for o in orders
        if o.direction == "outbound" and any(a.result == "human" for a in attempts[o.id])
    }
    reached_in = {
        contact(o)
        for o in orders
        if o.direction == "inbound" and any(a.result == "human" for a in attempts[o.id])
    }
    reached = reached_out | reached_in
    exchanges = {
        contact(o)
        for o in orders
        if any(
            sum(1 for t in (a.transcript or []) if t.get("role") == "user") >= 2
            for a in attempts[o.id]
        )
    }
    hot = {contact(o) for o in orders if o.outcome in HOT_LEAD_OUTCOMES}
    activity = [a.started_at for o in orders for a in attempts[o.id] if a.started_at]
    breakdown = Counter(o.outcome or "none" for o in orders if attempts[o.id])
    fields = [f["name"] for f in (assistant or {}).get("structured_output_config") or []]
    config = campaign.call_retry_config or {}
    durations = []
    for o in orders:
        for a in attempts[o.id]:
            if a.handled_by_human and a.answered_at and a.ended_at:
                durations.append((a.ended_at - a.answered_at).total_seconds())
    return {
        "campaign": {
            "id": campaign.id,
            "agent_name": (assistant or {}).get("name"),
            "first_activity_at": iso(min(activity)) if activity else None,
            "has_activity": bool(activity),
            "is_cancelled": campaign.is_cancelled,
            "last_activity_at": iso(max(activity)) if activity else None,
            "max_attempts_per_contact": config.get("max_retry_attempts"),
            "name": campaign.name,
            "status": status,
            "timezone": config.get("timezone") or (orders[0].timezone if orders else "UTC"),
        },
        "data_extraction": (
            {"fields": fields, "intro": f"{len(fields)} field(s) extracted from each answered call"}
            if fields
            else None
        ),
        "effort": {
            "calls_total": outbound_attempts + inbound_calls,
            "inbound_calls": inbound_calls,
            "outbound_attempts": outbound_attempts,
        },
        "funnel": {
            "called": {"count": len(called), "imported_rows": imported_rows},
            "reached": {
                "count": len(reached),
                "inbound": len(reached_in),
                "outbound": len(reached_out),
                "overlap": len(reached_in & reached_out),
                "pct_of_called": _pct(len(reached), len(called)),
            },
            "real_exchanges": {
                "count": len(exchanges & reached),
                "pct_of_reached": _pct(len(exchanges & reached), len(reached)),
            },
            "hot_leads": {"count": len(hot), "pct_of_reached": _pct(len(hot), len(reached))},
        },
        "hot_lead_outcomes": list(HOT_LEAD_OUTCOMES),
        "inbound": {
            "unique_callers": len({contact(o) for o in orders if o.direction == "inbound"})
        },
        "jump_in": {
            "joined_calls": len(durations),
            "median_conversation_seconds": stats.median(durations) if durations else None,
            "median_time_to_join_seconds": None,
        },
        "leads": {
            "callback_requested": [
                _lead(o, _newest(attempts[o.id]))
                for o in orders
                if o.outcome == "requested_callback_later"
            ],
            "interested": [
                _lead(o, _newest(attempts[o.id])) for o in orders if o.outcome == "interested"
            ],
        },
        "outcome_breakdown": [
            {"count": count, "label": OUTCOME_LABELS.get(outcome, outcome), "outcome": outcome}
            for outcome, count in sorted(breakdown.items())
        ],
    }
