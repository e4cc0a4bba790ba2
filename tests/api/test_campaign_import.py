"""Importing contacts from CSV (ours) and appending rows, through real HTTP."""

from __future__ import annotations

import httpx
import revox

from tests.conftest import LiveServer, Org

CSV = (
    "Phone,first_name,company\n"
    "+12125550100,Ann,Acme\n"
    "(212) 555-0101,Bob,Beta\n"
    "not a number,Cid,Corp\n"
    "+1 212 555 0100,Ann again,Acme\n"
    "\n"
    "+12125550102,,Nameless\n"
    "+12125550103,Dee,Delta\n"
)


def test_csv_import_reports_bad_rows_and_collapses_duplicates(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    assistant = client.assistants.create(name="Importer", prompt="Hi {{first_name}}").assistant
    response = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "From CSV", "assistant_id": assistant.id},
        content=CSV.encode(),
        headers={"Authorization": f"Bearer {org.live_key}", "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["imported"] == 3 and body["duplicates"] == 1 and body["rejected"] == 2
    assert [e["line"] for e in body["errors"]] == [4, 7]
    assert "not a phone number" in body["errors"][0]["reason"]
    assert "first_name" in body["errors"][1]["reason"]
    campaign_id = body["campaign"]["id"]
    rows = client.campaigns.get_rows(campaign_id).rows
    assert [row.phone_number for row in rows] == ["+12125550100", "+12125550101", "+12125550103"]
    assert rows[1].input_data == {"first_name": "Bob", "company": "Beta"}

    appended = httpx.post(
        f"{server.url}/api/campaigns/{campaign_id}/rows",
        json={"contacts": [
            {"to_phone_number": "+12125550104", "prompt_variables": {"first_name": "Eve"}},
            {"to_phone_number": "+12125550101", "prompt_variables": {"first_name": "Bob"}},
        ]},
        headers={"Authorization": f"Bearer {org.live_key}"},
    ).json()  # fmt: skip
    assert appended["imported"] == 1 and appended["duplicates"] == 1
    rows = client.campaigns.get_rows(campaign_id).rows
    assert [row.row_index for row in rows] == [0, 1, 2, 3]
    assert client.campaigns.retrieve(campaign_id).campaign.row_stats.not_launched == 4  # type: ignore[union-attr]


def test_csv_without_a_phone_column_is_refused(
    server: LiveServer, org: Org, client: revox.Revox
) -> None:
    assistant = client.assistants.create(name="Importer", prompt="p").assistant
    response = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "Bad", "assistant_id": assistant.id},
        content=b"name,email\nA,a@x.com\n",
        headers={"Authorization": f"Bearer {org.live_key}", "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert "phone column" in response.json()["error"]["message"]


def test_import_can_launch_at_once(server: LiveServer, org: Org, client: revox.Revox) -> None:
    assistant = client.assistants.create(name="Launcher", prompt="p").assistant
    body = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "Go", "assistant_id": assistant.id, "launch": "true"},
        content=b"number\n+12125550100\n+12125550101\n",
        headers={"Authorization": f"Bearer {org.live_key}", "Content-Type": "text/csv"},
    ).json()
    stats = body["campaign"]["row_stats"]
    assert stats["not_launched"] == 0 and stats["total"] == 2
