"""Campaign routes through the official SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import revox

from tests.conftest import LiveServer, Org

ALL_WEEK = {
    "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
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
EVERYTHING = {
    "filters": {
        "assignee_ids": [],
        "directions": [],
        "outcomes": [],
        "results": [],
        "statuses": [],
    },
    "rows": {"call_ids": [], "mode": "all_except"},
}


@pytest.fixture
def assistant_id(client: revox.Revox) -> str:
    return client.assistants.create(
        name="Campaigner",
        prompt="Hello {{first_name}}",
        call_retry_config=ALL_WEEK,  # type: ignore[arg-type]
    ).assistant.id


def _contacts(n: int) -> list[dict[str, object]]:
    return [
        {
            "to_phone_number": f"+1212555{100 + i:04d}",
            "prompt_variables": {"first_name": f"C{i}", "age": 30 + i},
        }
        for i in range(n)
    ]


def test_create_materializes_not_launched_rows(client: revox.Revox, assistant_id: str) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Spring",
        contacts=_contacts(3),
        max_concurrent_calls=2,  # type: ignore[arg-type]
    ).campaign
    assert campaign.name == "Spring" and campaign.status == "running"
    assert campaign.row_stats is not None
    assert campaign.row_stats.total == 3 and campaign.row_stats.not_launched == 3
    assert campaign.max_concurrent_calls == 2
    rows = client.campaigns.get_rows(campaign.id).rows
    assert [row.row_index for row in rows] == [0, 1, 2]
    assert rows[0].input_data == {"first_name": "C0", "age": "30"}
    assert rows[0].call is not None and rows[0].call.status == "not_launched"
    assert rows[0].call.campaign is not None and rows[0].call.campaign.name == "Spring"
    assert client.campaigns.retrieve(campaign.id).campaign.id == campaign.id
    assert campaign.id in [c.id for c in client.campaigns.list().campaigns]


def test_launch_pause_resume_cancel(client: revox.Revox, assistant_id: str) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Run",
        contacts=_contacts(4),  # type: ignore[arg-type]
    ).campaign
    rows = client.campaigns.get_rows(campaign.id).rows
    held_back = rows[3].call.id  # type: ignore[union-attr]
    launched = client.campaigns.launch(
        campaign.id,
        mode="ai_first",
        selection={**EVERYTHING, "rows": {"call_ids": [held_back], "mode": "all_except"}},  # type: ignore[arg-type]
    )
    assert launched.launched == 3
    assert launched.skipped.active == 0
    again = client.campaigns.launch(campaign.id, mode="ai_first", selection=EVERYTHING)  # type: ignore[arg-type]
    assert again.launched == 1 and again.skipped.active == 3
    stats = client.campaigns.retrieve(campaign.id).campaign.row_stats
    assert stats is not None and stats.pending == 4 and stats.not_launched == 0

    assert client.campaigns.pause(campaign.id).success
    paused = client.campaigns.retrieve(campaign.id).campaign
    assert paused.status == "paused"
    statuses = {row.call.status for row in client.campaigns.get_rows(campaign.id).rows}  # type: ignore[union-attr]
    assert statuses == {"paused"}

    assert client.campaigns.resume(campaign.id).success
    statuses = {row.call.status for row in client.campaigns.get_rows(campaign.id).rows}  # type: ignore[union-attr]
    assert statuses == {"queued_for_calling"}

    assert client.campaigns.cancel(campaign.id).success
    cancelled = client.campaigns.retrieve(campaign.id).campaign
    assert cancelled.is_cancelled is True and cancelled.status == "completed"
    statuses = {row.call.status for row in client.campaigns.get_rows(campaign.id).rows}  # type: ignore[union-attr]
    assert statuses == {"cancelled"}
    with pytest.raises(revox.ConflictError):
        client.campaigns.launch(campaign.id, mode="ai_first", selection=EVERYTHING)  # type: ignore[arg-type]


def test_scheduled_launch_is_scheduled(client: revox.Revox, assistant_id: str) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Later",
        contacts=_contacts(2),  # type: ignore[arg-type]
    ).campaign
    when = datetime.now(UTC) + timedelta(days=1)
    result = client.campaigns.launch(
        campaign.id, mode="ai_first", selection=EVERYTHING, scheduled_at=when
    )  # type: ignore[arg-type]
    assert result.launched == 2
    calls = [row.call for row in client.campaigns.get_rows(campaign.id).rows]
    assert {call.status for call in calls} == {"scheduled"}  # type: ignore[union-attr]


def test_speed_dial_is_refused_clearly(client: revox.Revox, assistant_id: str) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Speedy",
        contacts=_contacts(1),  # type: ignore[arg-type]
    ).campaign
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        client.campaigns.launch(campaign.id, mode="speed_dial", selection=EVERYTHING)  # type: ignore[arg-type]
    assert caught.value.body["error"]["param"] == "mode"  # type: ignore[index]


def test_update_applies_to_pending_calls(client: revox.Revox, assistant_id: str) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Old",
        contacts=_contacts(2),  # type: ignore[arg-type]
    ).campaign
    new_config = {**ALL_WEEK, "max_retry_attempts": 5}
    updated = client.campaigns.update(
        campaign.id,
        name="New",
        max_concurrent_calls=7,
        call_retry_config=new_config,  # type: ignore[arg-type]
    ).campaign
    assert updated.name == "New" and updated.max_concurrent_calls == 7
    row = client.campaigns.get_rows(campaign.id).rows[0]
    assert row.call is not None and row.call.call_retry_config is not None
    assert row.call.call_retry_config.max_retry_attempts == 5


def test_statistics_export_and_delete(client: revox.Revox, assistant_id: str) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Stats",
        contacts=_contacts(3),  # type: ignore[arg-type]
    ).campaign
    statistics = client.campaigns.statistics(campaign.id).statistics
    assert statistics.campaign.name == "Stats"
    assert statistics.funnel.called.imported_rows == 3
    assert statistics.funnel.called.count == 0
    assert statistics.funnel.reached.pct_of_called is None  # zero denominator
    exported = client.campaigns.export_rows(campaign.id)
    lines = list(csv.DictReader(io.StringIO(exported.csv)))
    assert [line["first_name"] for line in lines] == ["C0", "C1", "C2"]
    assert client.campaigns.delete(campaign.id).success
    with pytest.raises(revox.NotFoundError):
        client.campaigns.retrieve(campaign.id)


def test_rows_are_paged_with_our_query(
    server: LiveServer, org: Org, client: revox.Revox, assistant_id: str
) -> None:
    campaign = client.campaigns.create(
        assistant_id=assistant_id,
        name="Paged",
        contacts=_contacts(5),  # type: ignore[arg-type]
    ).campaign
    response = httpx.get(
        f"{server.url}/api/campaigns/{campaign.id}/rows",
        params={"page": 1, "page_size": 2},
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    body = response.json()
    assert body["total"] == 5 and body["page"] == 1 and body["page_size"] == 2
    assert [row["row_index"] for row in body["rows"]] == [2, 3]


@pytest.mark.parametrize(
    ("contacts", "param"),
    [
        (
            [{"to_phone_number": "nope", "prompt_variables": {"first_name": "a"}}],
            "contacts.0.to_phone_number",
        ),
        (
            [{"to_phone_number": "+12125550100", "prompt_variables": {}}],
            "contacts.0.prompt_variables",
        ),
    ],
)
def test_bad_contacts_name_the_row(
    server: LiveServer, org: Org, assistant_id: str, contacts: list[object], param: str
) -> None:
    response = httpx.post(
        f"{server.url}/api/campaigns",
        json={"assistant_id": assistant_id, "name": "Bad", "contacts": contacts},
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["param"] == param
