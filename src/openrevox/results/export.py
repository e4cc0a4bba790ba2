"""CSV exports of call orders."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from openrevox.domain.attempt_extension import facts_text
from openrevox.domain.clock import iso
from openrevox.store.repositories.calls import CallView
from openrevox.store.repositories.campaigns import RowRecord

BASE_COLUMNS = (
    "call_id", "status", "direction", "to_phone_number", "from_phone_number", "assistant_id",
    "campaign_id", "campaign_name", "created_at", "scheduled_at", "calls_count",
    "last_attempt_id", "last_result", "last_dial_error", "last_ended_by", "last_end_reason",
    "last_openrevox",
    "last_started_at", "last_ended_at", "outcome", "outcome_summary",
)  # fmt: skip


def calls_csv(
    views: Iterable[CallView], *, include_metadata: bool, include_structured_output: bool
) -> str:
    views = list(views)
    metadata_keys = (
        sorted({k for v in views for k in (v.order.metadata or {})}) if include_metadata else []
    )
    output_keys = (
        sorted({k for v in views if v.attempts for k in (v.attempts[0].structured_output or {})})
        if include_structured_output
        else []
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            *BASE_COLUMNS,
            *(f"metadata.{k}" for k in metadata_keys),
            *(f"output.{k}" for k in output_keys),
        ]
    )
    for view in views:
        order = view.order
        last = view.attempts[0] if view.attempts else None
        row: list[object] = [
            order.id, order.status, order.direction, order.to_phone_number,
            order.from_phone_number, order.assistant_id or "", order.campaign_id or "",
            order.campaign_name or "", iso(order.created_at), iso(order.scheduled_at) or "",
            order.calls_count, last.id if last else "", (last.result if last else None) or "",
            (last.dial_error if last else None) or "", (last.ended_by if last else None) or "",
            (last.end_reason if last else None) or "",
            facts_text(last.openrevox if last else None),
            (iso(last.started_at) if last else None) or "",
            (iso(last.ended_at) if last else None) or "", order.outcome or "",
            order.outcome_summary or "",
        ]  # fmt: skip
        row += [(order.metadata or {}).get(k, "") for k in metadata_keys]
        output = (last.structured_output if last else None) or {}
        row += ["" if output.get(k) is None else output.get(k) for k in output_keys]
        writer.writerow(row)
    return buffer.getvalue()


def campaign_rows_csv(rows: list[RowRecord], views: dict[str, CallView]) -> str:
    """One line per contact row: its input data, its call order and the newest attempt."""
    variable_keys = sorted({key for row in rows for key in row.input_data})
    output_keys = sorted(
        {
            key
            for view in views.values()
            if view.attempts
            for key in (view.attempts[0].structured_output or {})
        }
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
    for row in rows:
        view = views.get(row.call_order_id or "")
        order = view.order if view else None
        last = view.attempts[0] if view and view.attempts else None
        output = (last.structured_output if last else None) or {}
        writer.writerow(
            [
                row.row_index, row.phone_number, row.call_order_id or "",
                order.status if order else "", order.calls_count if order else 0,
                (last.result if last else None) or "", (last.dial_error if last else None) or "",
                facts_text(last.openrevox if last else None),
                (order.outcome if order else None) or "", row.skip_reason or "",
                *(row.input_data.get(k, "") for k in variable_keys),
                *("" if output.get(k) is None else output.get(k) for k in output_keys),
            ]
        )  # fmt: skip
    return buffer.getvalue()
