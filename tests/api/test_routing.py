"""Routing per call through the official SDK (SANDBOX.md, "When a call is simulated"): a
live key never simulates a real number silently. With no carrier configured (the
embedded default) its call is refused at creation with a 422 on ``phone_number`` that
says what to configure, campaign imports report such rows one by one, and a launch
leaves them unlaunched; with a carrier configured, the caller ID's carrier takes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import revox
import sqlalchemy as sa

from openrevox.store.tables import call_orders, campaign_rows, phone_numbers
from tests.conftest import LiveServer, Org, make_settings

REAL = "+33612345678"
RESERVED = "+12125550100"
TWILIO_LINE = "+14155238886"


@pytest.fixture(scope="module")
def carrier_server(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """An API process on the same database whose configuration names a carrier (and an
    LLM, which a call to a real carrier needs): what a Twilio deployment routes with."""
    settings = make_settings(
        server.settings.database_url,
        tmp_path_factory.mktemp("carrier"),
        telephony_provider="sim,twilio",
        local_speech="allow",  # a live call to a real number may be created
        twilio_account_sid="AC" + "0" * 32,  # never called: these tests dial nothing
        twilio_auth_token="unused",
        llm_base_url="http://127.0.0.1:9/v1",
    )
    live = LiveServer(settings).start()
    yield live
    live.stop()


def sdk(server: LiveServer, key: str) -> revox.Revox:
    return revox.Revox(api_key=key, base_url=f"{server.url}/api", max_retries=0)


def add_carrier_line(server: LiveServer, org: Org, number: str = TWILIO_LINE) -> None:
    async def insert() -> None:
        async with server.app.state.services.db.transaction() as conn:
            await conn.execute(
                sa.insert(phone_numbers).values(
                    id=str(uuid.uuid4()), organization_id=org.id, mode="live",
                    phone_number=number, label="Twilio", inbound_assistant_id=None,
                    provider="twilio", source="user_imported", type="owned_number",
                    is_default=False, created_by=None, created_at=datetime.now(UTC),
                )
            )  # fmt: skip

    server.run(insert())


def import_csv(server: LiveServer, key: str, assistant_id: str, numbers: list[str]) -> Any:
    response = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "Routing", "assistant_id": assistant_id},
        content=("phone\n" + "\n".join(numbers) + "\n").encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_live_call_to_a_real_number_without_a_carrier_is_refused(
    client: revox.Revox, test_client: revox.Revox
) -> None:
    with pytest.raises(revox.UnprocessableEntityError) as refused:
        client.call.create(phone_number=REAL, assistant={"prompt": "p"})  # type: ignore[typeddict-item]
    error = refused.value.body["error"]  # type: ignore[index]
    assert error["param"] == "phone_number"
    assert "OPENREVOX_TELEPHONY" in error["message"] and "test key" in error["message"]
    assert client.call.search(
        assignee_ids=[], assistant_ids=[], campaign_ids=[], directions=[],
        from_phone_numbers=[], outcomes=[], results=[], statuses=[], page=0, page_size=10,
    ).calls == []  # fmt: skip
    # The same number with a test key, and a reserved number with the live key: simulated.
    simulated = test_client.call.create(phone_number=REAL, assistant={"prompt": "p"})  # type: ignore[typeddict-item]
    assert simulated.call.to_phone_number == REAL
    reserved = client.call.create(phone_number=RESERVED, assistant={"prompt": "p"})  # type: ignore[typeddict-item]
    assert reserved.call.status in ("queued_for_calling", "scheduled")


def test_a_campaign_import_reports_each_unroutable_row(
    server: LiveServer, org: Org, client: revox.Revox, test_client: revox.Revox
) -> None:
    numbers = [RESERVED, REAL, "+12125550101", "+447911123456"]
    live_assistant = client.assistants.create(name="Routing", prompt="p").assistant
    report = import_csv(server, org.live_key, live_assistant.id, numbers)
    assert report["imported"] == 2 and report["rejected"] == 2
    assert [e["line"] for e in report["errors"]] == [3, 5]
    assert all("OPENREVOX_TELEPHONY" in e["reason"] for e in report["errors"])
    rows = client.campaigns.get_rows(report["campaign"]["id"]).rows
    assert [row.phone_number for row in rows] == [RESERVED, "+12125550101"]

    test_assistant = test_client.assistants.create(name="Routing", prompt="p").assistant
    assert import_csv(server, org.test_key, test_assistant.id, numbers)["imported"] == 4


def test_a_campaign_created_with_a_real_number_is_refused_on_that_contact(
    client: revox.Revox,
) -> None:
    assistant = client.assistants.create(name="Routing", prompt="p").assistant
    with pytest.raises(revox.UnprocessableEntityError) as refused:
        client.campaigns.create(
            assistant_id=assistant.id,
            name="Routing",
            contacts=[  # type: ignore[list-item]
                {"to_phone_number": RESERVED, "prompt_variables": {}},
                {"to_phone_number": REAL, "prompt_variables": {}},
            ],
        )
    error = refused.value.body["error"]  # type: ignore[index]
    assert error["param"] == "contacts.1.to_phone_number"
    assert "OPENREVOX_TELEPHONY" in error["message"]


def test_with_a_carrier_the_caller_ids_carrier_takes_the_call(
    carrier_server: LiveServer, server: LiveServer
) -> None:
    org = server.new_org()
    add_carrier_line(server, org)
    live = sdk(carrier_server, org.live_key)
    # From the organization's sandbox line (its default caller ID): refused, on the caller ID.
    with pytest.raises(revox.UnprocessableEntityError) as refused:
        live.call.create(phone_number=REAL, assistant={"prompt": "p"})  # type: ignore[typeddict-item]
    error = refused.value.body["error"]  # type: ignore[index]
    assert error["param"] == "from_phone_number" and "sandbox line" in error["message"]
    # From its Twilio number: accepted, for Twilio to carry.
    call = live.call.create(
        phone_number=REAL,
        from_phone_number=TWILIO_LINE,
        assistant={"prompt": "p"},  # type: ignore[typeddict-item]
    ).call
    assert call.from_phone_number == TWILIO_LINE and call.to_phone_number == REAL


def test_a_launch_leaves_rows_no_carrier_takes_unlaunched(
    carrier_server: LiveServer, server: LiveServer
) -> None:
    """Rows accepted while a carrier was configured, launched after it was removed."""
    org = server.new_org()
    add_carrier_line(server, org)
    with_carrier = sdk(carrier_server, org.live_key)
    assistant = with_carrier.assistants.create(
        name="Routing", prompt="p", from_phone_number=TWILIO_LINE
    ).assistant
    campaign = with_carrier.campaigns.create(
        assistant_id=assistant.id,
        name="Routing",
        contacts=[  # type: ignore[list-item]
            {"to_phone_number": RESERVED, "prompt_variables": {}},
            {"to_phone_number": REAL, "prompt_variables": {}},
        ],
    ).campaign
    launched = httpx.post(
        f"{server.url}/api/campaigns/{campaign.id}/launch-calls",
        json={
            "mode": "ai_first",
            "selection": {
                "filters": {
                    "assignee_ids": [],
                    "directions": [],
                    "outcomes": [],
                    "results": [],
                    "statuses": [],
                },
                "rows": {"call_ids": [], "mode": "all_except"},
            },
        },
        headers={"Authorization": f"Bearer {org.live_key}"},
        timeout=30,
    ).json()
    assert launched["launched"] == 1 and launched["skipped"]["no_route"] == 1

    async def orders() -> dict[str, tuple[str, str | None]]:
        async with server.app.state.services.db.read() as conn:
            rows = await conn.execute(
                sa.select(
                    call_orders.c.to_phone_number, call_orders.c.status, campaign_rows.c.skip_reason
                )
                .join(campaign_rows, campaign_rows.c.call_order_id == call_orders.c.id)
                .where(call_orders.c.campaign_id == campaign.id)
            )
            return {number: (status, skip) for number, status, skip in rows}

    found = server.run(orders())
    assert found[REAL] == ("not_launched", "no_route")
    assert found[RESERVED][0] in ("queued_for_calling", "scheduled")
