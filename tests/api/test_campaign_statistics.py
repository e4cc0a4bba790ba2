"""The campaign read routes count in SQL: on a seeded campaign with mixed outcomes
(attempts of every kind, transcripts, human takeovers, inbound calls, leads), their
answers equal a recount in Python from every order and attempt loaded."""

from __future__ import annotations

import random
import statistics as stats
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import revox
import sqlalchemy as sa

from openrevox.domain.clock import iso
from openrevox.results.export import campaign_rows_csv
from openrevox.services import campaign_stats
from openrevox.services.campaign_stats import HOT_LEAD_OUTCOMES, OUTCOME_LABELS
from openrevox.store import bulk
from openrevox.store.repositories import calls, campaigns
from openrevox.store.repositories.calls import AttemptRecord, CallOrderRecord
from openrevox.store.repositories.campaigns import CampaignRecord
from openrevox.store.tables import call_attempts, call_orders, campaign_rows
from tests.conftest import LiveServer, Org

CONFIG: dict[str, Any] = {
    "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "call_twice_in_a_row": False,
    "calling_windows": [
        {
            "calling_window_start_time": "09:00",
            "calling_window_end_time": "17:00",
            "retry_delay_seconds": 60,
        }
    ],
    "max_retry_attempts": 3,
}
OUTCOMES = [None, None, "", "interested", "not_interested", "completed"]
OUTCOMES += ["requested_callback_later", "something_else"]
RESULTS = ["human", "human", "voicemail", "IVR", "unknown", None]


# -- the recount: the report as the route computed it before, from loaded records -------


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


def recount(
    campaign: CampaignRecord,
    status: str,
    assistant: dict[str, Any] | None,
    orders: list[CallOrderRecord],
    attempts: dict[str, list[AttemptRecord]],
    imported_rows: int,
) -> dict[str, Any]:
    def contact(order: CallOrderRecord) -> str:
        return order.to_phone_number if order.direction == "outbound" else order.from_phone_number

    def pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

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
    durations = [
        (a.ended_at - a.answered_at).total_seconds()
        for o in orders
        for a in attempts[o.id]
        if a.handled_by_human and a.answered_at and a.ended_at
    ]

    def newest(order: CallOrderRecord) -> AttemptRecord | None:
        return attempts[order.id][0] if attempts[order.id] else None

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
                "pct_of_called": pct(len(reached), len(called)),
            },
            "real_exchanges": {
                "count": len(exchanges & reached),
                "pct_of_reached": pct(len(exchanges & reached), len(reached)),
            },
            "hot_leads": {"count": len(hot), "pct_of_reached": pct(len(hot), len(reached))},
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
                _lead(o, newest(o)) for o in orders if o.outcome == "requested_callback_later"
            ],
            "interested": [_lead(o, newest(o)) for o in orders if o.outcome == "interested"],
        },
        "outcome_breakdown": [
            {"count": count, "label": OUTCOME_LABELS.get(outcome, outcome), "outcome": outcome}
            for outcome, count in sorted(breakdown.items())
        ],
    }


# -- seeding --------------------------------------------------------------------------


def _transcript(rng: random.Random) -> list[dict[str, Any]] | None:
    if rng.random() < 0.15:
        return None
    turns: list[dict[str, Any]] = []
    for _ in range(rng.randrange(6)):
        role = rng.choice(["assistant", "user", "user", "tool"])
        turns.append({"role": role, "content": rng.choice(["hi", 'a "quoted" role: user'])})
    if rng.random() < 0.1:  # a nested role that is no turn of the conversation
        turns.append({"role": "assistant", "meta": {"role": "user"}})
    return turns


def _attempt(
    rng: random.Random, order_id: str, organization_id: str, number: int, base: datetime
) -> dict[str, Any]:
    started = None if rng.random() < 0.05 else base + timedelta(seconds=rng.randrange(86_400))
    result = rng.choice(RESULTS)
    dial_error = None if result else rng.choice(["busy", "no_answer", None])
    handled = rng.random() < 0.15
    answered = started + timedelta(seconds=rng.randrange(1, 9)) if started and result else None
    ended = started + timedelta(seconds=rng.randrange(10, 400)) if started else None
    output = rng.choice([None, {"budget": rng.randrange(9)}, {"budget": None, "city": "Lyon"}])
    return {
        "id": str(uuid.uuid4()),
        "call_order_id": order_id,
        "organization_id": organization_id,
        "attempt_number": number,
        "status": "completed",
        "phone_number": "+12125550100",
        "dial_error": dial_error,
        "result": result,
        "ended_by": None,
        "end_reason": None,
        "handled_by_ai": True,
        "handled_by_human": handled,
        "transcript": _transcript(rng) if result else None,
        "structured_output": output,
        "recording_key": None,
        "worker_id": None,
        "lease_expires_at": None,
        "created_at": started or base,
        "started_at": started,
        "answered_at": answered,
        "ended_at": ended,
    }


async def _seed(server: LiveServer, org: Org, campaign_id: str, seed: int) -> None:
    """Attempts and outcomes on the campaign's orders, and inbound orders (some from
    numbers the campaign also calls)."""
    rng = random.Random(seed)
    base = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    async with server.app.state.services.db.transaction() as conn:
        orders = (
            (
                await conn.execute(
                    sa.select(call_orders).where(call_orders.c.campaign_id == campaign_id)
                )
            )
            .mappings()
            .all()
        )
        numbers = [order["to_phone_number"] for order in orders]
        inbound = []
        for i in range(8):
            copy = {**orders[i], "id": str(uuid.uuid4()), "direction": "inbound"}
            copy["from_phone_number"] = numbers[i] if i < 5 else f"+1415555{i:04d}"
            copy["to_phone_number"] = "+12125550199"
            inbound.append(copy)
        await bulk.insert_rows(conn, call_orders, inbound, orm_nulls=True)
        attempts = []
        for index, order in enumerate([*orders, *inbound]):
            count = rng.choice([0, 0, 1, 1, 2, 3])
            made = [_attempt(rng, order["id"], org.id, n, base) for n in range(1, count + 1)]
            if index < 5 or len(orders) <= index < len(orders) + 5:  # reached both ways
                made.append(_attempt(rng, order["id"], org.id, len(made) + 1, base))
                made[-1]["result"], made[-1]["dial_error"] = "human", None
            attempts += made
            outcome = rng.choice(OUTCOMES)
            await conn.execute(
                sa.update(call_orders)
                .where(call_orders.c.id == order["id"])
                .values(
                    status="completed" if made else order["status"],
                    calls_count=len(made),
                    outcome=outcome,
                    outcome_summary=f"summary {order['id'][:4]}" if outcome else None,
                    last_result=made[-1]["result"] if made else None,
                    last_attempt_at=made[-1]["started_at"] if made else None,
                    contact={
                        "first_name": rng.choice([None, "Ann"]),
                        "last_name": rng.choice([None, "Lee"]),
                        "email": rng.choice([None, "a@example.test"]),
                    },
                )
            )
        await bulk.insert_rows(conn, call_attempts, attempts)


def _records(
    server: LiveServer, org: Org, campaign_id: str
) -> tuple[CampaignRecord, list[CallOrderRecord], dict[str, list[AttemptRecord]], Any]:
    """Everything loaded, orders in row order (those without a row last, by id)."""

    async def load() -> Any:
        async with server.app.state.services.db.read() as conn:
            record = await campaigns.get(
                conn, organization_id=org.id, mode="live", campaign_id=campaign_id
            )
            assert record is not None
            orders = (await campaigns.orders_of(conn, [campaign_id]))[campaign_id]
            rows = await conn.execute(
                sa.select(campaign_rows.c.call_order_id, campaign_rows.c.row_index).where(
                    campaign_rows.c.campaign_id == campaign_id
                )
            )
            position = dict(rows.all())
            orders.sort(key=lambda o: (o.id not in position, position.get(o.id, 0), o.id))
            attempts = await calls.attempts_of(conn, [o.id for o in orders])
            page, _ = await campaigns.rows_page(
                conn, campaign_id=campaign_id, offset=0, limit=1_000_000
            )
            views = {v.order.id: v for v in await calls.views_of(conn, orders)}
            return record, orders, attempts, (page, views)

    loaded: Any = server.run(load())
    return loaded  # type: ignore[no-any-return]


@pytest.mark.parametrize("seed", [1, 2])
def test_reads_equal_a_recount_from_every_record(
    server: LiveServer, org: Org, client: revox.Revox, seed: int
) -> None:
    assistant = client.assistants.create(
        name="Counted",
        prompt="Hello {{first_name}}",
        structured_output_config=[  # type: ignore[list-item]
            {"name": "budget", "type": "number", "description": "budget", "required": False}
        ],
    ).assistant
    areas = ["212", "415", "808", "312", "206"]
    contacts = [
        {
            "to_phone_number": f"+1{areas[i % 5]}555{100 + i:04d}",
            "prompt_variables": {"first_name": f"C{i}", **({"email": "v@x.test"} if i % 3 else {})},
        }
        for i in range(60)
    ]
    campaign_id = client.campaigns.create(
        assistant_id=assistant.id,
        name="Counted",
        contacts=contacts,  # type: ignore[arg-type]
        call_retry_config=CONFIG,  # type: ignore[arg-type]
    ).campaign.id
    server.run(_seed(server, org, campaign_id, seed))
    auth = {"Authorization": f"Bearer {org.live_key}"}

    def get(path: str) -> Any:
        answer = httpx.get(f"{server.url}/api/campaigns/{campaign_id}{path}", headers=auth)
        assert answer.status_code == 200, answer.text
        return answer.json()

    campaign = get("")["campaign"]
    record, orders, attempts, (rows, views) = _records(server, org, campaign_id)
    assert {o.direction for o in orders} == {"outbound", "inbound"}
    assert campaign["funnel_stats"] == campaign_stats.funnel_stats(orders)
    wanted = recount(
        record,
        campaign["status"],
        campaign["assistant"],
        orders,
        attempts,
        campaign["row_stats"]["total"],
    )
    got = get("/statistics")["statistics"]
    assert got == wanted
    assert got["jump_in"]["joined_calls"] > 0 and got["funnel"]["reached"]["overlap"] > 0
    assert got["leads"]["interested"] and got["leads"]["callback_requested"]
    assert get("/export")["csv"] == campaign_rows_csv(rows, views)
    listed = httpx.get(f"{server.url}/api/campaigns", headers=auth).json()["campaigns"]
    assert next(c for c in listed if c["id"] == campaign_id) == campaign


def test_statistics_of_an_empty_campaign(server: LiveServer, org: Org, client: revox.Revox) -> None:
    assistant = client.assistants.create(name="Empty", prompt="p").assistant
    body = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "Nobody", "assistant_id": assistant.id},
        content=b"phone\n",
        headers={"Authorization": f"Bearer {org.live_key}", "Content-Type": "text/csv"},
    ).json()
    statistics = client.campaigns.statistics(body["campaign"]["id"]).statistics
    assert statistics.campaign.timezone == "UTC"
    assert statistics.campaign.has_activity is False
    assert statistics.funnel.called.count == 0
    assert statistics.outcome_breakdown == []
    exported = client.campaigns.export_rows(body["campaign"]["id"])
    assert exported.csv.splitlines()[0].startswith("row_index,phone_number")
