"""``openrevox campaign import`` and ``openrevox campaign watch``."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from openrevox.cli_common import principal_for, with_db
from openrevox.settings import Settings
from openrevox.store.db import Database

campaign_app = typer.Typer(help="Import contacts into campaigns and watch them run.")
console = Console()
CHUNK = 5000


@campaign_app.command("import")
def import_csv(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV with a phone column.")
    ],
    assistant: Annotated[str, typer.Option("--assistant", help="Assistant id.")],
    name: Annotated[str, typer.Option(help="Campaign name (default: the file name).")] = "",
    launch: Annotated[bool, typer.Option("--launch", help="Launch every row at once.")] = False,
    organization: Annotated[str, typer.Option("--org", help="Organization id.")] = "",
    mode: Annotated[str, typer.Option(help="live or test objects.")] = "live",
) -> None:
    """Create a campaign from a CSV: numbers normalized, duplicates collapsed, bad rows
    reported one by one (the import goes on)."""
    from openrevox.api.schemas.campaign import LaunchIn, Selection
    from openrevox.services import campaign_import, campaigns

    text = file.read_text(encoding="utf-8")
    settings = Settings.from_env()

    async def work(db: Database) -> campaign_import.ImportReport:
        principal = await principal_for(db, organization, mode)
        rows = campaign_import.parse_csv(text)
        now = datetime.now(UTC)
        async with db.transaction() as conn:
            campaign = await campaign_import.create_campaign(
                conn, principal, name=name or file.stem, assistant_id=assistant, now=now
            )
        # Checked before any write transaction, then written in chunks of their own:
        # the database is never locked for the whole file (SQLite has one writer).
        with console.status(f"checking {len(rows):,} rows"):
            async with db.read() as conn:
                prepared = await campaign_import.prepare(
                    conn, principal, campaign, rows, carriers=settings.carriers
                )
        total = campaign_import.ImportReport(
            campaign_id=campaign.id, duplicates=prepared.duplicates, problems=prepared.problems
        )
        columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("rows", total=len(prepared.contacts))
            for start in range(0, len(prepared.contacts), CHUNK):
                part = prepared.part(start, start + CHUNK)
                async with db.transaction() as conn:
                    current = await campaigns.get_or_404(conn, principal, campaign.id)
                    written = await campaign_import.write(conn, principal, current, part, now)
                total.imported += written.imported
                total.duplicates += written.duplicates
                progress.advance(task, len(part.contacts))
        if launch:
            async with db.transaction() as conn:
                report = await campaigns.launch(
                    conn,
                    principal,
                    campaign.id,
                    LaunchIn(mode="ai_first", selection=Selection()),
                    now,
                    carriers=settings.carriers,
                )
            console.print(f"launched {report.launched} call(s)")
        return total

    report = with_db(work, settings)
    for problem in report.problems:
        console.print(f"[yellow]line {problem.where}[/yellow]: {problem.reason}")
    console.print(
        f"campaign {report.campaign_id}: {report.imported} imported, "
        f"{report.duplicates} duplicate(s) collapsed, {len(report.problems)} rejected"
    )


@campaign_app.command("watch")
def watch(
    campaign_id: Annotated[str, typer.Argument(help="Campaign id.")],
    organization: Annotated[str, typer.Option("--org", help="Organization id.")] = "",
    mode: Annotated[str, typer.Option(help="live or test objects.")] = "live",
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.")] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Print once and exit.")] = False,
) -> None:
    """Live progress of a campaign until it completes (Ctrl-C to stop watching)."""
    from openrevox.services import campaign_stats, campaigns
    from openrevox.store.repositories import campaigns as repository

    async def work(db: Database) -> None:
        principal = await principal_for(db, organization, mode)

        async def snapshot() -> tuple[str, dict[str, int], dict[str, int]]:
            async with db.read() as conn:
                record = await campaigns.get_or_404(conn, principal, campaign_id)
                counts = (await repository.status_counts(conn, [record.id]))[record.id]
                skipped = (await repository.skipped_counts(conn, [record.id]))[record.id]
                orders = (await repository.orders_of(conn, [record.id]))[record.id]
            status = campaign_stats.campaign_status(record, counts)
            return (
                status,
                campaign_stats.row_stats(counts, skipped),
                campaign_stats.funnel_stats(orders),
            )

        def render(status: str, rows: dict[str, int], funnel: dict[str, int]) -> Table:
            table = Table(title=f"campaign {campaign_id}: {status}")
            for key in rows:
                table.add_column(key)
            table.add_row(*(str(value) for value in rows.values()))
            table.caption = (
                f"talked to a human: {funnel['talked_to_human']}  hot leads: {funnel['hot']}"
            )
            return table

        status, rows, funnel = await snapshot()
        if once:
            console.print(render(status, rows, funnel))
            return
        with Live(render(status, rows, funnel), console=console, refresh_per_second=4) as live:
            while status != "completed":
                await asyncio.sleep(interval)
                status, rows, funnel = await snapshot()
                live.update(render(status, rows, funnel))

    started = time.monotonic()
    with_db(work)
    console.print(f"done in {time.monotonic() - started:.1f}s")
