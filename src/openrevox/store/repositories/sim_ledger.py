"""The simulated network's ledger of dials (``telephony.sim.network.DialStore``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openrevox.store.bulk import insert_rows
from openrevox.store.db import Database
from openrevox.store.tables import sim_ledger


class SimLedger:
    """Writes dials in a transaction of the ledger's own, so that a dial is committed
    before it rings whatever the attempt's transaction does."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_dials(self, rows: Sequence[Mapping[str, Any]]) -> set[str]:
        """The attempt ids written; an attempt id already in the ledger is skipped."""
        async with self._db.transaction() as conn:
            inserted = await insert_rows(
                conn,
                sim_ledger,
                rows,
                skip_conflicts=True,
                returning=sim_ledger.c.attempt_id,
            )
        return set(inserted)
