"""Objects as the wire shows them: every key of the contract, null where empty.

The one rendering of the wire objects (call, attempt, assistant, campaign, user), used
by the API, the webhooks and the services alike. It imports ``domain`` only (the
layering contract, docs/architecture.md): the records it renders are described by the
protocols below, which the store's records (``store.repositories``) satisfy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar, cast, overload

from openrevox.domain.call_rows import AttemptRow, CallRows, OrderRow
from openrevox.domain.clock import iso
from openrevox.domain.lifecycle import OrderStatus, deprecated_flags, is_terminal
from openrevox.domain.transcripts import speaks

# -- what is rendered (store.repositories' records have these fields) ------------------


class Member(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...


class FaqItem(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def answer(self) -> str: ...
    @property
    def needs_human_answer(self) -> bool: ...
    @property
    def source(self) -> str: ...


class AssistantRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def created_by(self) -> Member | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def faq_items(self) -> Sequence[FaqItem]: ...


class User(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def has_completed_onboarding(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


class AttemptRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def phone_number(self) -> str: ...
    @property
    def dial_error(self) -> str | None: ...
    @property
    def result(self) -> str | None: ...
    @property
    def ended_by(self) -> str | None: ...
    @property
    def end_reason(self) -> str | None: ...
    @property
    def handled_by_ai(self) -> bool: ...
    @property
    def handled_by_human(self) -> bool: ...
    @property
    def transcript(self) -> list[dict[str, Any]] | None: ...
    @property
    def structured_output(self) -> dict[str, Any] | None: ...
    @property
    def openrevox(self) -> dict[str, Any] | None: ...
    @property
    def speech_events(self) -> list[dict[str, Any]] | None: ...
    @property
    def recording_key(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def answered_at(self) -> datetime | None: ...
    @property
    def ended_at(self) -> datetime | None: ...


class OrderRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def campaign_id(self) -> str | None: ...
    @property
    def campaign_name(self) -> str | None: ...
    @property
    def direction(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def to_phone_number(self) -> str: ...
    @property
    def from_phone_number(self) -> str: ...
    @property
    def assistant(self) -> dict[str, Any]: ...
    @property
    def call_retry_config(self) -> dict[str, Any]: ...
    @property
    def prompt_variables(self) -> dict[str, str] | None: ...
    @property
    def metadata(self) -> dict[str, str] | None: ...
    @property
    def contact(self) -> dict[str, Any]: ...
    @property
    def scheduled_at(self) -> datetime | None: ...
    @property
    def calls_count(self) -> int: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def outcome_summary(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


class CampaignRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def assistant_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def is_cancelled(self) -> bool: ...
    @property
    def call_retry_config(self) -> dict[str, Any] | None: ...
    @property
    def from_phone_number(self) -> str | None: ...
    @property
    def max_concurrent_calls(self) -> int | None: ...
    @property
    def scheduled_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


_Attempt = TypeVar("_Attempt", bound=AttemptRecord)
_Attempt_co = TypeVar("_Attempt_co", bound=AttemptRecord, covariant=True)


class CallView(Protocol[_Attempt_co]):
    """An order with its attempts, newest first."""

    @property
    def order(self) -> OrderRecord: ...
    @property
    def attempts(self) -> Sequence[_Attempt_co]: ...


# Zero-padded fields as strings, looked up rather than formatted: "%02d" % n costs a call
# into the integer formatter for each of the 7 fields of a timestamp.
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))


@overload
def _iso(value: datetime) -> str: ...
@overload
def _iso(value: datetime | None) -> str | None: ...
def _iso(value: datetime | None) -> str | None:
    """``clock.iso``, several times faster for the aware UTC datetimes the stores hand
    out: a call with 3 attempts shows 12 timestamps, and formatting them was most of
    ``call_wire``. Other values (another zone, years before 1000) take ``iso``."""
    if value is None:
        return None
    if value.tzinfo is UTC and value.year >= 1000:
        two = _TWO_DIGITS
        return (
            f"{value.year}-{two[value.month]}-{two[value.day]}T{two[value.hour]}:"
            f"{two[value.minute]}:{two[value.second]}.{_THREE_DIGITS[value.microsecond // 1000]}Z"
        )
    return cast(str, iso(value))


def member_wire(member: Member | None) -> dict[str, Any] | None:
    if member is None:
        return None
    return {
        "id": member.id,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
    }


def assistant_wire(record: AssistantRecord) -> dict[str, Any]:
    config = record.config
    destinations = config.get("transfer_destinations") or None
    pending = sum(1 for item in record.faq_items if item.needs_human_answer)
    return {
        "id": record.id,
        **config,
        "name": record.name,
        "organization_id": record.organization_id,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "created_by": member_wire(record.created_by),
        "faq_items": [
            {
                "id": item.id,
                "question": item.question,
                "answer": item.answer,
                "needs_human_answer": item.needs_human_answer,
                "source": item.source,
            }
            for item in record.faq_items
        ],
        "pending_faq_count": pending,
        "is_inbound_receptionist": None,
        "is_realestate_assistant": None,
        # SDK <= 0.3.0 read the single transfer number.
        "transfer_phone_number": destinations[0]["phone_number"] if destinations else None,
    }


def campaign_wire(
    record: CampaignRecord,
    *,
    status: str,
    assistant: dict[str, Any] | None,
    funnel_stats: dict[str, Any],
    row_stats: dict[str, Any],
) -> dict[str, Any]:
    """A campaign on the wire; its status and figures are computed by the services
    (``services.campaign_stats``), ``assistant`` is ``assistant_wire``'s or None."""
    return {
        "id": record.id,
        "assistant_id": record.assistant_id,
        "created_at": iso(record.created_at),
        "is_cancelled": record.is_cancelled,
        "name": record.name,
        "organization_id": record.organization_id,
        "status": status,
        "updated_at": iso(record.updated_at),
        "assistant": assistant,
        "call_retry_config": record.call_retry_config,
        "created_by": None,
        "from_phone_number": record.from_phone_number,
        "funnel_stats": funnel_stats,
        "max_concurrent_calls": record.max_concurrent_calls,
        "metadata_keys": [],
        "row_stats": row_stats,
        "scheduled_at": iso(record.scheduled_at),
        "structured_output_extraction": "none",
    }


def user_wire(user: User, country: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "created_at": iso(user.created_at),
        "email": user.email,
        "first_name": user.first_name,
        "has_completed_onboarding": user.has_completed_onboarding,
        "last_name": user.last_name,
        "organization_id": user.organization_id,
        "updated_at": iso(user.updated_at),
        "organization_country": country,
    }


def attempt_wire(attempt: AttemptRecord, recording_url: str | None = None) -> dict[str, Any]:
    return attempt_row_wire(attempt_row(attempt), recording_url)


def attempt_row_wire(attempt: AttemptRow, recording_url: str | None = None) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "answered_at": attempt.answered_at,
        "dial_error": attempt.dial_error,
        "ended_at": attempt.ended_at,
        "handled_by_ai": attempt.handled_by_ai,
        "handled_by_human": attempt.handled_by_human,
        "handled_by_user": None,
        "phone_number": attempt.phone_number,
        "recording_url": recording_url,
        "result": attempt.result,
        "started_at": attempt.started_at,
        "status": attempt.status,
        "assistants_used": None,
        "email_log": None,
        "end_reason": attempt.end_reason,
        "ended_by": attempt.ended_by,
        "post_call_transcript": None,
        "sms_log": None,
        "speech_events": attempt.speech_events,
        "structured_output": attempt.structured_output,
        "transcript": attempt.transcript,
        # Ours: openrevox's own facts about the attempt (domain/attempt_extension.py).
        "openrevox": attempt.openrevox,
    }


_CONTACT_KEYS = ("company", "email", "first_name", "job_title", "last_name")
# status -> (is_cancelled, is_completed, pending): the lifecycle's answers, looked up once
# per order rather than building an OrderStatus (a Python-level Enum call) twice.
_STATUS_FLAGS = {
    status.value: (*deprecated_flags(status), not is_terminal(status)) for status in OrderStatus
}


def call_wire(
    view: CallView[_Attempt], recording_link: Callable[[_Attempt], str | None] | None = None
) -> dict[str, Any]:
    """``recording_link``: attempt -> its signed recording_url, or None
    (results.recording_links.RecordingLinks)."""
    urls = [recording_link(attempt) if recording_link else None for attempt in view.attempts]
    return call_rows_wire(call_rows(view), urls)


def call_rows_wire(call: CallRows, recording_urls: Sequence[str | None]) -> dict[str, Any]:
    """A call on the wire; ``recording_urls`` go with ``call.attempts``, in order."""
    order = call.order
    attempts = [
        attempt_row_wire(attempt, url)
        for attempt, url in zip(call.attempts, recording_urls, strict=True)
    ]
    is_cancelled, is_completed, pending = _STATUS_FLAGS[order.status]
    return {
        "id": order.id,
        "assignee": None,
        "assistant": order.assistant,
        "call_attempts": attempts,
        "call_retry_config": order.call_retry_config,
        "calls_count": order.calls_count,
        "campaign": (
            {"id": order.campaign_id, "name": order.campaign_name} if order.campaign_id else None
        ),
        "contact": {key: order.contact.get(key) for key in _CONTACT_KEYS},
        "created_at": order.created_at,
        "direction": order.direction,
        "first_sentence_delay_ms": order.first_sentence_delay_ms,
        "from_phone_number": order.from_phone_number,
        "is_cancelled": is_cancelled,
        "is_completed": is_completed,
        "last_call_attempt": attempts[0] if attempts else None,
        "llm_model": order.llm_model,
        "metadata": order.metadata,
        "organization_id": order.organization_id,
        "prompt_variables": order.prompt_variables,
        "scheduled_at": order.scheduled_at,
        "status": order.status,
        "to_phone_number": order.to_phone_number,
        "updated_at": order.updated_at,
        "follow_up_emails": None,
        "outcome": order.outcome,
        "outcome_summary": order.outcome_summary,
        "slack_channel_ids": None,
        # Legacy (SDK 0.0.3): the next planned dial, null once the order has ended.
        "next_call_at": order.scheduled_at if pending else None,
    }


def call_rows(view: CallView[AttemptRecord]) -> CallRows:
    """The rows GET /call/{id}'s readers hand over, made from the records."""
    order = view.order
    return CallRows(
        order=OrderRow(
            id=order.id,
            organization_id=order.organization_id,
            campaign_id=order.campaign_id,
            campaign_name=order.campaign_name,
            direction=order.direction,
            status=order.status,
            to_phone_number=order.to_phone_number,
            from_phone_number=order.from_phone_number,
            assistant=order.assistant,
            first_sentence_delay_ms=order.assistant.get("first_sentence_delay_ms", 400),
            llm_model=order.assistant.get("llm_model"),
            call_retry_config=order.call_retry_config,
            prompt_variables=order.prompt_variables,
            metadata=order.metadata,
            contact=order.contact,
            scheduled_at=_iso(order.scheduled_at),
            calls_count=order.calls_count,
            outcome=order.outcome,
            outcome_summary=order.outcome_summary,
            created_at=_iso(order.created_at),
            updated_at=_iso(order.updated_at),
        ),
        attempts=tuple(attempt_row(attempt) for attempt in view.attempts),
    )


def attempt_row(attempt: AttemptRecord) -> AttemptRow:
    return AttemptRow(
        id=attempt.id,
        status=attempt.status,
        phone_number=attempt.phone_number,
        dial_error=attempt.dial_error,
        result=attempt.result,
        ended_by=attempt.ended_by,
        end_reason=attempt.end_reason,
        handled_by_ai=attempt.handled_by_ai,
        handled_by_human=attempt.handled_by_human,
        transcript=attempt.transcript,
        structured_output=attempt.structured_output,
        openrevox=attempt.openrevox,
        speech_events=attempt.speech_events,
        has_audio=attempt.recording_key is not None or speaks(attempt.transcript),
        created_at=_iso(attempt.created_at),
        started_at=_iso(attempt.started_at),
        answered_at=_iso(attempt.answered_at),
        ended_at=_iso(attempt.ended_at),
    )
