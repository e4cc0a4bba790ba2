"""Benchmark: what ``call_search_text``'s trigger adds to inserting call orders.

    .venv/bin/python bench/search_text_cost.py [--backend sqlite|postgresql|both]
        [--orders 20000] [--rounds 2]

For each backend and round: a fresh database migrated to head, one organization, then
``--orders`` orders inserted as campaigns and POST /call insert them (``insert(call_orders)``
executemany, 2,000 per transaction), once with the search-text trigger and once after
dropping it. Prints the wall time and this process's CPU time (on SQLite the database
work runs in this process; on PostgreSQL it runs in the server, so wall time is the
figure there). This prints figures; it is not a timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from get_call import DEFAULT_PG_ADMIN_URL, fresh_database

from openrevox.services.calls import order_values
from openrevox.services.organizations import create_organization_with_keys
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head
from openrevox.store.repositories import accounts
from openrevox.store.repositories.calls import insert_snapshot
from openrevox.store.tables import call_orders

DROP = {
    "sqlite": "DROP TRIGGER call_search_text_insert",
    "postgresql": "DROP TRIGGER call_search_text_write ON call_orders",
}


async def _insert(url: str, orders: int, with_trigger: bool) -> tuple[float, float]:
    db = Database(create_engine(url, pool_size=1))
    now = datetime.now(UTC)
    try:
        async with db.transaction() as conn:
            org = await create_organization_with_keys(
                conn,
                name="bench",
                email=f"{uuid.uuid4().hex}@bench.test",
                country="US",
                now=now,
            )
            assert org.test_key is not None
            principal = await accounts.find_principal(conn, org.test_key)
            assert principal is not None
            snapshot = await insert_snapshot(
                conn, organization_id=principal.organization_id, content={"name": "a"}, now=now
            )
            if not with_trigger:
                await conn.exec_driver_sql(DROP[db.dialect])
        rows = [
            order_values(
                call_id=str(uuid.uuid4()),
                principal=principal,
                assistant_id=None,
                snapshot_id=snapshot,
                retry_config={"max_retry_attempts": 3},
                timezone="UTC",
                to_number=f"+1202555{index % 10_000:04d}",
                from_number="+12125550190",
                status="not_launched",
                due=None,
                prompt_variables={"first_name": "Ada", "email": f"ada{index}@example.com"},
                metadata={"crm_id": f"crm-{index:07d}"},
                now=now,
            )
            for index in range(orders)
        ]
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, orders, 2_000):
            async with db.transaction() as conn:
                await conn.execute(sa.insert(call_orders), rows[start : start + 2_000])
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print("| backend | round | trigger | wall s | CPU s (this process) | orders/s |")
    print("|---|---|---|---|---|---|")
    for backend in backends:
        for round_ in range(1, args.rounds + 1):
            for with_trigger in (True, False):
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    fresh_database(backend, Path(tmp), args.pg_admin_url) as url,
                ):
                    upgrade_to_head(url)
                    wall, cpu = asyncio.run(_insert(url, args.orders, with_trigger))
                print(
                    f"| {backend} | {round_} | {'with' if with_trigger else 'dropped'} | "
                    f"{wall:.2f} | {cpu:.2f} | {args.orders / wall:,.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
