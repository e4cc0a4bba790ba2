"""Drive SDK 0.1.1 end to end; run as a script with PYTHONPATH=build/revox011 first, so
that ``import revox`` is 0.1.1. Prints one JSON object with what the test checks.

The client validates every response strictly against 0.1.1's models.

Usage: python revox011_session.py BASE_URL API_KEY DRAFT_CAMPAIGN_ID PAUSED_CALL_ID
(a campaign and a call the test made without the SDK, left not_launched and paused)
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import revox

WINDOWS_011 = {  # 0.1.1 sends only these three keys: the server defaults the other two
    "calling_windows": [
        {
            "calling_window_start_time": "00:00",
            "calling_window_end_time": "23:59",
            "retry_delay_seconds": 5,
        }
    ],
    "max_retry_attempts": 2,
    "timezone": "America/New_York",
}
ASSISTANT_011: dict[str, Any] = {
    "prompt": "You call {{first_name}} to confirm the appointment.",
    "first_sentence": "Hello {{first_name}}, this is Acme.",
    "first_sentence_mode": "static",
    "transfer_phone_number": "+12125550123",
    "voicemail_message": "Please call us back.",
    "max_call_duration_secs": 120,
    "call_retry_config": WINDOWS_011,
    "llm_model": {"type": "dedicated-instance", "name": "gpt-4.1"},
    "structured_output_config": [
        {"name": "email", "type": "string", "required": False, "description": "their email"}
    ],
    "faq_items": [{"question": "Who are you?", "answer": "Acme's assistant."}],
    "webhook_url": "https://example.com/revox-hook",
}
ALL_DAY_011 = {  # never outside the window, whatever the time in New York
    **WINDOWS_011,
    "calling_windows": [
        {
            "calling_window_start_time": "00:00",
            "calling_window_end_time": "24:00",
            "retry_delay_seconds": 5,
        }
    ],
}


def main(
    base_url: str, api_key: str, draft_campaign_id: str, paused_call_id: str
) -> dict[str, Any]:
    out: dict[str, Any] = {"version": revox.__version__, "module": revox.__file__}
    client = revox.Revox(
        api_key=api_key, base_url=base_url, max_retries=0, _strict_response_validation=True
    )

    # assistants: create, retrieve (bare), update, list, delete
    created = client.assistants.create(name="Legacy", **ASSISTANT_011).assistant
    fetched = client.assistants.retrieve(created.id)
    updated = client.assistants.update(
        created.id, name="Legacy 2", transfer_phone_number="+12125550124"
    ).assistant
    throwaway = client.assistants.create(name="Throwaway", prompt="Bye.").assistant
    deleted = client.assistants.delete(throwaway.id)
    listed = client.assistants.list().assistants
    out["assistant"] = {
        "created_transfer": created.transfer_phone_number,
        "created_retry": created.call_retry_config.model_dump()
        if created.call_retry_config
        else None,
        "fetched_id": fetched.id,
        "fetched_name": fetched.name,
        "updated_name": updated.name,
        "updated_transfer": updated.transfer_phone_number,
        "deleted": deleted.success,
        "listed_ids": [a.id for a in listed],
        "throwaway_id": throwaway.id,
    }

    # call.create with an inline 0.1.1 assistant, force_now and {key, max} concurrency
    call = client.call.create(
        phone_number="+12125550100",
        assistant=ASSISTANT_011,  # type: ignore[arg-type]
        prompt_variables={"first_name": "Alex"},
        force_now=True,
        concurrency={"key": "k", "max": 2},
        metadata={"crm": "7"},
    ).call
    out["call_created"] = {"id": call.id, "status": call.status}
    deadline = time.monotonic() + 60
    retrieved = client.call.retrieve(call.id).call
    while retrieved.status != "completed" and time.monotonic() < deadline:
        time.sleep(0.3)
        retrieved = client.call.retrieve(call.id).call
    out["call"] = {
        "status": retrieved.status,
        "transfer": retrieved.assistant.transfer_phone_number if retrieved.assistant else None,
        "attempts": [a.id for a in retrieved.call_attempts or []],
        "metadata": retrieved.metadata,
    }

    # the legacy GET /call: attempts, newest first, 0-based pages
    page = client.call.list(page=0, page_size=10)
    out["list"] = [
        {"id": a.id, "status": a.status, "phone_number": a.phone_number, "result": a.result}
        for a in page.calls
    ]
    out["list_completed"] = [
        a.id for a in client.call.list(page=0, page_size=10, statuses=["completed"]).calls
    ]
    out["list_errored"] = [
        a.id for a in client.call.list(page=0, page_size=10, statuses=["errored"]).calls
    ]
    out["list_page_1"] = [a.id for a in client.call.list(page=1, page_size=10).calls]

    # 0.1.1 campaigns launch at create; scheduled_at holds every call until then
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    campaign = client.campaigns.create(
        assistant_id=created.id,
        name="Legacy campaign",
        contacts=[
            {"to_phone_number": "+12125550100", "prompt_variables": {"first_name": "A"}},
            {"to_phone_number": "+14155550100", "prompt_variables": {"first_name": "B"}},
        ],
        scheduled_at=when,
        max_concurrent_calls=2,
    ).campaign
    rows = client.campaigns.get_rows(campaign.id, page=0, page_size=10)
    out["campaign"] = {
        "id": campaign.id,
        "status": campaign.status,
        "scheduled_at": str(when.isoformat()),
        "rows_page": rows.page,
        "rows_page_size": rows.page_size,
        "rows_total": rows.total,
        "row_statuses": [row.call.status if row.call else None for row in rows.rows],
        "row_scheduled_at": [row.call.scheduled_at if row.call else None for row in rows.rows],
        "retrieved_status": client.campaigns.retrieve(campaign.id).campaign.status,
        "listed": [c.id for c in client.campaigns.list().campaigns],
    }

    # 0.1.1 campaigns launch at create: polling the rows is all it takes to see them done
    launched = client.campaigns.create(
        assistant_id=created.id,
        name="Legacy campaign now",
        contacts=[
            {"to_phone_number": "+12125550100", "prompt_variables": {"first_name": "C"}},
            {"to_phone_number": "+14155550100", "prompt_variables": {"first_name": "D"}},
        ],
        call_retry_config=ALL_DAY_011,  # type: ignore[arg-type]
    ).campaign
    seen: list[list[str | None]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [
            row.call.status if row.call else None
            for row in client.campaigns.get_rows(launched.id, page=0, page_size=10).rows
        ]
        if not seen or seen[-1] != statuses:
            seen.append(statuses)
        if statuses and all(status == "completed" for status in statuses):
            break
        time.sleep(0.3)
    out["campaign_now"] = {
        "created_status": launched.status,
        "seen": seen,
        "retrieved_status": client.campaigns.retrieve(launched.id).campaign.status,
    }

    # what 0.1.1 has no status for, shown as its nearest status
    draft_rows = client.campaigns.get_rows(draft_campaign_id, page=0, page_size=10).rows
    paused = client.call.retrieve(paused_call_id).call
    out["mapped"] = {
        "not_launched": [row.call.status if row.call else None for row in draft_rows],
        "paused": paused.status,
        "initializing_filter": [
            row.id
            for row in client.campaigns.get_rows(
                draft_campaign_id, page=0, page_size=10, statuses="initializing"
            ).rows
        ],
    }
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5]), default=str))
