"""The legacy SDK 0.1.1, unmodified, against the live server on SQLite and PostgreSQL.

0.1.1 shares the distribution name ``revox`` with 0.5.0, so it lives in build/revox011
(scripts/test.sh installs it there) and runs in a subprocess with that folder first on
``sys.path``. The engine server carries calls (embedded worker, fast simulated network) on
databases of its own, so the legacy ``GET /call`` has attempts to list."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

# The engine server (embedded worker, fast simulated network, databases of its own).
from tests.conftest import LiveServer, Org
from tests.dispatch.test_sandbox_numbers import retry_config

ROOT = Path(__file__).resolve().parents[2]
REVOX_011 = ROOT / "build" / "revox011"
SESSION_SCRIPT = ROOT / "tests" / "legacy" / "revox011_session.py"


@pytest.fixture(scope="module")
def legacy_org(engine: LiveServer) -> Org:
    return engine.new_org()


@pytest.fixture(scope="module")
def made_without_the_sdk(engine: LiveServer, legacy_org: Org) -> tuple[str, str]:
    """A campaign left not_launched and a paused call, made over plain HTTP (the current
    API): the ids of what 0.1.1 has no status for."""
    headers = {"Authorization": f"Bearer {legacy_org.live_key}"}
    with httpx.Client(base_url=f"{engine.url}/api", headers=headers, timeout=30) as http:
        assistant = http.post(
            "/assistants",
            json={"name": "Current", "prompt": "Hi.", "call_retry_config": _windows()},
        ).json()["assistant"]
        draft = http.post(
            "/campaigns",
            json={
                "assistant_id": assistant["id"],
                "name": "Not launched",
                "contacts": [{"to_phone_number": "+12125550100", "prompt_variables": {}}],
            },
        ).json()["campaign"]
        later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        call = http.post(
            "/call",
            json={
                "assistant_id": assistant["id"],
                "phone_number": "+12125550100",
                "scheduled_at": later,
            },
        ).json()["call"]
        assert http.post(f"/call/{call['id']}/pause").status_code == 200
        assert http.get(f"/call/{call['id']}").json()["call"]["status"] == "paused"
        return draft["id"], call["id"]


@pytest.fixture(scope="module")
def session(
    engine: LiveServer, legacy_org: Org, made_without_the_sdk: tuple[str, str]
) -> dict[str, Any]:
    """One run of the 0.1.1 script; each test below checks a part of what it saw."""
    if not (REVOX_011 / "revox" / "__init__.py").is_file():
        pytest.fail(
            f"the legacy SDK is missing from {REVOX_011}: run scripts/test.sh, or "
            f"{sys.executable} -m pip install --target build/revox011 'revox==0.1.1'",
            pytrace=False,
        )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REVOX_011), str(ROOT)])}
    result = subprocess.run(
        [
            sys.executable,
            str(SESSION_SCRIPT),
            f"{engine.url}/api",
            legacy_org.live_key,
            *made_without_the_sdk,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"SDK 0.1.1 failed:\n{result.stderr[-4000:]}"
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


def test_the_subprocess_runs_sdk_0_1_1(session: dict[str, Any]) -> None:
    assert session["version"] == "0.1.1"
    assert Path(session["module"]).is_relative_to(REVOX_011)


def test_assistants_of_0_1_1(session: dict[str, Any]) -> None:
    assistant = session["assistant"]
    assert assistant["created_transfer"] == "+12125550123"
    retry = assistant["created_retry"]
    assert retry["max_retry_attempts"] == 2 and retry["timezone"] == "America/New_York"
    assert retry["calling_windows"][0]["retry_delay_seconds"] == 5
    assert assistant["fetched_name"] == "Legacy"
    assert assistant["updated_name"] == "Legacy 2"
    assert assistant["updated_transfer"] == "+12125550124"
    assert assistant["deleted"] is True
    assert assistant["fetched_id"] in assistant["listed_ids"]
    assert assistant["throwaway_id"] not in assistant["listed_ids"]


def test_a_call_with_an_inline_0_1_1_assistant_completes(session: dict[str, Any]) -> None:
    assert session["call_created"]["status"] in {"queued_for_calling", "calling", "scheduled"}
    call = session["call"]
    assert call["status"] == "completed", call
    assert call["transfer"] == "+12125550123"
    assert call["metadata"] == {"crm": "7"}
    assert len(call["attempts"]) == 1


def test_the_legacy_call_list_returns_attempts(session: dict[str, Any]) -> None:
    attempts = session["list"]
    assert [attempt["id"] for attempt in attempts] == session["call"]["attempts"]
    assert attempts[0]["status"] == "completed"
    assert attempts[0]["phone_number"] == "+12125550100"
    assert attempts[0]["result"] == "human"
    assert session["list_completed"] == session["call"]["attempts"]
    assert session["list_errored"] == []
    assert session["list_page_1"] == [], "pages are 0-based: page 1 is past the only attempt"


def test_a_0_1_1_campaign_launches_at_create_and_waits_for_scheduled_at(
    session: dict[str, Any],
) -> None:
    campaign = session["campaign"]
    assert campaign["status"] in {"running", "draft"}
    assert campaign["id"] in campaign["listed"]
    assert (campaign["rows_page"], campaign["rows_page_size"], campaign["rows_total"]) == (0, 10, 2)
    assert campaign["row_statuses"] == ["scheduled", "scheduled"]
    wanted = datetime.fromisoformat(campaign["scheduled_at"])
    for scheduled_at in campaign["row_scheduled_at"]:
        assert datetime.fromisoformat(scheduled_at.replace("Z", "+00:00")) == wanted


def test_a_0_1_1_campaign_is_called_with_no_launch_request(session: dict[str, Any]) -> None:
    """0.1.1's create "launches it immediately": strict 0.1.1 models see every row through
    to completed, and no status they do not know on the way."""
    campaign = session["campaign_now"]
    assert campaign["created_status"] == "running"
    assert campaign["seen"][-1] == ["completed", "completed"], campaign["seen"]
    assert campaign["retrieved_status"] == "completed"


def test_statuses_0_1_1_lacks_are_shown_as_their_nearest(
    session: dict[str, Any], made_without_the_sdk: tuple[str, str]
) -> None:
    mapped = session["mapped"]
    assert mapped["not_launched"] == ["initializing"]
    assert mapped["paused"] == "scheduled"
    assert len(mapped["initializing_filter"]) == 1, "the filter matches what 0.1.1 is shown"


@pytest.mark.parametrize(
    ("headers", "launched"),
    [
        ({"X-Stainless-Package-Version": "0.1.1", "User-Agent": "Revox/Python 0.1.1"}, True),
        ({"User-Agent": "Revox/Python 0.1.1"}, True),  # no Stainless header: the agent says
        ({"X-Stainless-Package-Version": "0.5.0", "User-Agent": "Revox/Python 0.5.0"}, False),
        ({"X-Stainless-Package-Version": "0.5.0", "User-Agent": "Revox/Python 0.1.1"}, False),
        ({"User-Agent": "python-httpx/0.28"}, False),
    ],
)
def test_only_a_0_1_client_is_launched_at_create(
    engine: LiveServer, legacy_org: Org, headers: dict[str, str], launched: bool
) -> None:
    auth = {"Authorization": f"Bearer {legacy_org.live_key}"}
    with httpx.Client(base_url=f"{engine.url}/api", headers=auth, timeout=30) as http:
        assistant = http.post(
            "/assistants", json={"name": "Who", "prompt": "Hi.", "call_retry_config": _windows()}
        ).json()["assistant"]
        contacts = [{"to_phone_number": "+12125550141", "prompt_variables": {}}]
        created = http.post(
            "/campaigns",
            headers=headers,
            json={"assistant_id": assistant["id"], "name": "Who", "contacts": contacts},
        ).json()["campaign"]
        rows = http.get(f"/campaigns/{created['id']}/rows").json()["rows"]
    assert (rows[0]["call"]["status"] != "not_launched") is launched


def test_the_0_3_0_launch_route_launches_every_row(engine: LiveServer, legacy_org: Org) -> None:
    headers = {"Authorization": f"Bearer {legacy_org.live_key}"}
    with httpx.Client(base_url=f"{engine.url}/api", headers=headers, timeout=30) as http:
        assistant = http.post(
            "/assistants",
            json={"name": "Launcher", "prompt": "Hi.", "call_retry_config": _windows()},
        ).json()["assistant"]
        created = http.post(
            "/campaigns",
            json={
                "assistant_id": assistant["id"],
                "name": "Draft",
                "contacts": [{"to_phone_number": "+12125550141", "prompt_variables": {}}],
            },
        ).json()["campaign"]
        before = http.get(f"/campaigns/{created['id']}/rows").json()["rows"]
        assert [row["call"]["status"] for row in before] == ["not_launched"]

        # 0.3.0 sends no body, with Content-Type: application/json
        response = http.post(
            f"/campaigns/{created['id']}/launch",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"campaign"}
        assert response.json()["campaign"]["id"] == created["id"]
        after = http.get(f"/campaigns/{created['id']}/rows").json()["rows"]
        assert after[0]["call"]["status"] != "not_launched"

        unknown = http.post("/campaigns/nope/launch")
        assert unknown.status_code == 404


def _windows() -> dict[str, Any]:
    return retry_config(2, delay=5)
