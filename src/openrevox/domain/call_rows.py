"""A call as the wire shows it, as values ready to write out: what GET /call/{id}'s
driver-level readers (``store/sqlite_reads.py``, ``store/pg_reads.py``, built by
``store/call_rows.py``) hand over, and what ``openrevox.wire`` writes a call from (every
other response turns its records into these rows first, so one function decides what a
call looks like on the wire).

- a JSON column the response passes through unchanged may stay the text the database
  holds, wrapped in ``orjson.Fragment``, which orjson writes out verbatim;
- a timestamp is the text the wire shows (``clock.iso``'s shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import orjson

from openrevox.domain.records import record

# A JSON value as decoded, or the text it was stored as: orjson writes both out alike.
JSONOut = dict[str, Any] | list[Any] | orjson.Fragment


@record
class OrderRow:
    id: str
    organization_id: str
    campaign_id: str | None
    campaign_name: str | None
    direction: str
    status: str
    to_phone_number: str
    from_phone_number: str
    assistant: JSONOut
    first_sentence_delay_ms: Any  # the snapshot's, 400 when it has none
    llm_model: Any  # the snapshot's
    call_retry_config: JSONOut
    prompt_variables: JSONOut | None
    metadata: JSONOut | None
    contact: dict[str, Any]
    scheduled_at: str | None
    calls_count: int
    outcome: str | None
    outcome_summary: str | None
    created_at: str
    updated_at: str
    __slots__: ClassVar[tuple[str, ...]]


@record
class AttemptRow:
    id: str
    status: str
    phone_number: str
    dial_error: str | None
    result: str | None
    ended_by: str | None
    end_reason: str | None
    handled_by_ai: bool
    handled_by_human: bool
    transcript: JSONOut | None
    structured_output: JSONOut | None
    openrevox: JSONOut | None  # the attempt's extension object (domain/attempt_extension.py)
    speech_events: JSONOut | None
    # Whether a recording can be served: one is stored, or the transcript has speech to
    # make one from. Retention and the attempt's end are checked when a link is signed.
    has_audio: bool
    created_at: str
    started_at: str | None
    answered_at: str | None
    ended_at: str | None
    __slots__: ClassVar[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class CallRows:
    """An order with its attempts, newest first."""

    order: OrderRow
    attempts: tuple[AttemptRow, ...]
