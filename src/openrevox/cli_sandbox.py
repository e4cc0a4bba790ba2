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
