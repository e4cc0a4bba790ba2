"""Call routes through the official SDK: create, retrieve, cancel, pause, resume,
search, export and phone history, on SQLite and PostgreSQL."""

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
            "calling_window_end_time": "23:59",
            "retry_delay_seconds": 5,
        }
    ],
    "max_retry_attempts": 3,
}
NEVER_NOW = {  # a one-minute window on Sundays only: almost always in the future
    **ALL_WEEK,
    "allowed_days": ["sunday"],
    "calling_windows": [
        {
            "calling_window_start_time": "3:00am",
            "calling_window_end_time": "3:01am",
            "retry_delay_seconds": 5,
        }
    ],
}


@pytest.fixture
def assistant_id(client: revox.Revox) -> str:
    return client.assistants.create(
        name="Caller",
        prompt="Call {{first_name}}.",
        call_retry_config=ALL_WEEK,  # type: ignore[arg-type]
    ).assistant.id


def test_call_is_accepted_with_its_snapshot_and_defaults(
    client: revox.Revox, org: Org, assistant_id: str
) -> None:
    call = client.call.create(
        phone_number="+1 (212) 555-0100",
        assistant_id=assistant_id,
        prompt_variables={"first_name": "Alex", "email": "alex@example.com"},
        metadata={"crm_id": "42"},
        concurrency={"key": "team-a"},
    ).call
    assert call.status == "queued_for_calling"
    assert call.to_phone_number == "+12125550100"
    assert call.direction == "outbound"
    assert call.organization_id == org.id
    assert call.assistant is not None and call.assistant.id == assistant_id
    assert call.assistant.prompt == "Call {{first_name}}."
    assert call.call_retry_config is not None and call.call_retry_config.max_retry_attempts == 3
    assert call.prompt_variables == {"first_name": "Alex", "email": "alex@example.com"}
    assert call.metadata == {"crm_id": "42"}
    assert call.contact.first_name == "Alex" and call.contact.email == "alex@example.com"
    assert call.calls_count == 0 and call.call_attempts == [] and call.last_call_attempt is None
    assert call.is_cancelled is False and call.is_completed is False
    assert call.from_phone_number.startswith("+1") and call.from_phone_number.endswith(
        tuple(f"55501{n}" for n in range(90, 99))
    )
    assert isinstance(call.scheduled_at, str) and call.scheduled_at.endswith("Z")
    fetched = client.call.retrieve(call.id).call
    assert fetched.id == call.id and fetched.status == "queued_for_calling"


def test_inline_assistant_is_used_without_an_id(client: revox.Revox) -> None:
    call = client.call.create(
        phone_number="+14155550100",
        assistant={
            "prompt": "Inline prompt",
            "first_sentence": "Hi",
            "call_retry_config": ALL_WEEK,
        },  # type: ignore[typeddict-item]
    ).call
    assert call.assistant is not None and call.assistant.prompt == "Inline prompt"
    assert call.status == "queued_for_calling"


def test_future_scheduled_at_makes_it_scheduled(client: revox.Revox, assistant_id: str) -> None:
    when = datetime.now(UTC) + timedelta(days=2)
    call = client.call.create(
        phone_number="+14155550100",
        assistant_id=assistant_id,
        prompt_variables={"first_name": "A"},
        scheduled_at=when.replace(tzinfo=None),  # the SDK sends naive datetimes as they are
    ).call
    assert call.status == "scheduled"
    assert isinstance(call.scheduled_at, str)
    assert call.scheduled_at.startswith(when.strftime("%Y-%m-%dT%H:%M"))


def test_outside_the_window_waits_for_it_unless_skipped(client: revox.Revox) -> None:
    assistant = client.assistants.create(
        name="Sunday",
        prompt="p",
        call_retry_config=NEVER_NOW,  # type: ignore[arg-type]
    ).assistant
    waiting = client.call.create(phone_number="+14155550100", assistant_id=assistant.id).call
    now_call = client.call.create(
        phone_number="+14155550100", assistant_id=assistant.id, skip_calling_window=True
    ).call
    assert waiting.status in ("scheduled", "queued_for_calling")
    assert now_call.status == "queued_for_calling"


def test_pause_resume_and_cancel_are_recorded(client: revox.Revox, assistant_id: str) -> None:
    call = client.call.create(
        phone_number="+14155550100", assistant_id=assistant_id, prompt_variables={"first_name": "A"}
    ).call
    assert client.call.pause(call.id).success is True
    assert client.call.retrieve(call.id).call.status == "paused"
    assert client.call.resume(call.id).success is True
    assert client.call.retrieve(call.id).call.status == "queued_for_calling"
    assert client.call.cancel(call.id).success is True
    cancelled = client.call.retrieve(call.id).call
    assert cancelled.status == "cancelled" and cancelled.is_cancelled is True
    with pytest.raises(revox.ConflictError) as caught:
        client.call.pause(call.id)
    assert caught.value.response.headers["x-should-retry"] == "false"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"phone_number": "12", "assistant_id": "x"}, "phone_number"),
        ({"phone_number": "+14155550100"}, "assistant_id"),
        (
            {
                "phone_number": "+14155550100",
                "assistant_id": "00000000-0000-0000-0000-000000000000",
            },
            "assistant_id",
        ),
        (
            {
                "phone_number": "+14155550100",
                "assistant": {"prompt": "p"},
                "scheduled_at": "tomorrow",
            },
            "scheduled_at",
        ),
        (
            {"phone_number": "+14155550100", "assistant": {"prompt": "Hi {{name}}"}},
            "prompt_variables",
        ),
        (
            {
                "phone_number": "+14155550100",
                "assistant": {"prompt": "p"},
                "from_phone_number": "+14155550142",
            },
            "from_phone_number",
        ),
        (
            {
                "phone_number": "+14155550100",
                "assistant": {"prompt": "p"},
                "metadata": {"a": {"b": 1}},
            },
            "metadata.a",
        ),
    ],
)
def test_bad_call_input_names_the_field(
    server: LiveServer, org: Org, body: dict[str, object], param: str
) -> None:
    response = httpx.post(
        f"{server.url}/api/call", json=body, headers={"Authorization": f"Bearer {org.live_key}"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


def test_national_numbers_use_the_organization_country(server: LiveServer) -> None:
    french = server.new_org(country="FR")
    # A test key: a live key's call to a real number needs a carrier (none here).
    client = revox.Revox(api_key=french.test_key, base_url=f"{server.url}/api", max_retries=0)
    call = client.call.create(phone_number="06 12 34 56 78", assistant={"prompt": "p"}).call  # type: ignore[typeddict-item]
    assert call.to_phone_number == "+33612345678"
    assert client.users.retrieve().user.organization_country == "FR"


def test_older_clients_force_now_and_concurrency_max(server: LiveServer, org: Org) -> None:
    response = httpx.post(
        f"{server.url}/call",
        json={
            "phone_number": "+14155550100",
            "assistant": {"prompt": "p", "call_retry_config": NEVER_NOW},
            "force_now": True,
            "concurrency": {"key": "k", "max": 2},
        },
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["call"]["status"] == "queued_for_calling"


def test_search_filters_pages_and_counts(client: revox.Revox, assistant_id: str) -> None:
    numbers = [f"+1415555010{i}" for i in range(5)]
    ids = [
        client.call.create(
            phone_number=n,
            assistant_id=assistant_id,
            prompt_variables={"first_name": f"P{i}"},
            metadata={"batch": "s1"},
        ).call.id
        for i, n in enumerate(numbers)
    ]
    client.call.cancel(ids[0])
    empty = {
        "assignee_ids": [], "assistant_ids": [], "campaign_ids": [], "directions": [],
        "from_phone_numbers": [], "outcomes": [], "results": [], "statuses": [],
    }  # fmt: skip
    everything = client.call.search(**empty, page=0, page_size=2)  # type: ignore[arg-type]
    assert everything.total_count == 5 and len(everything.calls) == 2
    assert everything.calls[0].id == ids[-1]  # newest first
    second = client.call.search(**empty, page=2, page_size=2)  # type: ignore[arg-type]
    assert len(second.calls) == 1 and second.calls[0].id == ids[0]
    cancelled = client.call.search(**{**empty, "statuses": ["cancelled"]}, page=0, page_size=10)  # type: ignore[arg-type]
    assert [c.id for c in cancelled.calls] == [ids[0]]
    by_number = client.call.search(**empty, page=0, page_size=10, to_phone_number=numbers[3])  # type: ignore[arg-type]
    assert [c.id for c in by_number.calls] == [ids[3]]
    by_text = client.call.search(**empty, page=0, page_size=10, query="p4")  # type: ignore[arg-type]
    assert [c.id for c in by_text.calls] == [ids[4]]
    no_result = client.call.search(**{**empty, "results": ["none"]}, page=0, page_size=10)  # type: ignore[arg-type]
    assert no_result.total_count == 5
    humans = client.call.search(**{**empty, "results": ["human"]}, page=0, page_size=10)  # type: ignore[arg-type]
    assert humans.total_count == 0
    asc = client.call.search(
        **empty, page=0, page_size=1, sort_by="created_at", sort_direction="asc"
    )  # type: ignore[arg-type]
    assert asc.calls[0].id == ids[0]
    with pytest.raises(revox.UnprocessableEntityError):
        client.call.search(**empty, page=0, page_size=1, sort_by="nonsense")  # type: ignore[arg-type]

    exported = client.call.export(
        filters={**empty, "page": 0, "page_size": 2},  # type: ignore[typeddict-item]
        include_metadata=True,
    )
    rows = list(csv.DictReader(io.StringIO(exported.csv)))
    assert len(rows) == 5 and exported.filename.endswith(".csv")
    assert {row["metadata.batch"] for row in rows} == {"s1"}

    history = client.call.phone_history().phone_history
    assert history[numbers[1]].count == 1
    assert history[numbers[1]].reached_human is False and history[numbers[1]].last_called_at is None


def test_unknown_call_is_404(client: revox.Revox) -> None:
    with pytest.raises(revox.NotFoundError):
        client.call.retrieve("00000000-0000-0000-0000-000000000000")
