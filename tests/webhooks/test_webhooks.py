"""Webhooks end to end: signed per Standard Webhooks, one event per order, retried
through a receiver that fails and goes away, surviving a server restart, replayable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import revox
from revox.types.call_retrieve_response import Call

from tests.conftest import BACKENDS, LiveServer, drop_database, fresh_databases, make_settings
from tests.contract import missing_keys
from tests.dispatch.test_sandbox_numbers import retry_config, wait_until_done
from tests.webhooks.receiver import Receiver

FAST_RETRIES = "0.3,0.3,0.5,0.5,0.5,1,1,1,1,1,1,1,1,1,1,1"


def _unsigned(attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attempts with recording links cut before their signature (which varies per minute)."""
    return [
        {**a, "recording_url": (a["recording_url"] or "").split("?")[0] or None} for a in attempts
    ]


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    urls, pg_name = fresh_databases(tmp_path)
    yield urls[request.param], tmp_path
    drop_database(pg_name)


def start_server(url: str, data_dir: Path) -> LiveServer:
    settings = make_settings(
        url,
        data_dir,
        sim_speed=50.0,
        webhook_allow_hosts=("127.0.0.1",),
        webhook_retry_schedule=FAST_RETRIES,
    )
    return LiveServer(settings, embedded_worker=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver().start()
    yield hook
    hook.stop()


def _setup(server: LiveServer, receiver: Receiver) -> tuple[revox.Revox, str]:
    org = server.new_org()
    client = revox.Revox(api_key=org.test_key, base_url=f"{server.url}/api", max_retries=0)
    secret = httpx.get(
        f"{server.url}/api/webhooks/secret", headers={"Authorization": f"Bearer {org.test_key}"}
    ).json()["secret"]
    receiver.secret = secret
    assistant = client.assistants.create(
        name="Hooked",
        prompt="p",
        first_sentence="Hello from Acme.",
        first_sentence_mode="static",
        webhook_url=receiver.url,
        call_retry_config=retry_config(2),  # type: ignore[arg-type]
    ).assistant
    return client, assistant.id


def test_one_signed_event_per_order_with_both_body_shapes(
    databases: tuple[str, Path], receiver: Receiver
) -> None:
    server = start_server(*databases)
    try:
        client, assistant_id = _setup(server, receiver)
        numbers = ["+12125550100", "+12125550140", "+12125550142"]
        ids = [
            client.call.create(phone_number=n, assistant_id=assistant_id).call.id for n in numbers
        ]
        for call_id in ids:
            wait_until_done(client, call_id)
        _wait(lambda: len(receiver.received) >= 3)
        time.sleep(0.5)
        assert receiver.refused_signatures == 0
        assert len(receiver.received) == 3 and len(set(receiver.ids())) == 3
        bodies = {item.body["call_order_id"]: item.body for item in receiver.received}
        assert set(bodies) == set(ids)
        human = bodies[ids[0]]
        assert human["type"] == "call.completed" and human["status"] == "completed"
        assert human["result"] == "human" and human["calls_count"] == 1
        assert human["call_id"] == human["call_attempt"]["id"]
        assert "Agent: Hello from Acme." in human["transcript"]
        assert human["annotation"].startswith("Reached a person")
        assert not missing_keys(Call, human["call"])
        fetched = client.call.with_raw_response.retrieve(ids[0]).http_response.json()["call"]
        assert human["call"]["id"] == fetched["id"] and human["call"]["status"] == fetched["status"]
        assert _unsigned(human["call"]["call_attempts"]) == _unsigned(fetched["call_attempts"])
        assert human["recording_url"] and human["recording_url"].split("?")[0].endswith(".wav")
        busy = bodies[ids[1]]
        assert busy["calls_count"] == 2 and busy["call_attempt"]["dial_error"] == "busy"
    finally:
        server.stop()


def test_receiver_failing_then_gone_then_back_gets_every_event_once(
    databases: tuple[str, Path], receiver: Receiver
) -> None:
    server = start_server(*databases)
    try:
        client, assistant_id = _setup(server, receiver)
        receiver.fail_next = 3
        ids = [
            client.call.create(phone_number="+12125550142", assistant_id=assistant_id).call.id
            for _ in range(4)
        ]
        _wait(lambda: receiver.hits >= 3)
        receiver.stop()  # now connections are refused
        for call_id in ids:
            wait_until_done(client, call_id)
        time.sleep(1.5)
        receiver.start()
        _wait(lambda: len(receiver.received) >= 4)
        time.sleep(1.0)
        assert sorted(item.body["call_order_id"] for item in receiver.received) == sorted(ids)
        assert len(set(receiver.ids())) == len(receiver.ids()) == 4
        headers = {"Authorization": f"Bearer {client.api_key}"}
        events = httpx.get(f"{server.url}/api/webhooks/events", headers=headers).json()["events"]
        assert {event["status"] for event in events} == {"delivered"}
        retried = [e for e in events if e["tries"] > 1]
        assert retried, "some event must have needed more than one try"
        log = httpx.get(
            f"{server.url}/api/webhooks/events/{retried[0]['id']}", headers=headers
        ).json()
        assert log["deliveries"][-1]["status_code"] == 200
        assert any(d["error"] for d in log["deliveries"][:-1])
    finally:
        server.stop()


def test_a_server_restart_loses_no_event(databases: tuple[str, Path], receiver: Receiver) -> None:
    server = start_server(*databases)
    client, assistant_id = _setup(server, receiver)
    receiver.stop()
    ids = [
        client.call.create(phone_number="+12125550142", assistant_id=assistant_id).call.id
        for _ in range(3)
    ]
    for call_id in ids:
        wait_until_done(client, call_id)
    server.stop()
    receiver.start()
    restarted = start_server(*databases)
    try:
        _wait(lambda: len(receiver.received) >= 3)
        assert sorted(item.body["call_order_id"] for item in receiver.received) == sorted(ids)
    finally:
        restarted.stop()


def test_replay_sends_the_same_event_id_again(
    databases: tuple[str, Path], receiver: Receiver
) -> None:
    server = start_server(*databases)
    try:
        client, assistant_id = _setup(server, receiver)
        call_id = client.call.create(phone_number="+12125550142", assistant_id=assistant_id).call.id
        _wait(lambda: len(receiver.received) == 1)
        headers = {"Authorization": f"Bearer {client.api_key}"}
        event_id = receiver.ids()[0]
        replayed = httpx.post(
            f"{server.url}/api/webhooks/events/{event_id}/replay", headers=headers
        )
        assert replayed.status_code == 200
        _wait(lambda: len(receiver.received) == 2)
        assert receiver.ids() == [event_id, event_id]
        assert receiver.received[1].body["call_order_id"] == call_id
    finally:
        server.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://localhost:9/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
    ],
)
def test_private_webhook_targets_are_refused(server: LiveServer, url: str) -> None:
    org = server.new_org()
    response = httpx.post(
        f"{server.url}/api/assistants",
        json={"name": "x", "prompt": "p", "webhook_url": url},
        headers={"Authorization": f"Bearer {org.live_key}"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "webhook_url"
