"""Campaigns while the engine runs: the campaign's concurrency cap holds, pause stops new
dials at once, resume goes on, cancel dials nothing more; statistics agree with rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import revox

from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

EVERYTHING: Any = {
    "filters": {
        "assignee_ids": [],
        "directions": [],
        "outcomes": [],
        "results": [],
        "statuses": [],
    },
    "rows": {"call_ids": [], "mode": "all_except"},
}


def _attempts(client: revox.Revox, campaign_id: str) -> list[Any]:
    rows = client.campaigns.get_rows(campaign_id).rows
    return [a for row in rows if row.call for a in row.call.call_attempts]


def _started(attempt: Any) -> datetime:
    return datetime.fromisoformat(attempt.started_at)


def test_pause_resume_cancel_while_running(caller: revox.Revox) -> None:
    assistant = caller.assistants.create(
        name="Runner",
        prompt="p",
        call_retry_config=retry_config(1),  # type: ignore[arg-type]
    ).assistant
    # Reserved numbers of 13 area codes, all "41": rings ~0.4 s, nobody answers.
    areas = [
        "212",
        "415",
        "312",
        "305",
        "206",
        "617",
        "512",
        "303",
        "702",
        "646",
        "213",
        "404",
        "503",
    ]
    contacts = [{"to_phone_number": f"+1{area}5550141", "prompt_variables": {}} for area in areas]
    campaign = caller.campaigns.create(
        assistant_id=assistant.id,
        name="Run",
        contacts=contacts,
        max_concurrent_calls=2,  # type: ignore[arg-type]
    ).campaign
    assert (
        caller.campaigns.launch(campaign.id, mode="ai_first", selection=EVERYTHING).launched == 13
    )

    deadline = time.monotonic() + 20
    while len(_attempts(caller, campaign.id)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    caller.campaigns.pause(campaign.id)
    paused_at = datetime.now(UTC)
    time.sleep(1.5)
    started_after_pause = [a for a in _attempts(caller, campaign.id) if _started(a) > paused_at]
    assert started_after_pause == []
    assert caller.campaigns.retrieve(campaign.id).campaign.status == "paused"

    caller.campaigns.resume(campaign.id)
    deadline = time.monotonic() + 20
    while len(_attempts(caller, campaign.id)) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    caller.campaigns.cancel(campaign.id)
    cancelled_at = datetime.now(UTC)
    time.sleep(1.5)
    attempts = _attempts(caller, campaign.id)
    assert all(_started(a) <= cancelled_at for a in attempts)
    assert len(attempts) < 13

    intervals = sorted(
        [(_started(a), 1) for a in attempts]
        + [(datetime.fromisoformat(a.ended_at), -1) for a in attempts]
    )
    live = peak = 0
    for _, change in intervals:
        live += change
        peak = max(peak, live)
    assert peak <= 2  # the campaign's max_concurrent_calls

    final = caller.campaigns.retrieve(campaign.id).campaign
    assert final.status == "completed" and final.is_cancelled
    stats = final.row_stats
    assert stats is not None and stats.total == 13
    assert stats.completed + stats.failed + stats.calling == 13
    report = caller.campaigns.statistics(campaign.id).statistics
    assert report.effort.outbound_attempts == len(attempts)


def test_statistics_agree_with_the_rows(caller: revox.Revox) -> None:
    assistant = caller.assistants.create(
        name="Stats",
        prompt="p",
        call_retry_config=retry_config(1),  # type: ignore[arg-type]
    ).assistant
    numbers = [
        "+12125550100",
        "+12125550100",
        "+12125550140",
        "+12125550142",
        "+12125550120",
        "+12125550104",
    ]
    contacts = [{"to_phone_number": n, "prompt_variables": {}} for n in numbers]
    campaign = caller.campaigns.create(
        assistant_id=assistant.id, name="S", contacts=contacts
    ).campaign  # type: ignore[arg-type]
    caller.campaigns.launch(campaign.id, mode="ai_first", selection=EVERYTHING)
    for row in caller.campaigns.get_rows(campaign.id).rows:
        assert row.call is not None
        wait_until_done(caller, row.call.id)
    stats = caller.campaigns.retrieve(campaign.id).campaign
    assert stats.status == "completed"
    # The duplicate number was collapsed: 5 rows.
    assert stats.row_stats is not None and stats.row_stats.completed == 5
    report = caller.campaigns.statistics(campaign.id).statistics
    assert report.funnel.called.imported_rows == 5
    assert report.funnel.called.count == 5
    assert report.funnel.reached.count == 2  # +1 212 555 0100 and 0104 answered as people
    assert report.funnel.reached.pct_of_called == 40.0
    assert report.effort.outbound_attempts == 5
    assert {b.outcome for b in report.outcome_breakdown} >= {"requested_callback_later"}
    assert stats.funnel_stats is not None and stats.funnel_stats.talked_to_human == 2
