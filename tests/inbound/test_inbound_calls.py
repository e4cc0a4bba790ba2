"""Inbound calls end to end: provision a sandbox line, label it, give it an inbound
assistant (official SDK), have sandbox personas call it, read the completed calls."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
import revox

from tests.conftest import LiveServer, Org
from tests.dispatch.test_sandbox_numbers import wait_until_done

EMPTY = {
    "assignee_ids": [], "assistant_ids": [], "campaign_ids": [], "from_phone_numbers": [],
    "outcomes": [], "results": [], "statuses": [],
}  # fmt: skip


def _headers(org: Org) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.test_key}"}


def _provision(engine: LiveServer, org: Org, **body: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{engine.url}/api/phone-numbers/sandbox", json=body, headers=_headers(org)
    )
    assert response.status_code == 200, response.text
    return response.json()["phone_number"]  # type: ignore[no-any-return]


def _call_in(engine: LiveServer, org: Org, to: str, persona: str) -> httpx.Response:
    return httpx.post(
        f"{engine.url}/api/sandbox/call-in",
        json={"to": to, "persona": persona},
        headers=_headers(org),
    )


def test_personas_calling_our_line_reach_the_inbound_assistant(
    engine: LiveServer, engine_org: Org, caller: revox.Revox
) -> None:
    receptionist = caller.assistants.create(
        name="Reception",
        prompt="You answer calls for Acme.",
        first_sentence="Acme, good morning! How can I help?",
        first_sentence_mode="static",
        structured_output_config=[
            {"name": "full_name", "required": True, "type": "string", "description": "name"}
        ],
    ).assistant
    line = _provision(engine, engine_org, label="Front desk")
    updated = caller.phone_numbers.update(
        line["id"], label="Reception line", inbound_assistant_id=receptionist.id
    )
    assert updated.phone_number.label == "Reception line"
    assert updated.phone_number.inbound_assistant is not None
    assert updated.phone_number.inbound_assistant.id == receptionist.id

    calls = {}
    for persona in ("00", "04", "05"):
        response = _call_in(engine, engine_org, line["phone_number"], persona)
        assert response.status_code == 200, response.text
        created = response.json()["call"]
        assert (
            created["direction"] == "inbound" and created["to_phone_number"] == line["phone_number"]
        )
        calls[persona] = wait_until_done(caller, created["id"])

    cooperative = calls["00"]
    assert cooperative.direction == "inbound"
    assert cooperative.from_phone_number == "+12125550100"
    assert cooperative.calls_count == 1 and cooperative.status == "completed"
    attempt = cooperative.call_attempts[0]
    assert attempt.result == "human"
    assert attempt.structured_output == {"full_name": "Alex Martin"}
    greeting = next(e.content for e in attempt.transcript if e.role == "assistant")
    assert greeting == "Acme, good morning! How can I help?"
    assert calls["04"].outcome == "requested_callback_later", calls["04"].call_attempts
    assert calls["05"].call_attempts[0].ended_by == "user"
    assert all(c.calls_count == 1 for c in calls.values())  # never retried

    inbound = caller.call.search(**EMPTY, directions=["inbound"], page=0, page_size=50)  # type: ignore[arg-type]
    assert {c.id for c in inbound.calls} == {c.id for c in calls.values()}
    outbound = caller.call.search(**EMPTY, directions=["outbound"], page=0, page_size=50)  # type: ignore[arg-type]
    assert not {c.id for c in outbound.calls} & {c.id for c in calls.values()}
    exported = caller.call.export(
        filters={**EMPTY, "directions": ["inbound"], "page": 0, "page_size": 50}
    )  # type: ignore[typeddict-item]
    rows = list(csv.DictReader(io.StringIO(exported.csv)))
    assert {row["direction"] for row in rows} == {"inbound"} and len(rows) == 3
    history = caller.call.phone_history().phone_history
    assert history["+12125550100"].count >= 1 and history["+12125550100"].reached_human


def test_a_number_without_inbound_assistant_rejects_the_call(
    engine: LiveServer, engine_org: Org, caller: revox.Revox
) -> None:
    line = _provision(engine, engine_org)
    before = caller.call.search(**EMPTY, directions=[], page=0, page_size=1).total_count  # type: ignore[arg-type]
    response = _call_in(engine, engine_org, line["phone_number"], "00")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_inbound_assistant"
    after = caller.call.search(**EMPTY, directions=[], page=0, page_size=1).total_count  # type: ignore[arg-type]
    assert after == before


@pytest.mark.parametrize(
    ("to", "persona", "status"), [("+14155550000", "00", 404), (None, "40", 422)]
)
def test_call_in_validates_number_and_persona(
    engine: LiveServer, engine_org: Org, to: str | None, persona: str, status: int
) -> None:
    line = _provision(engine, engine_org)
    response = _call_in(engine, engine_org, to or line["phone_number"], persona)
    assert response.status_code == status
