"""launch-calls on the set-based path: selections, do-not-contact, first dial times per
timezone and retry config, scheduled_at, paused campaigns, long id lists, atomicity."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import revox
import sqlalchemy as sa

from openrevox.domain.retry_config import policy_from_wire, recipient_timezone
from openrevox.domain.schedule import first_dial_time
from openrevox.store.repositories import campaigns as campaign_repository
from openrevox.store.repositories.do_not_contact import add as add_do_not_contact
from openrevox.store.tables import call_orders, campaign_rows, webhook_events
from tests.conftest import LiveServer, Org

ALL_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ALL_WEEK: dict[str, Any] = {
    "allowed_days": ALL_DAYS,
    "call_twice_in_a_row": False,
    "calling_windows": [
        {
            "calling_window_start_time": "00:00",
            "calling_window_end_time": "24:00",
            "retry_delay_seconds": 5,
        }
    ],
    "max_retry_attempts": 2,
}
OFFICE_HOURS: dict[str, Any] = {
    "allowed_days": ALL_DAYS[:5],
    "call_twice_in_a_row": False,
    "calling_windows": [
        {
            "calling_window_start_time": "10:00",
            "calling_window_end_time": "18:00",
            "retry_delay_seconds": 3600,
        }
    ],
    "max_retry_attempts": 3,
}
# New York, Los Angeles, Honolulu, Paris, Tokyo; two New York numbers share a group.
ZONED = ["+12125550100", "+12125550101", "+14155550100", "+18085550142", "+33612345678"]
ZONED += ["+81312345678"]
MONDAY_NOON_UTC = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(test_client: revox.Revox) -> revox.Revox:
    """These campaigns are simulated (Paris and Tokyo numbers for their timezones, never
    dialled here): the test key, with which any number is simulated."""
    return test_client


def _everything(**changes: Any) -> dict[str, Any]:
    filters: dict[str, Any] = {
        "assignee_ids": [],
        "directions": [],
        "outcomes": [],
        "results": [],
        "statuses": [],
    }
    rows: dict[str, Any] = {"call_ids": [], "mode": "all_except"}
    filters.update(changes.pop("filters", {}))
    rows.update(changes.pop("rows", {}))
    return {"filters": filters, "rows": rows}


def _launch(
    server: LiveServer, org: Org, campaign_id: str, selection: dict[str, Any], **body: Any
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/campaigns/{campaign_id}/launch-calls",
        json={"mode": "ai_first", "selection": selection, **body},
        headers={"Authorization": f"Bearer {org.test_key}"},
        timeout=60,
    )


def _campaign(
    client: revox.Revox,
    numbers: list[str],
    *,
    config: dict[str, Any] | None = None,
    webhook_url: str | None = None,
    names: list[str] | None = None,
) -> str:
    assistant = client.assistants.create(
        name="Launcher",
        prompt="Hello {{first_name}}",
        call_retry_config=ALL_WEEK,  # type: ignore[arg-type]
        **({"webhook_url": webhook_url} if webhook_url else {}),
    ).assistant
    names = names or [f"C{i}" for i in range(len(numbers))]
    contacts = [
        {"to_phone_number": number, "prompt_variables": {"first_name": name}}
        for number, name in zip(numbers, names, strict=True)
    ]
    return client.campaigns.create(
        assistant_id=assistant.id,
        name="Launch",
        contacts=contacts,  # type: ignore[arg-type]
        **({"call_retry_config": config} if config else {}),  # type: ignore[arg-type]
    ).campaign.id


def _orders(server: LiveServer, campaign_id: str) -> dict[str, dict[str, Any]]:
    """The campaign's orders by number, with their row's skip_reason."""

    async def read() -> dict[str, dict[str, Any]]:
        async with server.app.state.services.db.read() as conn:
            rows = await conn.execute(
                sa.select(call_orders, campaign_rows.c.skip_reason)
                .join(campaign_rows, campaign_rows.c.call_order_id == call_orders.c.id)
                .where(call_orders.c.campaign_id == campaign_id)
            )
            return {row["to_phone_number"]: dict(row) for row in rows.mappings()}

    return server.run(read())


def _set_status(server: LiveServer, order_id: str, status: str) -> None:
    async def write() -> None:
        async with server.app.state.services.db.transaction() as conn:
            await conn.execute(
                sa.update(call_orders).where(call_orders.c.id == order_id).values(status=status)
            )

    server.run(write())


def _do_not_contact(server: LiveServer, org: Org, numbers: list[str]) -> None:
    async def write() -> None:
        async with server.app.state.services.db.transaction() as conn:
            for number in numbers:
                await add_do_not_contact(
                    conn,
                    organization_id=org.id,
                    mode="test",
                    phone_number=number,
                    reason="stop calling me",
                    now=datetime.now(UTC),
                )

    server.run(write())


def _webhook_events(server: LiveServer, order_ids: list[str]) -> list[tuple[str, str]]:
    """(event type, order id) of the webhook events enqueued for these orders, sorted."""

    async def read() -> list[tuple[str, str]]:
        async with server.app.state.services.db.read() as conn:
            found = await conn.execute(
                sa.select(webhook_events.c.event_type, webhook_events.c.call_order_id).where(
                    webhook_events.c.call_order_id.in_(order_ids)
                )
            )
            return sorted((kind, order_id) for kind, order_id in found.all())

    return server.run(read())


def _numbers(n: int) -> list[str]:
    return [f"+1212555{200 + i:04d}" for i in range(n)]


def test_do_not_contact_rows_are_skipped_counted_and_cancelled(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    numbers = _numbers(5)
    campaign_id = _campaign(client, numbers, webhook_url="https://hooks.example.com/revox")
    _do_not_contact(server, org, [numbers[1], numbers[3]])
    body = _launch(server, org, campaign_id, _everything()).json()
    assert body["launched"] == 3
    assert body["skipped"] == {
        "active": 0,
        "attempts_exhausted": 0,
        "cancelled": 0,
        "do_not_contact": 2,
        "no_route": 0,
    }
    orders = _orders(server, campaign_id)
    refused = {numbers[1], numbers[3]}
    for number, order in orders.items():
        if number in refused:
            assert (order["status"], order["skip_reason"]) == ("cancelled", "do_not_contact")
            assert order["next_attempt_at"] is None
        else:
            assert (order["status"], order["skip_reason"]) == ("queued_for_calling", None)
    stats = client.campaigns.retrieve(campaign_id).campaign.row_stats
    assert stats is not None
    assert (stats.skipped, stats.failed, stats.pending, stats.total) == (2, 0, 3, 5)

    assert _webhook_events(server, [o["id"] for o in orders.values()]) == sorted(
        ("call.cancelled", orders[number]["id"]) for number in refused
    )

    again = _launch(server, org, campaign_id, _everything()).json()
    assert again["launched"] == 0
    assert again["skipped"] == {
        "active": 3,
        "attempts_exhausted": 0,
        "cancelled": 2,
        "do_not_contact": 0,
        "no_route": 0,
    }


def test_launch_counts_what_it_skips(server: LiveServer, org: Org, client: revox.Revox) -> None:
    numbers = _numbers(6)
    campaign_id = _campaign(client, numbers)
    orders = _orders(server, campaign_id)
    _set_status(server, orders[numbers[0]]["id"], "completed")
    _set_status(server, orders[numbers[1]]["id"], "errored")
    _set_status(server, orders[numbers[2]]["id"], "cancelled")
    _set_status(server, orders[numbers[3]]["id"], "calling")
    body = _launch(server, org, campaign_id, _everything()).json()
    assert body["launched"] == 2
    assert body["skipped"] == {
        "active": 1,
        "attempts_exhausted": 2,
        "cancelled": 1,
        "do_not_contact": 0,
        "no_route": 0,
    }


SELECTIONS: list[tuple[str, dict[str, Any], set[int]]] = [
    ("only two", {"rows": {"mode": "only", "call_ids": [0, 1]}}, {0, 1}),
    ("all but one", {"rows": {"mode": "all_except", "call_ids": [0]}}, {1, 2, 3}),
    ("only none", {"rows": {"mode": "only", "call_ids": []}}, set()),
    ("another campaign's id", {"rows": {"mode": "only", "call_ids": ["other"]}}, set()),
    ("query, any case", {"filters": {"query": "ZOÉ"}}, {1}),
    ("query across number and variable", {"filters": {"query": "0202 cid"}}, {2}),
    ("query matching nothing", {"filters": {"query": "nobody"}}, set()),
    ("status not_launched", {"filters": {"statuses": ["not_launched"]}}, {0, 1, 2, 3}),
    ("status scheduled", {"filters": {"statuses": ["scheduled"]}}, set()),
    ("no result yet", {"filters": {"results": ["none"]}}, {0, 1, 2, 3}),
    ("result human", {"filters": {"results": ["human", "voicemail"]}}, set()),
    ("no outcome yet", {"filters": {"outcomes": ["none"]}}, {0, 1, 2, 3}),
    ("outcome interested", {"filters": {"outcomes": ["interested"]}}, set()),
    ("outbound", {"filters": {"directions": ["outbound"]}}, {0, 1, 2, 3}),
    ("inbound", {"filters": {"directions": ["inbound"]}}, set()),
    ("an assignee", {"filters": {"assignee_ids": ["someone"]}}, set()),
    (
        "filters and rows together",
        {"rows": {"mode": "all_except", "call_ids": [3]}, "filters": {"query": "d"}},
        {2},
    ),
]


@pytest.mark.parametrize(
    ("selection", "launched"),
    [(selection, launched) for _, selection, launched in SELECTIONS],
    ids=[name for name, _, _ in SELECTIONS],
)
def test_selections(
    server: LiveServer,
    org: Org,
    client: revox.Revox,
    selection: dict[str, Any],
    launched: set[int],
) -> None:
    numbers = _numbers(4)
    campaign_id = _campaign(client, numbers, names=["Ann", "Zoé", "Cid", "Dee"])
    orders = _orders(server, campaign_id)
    ids = [orders[number]["id"] for number in numbers]
    rows = selection.get("rows", {})
    if "call_ids" in rows:
        rows = {**rows, "call_ids": [ids[i] if isinstance(i, int) else i for i in rows["call_ids"]]}
    body = _launch(server, org, campaign_id, _everything(**{**selection, "rows": rows})).json()
    assert body["launched"] == len(launched)
    after = _orders(server, campaign_id)
    assert {i for i, number in enumerate(numbers) if after[number]["status"] != "not_launched"} == (
        launched
    )


def _expected_due(number: str, config: dict[str, Any], requested: datetime) -> datetime:
    policy = policy_from_wire(config, recipient_timezone(config, number))
    return first_dial_time(policy, now=requested, requested_at=requested, skip_window=False)


@pytest.mark.parametrize("groups_per_statement", [100, 1, 2])
def test_first_dial_time_honours_each_recipients_window(
    server: LiveServer,
    org: Org,
    client: revox.Revox,
    monkeypatch: pytest.MonkeyPatch,
    groups_per_statement: int,
) -> None:
    monkeypatch.setattr(campaign_repository, "GROUPS_PER_STATEMENT", groups_per_statement)
    campaign_id = _campaign(client, ZONED, config=OFFICE_HOURS)
    body = _launch(
        server, org, campaign_id, _everything(), scheduled_at=MONDAY_NOON_UTC.isoformat()
    ).json()
    assert body["launched"] == len(ZONED)
    orders = _orders(server, campaign_id)
    dues = {}
    for number in ZONED:
        wanted = _expected_due(number, OFFICE_HOURS, MONDAY_NOON_UTC)
        order = orders[number]
        assert order["timezone"] == recipient_timezone(OFFICE_HOURS, number).key
        assert (order["status"], order["next_attempt_at"], order["scheduled_at"]) == (
            "scheduled",
            wanted,
            wanted,
        ), number
        dues[number] = wanted
    # Paris (13:00) is in its window; New York, Los Angeles and Honolulu wait for their
    # 10:00; Tokyo (21:00) for Tuesday 10:00.
    assert dues["+33612345678"] == MONDAY_NOON_UTC
    assert len(set(dues.values())) == 5
    campaign = client.campaigns.retrieve(campaign_id).campaign
    assert campaign.scheduled_at is not None
    assert datetime.fromisoformat(str(campaign.scheduled_at)) == MONDAY_NOON_UTC


def test_launch_now_is_due_in_open_windows_and_waits_for_closed_ones(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    campaign_id = _campaign(client, ZONED, config=OFFICE_HOURS)
    before = datetime.now(UTC)
    past = before - timedelta(days=3)  # a past scheduled_at means now
    body = _launch(server, org, campaign_id, _everything(), scheduled_at=past.isoformat())
    after = datetime.now(UTC)
    assert body.json()["launched"] == len(ZONED)
    for number, order in _orders(server, campaign_id).items():
        earliest = _expected_due(number, OFFICE_HOURS, before)
        latest = _expected_due(number, OFFICE_HOURS, after)
        due = order["next_attempt_at"]
        assert earliest <= due <= latest, number
        # Due now (an open window) is queued; later, scheduled.
        assert order["status"] == ("scheduled" if due > after else "queued_for_calling")


def test_the_configs_timezone_overrides_the_numbers_and_can_be_removed(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    tokyo = {**OFFICE_HOURS, "timezone": "Asia/Tokyo"}
    campaign_id = _campaign(client, ZONED, config=tokyo)
    assert {o["timezone"] for o in _orders(server, campaign_id).values()} == {"Asia/Tokyo"}
    # Removing the override gives each order its number's timezone back.
    client.campaigns.update(campaign_id, call_retry_config=OFFICE_HOURS)  # type: ignore[arg-type]
    orders = _orders(server, campaign_id)
    assert {n: o["timezone"] for n, o in orders.items()} == {
        n: recipient_timezone(OFFICE_HOURS, n).key for n in ZONED
    }
    paris = {**OFFICE_HOURS, "timezone": "Europe/Paris"}
    client.campaigns.update(campaign_id, call_retry_config=paris)  # type: ignore[arg-type]
    assert {o["timezone"] for o in _orders(server, campaign_id).values()} == {"Europe/Paris"}
    _launch(server, org, campaign_id, _everything(), scheduled_at=MONDAY_NOON_UTC.isoformat())
    for number, order in _orders(server, campaign_id).items():
        policy = policy_from_wire(paris, zoneinfo.ZoneInfo("Europe/Paris"))
        wanted = first_dial_time(
            policy, now=MONDAY_NOON_UTC, requested_at=MONDAY_NOON_UTC, skip_window=False
        )
        assert order["next_attempt_at"] == wanted == MONDAY_NOON_UTC, number


def test_launched_into_a_paused_campaign_calls_wait_for_resume(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    campaign_id = _campaign(client, _numbers(3))
    client.campaigns.pause(campaign_id)
    assert _launch(server, org, campaign_id, _everything()).json()["launched"] == 3
    assert {o["status"] for o in _orders(server, campaign_id).values()} == {"paused"}
    client.campaigns.resume(campaign_id)
    assert {o["status"] for o in _orders(server, campaign_id).values()} == {"queued_for_calling"}


def test_a_long_list_of_call_ids(server: LiveServer, org: Org, client: revox.Revox) -> None:
    """Past the databases' parameter limits (32,766 on SQLite) in one statement."""
    numbers = _numbers(4)
    campaign_id = _campaign(client, numbers)
    ids = [o["id"] for o in _orders(server, campaign_id).values()]
    strangers = [str(uuid.uuid4()) for _ in range(40_000)]
    only = _launch(
        server,
        org,
        campaign_id,
        _everything(rows={"mode": "only", "call_ids": strangers + ids[:2]}),
    ).json()
    assert only["launched"] == 2
    rest = _launch(
        server, org, campaign_id, _everything(rows={"call_ids": [*strangers, ids[2]]})
    ).json()
    assert (rest["launched"], rest["skipped"]["active"]) == (1, 2)


def test_a_failed_launch_writes_nothing(
    server: LiveServer, org: Org, client: revox.Revox, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = _numbers(3)
    campaign_id = _campaign(client, numbers)
    _do_not_contact(server, org, [numbers[0]])

    async def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(campaign_repository, "write_groups", broken)
    assert _launch(server, org, campaign_id, _everything()).status_code == 500
    orders = _orders(server, campaign_id)
    assert {(o["status"], o["skip_reason"]) for o in orders.values()} == {("not_launched", None)}
    monkeypatch.undo()
    assert _launch(server, org, campaign_id, _everything()).json()["launched"] == 2


def test_legacy_launch_route_sends_every_row(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    numbers = _numbers(3)
    campaign_id = _campaign(client, numbers)
    _do_not_contact(server, org, [numbers[2]])
    answer = httpx.post(
        f"{server.url}/api/campaigns/{campaign_id}/launch",
        headers={"Authorization": f"Bearer {org.test_key}"},
    )
    assert answer.status_code == 200
    stats = answer.json()["campaign"]["row_stats"]
    assert (stats["pending"], stats["skipped"], stats["not_launched"]) == (2, 1, 0)
