"""Importing a number of the organization's carrier account as a caller ID: checked
at the carrier (one of its numbers, or a verified caller ID), then registered
(``source`` ``user_imported``); the first becomes the organization's live default."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.phone import normalize_e164
from openrevox.domain.sandbox_numbers import is_fictional
from openrevox.errors import Conflict, InvalidField
from openrevox.store.repositories import phone_numbers
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.phone_numbers import PhoneNumberRecord


class NumberChecker(Protocol):
    async def number_kind(self, number: str) -> str | None:
        """``owned_number``, ``verified_caller_id``, or None (not the account's)."""
        ...


async def checked_number(
    principal: Principal, carriers: Mapping[str, NumberChecker], raw: str, provider: str
) -> tuple[str, str]:
    """The number in E.164 and its type at the carrier (422 naming the field otherwise).
    Asks the carrier: call it outside a transaction."""
    if principal.mode != "live":
        raise InvalidField("carrier numbers are imported with a live key", param="provider")
    checker = carriers.get(provider)
    if checker is None:
        configured = ", ".join(carriers) or "none"
        raise InvalidField(
            f"provider '{provider}' is not configured on this server (OPENREVOX_TELEPHONY; "
            f"carriers: {configured})",
            param="provider",
        )
    try:
        number = normalize_e164(raw, default_region=principal.country)
    except ValueError as error:
        raise InvalidField(str(error), param="phone_number") from None
    if is_fictional(number):
        raise InvalidField(
            f"{number} is in the reserved sandbox range, never a carrier's", param="phone_number"
        )
    kind = await checker.number_kind(number)
    if kind is None:
        raise InvalidField(
            f"{number} is neither a phone number of your {provider} account nor one of its "
            "verified caller IDs",
            param="phone_number",
        )
    return number, kind


async def import_number(
    conn: AsyncConnection,
    principal: Principal,
    *,
    number: str,
    provider: str,
    kind: str,
    now: datetime,
    label: str | None = None,
) -> PhoneNumberRecord:
    existing = await phone_numbers.find_owned(
        conn, organization_id=principal.organization_id, mode=principal.mode, phone_number=number
    )
    if existing is not None:
        raise Conflict(f"{number} is already one of your numbers", param="phone_number")
    return await phone_numbers.import_carrier_number(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        phone_number=number,
        provider=provider,
        number_type=kind,
        now=now,
        created_by=principal.user_id,
        label=label,
    )
