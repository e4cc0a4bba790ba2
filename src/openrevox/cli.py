"""The ``openrevox`` command: run the server, migrate, manage organizations and keys."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from openrevox.cli_calendly import calendly_app
from openrevox.cli_campaigns import campaign_app
from openrevox.cli_common import with_db
from openrevox.cli_sandbox import numbers_app, sandbox_app
from openrevox.cli_users import users_app
from openrevox.domain.api_keys import MODES, Mode
from openrevox.settings import Settings, wildcard_host
from openrevox.store.db import Database
from openrevox.store.migrate import upgrade_to_head

app = typer.Typer(help="openrevox: a self-hostable AI phone-calling platform (Revox API).")
keys_app = typer.Typer(help="Create, list and revoke API keys.")
orgs_app = typer.Typer(help="Create organizations.")
app.add_typer(keys_app, name="keys")
app.add_typer(orgs_app, name="orgs")
webhooks_app = typer.Typer(help="Webhook signing secrets.")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(campaign_app, name="campaign")
app.add_typer(numbers_app, name="numbers")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(users_app, name="users")
app.add_typer(calendly_app, name="calendly")

T = TypeVar("T")
HostOption = Annotated[
    str,
    typer.Option(
        help="Interface to listen on. Links the server hands out (recording_url) use this "
        "address and --port unless OPENREVOX_PUBLIC_URL is set; with 0.0.0.0 or :: they "
        "use 127.0.0.1, and a warning asks you to set OPENREVOX_PUBLIC_URL."
    ),
]
PortOption = Annotated[
    int, typer.Option(help="TCP port (also the port of links, unless OPENREVOX_PUBLIC_URL).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WorkersOption = Annotated[
    int,
    typer.Option(
        min=1,
        help="API processes sharing the port (about one per core): one process runs "
        "Python on one core at a time.",
    ),
]


def _run_with_db(
    settings: Settings, work: Callable[[Database], Awaitable[T]], *, pool_size: int = 2
) -> T:
    return with_db(work, settings, pool_size=pool_size)  # type: ignore[no-any-return]


def _now() -> datetime:
    return datetime.now(UTC)


def _serve(host: str, port: int, *, embedded_worker: bool, workers: int = 1) -> None:
    import uvicorn

    from openrevox.api.app import create_app

    settings = Settings.from_env().listening_on(host, port)
    if not settings.public_url_explicit and wildcard_host(host):
        typer.echo(
            f"warning: listening on {host}, links (recording_url) use {settings.public_url}: "
            "set OPENREVOX_PUBLIC_URL to the address clients reach this server at",
            err=True,
        )
    upgrade_to_head(settings.database_url)
    if workers > 1:  # uvicorn starts the processes; each builds its app by import
        # ... from the environment: the links' base goes to them that way.
        os.environ["OPENREVOX_PUBLIC_URL"] = settings.public_url
        uvicorn.run(
            "openrevox.api.app:create_api_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
        return
    app = create_app(settings, migrate=False, embedded_worker=embedded_worker)
    uvicorn.run(app, host=host, port=port, log_level="info")


@app.command()
def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000) -> None:
    """Run the API and one worker (embedded default: SQLite, simulated network)."""
    _serve(host, port, embedded_worker=True)


@app.command()
def api(
    host: HostOption = "127.0.0.1", port: PortOption = 8000, workers: WorkersOption = 1
) -> None:
    """Run an API process only (scale-out: several behind a load balancer)."""
    _serve(host, port, embedded_worker=False, workers=workers)


@app.command()
def worker() -> None:
    """Run one more worker process (scale-out on PostgreSQL); SIGTERM drains live calls."""
    import logging
    import signal

    from openrevox.dispatch.runtime import build_worker
    from openrevox.domain.clock import SystemClock
    from openrevox.results.recording_links import load_signer
    from openrevox.results.runtime import Housekeeper, build_deliverer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    if settings.is_sqlite:
        typer.echo("note: on SQLite one dispatcher is enough; `serve` already embeds it", err=True)

    async def work(db: Database) -> None:
        clock = SystemClock()
        running = build_worker(settings, db, clock)
        signer = await load_signer(db, settings, clock.now())
        runners = (
            running,
            build_deliverer(settings, db, clock, signer),
            Housekeeper(settings, db, clock),
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: [r.stop() for r in runners])
        await asyncio.gather(*(runner.run() for runner in runners))

    # The engine, webhook delivery and housekeeping share this pool.
    _run_with_db(settings, work, pool_size=10)


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest schema."""
    settings = Settings.from_env()
    upgrade_to_head(settings.database_url)
    typer.echo(f"database is up to date ({settings.database_url.split('@')[-1]})")


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Argument(help="Organization name.")],
    email: Annotated[str, typer.Option(help="Email of its first user.")] = "",
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country.")] = "US",
    as_json: JsonOption = False,
) -> None:
    """Create an organization with a user, a live key, a test key and sandbox lines."""
    from openrevox.services.organizations import create_organization_with_keys

    async def work(db: Database) -> dict[str, Any]:
        async with db.transaction() as conn:
            created = await create_organization_with_keys(
                conn,
                name=name,
                email=email
                or f"owner+{_now().timestamp():.0f}@{name.lower().replace(' ', '-')}.local",
                country=country.upper(),
                now=_now(),
            )
        return {
            "organization_id": created.organization.id,
            "user_id": created.user.id,
            "live_key": created.live_key,
            "test_key": created.test_key,
        }

    result = _run_with_db(Settings.from_env(), work)
    _print(result, as_json)


@keys_app.command("create")
def keys_create(
    organization: Annotated[
        str, typer.Option("--org", help="Organization id (default: the first).")
    ] = "",
    mode: Annotated[str, typer.Option(help="live or test.")] = "live",
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "cli",
    as_json: JsonOption = False,
) -> None:
    """Create an API key; the secret is printed once."""
    from openrevox.store.repositories import accounts

    if mode not in MODES:
        raise typer.BadParameter("mode must be live or test", param_hint="--mode")
    key_mode: Mode = "live" if mode == "live" else "test"

    async def work(db: Database) -> dict[str, Any]:
        async with db.transaction() as conn:
            orgs = await accounts.list_organizations(conn)
            if organization:
                org = next((o for o in orgs if o.id == organization), None)
            else:
                org = orgs[0] if orgs else None
            if org is None:
                raise typer.BadParameter("no such organization", param_hint="--org")
            user = await accounts.first_user_of(conn, org.id)
            assert user is not None
            key = await accounts.create_api_key(
                conn,
                organization_id=org.id,
                user_id=user.id,
                mode=key_mode,
                name=name,
                now=_now(),
            )
        return {"id": key.info.id, "organization_id": org.id, "mode": mode, "key": key.secret}

    _print(_run_with_db(Settings.from_env(), work), as_json)


@keys_app.command("list")
def keys_list(as_json: JsonOption = False) -> None:
    """List API keys (never their secrets)."""
    from openrevox.store.repositories import accounts

    async def work(db: Database) -> list[dict[str, Any]]:
        async with db.read() as conn:
            keys = await accounts.list_api_keys(conn)
        return [
            {
                "id": k.id,
                "organization_id": k.organization_id,
                "mode": k.mode,
                "name": k.name,
                "prefix": k.lookup,
                "created_at": k.created_at.isoformat(),
                "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
            }
            for k in keys
        ]

    keys = _run_with_db(Settings.from_env(), work)
    if as_json:
        typer.echo(json.dumps(keys, indent=2))
        return
    for key in keys:
        state = "revoked" if key["revoked_at"] else "active"
        typer.echo(f"{key['id']}  {key['prefix']}...  {key['mode']}  {state}  {key['name']}")


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Key id, or the key itself.")]) -> None:
    """Revoke a key: it stops working within OPENREVOX_AUTH_CACHE_SECONDS (5 s)."""
    from openrevox.store.repositories import accounts

    async def work(db: Database) -> bool:
        async with db.transaction() as conn:
            return await accounts.revoke_api_key(conn, key, _now())

    if not _run_with_db(Settings.from_env(), work):
        typer.echo("no active key matches", err=True)
        raise typer.Exit(code=1)
    typer.echo("revoked")


@webhooks_app.command("secret")
def webhooks_secret(
    organization: Annotated[
        str, typer.Option("--org", help="Organization id (default: the first).")
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Show the organization's webhook signing secret (Standard Webhooks, whsec_...)."""
    from openrevox.store.repositories import accounts

    async def work(db: Database) -> dict[str, Any]:
        async with db.read() as conn:
            orgs = await accounts.list_organizations(conn)
        org = next((o for o in orgs if o.id == organization), None) if organization else None
        org = org or (orgs[0] if orgs and not organization else None)
        if org is None:
            raise typer.BadParameter("no such organization", param_hint="--org")
        return {"organization_id": org.id, "secret": org.webhook_secret}

    _print(_run_with_db(Settings.from_env(), work), as_json)


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            typer.echo(f"{key}: {value}")


recordings_app = typer.Typer(help="Call recordings.")
app.add_typer(recordings_app, name="recordings")


@recordings_app.command("prune")
def recordings_prune(
    days: Annotated[
        float | None,
        typer.Option(help="Keep this many days (default: OPENREVOX_RECORDING_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Delete recordings of attempts older than the retention period."""
    from openrevox.results.blobstore import build_blob_store
    from openrevox.results.recordings import prune_recordings

    settings = Settings.from_env()
    retention = days if days is not None else settings.recording_retention_days
    if retention is None:
        typer.echo("no retention set (OPENREVOX_RECORDING_RETENTION_DAYS or --days): kept")
        return

    async def work(db: Database) -> int:
        store = build_blob_store(settings)
        try:
            return await prune_recordings(db, store, _now(), retention)
        finally:
            await store.aclose()

    typer.echo(f"deleted {_run_with_db(settings, work)} recordings older than {retention:g} days")


if __name__ == "__main__":
    app()
