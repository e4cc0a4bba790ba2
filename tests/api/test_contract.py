"""Every response carries every key the SDK's models declare, and passes the SDK's strict
validation (types and enum literals); another organization's ids answer 404."""

from __future__ import annotations

import httpx
import pytest
import revox

from tests.conftest import LiveServer, Org
from tests.contract import assert_complete

EMPTY_FILTERS = {
    "assignee_ids": [], "assistant_ids": [], "campaign_ids": [], "directions": [],
    "from_phone_numbers": [], "outcomes": [], "results": [], "statuses": [],
}  # fmt: skip


@pytest.fixture
def strict(server: LiveServer, org: Org) -> revox.Revox:
    return revox.Revox(
        api_key=org.live_key,
        base_url=f"{server.url}/api",
        max_retries=0,
        _strict_response_validation=True,
    )


def test_every_response_is_complete_and_strictly_valid(strict: revox.Revox) -> None:
    raw = strict.with_raw_response
    assert_complete(raw.auth_status.retrieve())
    assert_complete(raw.users.retrieve())
    assistant = assert_complete(
        raw.assistants.create(
            name="Complete",
            prompt="Hello {{first_name}}",
            faq_items=[{"question": "q", "answer": "a"}],
            transfer_destinations=[{"label": "desk", "phone_number": "+14155550100"}],
            structured_output_config=[{"name": "email", "required": True, "type": "string"}],
        )
    ).assistant
    assert_complete(raw.assistants.retrieve(assistant.id))
    assert_complete(raw.assistants.list())
    assert_complete(raw.assistants.update(assistant.id, name="Complete 2"))
    clone = assert_complete(raw.assistants.clone(assistant.id)).assistant
    assert_complete(raw.assistants.delete(clone.id))

    call = assert_complete(
        raw.call.create(
            phone_number="+12125550100",
            assistant_id=assistant.id,
            prompt_variables={"first_name": "A"},
        )
    ).call
    assert_complete(raw.call.retrieve(call.id))
    assert_complete(raw.call.search(**EMPTY_FILTERS, page=0, page_size=10))  # type: ignore[arg-type]
    assert_complete(raw.call.export(filters={**EMPTY_FILTERS, "page": 0, "page_size": 10}))  # type: ignore[typeddict-item]
    assert_complete(raw.call.phone_history())
    assert_complete(raw.call.pause(call.id))
    assert_complete(raw.call.resume(call.id))
    assert_complete(raw.call.cancel(call.id))

    numbers = assert_complete(raw.phone_numbers.list()).phone_numbers
    assert numbers and numbers[0].source == "revox_provisioned"
    assert_complete(
        raw.phone_numbers.update(
            numbers[0].id, label="Main line", inbound_assistant_id=assistant.id
        )
    )

    voices = assert_complete(raw.voices.list()).voices
    providers = {voice.provider for voice in voices}
    assert {"cartesia", "elevenlabs"} <= providers
    assert_complete(raw.voices.retrieve(voices[0].id, provider=voices[0].provider))
    # voices.clone and voices.delete need Cartesia: tests/api/test_voices_api.py


def test_another_organizations_ids_answer_404(server: LiveServer, client: revox.Revox) -> None:
    assistant = client.assistants.create(name="Private", prompt="p").assistant
    call = client.call.create(phone_number="+14155550100", assistant_id=assistant.id).call
    number = client.phone_numbers.list().phone_numbers[0]
    stranger = server.new_org()
    other = revox.Revox(api_key=stranger.live_key, base_url=f"{server.url}/api", max_retries=0)
    attempts = [
        lambda: other.assistants.retrieve(assistant.id),
        lambda: other.assistants.update(assistant.id, name="x"),
        lambda: other.assistants.delete(assistant.id),
        lambda: other.assistants.clone(assistant.id),
        lambda: other.call.retrieve(call.id),
        lambda: other.call.cancel(call.id),
        lambda: other.call.pause(call.id),
        lambda: other.call.resume(call.id),
        lambda: other.phone_numbers.update(number.id, label="x"),
        lambda: other.phone_numbers.delete(number.id),
    ]
    for attempt in attempts:
        with pytest.raises(revox.NotFoundError):
            attempt()
    assert assistant.id not in [a.id for a in other.assistants.list().assistants]
    assert other.call.search(**EMPTY_FILTERS, page=0, page_size=10).total_count == 0  # type: ignore[arg-type]
    assert "+14155550100" not in other.call.phone_history().phone_history
    with pytest.raises(revox.UnprocessableEntityError):
        other.call.create(phone_number="+14155550100", assistant_id=assistant.id)


def test_test_mode_keys_see_only_test_objects(
    server: LiveServer, client: revox.Revox, org: Org
) -> None:
    live = client.assistants.create(name="Live one", prompt="p").assistant
    test = revox.Revox(api_key=org.test_key, base_url=f"{server.url}/api", max_retries=0)
    with pytest.raises(revox.NotFoundError):
        test.assistants.retrieve(live.id)
    mine = test.assistants.create(name="Test one", prompt="p").assistant
    assert [a.id for a in test.assistants.list().assistants] == [mine.id]
    test_numbers = {n.id for n in test.phone_numbers.list().phone_numbers}
    live_numbers = {n.id for n in client.phone_numbers.list().phone_numbers}
    assert test_numbers and live_numbers and test_numbers.isdisjoint(live_numbers)


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer sk_live_nope", "Basic abc", "Bearer sk_test_" + "x" * 30]
)
def test_bad_keys_are_401(server: LiveServer, header: str) -> None:
    response = httpx.get(
        f"{server.url}/api/auth-status", headers={"Authorization": header} if header else {}
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_revoked_key_stops_working(server: LiveServer, org: Org) -> None:
    from datetime import UTC, datetime

    from openrevox.store.repositories import accounts

    client = revox.Revox(api_key=org.live_key, base_url=f"{server.url}/api", max_retries=0)
    assert client.auth_status.retrieve().authenticated is True

    async def revoke() -> bool:
        async with server.app.state.services.db.transaction() as conn:
            return await accounts.revoke_api_key(conn, org.live_key, datetime.now(UTC))

    assert server.run(revoke()) is True
    with pytest.raises(revox.AuthenticationError):
        client.auth_status.retrieve()


def test_paths_under_api_with_double_slash_and_bodiless_posts(server: LiveServer, org: Org) -> None:
    headers = {"Authorization": f"Bearer {org.live_key}"}
    assert httpx.get(f"{server.url}//api/auth-status", headers=headers).status_code == 200
    assert httpx.get(f"{server.url}/api//auth-status", headers=headers).status_code == 200
    assert httpx.get(f"{server.url}/auth-status", headers=headers).status_code == 200
    created = httpx.post(
        f"{server.url}/api/assistants", json={"name": "a", "prompt": "p"}, headers=headers
    ).json()["assistant"]
    # The SDK sends bodiless POST/DELETE with a JSON content type and no body.
    bodiless = {**headers, "Content-Type": "application/json"}
    clone = httpx.post(f"{server.url}/api/assistants/{created['id']}/clone", headers=bodiless)
    assert clone.status_code == 200
    deleted = httpx.delete(f"{server.url}/api/assistants/{created['id']}", headers=bodiless)
    assert deleted.json() == {"success": True}


def test_users_me_can_be_patched(server: LiveServer, org: Org) -> None:
    headers = {"Authorization": f"Bearer {org.live_key}"}
    response = httpx.patch(
        f"{server.url}/api/users/me",
        json={"has_completed_onboarding": True, "first_name": "Ada"},
        headers=headers,
    )
    assert response.status_code == 200
    user = response.json()["user"]
    assert user["has_completed_onboarding"] is True and user["first_name"] == "Ada"


def test_campaign_responses_are_complete_and_isolated(
    server: LiveServer, strict: revox.Revox
) -> None:
    raw = strict.with_raw_response
    assistant = strict.assistants.create(name="C", prompt="p").assistant
    contacts = [{"to_phone_number": "+12125550101", "prompt_variables": {"x": 1}}]
    campaign = assert_complete(
        raw.campaigns.create(assistant_id=assistant.id, name="C", contacts=contacts)  # type: ignore[arg-type]
    ).campaign
    assert_complete(raw.campaigns.retrieve(campaign.id))
    assert_complete(raw.campaigns.list())
    assert_complete(raw.campaigns.update(campaign.id, name="C2"))
    assert_complete(raw.campaigns.get_rows(campaign.id))
    selection = {
        "filters": {
            "assignee_ids": [],
            "directions": [],
            "outcomes": [],
            "results": [],
            "statuses": [],
        },
        "rows": {"call_ids": [], "mode": "all_except"},
    }
    assert_complete(raw.campaigns.launch(campaign.id, mode="ai_first", selection=selection))  # type: ignore[arg-type]
    assert_complete(raw.campaigns.statistics(campaign.id))
    assert_complete(raw.campaigns.export_rows(campaign.id))
    assert_complete(raw.campaigns.pause(campaign.id))
    assert_complete(raw.campaigns.resume(campaign.id))

    stranger = server.new_org()
    other = revox.Revox(api_key=stranger.live_key, base_url=f"{server.url}/api", max_retries=0)
    for attempt in (
        lambda: other.campaigns.retrieve(campaign.id),
        lambda: other.campaigns.update(campaign.id, name="x"),
        lambda: other.campaigns.get_rows(campaign.id),
        lambda: other.campaigns.launch(campaign.id, mode="ai_first", selection=selection),  # type: ignore[arg-type]
        lambda: other.campaigns.statistics(campaign.id),
        lambda: other.campaigns.export_rows(campaign.id),
        lambda: other.campaigns.pause(campaign.id),
        lambda: other.campaigns.resume(campaign.id),
        lambda: other.campaigns.cancel(campaign.id),
        lambda: other.campaigns.delete(campaign.id),
    ):
        with pytest.raises(revox.NotFoundError):
            attempt()
    assert campaign.id not in [c.id for c in other.campaigns.list().campaigns]

    assert_complete(raw.campaigns.cancel(campaign.id))
    assert_complete(raw.campaigns.delete(campaign.id))
