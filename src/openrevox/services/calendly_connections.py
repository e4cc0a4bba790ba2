"""Calendly connections per organization: create, list, delete; check an assistant's
``calendly.connection_id``; and, at call time, the Calendly client of a connection.

The token of a connection is encrypted at rest (``services/encryption.py``). The older
server-wide ``OPENREVOX_CALENDLY_API_KEY``, when set, is one more connection every
organization sees, with the id ``server``; it also serves the assistants stored before
connections existed (any ``connection_id`` not of our ``calconn_`` shape), as it did then.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.agent.calendly import Calendly, CalendlyError
from openrevox.domain.clock import iso
from openrevox.errors import Conflict, InvalidField, NotFound
from openrevox.services.encryption import SecretBox, SecretBoxError, secret_box
from openrevox.settings import Settings
from openrevox.store.db import Database
from openrevox.store.repositories import calendly_connections as repository
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.calendly_connections import CalendlyConnectionRecord

ID_PREFIX = "calconn_"
SERVER_ID = "server"  # the server-wide OPENREVOX_CALENDLY_API_KEY
_TOKEN = re.compile(r"^[\x21-\x7e]{8,4000}$")  # printable ASCII, no spaces


def wire(record: CalendlyConnectionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "source": "organization",
        "token_hint": record.token_hint,
        "created_at": iso(record.created_at),
    }


def server_wire() -> dict[str, Any]:
    return {
        "id": SERVER_ID,
        "name": "OPENREVOX_CALENDLY_API_KEY",
        "source": "server",
        "token_hint": None,
        "created_at": None,
    }


def _check_token(token: str) -> str:
    token = token.strip()
    if not _TOKEN.match(token):
        raise InvalidField(
            "a Calendly personal access token or OAuth access token is 8 to 4000 printable "
            "characters without spaces",
            param="token",
        )
    return token


async def create(
    conn: AsyncConnection,
    principal: Principal,
    *,
    token: str,
    name: str | None,
    box: SecretBox,
    now: datetime,
) -> CalendlyConnectionRecord:
    token = _check_token(token)
    record = CalendlyConnectionRecord(
        id=ID_PREFIX + uuid.uuid4().hex,
        organization_id=principal.organization_id,
        mode=principal.mode,
        name=(name or "Calendly").strip()[:200] or "Calendly",
        token_encrypted=box.seal(token),
        token_hint=token[-4:],
        created_at=now,
    )
    await repository.insert(conn, record)
    return record


async def list_wire(
    conn: AsyncConnection, principal: Principal, settings: Settings
) -> list[dict[str, Any]]:
    records = await repository.list_for(
        conn, organization_id=principal.organization_id, mode=principal.mode
    )
    listed = [wire(record) for record in records]
    return [server_wire(), *listed] if settings.calendly_api_key else listed


async def delete(conn: AsyncConnection, principal: Principal, connection_id: str) -> None:
    if connection_id == SERVER_ID:
        raise Conflict(
            "the 'server' connection is the server's OPENREVOX_CALENDLY_API_KEY: unset the "
            "variable to remove it",
            param="id",
        )
    deleted = await repository.delete(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        connection_id=connection_id,
    )
    if not deleted:
        raise NotFound(f"no Calendly connection with id '{connection_id}'", param="id")


async def check_assistant(
    conn: AsyncConnection, principal: Principal, config: dict[str, Any], *, server: bool
) -> None:
    """An assistant's ``calendly.connection_id`` must name one of the organization's
    connections (of the key's mode), or ``server`` when the server has its own token
    (``server``: OPENREVOX_CALENDLY_API_KEY is set)."""
    calendly = config.get("calendly")
    if not calendly:
        return
    connection_id = str(calendly.get("connection_id") or "")
    if connection_id == SERVER_ID and server:
        return
    found = await repository.get(
        conn,
        organization_id=principal.organization_id,
        connection_id=connection_id,
        mode=principal.mode,
    )
    if found is None:
        alternative = " or 'server'" if server else ""
        raise InvalidField(
            f"no Calendly connection with id '{connection_id}' in this organization: create "
            "one with POST /calendly-connections or `openrevox calendly connect --token ...`"
            f", then use its id{alternative}",
            param="calendly.connection_id",
        )


class StoredCalendlyConnections:
    """``agent.calendly.CalendlyConnections`` over the database: the client of a
    connection is made when a call needs it, so a new or deleted connection takes effect
    on the next call."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def _server(self) -> Calendly | None:
        token = self.settings.calendly_api_key
        return Calendly(base_url=self.settings.calendly_base_url, token=token) if token else None

    async def client_for(self, organization_id: str, connection_id: str) -> Calendly | None:
        if connection_id == SERVER_ID or not connection_id.startswith(ID_PREFIX):
            return self._server()  # the server's token, and assistants older than connections
        async with self.db.read() as conn:
            record = await repository.get(
                conn, organization_id=organization_id, connection_id=connection_id
            )
        if record is None:
            return None  # deleted since the assistant was saved: no booking
        try:
            token = secret_box(self.settings).open(record.token_encrypted)
        except SecretBoxError as error:
            raise CalendlyError(f"Calendly connection {connection_id} unusable: {error}") from None
        return Calendly(base_url=self.settings.calendly_base_url, token=token)
