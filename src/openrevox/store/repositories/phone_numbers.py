"""The organization's own phone numbers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.domain.sandbox_numbers import is_fictional, own_line_candidates
from openrevox.store.tables import phone_numbers


@dataclass(frozen=True, slots=True)
class PhoneNumberRecord:
    id: str
    organization_id: str
    mode: Mode
    phone_number: str
    label: str | None
    inbound_assistant_id: str | None
    provider: str
    source: str
    type: str
    is_default: bool
    created_by: str | None
    created_at: datetime


def _record(row: sa.RowMapping) -> PhoneNumberRecord:
    return PhoneNumberRecord(**{key: row[key] for key in PhoneNumberRecord.__slots__})


async def provision_sandbox_line(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: Mode,
    now: datetime,
    created_by: str | None = None,
    label: str | None = None,
) -> PhoneNumberRecord:
    """Take the organization's first free own-line number of the reserved range (180 per
    organization and mode; another organization may use the same fictional numbers)."""
    taken = set(
        (
            await conn.execute(
                sa.select(phone_numbers.c.phone_number).where(
                    phone_numbers.c.organization_id == organization_id,
                    phone_numbers.c.mode == mode,
                )
            )
        ).scalars()
    )
    has_default = (
        await conn.execute(
            sa.select(sa.func.count()).where(
                phone_numbers.c.organization_id == organization_id,
                phone_numbers.c.mode == mode,
                phone_numbers.c.is_default.is_(True),
            )
        )
    ).scalar_one() > 0
    for number in own_line_candidates():
        if number not in taken:
            record = PhoneNumberRecord(
                id=str(uuid.uuid4()),
                organization_id=organization_id,
                mode=mode,
                phone_number=number,
                label=label,
                inbound_assistant_id=None,
                provider="sip",
                source="revox_provisioned",
                type="owned_number",
                is_default=not has_default,
                created_by=created_by,
                created_at=now,
            )
            await conn.execute(sa.insert(phone_numbers).values(**_asdict(record)))
            return record
    raise RuntimeError("the reserved sandbox range has no free own-line number left")


def _asdict(record: PhoneNumberRecord) -> dict[str, object]:
    return {key: getattr(record, key) for key in PhoneNumberRecord.__slots__}


async def list_for(
    conn: AsyncConnection, *, organization_id: str, mode: Mode
) -> list[PhoneNumberRecord]:
    rows = await conn.execute(
        sa.select(phone_numbers)
        .where(phone_numbers.c.organization_id == organization_id, phone_numbers.c.mode == mode)
        .order_by(phone_numbers.c.created_at, phone_numbers.c.phone_number)
    )
    return [_record(row) for row in rows.mappings()]


async def get(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, phone_number_id: str
) -> PhoneNumberRecord | None:
    row = (
        (
            await conn.execute(
                sa.select(phone_numbers).where(
                    phone_numbers.c.id == phone_number_id,
                    phone_numbers.c.organization_id == organization_id,
                    phone_numbers.c.mode == mode,
                )
            )
        )
        .mappings()
        .first()
    )
    return _record(row) if row else None


async def find_owned(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, phone_number: str
) -> PhoneNumberRecord | None:
    row = (
        (
            await conn.execute(
                sa.select(phone_numbers).where(
                    phone_numbers.c.phone_number == phone_number,
                    phone_numbers.c.organization_id == organization_id,
                    phone_numbers.c.mode == mode,
                )
            )
        )
        .mappings()
        .first()
    )
    return _record(row) if row else None


async def line_provider(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, number: str | None
) -> str | None:
    """The provider of one of the organization's numbers (routing: the carrier of the
    caller ID); None for a sandbox line (the reserved range is never a carrier's) or a
    number that is not its own."""
    if number is None or is_fictional(number):
        return None
    owned = await find_owned(conn, organization_id=organization_id, mode=mode, phone_number=number)
    return owned.provider if owned else None


async def default_for(
    conn: AsyncConnection, *, organization_id: str, mode: Mode
) -> PhoneNumberRecord | None:
    numbers = await list_for(conn, organization_id=organization_id, mode=mode)
    defaults = [number for number in numbers if number.is_default]
    candidates = defaults or numbers
    return candidates[0] if candidates else None


async def update(
    conn: AsyncConnection, *, phone_number_id: str, changes: dict[str, object]
) -> None:
    if changes:
        await conn.execute(
            sa.update(phone_numbers).where(phone_numbers.c.id == phone_number_id).values(**changes)
        )


async def delete(conn: AsyncConnection, *, phone_number_id: str) -> None:
    await conn.execute(sa.delete(phone_numbers).where(phone_numbers.c.id == phone_number_id))


async def import_carrier_number(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: Mode,
    phone_number: str,
    provider: str,
    number_type: str,
    now: datetime,
    created_by: str | None = None,
    label: str | None = None,
) -> PhoneNumberRecord:
    """Register a number of the organization's carrier account (``user_imported``). The
    first carrier number becomes the live default caller ID, ahead of the sandbox line
    (a live call to a real number needs a number of its carrier)."""
    carrier_numbers = (
        await conn.execute(
            sa.select(sa.func.count()).where(
                phone_numbers.c.organization_id == organization_id,
                phone_numbers.c.mode == mode,
                phone_numbers.c.source == "user_imported",
            )
        )
    ).scalar_one()
    first = carrier_numbers == 0
    if first:
        await conn.execute(
            sa.update(phone_numbers)
            .where(
                phone_numbers.c.organization_id == organization_id,
                phone_numbers.c.mode == mode,
            )
            .values(is_default=False)
        )
    record = PhoneNumberRecord(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        mode=mode,
        phone_number=phone_number,
        label=label,
        inbound_assistant_id=None,
        provider=provider,
        source="user_imported",
        type=number_type,
        is_default=first,
        created_by=created_by,
        created_at=now,
    )
    await conn.execute(sa.insert(phone_numbers).values(**_asdict(record)))
    return record
