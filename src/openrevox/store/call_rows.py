"""GET /call/{id} as its driver-level readers hand it over: values ready to write out.

The records of ``repositories.calls`` serve every use (the engine, webhooks, exports),
so they hold decoded values: dicts for JSON columns, aware datetimes. GET /call/{id}, the
most frequent request, only writes most of them out again. Its readers
(``store/sqlite_reads.py``, ``store/pg_reads.py``) skip that round trip, which took
about a quarter off the route's CPU beyond a bare endpoint (docs/benchmarks.md):

- a JSON column the response passes through unchanged stays the text the database holds,
  wrapped in ``orjson.Fragment``, which orjson writes out verbatim;
- a timestamp arrives as the text the wire shows (``clock.iso``'s shape);
- only the columns the response shows are read.

``openrevox.wire`` writes a call from these rows (``domain/call_rows.py``) alone: every
other response turns its records into rows first, so one function decides what a call
looks like on the wire.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from openrevox.domain.call_rows import AttemptRow, OrderRow
from openrevox.domain.clock import iso
from openrevox.domain.transcripts import speaks

# An attempt's columns, in field order, as the readers select them.
ATTEMPT_ROW_FIELDS = AttemptRow.__slots__

# How a reader turns a timestamp column's text into the wire's: SQLite's stored text is
# cut (iso_of_stored); PostgreSQL formats it in the statement (None: taken as it is).
WireTime = Callable[[str], str]
_Fragment = orjson.Fragment


def order_row(values: Sequence[Any], wire_time: WireTime | None = None) -> OrderRow:
    """The row from the columns selected in OrderRow's field order, the JSON ones as text
    (the contact, of which the wire picks keys, is parsed)."""
    (
        call_id,
        organization_id,
        campaign_id,
        campaign_name,
        direction,
        status,
        to_phone_number,
        from_phone_number,
        content,
        first_sentence_delay_ms,
        llm_model,
        retry_config,
        prompt_variables,
        metadata,
        contact,
        scheduled_at,
        calls_count,
        outcome,
        outcome_summary,
        created_at,
        updated_at,
    ) = values
    if wire_time is not None:
        scheduled_at = None if scheduled_at is None else wire_time(scheduled_at)
        created_at, updated_at = wire_time(created_at), wire_time(updated_at)
    return OrderRow(
        call_id,
        organization_id,
        campaign_id,
        campaign_name,
        direction,
        status,
        to_phone_number,
        from_phone_number,
        _Fragment(content),
        first_sentence_delay_ms,
        None if llm_model is None else _Fragment(llm_model),
        _Fragment(retry_config),
        None if prompt_variables is None else _Fragment(prompt_variables),
        None if metadata is None else _Fragment(metadata),
        orjson.loads(contact),
        scheduled_at,
        calls_count,
        outcome,
        outcome_summary,
        created_at,
        updated_at,
    )


def attempt_row(values: Sequence[Any], wire_time: WireTime | None = None) -> AttemptRow:
    """The row from the columns selected in AttemptRow's field order, the JSON ones as
    text and the recording's key in has_audio's place."""
    (
        attempt_id,
        status,
        phone_number,
        dial_error,
        result,
        ended_by,
        end_reason,
        by_ai,
        by_human,
        transcript,
        structured_output,
        extension,
        speech_events,
        recording_key,
        created_at,
        started_at,
        answered_at,
        ended_at,
    ) = values
    if wire_time is not None:
        created_at = wire_time(created_at)
        started_at = None if started_at is None else wire_time(started_at)
        answered_at = None if answered_at is None else wire_time(answered_at)
        ended_at = None if ended_at is None else wire_time(ended_at)
    return AttemptRow(
        attempt_id,
        status,
        phone_number,
        dial_error,
        result,
        ended_by,
        end_reason,
        bool(by_ai),  # SQLite stores 0 or 1
        bool(by_human),
        None if transcript is None else _Fragment(transcript),
        None if structured_output is None else _Fragment(structured_output),
        None if extension is None else _Fragment(extension),
        None if speech_events is None else _Fragment(speech_events),
        audio_of(recording_key, transcript),
        created_at,
        started_at,
        answered_at,
        ended_at,
    )


def audio_of(recording_key: str | None, transcript_text: str | bytes | None) -> bool:
    """``has_audio`` from the stored columns: the transcript is only parsed when no
    recording is stored (the recording is made from it on first fetch)."""
    if recording_key is not None:
        return True
    return transcript_text is not None and speaks(orjson.loads(transcript_text))


def iso_of_stored(text: str) -> str:
    """The wire text of a timestamp SQLite holds as naive UTC text. SQLAlchemy writes them
    all as ``YYYY-MM-DD HH:MM:SS.ffffff``: that shape is cut, not parsed (from year
    1000 on: ``iso`` writes earlier years unpadded)."""
    if len(text) == 26 and text[10] == " " and text[19] == "." and text[0] != "0":
        return f"{text[:10]}T{text[11:23]}Z"
    return str(iso(datetime.fromisoformat(text).replace(tzinfo=UTC)))
