"""Assistant routes through the official SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
import revox

from tests.conftest import LiveServer, Org

RETRY_CONFIG = {
    "allowed_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "call_twice_in_a_row": False,
    "calling_windows": [
        {
            "calling_window_start_time": "9:30am",
            "calling_window_end_time": "6pm",
            "retry_delay_seconds": 60,
        }
    ],
    "max_retry_attempts": 2,
    "timezone": "Europe/Paris",
}


def test_create_fills_every_documented_default(client: revox.Revox, org: Org) -> None:
    created = client.assistants.create(name="Sales", prompt="You sell {{product}}.").assistant
    assert created.id and created.organization_id == org.id
    assert created.first_sentence_mode == "generated"
    assert created.first_sentence_delay_ms == 400
    assert created.llm_model.type == "dedicated-instance"
    assert created.call_retry_config is not None
    assert created.call_retry_config.max_retry_attempts == 3
    assert created.call_retry_config.allowed_days == [
        "monday", "tuesday", "wednesday", "thursday", "friday"
    ]  # fmt: skip
    window = created.call_retry_config.calling_windows[0]
    assert (window.calling_window_start_time, window.calling_window_end_time) == ("10:00", "18:00")
    assert window.retry_delay_seconds == 7200
    assert created.voice is not None and created.voice.provider == "cartesia"
    assert created.stt_model == "stt-rt-v5" and created.type == "standalone"
    assert created.created_at.endswith("Z")  # type: ignore[union-attr]


def test_retrieve_returns_the_bare_assistant(client: revox.Revox) -> None:
    created = client.assistants.create(name="Bare", prompt="Hi").assistant
    fetched = client.assistants.retrieve(created.id)
    assert fetched.id == created.id and fetched.name == "Bare"


def test_full_configuration_round_trips(client: revox.Revox) -> None:
    created = client.assistants.create(
        name="Full",
        prompt="Call {{first_name}} about the offer.",
        first_sentence="Hello {{first_name}}!",
        first_sentence_mode="static",
        call_retry_config=RETRY_CONFIG,  # type: ignore[arg-type]
        structured_output_config=[
            {"name": "email", "required": True, "type": "string", "description": "their email"},
            {"name": "plan", "required": False, "type": "enum", "enum_options": ["basic", "pro"]},
        ],
        faq_items=[{"question": "Price?", "answer": "10 euros"}],
        transfer_destinations=[{"label": "Sales", "phone_number": "+1 415 555 0100"}],
        voice={"id": "a0e99841-438c-4a64-b679-ae501e7d6091", "provider": "cartesia", "speed": 1.2},
        llm_model={
            "type": "custom",
            "api_key": "k",
            "api_url": "https://llm.example/v1",
            "model_name": "m",
        },
        webhook_url="https://hooks.example.com/revox",
        ivr_navigation_enabled=True,
        voicemail_message="Please call us back.",
    ).assistant
    assert created.call_retry_config is not None
    assert created.call_retry_config.timezone == "Europe/Paris"
    assert created.call_retry_config.calling_windows[0].calling_window_start_time == "9:30am"
    assert created.transfer_destinations is not None
    assert created.transfer_destinations[0].phone_number == "+14155550100"
    assert created.human_transfer_mode == "warm"
    assert created.faq_items is not None and created.faq_items[0].source == "human"
    assert created.pending_faq_count == 0
    assert created.llm_model.type == "custom" and created.llm_model.api_model_name == "m"  # type: ignore[union-attr]
    assert created.structured_output_config is not None
    assert [f.name for f in created.structured_output_config] == ["email", "plan"]


def test_patch_changes_only_given_keys_and_null_clears(client: revox.Revox) -> None:
    created = client.assistants.create(
        name="Patchy", prompt="p", webhook_url="https://a.example/x", voicemail_message="vm"
    ).assistant
    updated = client.assistants.update(created.id, voicemail_message=None, name="Renamed").assistant
    assert updated.name == "Renamed"
    assert updated.voicemail_message is None
    assert updated.webhook_url == "https://a.example/x"
    assert updated.prompt == "p"


def test_empty_patch_changes_nothing(server: LiveServer, org: Org, client: revox.Revox) -> None:
    created = client.assistants.create(name="Same", prompt="p").assistant
    response = httpx.patch(
        f"{server.url}/assistants/{created.id}",
        json={},
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["assistant"]["name"] == "Same"
    assert body["unpatchedCallsNotice"] is None


def test_null_for_a_required_key_is_refused(client: revox.Revox) -> None:
    created = client.assistants.create(name="N", prompt="p").assistant
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        client.assistants.update(created.id, prompt=None)  # type: ignore[arg-type]
    assert caught.value.body["error"]["param"] == "prompt"  # type: ignore[index]


def test_faq_items_given_replace_the_list(client: revox.Revox) -> None:
    created = client.assistants.create(
        name="F",
        prompt="p",
        faq_items=[{"question": "a?", "answer": "1"}, {"question": "b?", "answer": "2"}],
    ).assistant
    updated = client.assistants.update(
        created.id, faq_items=[{"question": "c?", "answer": "3"}]
    ).assistant
    assert [item.question for item in updated.faq_items or []] == ["c?"]


def test_list_and_delete(client: revox.Revox) -> None:
    first = client.assistants.create(name="One", prompt="p").assistant
    hidden = client.assistants.create(name="Step", prompt="p", type="sub-assistant").assistant
    ids = [a.id for a in client.assistants.list().assistants]
    assert first.id in ids and hidden.id not in ids
    assert client.assistants.delete(first.id).success is True
    with pytest.raises(revox.NotFoundError):
        client.assistants.retrieve(first.id)


def test_clone_copies_configuration_and_faq(client: revox.Revox) -> None:
    source = client.assistants.create(
        name="Orig",
        prompt="p",
        faq_items=[{"question": "q", "answer": "a"}],
        max_call_duration_secs=120,
    ).assistant
    copy = client.assistants.clone(source.id).assistant
    assert copy.id != source.id
    assert copy.name == "Orig (Copy)"
    assert copy.max_call_duration_secs == 120
    assert [item.question for item in copy.faq_items or []] == ["q"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "", "prompt": "p"}, "name"),
        ({"name": "x"}, "prompt"),
        ({"name": "x", "prompt": "p", "first_sentence_mode": "loud"}, "first_sentence_mode"),
        (
            {
                "name": "x",
                "prompt": "p",
                "voice": {"id": "v", "provider": "elevenlabs", "speed": 1.4},
            },
            "voice",
        ),
        (
            {
                "name": "x",
                "prompt": "p",
                "call_retry_config": {"calling_windows": [{"calling_window_start_time": "25:00"}]},
            },
            "call_retry_config.calling_windows.0.calling_window_start_time",
        ),
        (
            {"name": "x", "prompt": "p", "call_retry_config": {"timezone": "Mars/Olympus"}},
            "call_retry_config.timezone",
        ),
        (
            {"name": "x", "prompt": "p", "call_retry_config": {"max_retry_attempts": 0}},
            "call_retry_config.max_retry_attempts",
        ),
        (
            {
                "name": "x",
                "prompt": "p",
                "transfer_destinations": [{"label": "a", "phone_number": "12"}],
            },
            "transfer_destinations.0.phone_number",
        ),
        ({"name": "x", "prompt": "p", "from_phone_number": "+14155550123"}, "from_phone_number"),
        ({"name": "x", "prompt": "p", "webhook_url": "ftp://nope"}, "webhook_url"),
        (
            {
                "name": "x",
                "prompt": "p",
                "structured_output_config": [{"name": "a", "required": True, "type": "enum"}],
            },
            "structured_output_config.0",
        ),
        (
            {
                "name": "x",
                "prompt": "p",
                "llm_model": {"type": "dedicated-instance", "name": "gpt-9"},
            },
            "llm_model.name",
        ),
    ],
)
def test_bad_assistant_input_names_the_field(
    server: LiveServer, org: Org, body: dict[str, object], param: str
) -> None:
    response = httpx.post(
        f"{server.url}/api/assistants",
        json=body,
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["param"] == param, error
    assert error["message"]


def test_malformed_json_is_a_400(server: LiveServer, org: Org) -> None:
    response = httpx.post(
        f"{server.url}/assistants",
        content=b"{not json",
        headers={"Authorization": f"Bearer {org.live_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_invalid"
