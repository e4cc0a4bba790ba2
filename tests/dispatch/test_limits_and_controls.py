"""Concurrency limits, pause, resume and cancel while the engine runs."""

from __future__ import annotations

import time
from datetime import datetime

import httpx
import revox

from tests.conftest import LiveServer, Org
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    live = peak = 0
    for _, change in events:
        live += change
        peak = max(peak, live)
    return peak


def _intervals(call: revox.types.call_retrieve_response.Call) -> list[tuple[datetime, datetime]]:  # type: ignore[name-defined]
    return [
        (datetime.fromisoformat(a.started_at), datetime.fromisoformat(a.ended_at))  # type: ignore[arg-type]
        for a in call.call_attempts
    ]


def test_a_concurrency_key_limit_set_server_side_is_never_exceeded(
    engine: LiveServer, engine_org: Org, caller: revox.Revox
) -> None:
    response = httpx.put(
        f"{engine.url}/api/concurrency-keys/team-a",
        json={"max_concurrent_calls": 1},
        headers={"Authorization": f"Bearer {engine_org.test_key}"},
    )
    assert response.status_code == 200, response.text
    assistant = {
        "prompt": "p",
        "first_sentence": "Hi",
        "first_sentence_mode": "static",
        "call_retry_config": retry_config(1),
    }
    ids = [
        caller.call.create(
            phone_number="+12125550100", assistant=assistant, concurrency={"key": "team-a"}
        ).call.id  # type: ignore[arg-type]
        for _ in range(3)
    ]
    calls = [wait_until_done(caller, call_id) for call_id in ids]
    intervals = [interval for call in calls for interval in _intervals(call)]
    assert len(intervals) == 3
    assert _max_overlap(intervals) == 1


def test_pause_holds_retries_until_resume(caller: revox.Revox) -> None:
    config = {"prompt": "p", "call_retry_config": retry_config(3, delay=1)}
    call_id = caller.call.create(phone_number="+12125550140", assistant=config).call.id  # type: ignore[arg-type]
    deadline = time.monotonic() + 20
    while caller.call.retrieve(call_id).call.calls_count < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    caller.call.pause(call_id)
    time.sleep(2.5)  # longer than the retry delay: a running order would have dialled again
    paused = caller.call.retrieve(call_id).call
    assert paused.status == "paused"
    count = paused.calls_count
    assert count <= 2  # at most the attempt that was live when we paused
    caller.call.resume(call_id)
    done = wait_until_done(caller, call_id)
    assert done.calls_count == 3 and done.status == "completed"


def test_cancel_stops_further_attempts(caller: revox.Revox) -> None:
    config = {"prompt": "p", "call_retry_config": retry_config(5, delay=1)}
    call_id = caller.call.create(phone_number="+12125550140", assistant=config).call.id  # type: ignore[arg-type]
    deadline = time.monotonic() + 20
    while caller.call.retrieve(call_id).call.calls_count < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    caller.call.cancel(call_id)
    count = caller.call.retrieve(call_id).call.calls_count
    time.sleep(2.5)
    after = caller.call.retrieve(call_id).call
    assert after.status == "cancelled" and after.is_cancelled
    assert after.calls_count == count  # nothing dialled after cancel returned
