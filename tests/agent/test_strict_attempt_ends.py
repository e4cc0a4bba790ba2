"""Attempts that end badly still speak the contract: a failed dial, a lost worker and an
LLM that errors or times out all pass the official SDK's strict validation
(``_strict_response_validation=True``: every enum literal checked), in GET /call/{id} and
in the call list, with openrevox's own reason in the attempt's ``openrevox`` object."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import revox
import sqlalchemy as sa

from openrevox.store.tables import call_attempts, call_orders
from tests.agent.fake_openai import FakeOpenAI
from tests.agent.llm_fixtures import (
    fake_calendly,
    fake_openai,
    llm_caller,
    llm_database_urls,
    llm_engine,
)
from tests.conftest import LiveServer
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done

__all__ = ["fake_calendly", "fake_openai", "llm_caller", "llm_database_urls", "llm_engine"]

EMPTY_FILTERS: dict[str, Any] = {
    "assignee_ids": [], "assistant_ids": [], "campaign_ids": [], "directions": [],
    "from_phone_numbers": [], "outcomes": [], "results": [], "statuses": [],
}  # fmt: skip


def strict_twin(caller: revox.Revox) -> revox.Revox:
    """The same key and server, validating every response strictly."""
    return revox.Revox(
        api_key=caller.api_key,
        base_url=caller.base_url,
        max_retries=0,
        _strict_response_validation=True,
    )


def openrevox_of(attempt: Any) -> dict[str, Any]:
    """The attempt's ``openrevox`` object (a key of ours: an extra of the SDK's model)."""
    extra = attempt.model_extra or {}
    assert "openrevox" in extra, "every attempt carries the openrevox key"
    return extra["openrevox"] or {}


def place(caller: revox.Revox, code: str, **changes: Any) -> str:
    created = caller.call.create(
        phone_number=f"+1212555{100 + int(code):04d}",
        assistant={  # type: ignore[typeddict-item]
            "prompt": "You call on behalf of Acme.",
            "first_sentence_mode": "generated",
            "call_retry_config": retry_config(1),
        },
        **changes,
    )
    return created.call.id


def lose_worker_mid_attempt(engine: LiveServer, call_id: str) -> None:
    """What a worker that died mid-call leaves behind: the order calling, its attempt
    ringing under a lease that expired."""

    async def seed() -> None:
        now = datetime.now(UTC)
        async with engine.app.state.services.db.transaction() as conn:
            await conn.execute(
                sa.update(call_orders)
                .where(call_orders.c.id == call_id)
                .values(status="calling", next_attempt_at=None, calls_count=1, updated_at=now)
            )
            order = (
                await conn.execute(sa.select(call_orders).where(call_orders.c.id == call_id))
            ).one()
            await conn.execute(
                sa.insert(call_attempts).values(
                    id=str(uuid.uuid4()),
                    call_order_id=call_id,
                    organization_id=order.organization_id,
                    attempt_number=1,
                    status="ringing",
                    phone_number=order.to_phone_number,
                    handled_by_ai=False,
                    handled_by_human=False,
                    worker_id="a-dead-host:1:000000",
                    lease_expires_at=now - timedelta(seconds=1),
                    created_at=now - timedelta(seconds=5),
                    started_at=now - timedelta(seconds=5),
                )
            )

    engine.run(seed())


def test_failed_lost_and_errored_attempts_pass_strict_validation(
    llm_engine: LiveServer, llm_caller: revox.Revox, fake_openai: FakeOpenAI
) -> None:
    strict = strict_twin(llm_caller)
    busy = place(llm_caller, "40")
    lost = place(llm_caller, "00", scheduled_at=datetime.now(UTC) + timedelta(days=1))
    lose_worker_mid_attempt(llm_engine, lost)
    fake_openai.fault = "http_500"
    errored = place(llm_caller, "00")
    wait_until_done(llm_caller, errored, timeout=60)
    fake_openai.fault = "stall_midstream"
    timed_out = place(llm_caller, "00")
    wait_until_done(llm_caller, timed_out, timeout=60)
    wait_until_done(llm_caller, busy, timeout=60)
    wait_until_done(llm_caller, lost, timeout=60)  # recovery runs every few seconds

    expected = {
        busy: ("completed", None, None),
        lost: ("error", "connection_timeout", "worker_lost"),
        errored: ("error", "client_initiated", "llm_error"),
        timed_out: ("error", "client_initiated", "llm_timeout"),
    }
    for call_id, (status, end_reason, own_reason) in expected.items():
        call = strict.call.retrieve(call_id).call  # raises on any value off the contract
        (attempt,) = call.call_attempts
        assert (attempt.status, attempt.end_reason) == (status, end_reason), call_id
        assert openrevox_of(attempt).get("error_reason") == own_reason
        if own_reason:
            assert attempt.ended_by == "system"
    assert strict.call.retrieve(busy).call.call_attempts[0].dial_error == "busy"

    listed = strict.call.search(**EMPTY_FILTERS, page=0, page_size=50)
    shown = {call.id: call for call in listed.calls}
    assert set(expected) <= set(shown)
    for call_id, (_, end_reason, own_reason) in expected.items():
        (attempt,) = shown[call_id].call_attempts
        assert attempt.end_reason == end_reason
        assert openrevox_of(attempt).get("error_reason") == own_reason

    exported = strict.call.export(filters={**EMPTY_FILTERS, "page": 0, "page_size": 50})  # type: ignore[typeddict-item]
    header, *lines = exported.csv.splitlines()
    assert "last_openrevox" in header.split(",")
    assert any('"error_reason":"worker_lost"' in line.replace('""', '"') for line in lines)
