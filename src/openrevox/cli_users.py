"""``openrevox users``: dashboard passwords and one-time sign-in links."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from openrevox.cli_common import with_db
from openrevox.settings import Settings
from openrevox.store.db import Database

users_app = typer.Typer(help="Dashboard users: passwords and sign-in links.")

EmailOption = Annotated[
    str, typer.Option("--email", help="The user's email (default: the organization's first user).")
]
OrgOption = Annotated[
    str, typer.Option("--org", help="Organization id (default: the first organization).")
]


async def _user_of(db: Database, email: str, organization: str) -> tuple[str, str]:
    """(user id, email) of the user named by ``--email``, else the first user of
    ``--org`` (or of the first organization)."""
    from openrevox.store.repositories import accounts, web_auth

    async with db.read() as conn:
        if email:
            account = await web_auth.account_by_email(conn, email)
            if account is None:
                raise typer.BadParameter(f"no user with email {email}", param_hint="--email")
            return account.user_id, account.email
        orgs = await accounts.list_organizations(conn)
        org = next((o for o in orgs if o.id == organization), None) if organization else None
        org = org or (orgs[0] if orgs and not organization else None)
        if org is None:
            raise typer.BadParameter("no such organization", param_hint="--org")
        user = await accounts.first_user_of(conn, org.id)
    if user is None:
        raise typer.BadParameter("the organization has no user", param_hint="--org")
    return user.id, user.email


@users_app.command("set-password")
def set_password(
    email: EmailOption = "",
    organization: OrgOption = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a user's dashboard password (hashed with scrypt); signs their browsers out."""
    from openrevox.errors import InvalidField
    from openrevox.services import sign_in

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(db: Database) -> str:
        user_id, user_email = await _user_of(db, email, organization)
        async with db.transaction() as conn:
            await sign_in.set_password(conn, user_id, password, datetime.now(UTC))
        return user_email

    try:
        who = with_db(work, Settings.from_env())
    except InvalidField as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"password set for {who}; sign in at /app/sign-in")


@users_app.command("sign-in-link")
def sign_in_link(email: EmailOption = "", organization: OrgOption = "") -> None:
    """Print a one-time dashboard sign-in link (valid 24 hours)."""
    from openrevox.services import sign_in

    settings = Settings.from_env()

    async def work(db: Database) -> str:
        user_id, _ = await _user_of(db, email, organization)
        async with db.transaction() as conn:
            token = await sign_in.create_link(conn, user_id, datetime.now(UTC))
        return f"{settings.public_url}/app/sign-in/link/{token}"

    typer.echo(with_db(work, settings))
