"""Calendly connections per organization (ours): created, listed and deleted through the
official SDK at ``/calendly-connections``; the token is stored encrypted under a key
that is not in the database; an assistant may only name a connection of its own
organization and mode (422 on ``calendly.connection_id`` otherwise)."""

from __future__ import annotations

import stat
from typing import Any

import pytest
import revox
import sqlalchemy as sa

from openrevox.errors import OpenRevoxError
from openrevox.services.encryption import KEY_FILE, secret_box
from openrevox.store.tables import calendly_connections, server_secrets
from tests.conftest import LiveServer, Org
from tests.dispatch.test_sandbox_numbers import retry_config

EVENT_TYPE = "https://api.calendly.com/event_types/b2330295-2a91-4a1d-bb73-99e7707663d5"
TOKEN = "eyJraWQiOiIxY2UxZTEzNjE3ZGNmNzY2YjNjZWJjY2Y4ZGM1YmFmYThhNjVlNjg0"


def connect(client: revox.Revox, token: str = TOKEN, **extra: Any) -> dict[str, Any]:
    created: Any = client.post(
        "/calendly-connections", cast_to=object, body={"token": token, **extra}
    )
    connection: dict[str, Any] = created["calendly_connection"]
    return connection


def listed(client: revox.Revox) -> list[dict[str, Any]]:
    found: Any = client.get("/calendly-connections", cast_to=object)
    connections: list[dict[str, Any]] = found["calendly_connections"]
    return connections


def refused_param(caught: pytest.ExceptionInfo[revox.UnprocessableEntityError]) -> Any:
    return caught.value.body["error"]["param"]  # type: ignore[index]


def stored_rows(server: LiveServer, connection_id: str) -> list[Any]:
    async def read() -> list[Any]:
        async with server.app.state.services.db.read() as conn:
            rows = await conn.execute(
                sa.select(calendly_connections).where(calendly_connections.c.id == connection_id)
            )
            return list(rows)

    return server.run(read())


def test_a_connection_is_created_listed_and_deleted_and_its_token_never_shown(
    client: revox.Revox,
) -> None:
    created = connect(client, name="Sales team")
    assert created["id"].startswith("calconn_") and created["name"] == "Sales team"
    assert created["token_hint"] == TOKEN[-4:] and created["source"] == "organization"
    assert TOKEN not in str(created)
    assert [c["id"] for c in listed(client)] == [created["id"]]
    assert TOKEN not in str(listed(client))
    assert client.delete(f"/calendly-connections/{created['id']}", cast_to=object) == {
        "success": True
    }
    assert listed(client) == []
    with pytest.raises(revox.NotFoundError) as caught:
        client.delete(f"/calendly-connections/{created['id']}", cast_to=object)
    assert caught.value.body["error"]["param"] == "id"  # type: ignore[index]


def test_the_token_is_encrypted_with_a_key_kept_outside_the_database(
    server: LiveServer, client: revox.Revox
) -> None:
    created = connect(client)
    (row,) = stored_rows(server, created["id"])
    assert TOKEN not in row.token_encrypted and row.token_hint == TOKEN[-4:]
    key_file = server.settings.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert secret_box(server.settings).open(row.token_encrypted) == TOKEN

    async def secrets_in_database() -> list[str]:
        async with server.app.state.services.db.read() as conn:
            return [r.value for r in await conn.execute(sa.select(server_secrets))]

    key = key_file.read_text().strip()
    assert key not in server.run(secrets_in_database())


@pytest.mark.parametrize("token", ["", "short", "has a space in it", "x" * 4001])
def test_a_malformed_token_is_refused_naming_the_field(client: revox.Revox, token: str) -> None:
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        connect(client, token=token)
    assert refused_param(caught) == "token"


def test_connections_belong_to_one_organization_and_mode(
    server: LiveServer, client: revox.Revox, test_client: revox.Revox
) -> None:
    created = connect(client)
    other: Org = server.new_org()
    stranger = revox.Revox(api_key=other.live_key, base_url=f"{server.url}/api", max_retries=0)
    assert listed(stranger) == [] and listed(test_client) == []
    with pytest.raises(revox.NotFoundError):
        stranger.delete(f"/calendly-connections/{created['id']}", cast_to=object)
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        stranger.assistants.create(
            name="Thief", prompt="p",
            calendly={"connection_id": created["id"], "event_type_id": EVENT_TYPE},
        )  # fmt: skip
    assert refused_param(caught) == "calendly.connection_id"
    with pytest.raises(revox.UnprocessableEntityError):  # a test key sees test objects only
        test_client.assistants.create(
            name="Other mode", prompt="p",
            calendly={"connection_id": created["id"], "event_type_id": EVENT_TYPE},
        )  # fmt: skip


def test_an_unknown_connection_id_is_refused_on_create_patch_and_inline_call(
    client: revox.Revox, test_client: revox.Revox
) -> None:
    unknown = {"connection_id": "conn", "event_type_id": EVENT_TYPE}
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        client.assistants.create(name="A", prompt="p", calendly=unknown)
    assert refused_param(caught) == "calendly.connection_id"
    assert "POST /calendly-connections" in caught.value.body["error"]["message"]  # type: ignore[index]
    assistant = client.assistants.create(name="B", prompt="p").assistant
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        client.assistants.update(assistant.id, calendly=unknown)
    assert refused_param(caught) == "calendly.connection_id"
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        test_client.call.create(
            phone_number="+14155550103",
            assistant={"prompt": "p", "calendly": unknown,  # type: ignore[typeddict-item]
                       "call_retry_config": retry_config(1)},
        )  # fmt: skip
    assert refused_param(caught) == "calendly.connection_id"


def test_a_known_connection_is_accepted_and_kept_on_the_assistant(client: revox.Revox) -> None:
    created = connect(client)
    calendly = {"connection_id": created["id"], "event_type_id": EVENT_TYPE}
    assistant = client.assistants.create(name="Booker", prompt="p", calendly=calendly).assistant
    assert assistant.calendly is not None
    assert assistant.calendly.connection_id == created["id"]
    patched = client.assistants.update(assistant.id, calendly=calendly).assistant
    assert patched.calendly is not None and patched.calendly.event_type_id == EVENT_TYPE


def test_the_server_token_is_a_connection_every_organization_sees(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """OPENREVOX_CALENDLY_API_KEY: listed as ``server``, usable as a ``connection_id``,
    and never deletable through the API."""
    settings = server.settings.with_changes(
        calendly_api_key="server-wide-token-0123", data_dir=tmp_path_factory.mktemp("srv")
    )
    with_token = LiveServer(settings).start()
    try:
        org = with_token.new_org()
        client = revox.Revox(api_key=org.live_key, base_url=f"{with_token.url}/api", max_retries=0)
        (server_connection,) = listed(client)
        assert server_connection["id"] == "server" and server_connection["source"] == "server"
        assert server_connection["token_hint"] is None
        calendly = {"connection_id": "server", "event_type_id": EVENT_TYPE}
        assert client.assistants.create(name="S", prompt="p", calendly=calendly).assistant
        with pytest.raises(revox.ConflictError):
            client.delete("/calendly-connections/server", cast_to=object)
    finally:
        with_token.stop()
    # Without the server token, ``server`` names nothing.
    plain_org = server.new_org()
    plain = revox.Revox(api_key=plain_org.live_key, base_url=f"{server.url}/api", max_retries=0)
    with pytest.raises(revox.UnprocessableEntityError):
        plain.assistants.create(name="S", prompt="p", calendly=calendly)


def test_the_routes_are_served_at_the_root_too(server: LiveServer, org: Org) -> None:
    client = revox.Revox(api_key=org.live_key, base_url=server.url, max_retries=0)
    assert connect(client)["id"] in [c["id"] for c in listed(client)]


def test_an_encryption_key_from_the_environment_decrypts_what_it_sealed(
    server: LiveServer,
) -> None:
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = secret_box(server.settings.with_changes(encryption_key=old)).seal(TOKEN)
    rotated = secret_box(server.settings.with_changes(encryption_key=f"{new},{old}"))
    assert rotated.open(sealed) == TOKEN  # the old key still decrypts during a rotation
    with pytest.raises(OpenRevoxError, match="OPENREVOX_ENCRYPTION_KEY"):
        secret_box(server.settings.with_changes(encryption_key="not-a-key"))


def test_a_patch_that_leaves_calendly_alone_does_not_recheck_it(client: revox.Revox) -> None:
    created = connect(client)
    calendly = {"connection_id": created["id"], "event_type_id": EVENT_TYPE}
    assistant = client.assistants.create(name="Booker", prompt="p", calendly=calendly).assistant
    client.delete(f"/calendly-connections/{created['id']}", cast_to=object)
    renamed = client.assistants.update(assistant.id, name="Renamed").assistant
    assert renamed.name == "Renamed" and renamed.calendly is not None
    with pytest.raises(revox.UnprocessableEntityError) as caught:
        client.assistants.update(assistant.id, calendly=calendly)
    assert refused_param(caught) == "calendly.connection_id"
