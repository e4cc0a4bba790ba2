"""Importing contacts from CSV (ours) and appending rows, through real HTTP."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import revox
import sqlalchemy as sa
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from openrevox.domain.retry_config import recipient_timezone
from openrevox.services.campaign_rows import BLOCK_DIGITS, recipient_zones
from openrevox.store.tables import call_orders
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


# Two numbers of one thousands-block (+1 212 555 0...), other areas and a French mobile.
ZONED_NUMBERS = {
    "+12125550100": "America/New_York",
    "+12125550199": "America/New_York",
    "+14155550100": "America/Los_Angeles",
    "+18085550142": "Pacific/Honolulu",
    "+33612345678": "Europe/Paris",
}


def test_import_gives_each_order_the_timezone_of_its_number(
    server: LiveServer, org: Org, test_client: revox.Revox
) -> None:
    client = test_client  # a French mobile is simulated with a test key only
    assistant = client.assistants.create(name="Zones", prompt="p").assistant
    body = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "Zones", "assistant_id": assistant.id},
        content=("phone\n" + "\n".join(ZONED_NUMBERS) + "\n").encode(),
        headers={"Authorization": f"Bearer {org.test_key}", "Content-Type": "text/csv"},
    ).json()
    assert body["imported"] == len(ZONED_NUMBERS)

    async def zones() -> dict[str, str]:
        async with server.app.state.services.db.read() as conn:
            found = await conn.execute(
                sa.select(call_orders.c.to_phone_number, call_orders.c.timezone).where(
                    call_orders.c.campaign_id == body["campaign"]["id"]
                )
            )
            return {number: zone for number, zone in found.all()}

    assert server.run(zones()) == ZONED_NUMBERS


def _numbers_of_every_region() -> list[str]:
    """Example numbers of every region and type, each with variants of its last three
    digits (those of one thousands-block), kept when valid."""
    rng = random.Random(6)
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
            for _ in range(5):
                variant = e164[:-BLOCK_DIGITS] + f"{rng.randrange(10**BLOCK_DIGITS):03d}"
                if phonenumbers.is_valid_number(phonenumbers.parse(variant)):
                    numbers.append(variant)
    rng.shuffle(numbers)
    return numbers


def test_timezones_looked_up_per_block_equal_those_looked_up_per_number() -> None:
    numbers = _numbers_of_every_region()
    assert len(numbers) > 1000
    config: dict[str, Any] = {"max_retry_attempts": 3}
    assert recipient_zones(numbers, config) == [
        recipient_timezone(config, number).key for number in numbers
    ]
    overridden = {**config, "timezone": "Asia/Tokyo"}
    assert set(recipient_zones(numbers, overridden)) == {"Asia/Tokyo"}


def test_cli_import_reports_as_the_api_does(
    server: LiveServer, org: Org, client: revox.Revox, tmp_path: Path
) -> None:
    """``openrevox campaign import``: the same report as the API, on the server's database."""
    assistant = client.assistants.create(name="From the CLI", prompt="Hi {{first_name}}").assistant
    path = tmp_path / "contacts.csv"
    path.write_text(CSV)
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENREVOX_")}
    env |= {
        "OPENREVOX_DATABASE_URL": server.settings.database_url,
        "OPENREVOX_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",  # one report line, unwrapped
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "openrevox"), "campaign", "import", str(path),
         "--assistant", assistant.id, "--org", org.id],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 imported, 1 duplicate(s) collapsed, 2 rejected" in result.stdout
    assert "line 4" in result.stdout and "line 7" in result.stdout
    reported = re.search(r"campaign (\S+): 3 imported", result.stdout)
    assert reported is not None
    rows = client.campaigns.get_rows(reported.group(1)).rows
    assert [row.phone_number for row in rows] == ["+12125550100", "+12125550101", "+12125550103"]
    assert [row.row_index for row in rows] == [0, 1, 2]


def test_created_campaign_gives_each_order_the_timezone_of_its_number(
    server: LiveServer, org: Org, test_client: revox.Revox
) -> None:
    client = test_client  # a French mobile is simulated with a test key only
    """JSON creation (``campaign_rows.add_rows``) looks timezones up per block, as the
    import does."""
    assistant = client.assistants.create(name="Zones", prompt="p").assistant
    campaign = client.campaigns.create(
        assistant_id=assistant.id,
        name="Zones",
        contacts=[{"to_phone_number": n, "prompt_variables": {}} for n in ZONED_NUMBERS],  # type: ignore[misc]
    ).campaign

    async def zones() -> dict[str, str]:
        async with server.app.state.services.db.read() as conn:
            found = await conn.execute(
                sa.select(call_orders.c.to_phone_number, call_orders.c.timezone).where(
                    call_orders.c.campaign_id == campaign.id
                )
            )
            return {number: zone for number, zone in found.all()}

    assert server.run(zones()) == ZONED_NUMBERS


def test_campaign_orders_store_what_a_single_calls_order_stores(
    server: LiveServer, org: Org, test_client: revox.Revox
) -> None:
    """Bulk inserts (creation, import) store a missing metadata as the ORM path of a
    single call does (JSON null on PostgreSQL, not SQL NULL)."""
    assistant = test_client.assistants.create(name="Same", prompt="p").assistant
    single = test_client.call.create(
        phone_number="+12125550100", assistant_id=assistant.id, skip_calling_window=True
    ).call
    created = test_client.campaigns.create(
        assistant_id=assistant.id,
        name="Created",
        contacts=[{"to_phone_number": "+12125550101", "prompt_variables": {}}],  # type: ignore[list-item]
    ).campaign
    imported = httpx.post(
        f"{server.url}/api/campaigns/import",
        params={"name": "Imported", "assistant_id": assistant.id},
        content=b"phone\n+12125550102\n",
        headers={"Authorization": f"Bearer {org.test_key}", "Content-Type": "text/csv"},
    ).json()["campaign"]

    async def stored() -> set[tuple[bool, str | None]]:
        o = call_orders.c
        async with server.app.state.services.db.read() as conn:
            found = await conn.execute(
                sa.select(o.metadata.is_(None), sa.cast(o.metadata, sa.Text)).where(
                    sa.or_(o.id == single.id, o.campaign_id.in_([created.id, imported["id"]]))
                )
            )
            return {(bool(is_null), text) for is_null, text in found.all()}

    assert len(server.run(stored())) == 1
