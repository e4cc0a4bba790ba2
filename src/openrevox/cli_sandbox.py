"""``openrevox numbers provision`` and ``openrevox sandbox call-in``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from openrevox.cli_common import principal_for, with_db
from openrevox.store.db import Database

numbers_app = typer.Typer(help="The organization's phone numbers.")
sandbox_app = typer.Typer(help="The simulated phone network.")
OrgOption = Annotated[str, typer.Option("--org", help="Organization id (default: the first).")]
ModeOption = Annotated[str, typer.Option(help="live or test objects.")]


@numbers_app.command("provision")
def provision(
    label: Annotated[str, typer.Option(help="A label for the line.")] = "",
    assistant: Annotated[str, typer.Option("--assistant", help="Inbound assistant id.")] = "",
    organization: OrgOption = "",
    mode: ModeOption = "live",
) -> None:
    """Provision one more sandbox line (+1 NPA 555 0190-0198) for the organization."""
    from openrevox.store.repositories import phone_numbers

    async def work(db: Database) -> Any:
        principal = await principal_for(db, organization, mode)
        async with db.transaction() as conn:
            record = await phone_numbers.provision_sandbox_line(
                conn,
                organization_id=principal.organization_id,
                mode=principal.mode,
                now=datetime.now(UTC),
                label=label or None,
            )
            if assistant:
                await phone_numbers.update(
                    conn, phone_number_id=record.id, changes={"inbound_assistant_id": assistant}
                )
        return record

    record = with_db(work)
    typer.echo(f"{record.phone_number}  id={record.id}")


@numbers_app.command("import")
def import_number(
    number: Annotated[str, typer.Argument(help="The number, E.164 (+1...).")],
    provider: Annotated[str, typer.Option(help="The carrier it belongs to.")] = "twilio",
    label: Annotated[str, typer.Option(help="A label for the number.")] = "",
    organization: OrgOption = "",
) -> None:
    """Register a number of your carrier account as a live caller ID (checked against the
    account's incoming numbers and verified caller IDs; the first becomes the default)."""
    from openrevox.dispatch.runtime import build_carriers
    from openrevox.errors import OpenRevoxError
    from openrevox.services import phone_numbers as number_imports
    from openrevox.settings import Settings

    carriers = build_carriers(Settings.from_env())

    async def work(db: Database) -> Any:
        principal = await principal_for(db, organization, "live")
        try:
            checked, kind = await number_imports.checked_number(
                principal, carriers, number, provider
            )
            async with db.transaction() as conn:
                return await number_imports.import_number(
                    conn,
                    principal,
                    number=checked,
                    provider=provider,
                    kind=kind,
                    now=datetime.now(UTC),
                    label=label or None,
                )
        finally:
            for carrier in carriers.values():
                await carrier.aclose()

    try:
        record = with_db(work)
    except OpenRevoxError as error:
        typer.echo(f"refused: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    default = " (the default caller ID)" if record.is_default else ""
    typer.echo(f"{record.phone_number}  {record.provider} {record.type}{default}  id={record.id}")


@sandbox_app.command("call-in")
def call_in(
    to: Annotated[str, typer.Option("--to", help="One of your numbers.")],
    persona: Annotated[
        str, typer.Option("--persona", help="SANDBOX.md caller code, 00-09.")
    ] = "00",
    organization: OrgOption = "",
    mode: ModeOption = "live",
) -> None:
    """A sandbox persona calls one of your numbers; a worker (serve) carries the call."""
    from openrevox.errors import OpenRevoxError
    from openrevox.services.inbound import CALLER_PERSONAS, persona_number, place_inbound_call

    if persona not in CALLER_PERSONAS:
        raise typer.BadParameter("a caller persona is 00-09", param_hint="--persona")

    async def work(db: Database) -> str:
        principal = await principal_for(db, organization, mode)
        async with db.transaction() as conn:
            return await place_inbound_call(
                conn,
                principal,
                to_number=to,
                from_number=persona_number(persona),
                now=datetime.now(UTC),
            )

    try:
        call_id = with_db(work)
    except OpenRevoxError as error:
        typer.echo(f"rejected: {error.message}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"inbound call {call_id} from {persona_number(persona)} to {to}")
