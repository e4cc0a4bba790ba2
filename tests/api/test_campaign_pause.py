"""pause, resume, cancel and delete on the set-based path: the statuses and planned times
the per-order path gave, terminal orders untouched, webhooks of cancelled orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import revox
import sqlalchemy as sa

from openrevox.domain.retry_config import policy_from_wire, recipient_timezone
from openrevox.domain.schedule import next_dial_time
from openrevox.store.tables import call_orders
from tests.api.test_campaign_launch import (
    MONDAY_NOON_UTC,
    OFFICE_HOURS,
    ZONED,
    _campaign,
    _everything,
    _launch,
    _orders,
    _set_status,
    _webhook_events,
    client,
)
from tests.conftest import LiveServer, Org

__all__ = ["client"]  # the test key's client: these campaigns are simulated


def _set(server: LiveServer, order_id: str, **values: Any) -> None:
    async def write() -> None:
        async with server.app.state.services.db.transaction() as conn:
            await conn.execute(
                sa.update(call_orders).where(call_orders.c.id == order_id).values(**values)
            )

    server.run(write())


def test_pause_then_resume_keeps_future_times_and_moves_passed_ones(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    campaign_id = _campaign(client, ZONED, config=OFFICE_HOURS)
    _launch(server, org, campaign_id, _everything(), scheduled_at=MONDAY_NOON_UTC.isoformat())
    planned = {n: o["next_attempt_at"] for n, o in _orders(server, campaign_id).items()}
    client.campaigns.pause(campaign_id)
    orders = _orders(server, campaign_id)
    assert {o["status"] for o in orders.values()} == {"paused"}
    live, passed, done = ZONED[0], ZONED[2], ZONED[5]
    _set(server, orders[live]["id"], next_attempt_at=None)  # an attempt still going
    _set(server, orders[passed]["id"], next_attempt_at=datetime(2020, 1, 6, 12, tzinfo=UTC))
    _set_status(server, orders[done]["id"], "completed")

    before = datetime.now(UTC)
    client.campaigns.resume(campaign_id)
    after = datetime.now(UTC)
    orders = _orders(server, campaign_id)
    assert orders[live]["status"] == "calling"
    assert orders[done]["status"] == "completed"
    policy = policy_from_wire(OFFICE_HOURS, recipient_timezone(OFFICE_HOURS, passed))
    due = orders[passed]["next_attempt_at"]
    assert next_dial_time(policy, before) <= due <= next_dial_time(policy, after)
    assert orders[passed]["scheduled_at"] == due
    assert orders[passed]["status"] == ("scheduled" if due > after else "queued_for_calling")
    for number in set(ZONED) - {live, passed, done}:
        assert (orders[number]["status"], orders[number]["next_attempt_at"]) == (
            "scheduled",
            planned[number],
        )


def test_cancel_aborts_what_has_not_ended_and_reports_it(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    numbers = ZONED[:4]
    campaign_id = _campaign(client, numbers, webhook_url="https://hooks.example.com/revox")
    orders = _orders(server, campaign_id)
    _set_status(server, orders[numbers[0]]["id"], "completed")
    _launch(server, org, campaign_id, _everything())
    client.campaigns.cancel(campaign_id)
    orders = _orders(server, campaign_id)
    assert orders[numbers[0]]["status"] == "completed"
    cancelled = {o["id"] for n, o in orders.items() if n != numbers[0]}
    for order_id in cancelled:
        order = next(o for o in orders.values() if o["id"] == order_id)
        assert (order["status"], order["next_attempt_at"]) == ("cancelled", None)

    assert _webhook_events(server, [o["id"] for o in orders.values()]) == sorted(
        ("call.cancelled", i) for i in cancelled
    )


def test_delete_cancels_pending_calls(server: LiveServer, org: Org, client: revox.Revox) -> None:
    numbers = ZONED[:3]
    campaign_id = _campaign(client, numbers)
    _launch(server, org, campaign_id, _everything())
    ids = [o["id"] for o in _orders(server, campaign_id).values()]
    assert client.campaigns.delete(campaign_id).success
    statuses = {
        httpx.get(
            f"{server.url}/api/call/{call_id}", headers={"Authorization": f"Bearer {org.test_key}"}
        ).json()["call"]["status"]
        for call_id in ids
    }
    assert statuses == {"cancelled"}
