"""``openrevox calendly connect|list|delete``: an organization's Calendly connections."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from openrevox.cli_common import principal_for, with_db
from openrevox.settings import Settings
from openrevox.store.db import Database

calendly_app = typer.Typer(help="Calendly connections (the token is stored encrypted).")
OrgOption = Annotated[str, typer.Option("--org", help="Organization id (default: the first).")]
ModeOption = Annotated[str, typer.Option(help="live or test objects.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@calendly_app.command("connect")
def connect(
    token: Annotated[str, typer.Option(help="Calendly personal access token.")],
    name: Annotated[str, typer.Option(help="A name to recognise the connection by.")] = "",
    organization: OrgOption = "",
    mode: ModeOption = "live",
    as_json: JsonOption = False,
) -> None:
    """Store a Calendly token for the organization; prints the connection id that an
    assistant's ``calendly.connection_id`` takes."""
    from openrevox.errors import InvalidField, OpenRevoxError
    from openrevox.services import calendly_connections as service
    from openrevox.services.encryption import secret_box

    settings = Settings.from_env()

    async def work(db: Database) -> dict[str, Any]:
        principal = await principal_for(db, organization, mode)
        async with db.transaction() as conn:
            record = await service.create(
                conn, principal, token=token, name=name or None, box=secret_box(settings),
                now=datetime.now(UTC),
            )  # fmt: skip
        return {**service.wire(record), "organization_id": principal.organization_id}

    try:
        created = with_db(work, settings)
    except InvalidField as error:
        raise typer.BadParameter(error.message, param_hint="--token") from None
    except OpenRevoxError as error:  # e.g. a malformed OPENREVOX_ENCRYPTION_KEY
        typer.echo(error.message, err=True)
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(json.dumps(created, indent=2))
    else:
        typer.echo(f"{created['id']}  {created['name']}  ...{created['token_hint']}")


@calendly_app.command("list")
def list_connections(
    organization: OrgOption = "", mode: ModeOption = "live", as_json: JsonOption = False
) -> None:
    """List the organization's Calendly connections (never their tokens)."""
    from openrevox.services import calendly_connections as service

    settings = Settings.from_env()

    async def work(db: Database) -> list[dict[str, Any]]:
        principal = await principal_for(db, organization, mode)
        async with db.read() as conn:
            return await service.list_wire(conn, principal, settings)

    listed: list[dict[str, Any]] = with_db(work, settings)
    if as_json:
        typer.echo(json.dumps(listed, indent=2))
        return
    for item in listed:
        hint = f"...{item['token_hint']}" if item["token_hint"] else item["source"]
        typer.echo(f"{item['id']}  {item['name']}  {hint}")


@calendly_app.command("delete")
def delete(
    connection_id: Annotated[str, typer.Argument(help="The connection id (calconn_...).")],
    organization: OrgOption = "",
    mode: ModeOption = "live",
) -> None:
    """Delete a connection: assistants naming it stop booking."""
    from openrevox.errors import OpenRevoxError
    from openrevox.services import calendly_connections as service

    async def work(db: Database) -> None:
        principal = await principal_for(db, organization, mode)
        async with db.transaction() as conn:
            await service.delete(conn, principal, connection_id)

    try:
        with_db(work)
    except OpenRevoxError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(code=1) from None
    typer.echo("deleted")
