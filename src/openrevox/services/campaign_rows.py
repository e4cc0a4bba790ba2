"""Contacts of a campaign: validation (numbers, prompt variables, duplicates) and rows,
each a not_launched call order of the lifecycle engine. Shared by the JSON create, the
row appends and the CSV import."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.attempt_extension import facts_text
from openrevox.domain.lifecycle import OrderEvent, OrderStatus
from openrevox.domain.phone import normalize_e164
from openrevox.domain.prompts import missing_variables
from openrevox.domain.retry_config import recipient_timezone
from openrevox.services.calls import order_values
from openrevox.services.order_status import move
from openrevox.store.repositories import calls, campaigns
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.campaigns import ExportLine

PHONE_COLUMNS = ("phone_number", "to_phone_number", "phone", "number", "mobile", "telephone")
BATCH = 5000  # rows per insert statement (one unnest() on PostgreSQL)
# Digits a timezone lookup ignores: numbers that differ only in these share a thousands-
# block, the smallest unit numbering plans allocate (NANP pools thousands-blocks), so
# phonenumbers gives them one timezone.
BLOCK_DIGITS = 3


@dataclass(frozen=True, slots=True)
class Contact:
    number: str
    variables: dict[str, str]


@dataclass(frozen=True, slots=True)
class RowProblem:
    where: int  # the contact's index, or the CSV line number
    reason: str


@dataclass(slots=True)
class CheckedContacts:
    valid: list[Contact] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    duplicates: int = 0


def stringify(variables: dict[str, Any] | None) -> dict[str, str]:
    """Prompt variables are strings on the wire: other JSON values are stringified."""
    out: dict[str, str] = {}
    for key, value in (variables or {}).items():
        if value is None:
            out[key] = ""
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value if isinstance(value, str) else str(value)
    return out


def check_contacts(
    raw: Iterable[tuple[int, str, dict[str, Any] | None]],
    *,
    country: str,
    prompt_texts: tuple[str | None, ...],
    known_numbers: set[str] | None = None,
    refusal: Callable[[str], str | None] | None = None,
) -> CheckedContacts:
    """Normalize each ``(where, number, variables)``; a number seen before (in this list
    or in ``known_numbers``) is a duplicate, collapsed onto the first. ``refusal``: why
    routing refuses a number (``services.routing.Router``), None when it does not."""
    checked = CheckedContacts()
    seen = set(known_numbers or ())
    for where, number, variables in raw:
        try:
            e164 = normalize_e164(number, default_region=country)
        except ValueError as error:
            checked.problems.append(RowProblem(where, str(error)))
            continue
        refused = refusal(e164) if refusal is not None else None
        if refused is not None:
            checked.problems.append(RowProblem(where, refused))
            continue
        values = stringify(variables)
        # An empty cell is a hole in the prompt: it counts as missing.
        missing = missing_variables(prompt_texts, {k: v for k, v in values.items() if v})
        if missing:
            checked.problems.append(
                RowProblem(where, "missing prompt variables: " + ", ".join(missing))
            )
            continue
        if e164 in seen:
            checked.duplicates += 1
            continue
        seen.add(e164)
        checked.valid.append(Contact(e164, values))
    return checked


def read_csv(text: str) -> Iterator[tuple[int, str, dict[str, Any] | None]]:
    """``(line, phone, other columns)`` for each data line; the header names the phone
    column (one of PHONE_COLUMNS, any case). A file without one raises ValueError."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [name.strip() for name in reader.fieldnames or []]
    phone = next((h for h in headers if h.lower() in PHONE_COLUMNS), None)
    if phone is None:
        raise ValueError(
            "the CSV needs a header row with a phone column: " + ", ".join(PHONE_COLUMNS)
        )
    for row in reader:
        line = reader.line_num
        cleaned = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(cleaned.values()):
            continue
        number = cleaned.pop(phone, "")
        yield line, number, cleaned


def recipient_zones(numbers: Iterable[str], retry_config: dict[str, Any]) -> list[str]:
    """``recipient_timezone(retry_config, number)`` of each E.164 number, looked up once
    per thousands-block (BLOCK_DIGITS)."""
    by_block: dict[str, str] = {}
    zones = []
    for number in numbers:
        block = number[:-BLOCK_DIGITS]
        zone = by_block.get(block)
        if zone is None:
            zone = by_block[block] = recipient_timezone(retry_config, number).key
        zones.append(zone)
    return zones


async def add_rows(
    conn: AsyncConnection,
    principal: Principal,
    *,
    campaign_id: str,
    assistant_id: str,
    snapshot: dict[str, Any],
    retry_config: dict[str, Any],
    from_number: str,
    contacts: list[Contact],
    first_index: int,
    now: datetime,
    zones: list[str] | None = None,
) -> list[str]:
    """Insert rows with their not_launched orders, one statement per batch of each;
    returns the order ids. ``zones``: the contacts' timezones when already found
    (``recipient_zones``)."""
    if not contacts:
        return []
    if zones is None:
        zones = recipient_zones((contact.number for contact in contacts), retry_config)
    status = move(OrderStatus.INITIALIZING, OrderEvent.CREATED_NOT_LAUNCHED).value
    snapshot_id = await calls.insert_snapshot(
        conn, organization_id=principal.organization_id, content=snapshot, now=now
    )
    order_ids = [str(uuid.uuid4()) for _ in contacts]
    for start in range(0, len(contacts), BATCH):
        orders, rows = [], []
        for index in range(start, min(start + BATCH, len(contacts))):
            contact, call_id = contacts[index], order_ids[index]
            orders.append(
                order_values(
                    call_id=call_id,
                    principal=principal,
                    assistant_id=assistant_id,
                    snapshot_id=snapshot_id,
                    retry_config=retry_config,
                    timezone=zones[index],
                    to_number=contact.number,
                    from_number=from_number,
                    status=status,
                    due=None,
                    prompt_variables=contact.variables,
                    metadata=None,
                    now=now,
                    campaign_id=campaign_id,
                )
            )
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "campaign_id": campaign_id,
                    "row_index": first_index + index,
                    "phone_number": contact.number,
                    "input_data": contact.variables,
                    "call_order_id": call_id,
                    "skip_reason": None,
                }
            )
        await campaigns.insert_rows_with_orders(conn, orders, rows)
    return order_ids


def export_csv(lines: list[ExportLine]) -> str:
    """One CSV line per contact row: its input data, its call order and the newest
    attempt (the layout of ``results.export.campaign_rows_csv``, from the narrow lines
    ``campaigns.export_lines`` reads instead of whole orders and attempts)."""
    variable_keys = sorted({key for line in lines for key in line.input_data})
    output_keys = sorted(
        {key for line in lines if line.attempt_id for key in (line.structured_output or {})}
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "row_index", "phone_number", "call_id", "status", "calls_count", "last_result",
            "last_dial_error", "last_openrevox", "outcome", "skip_reason",
            *variable_keys, *(f"output.{k}" for k in output_keys),
        ]
    )  # fmt: skip
    for line in lines:
        ordered = line.order_id is not None
        output = line.structured_output or {}
        writer.writerow(
            [
                line.row_index, line.phone_number, line.call_order_id or "",
                line.status if ordered else "", line.calls_count if ordered else 0,
                line.result or "", line.dial_error or "", facts_text(line.openrevox),
                line.outcome or "",
                line.skip_reason or "",
                *(line.input_data.get(k, "") for k in variable_keys),
                *("" if output.get(k) is None else output.get(k) for k in output_keys),
            ]
        )  # fmt: skip
    return buffer.getvalue()
