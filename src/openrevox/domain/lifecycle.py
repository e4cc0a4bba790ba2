"""The call order's life: statuses, the one transition table, attempt outcomes.

Pure policy: no I/O. Every status change of an order goes through ``transition`` (the
services call it inside the transaction that causes the change), so webhooks and
statistics hook in one place.

Documented behaviour:

- ``scheduled`` whenever the next dial lies in the future, ``queued_for_calling`` when it
  is due and waits for a concurrency slot, ``calling`` while an attempt is live,
  ``post_processing`` while results are computed after the last attempt. Campaign rows are
  born ``not_launched`` and move on when launched.
- ``completed``, ``cancelled`` and ``errored`` are terminal: nothing leaves them. An order
  whose attempts are spent or stopped ends ``completed`` (its attempts tell why);
  ``errored`` is for orders the platform could not carry (assistant deleted, provider
  misconfigured).
- Cancel is accepted from every non-terminal status. A live attempt is allowed to finish;
  its end moves nothing (the order stays ``cancelled``), and a post-processor that finds
  the order already terminal stores its results without a transition.
- Pause is accepted from ``scheduled``, ``queued_for_calling`` and ``calling``: it holds
  the retry loop. Pausing while ``calling`` lets the live attempt run; when that attempt
  ends, the order stays ``paused`` if it would retry (the planned time is kept and keeps
  counting down), or goes to ``post_processing`` if it resolved or its attempts are spent.
  Resume goes to ``calling`` while the attempt is still live, else to
  ``queued_for_calling`` or ``scheduled`` by the planned time. Pausing a paused order is
  not a transition (the service treats it as a no-op).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Literal


class OrderStatus(StrEnum):
    """``Call.status`` on the wire."""

    INITIALIZING = "initializing"
    NOT_LAUNCHED = "not_launched"
    QUEUED_FOR_CALLING = "queued_for_calling"
    SCHEDULED = "scheduled"
    CALLING = "calling"
    PAUSED = "paused"
    POST_PROCESSING = "post_processing"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERRORED = "errored"


class AttemptStatus(StrEnum):
    """``CallAttempt.status`` on the wire."""

    QUEUED = "queued"
    RINGING = "ringing"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    ERROR = "error"


class OrderEvent(StrEnum):
    """What happens to an order. ``*_due`` / ``*_future`` pairs say whether the planned dial
    time is already due (``<= now``) or still ahead."""

    CREATED_DUE = "created_due"  # POST /call, dial now
    CREATED_FUTURE = "created_future"  # POST /call, dial later (scheduled_at, window)
    CREATED_NOT_LAUNCHED = "created_not_launched"  # a campaign row, waits for launch
    LAUNCH_DUE = "launch_due"  # campaign launch-calls, dial now
    LAUNCH_FUTURE = "launch_future"  # campaign launch-calls, dial later
    BECAME_DUE = "became_due"  # the scheduler found the planned time reached
    RESCHEDULED = "rescheduled"  # a due order's window closed before it got a slot
    SLOT_CLAIMED = "slot_claimed"  # a worker took a slot: the dial starts
    ATTEMPT_ENDED_RETRY_DUE = "attempt_ended_retry_due"
    ATTEMPT_ENDED_RETRY_FUTURE = "attempt_ended_retry_future"
    ATTEMPT_ENDED_FINAL = "attempt_ended_final"  # resolved, stopped or attempts spent
    POST_PROCESSING_DONE = "post_processing_done"
    PAUSE = "pause"
    RESUME_DUE = "resume_due"
    RESUME_FUTURE = "resume_future"
    RESUME_LIVE = "resume_live"  # resumed while its attempt is still live
    CANCEL = "cancel"
    ERROR = "error"  # the platform cannot carry the order


TERMINAL_STATUSES: frozenset[OrderStatus] = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.ERRORED}
)

_S = OrderStatus
_E = OrderEvent

TRANSITIONS: Mapping[tuple[OrderStatus, OrderEvent], OrderStatus] = MappingProxyType(
    {
        (_S.INITIALIZING, _E.CREATED_DUE): _S.QUEUED_FOR_CALLING,
        (_S.INITIALIZING, _E.CREATED_FUTURE): _S.SCHEDULED,
        (_S.INITIALIZING, _E.CREATED_NOT_LAUNCHED): _S.NOT_LAUNCHED,
        (_S.NOT_LAUNCHED, _E.LAUNCH_DUE): _S.QUEUED_FOR_CALLING,
        (_S.NOT_LAUNCHED, _E.LAUNCH_FUTURE): _S.SCHEDULED,
        (_S.SCHEDULED, _E.BECAME_DUE): _S.QUEUED_FOR_CALLING,
        (_S.SCHEDULED, _E.PAUSE): _S.PAUSED,
        (_S.QUEUED_FOR_CALLING, _E.SLOT_CLAIMED): _S.CALLING,
        (_S.QUEUED_FOR_CALLING, _E.RESCHEDULED): _S.SCHEDULED,
        (_S.QUEUED_FOR_CALLING, _E.PAUSE): _S.PAUSED,
        (_S.CALLING, _E.ATTEMPT_ENDED_RETRY_DUE): _S.QUEUED_FOR_CALLING,
        (_S.CALLING, _E.ATTEMPT_ENDED_RETRY_FUTURE): _S.SCHEDULED,
        (_S.CALLING, _E.ATTEMPT_ENDED_FINAL): _S.POST_PROCESSING,
        (_S.CALLING, _E.PAUSE): _S.PAUSED,
        (_S.PAUSED, _E.RESUME_DUE): _S.QUEUED_FOR_CALLING,
        (_S.PAUSED, _E.RESUME_FUTURE): _S.SCHEDULED,
        (_S.PAUSED, _E.RESUME_LIVE): _S.CALLING,
        (_S.PAUSED, _E.ATTEMPT_ENDED_RETRY_DUE): _S.PAUSED,
        (_S.PAUSED, _E.ATTEMPT_ENDED_RETRY_FUTURE): _S.PAUSED,
        (_S.PAUSED, _E.ATTEMPT_ENDED_FINAL): _S.POST_PROCESSING,
        (_S.POST_PROCESSING, _E.POST_PROCESSING_DONE): _S.COMPLETED,
    }
    | {
        (status, event): target
        for status in OrderStatus
        if status not in TERMINAL_STATUSES
        for event, target in ((_E.CANCEL, _S.CANCELLED), (_E.ERROR, _S.ERRORED))
    }
)
"""``(status, event) -> next status``: the only place that says how an order moves."""


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow."""

    def __init__(self, message: str, *, current: str, change: str) -> None:
        super().__init__(message)
        self.current = current
        self.change = change


def accepted_events(current: OrderStatus) -> tuple[OrderEvent, ...]:
    """The events an order in ``current`` accepts, in declaration order."""
    return tuple(event for event in OrderEvent if (current, event) in TRANSITIONS)


def transition(current: OrderStatus, event: OrderEvent) -> OrderStatus:
    """The status after ``event``; ``IllegalTransition`` if ``current`` does not accept it."""
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        accepted = ", ".join(accepted_events(current)) or f"none: '{current}' is terminal"
        raise IllegalTransition(
            f"an order in status '{current}' cannot take event '{event}' (accepted: {accepted})",
            current=current.value,
            change=event.value,
        ) from None


def is_terminal(status: OrderStatus) -> bool:
    return status in TERMINAL_STATUSES


def deprecated_flags(status: OrderStatus) -> tuple[bool, bool]:
    """``(is_cancelled, is_completed)``, the deprecated booleans derived from ``status``.

    ``is_cancelled`` is true for ``cancelled`` only and ``is_completed`` for ``completed``
    only: an ``errored`` order is neither, and ``post_processing`` is not completed yet.
    """
    return status == OrderStatus.CANCELLED, status == OrderStatus.COMPLETED


def attempt_ended_event(*, next_dial_at: datetime | None, now: datetime) -> OrderEvent:
    """The order event for an attempt's end: final when there is no next dial, else a
    retry due now or later. (An order already ``cancelled``/``errored`` takes no event.)"""
    if next_dial_at is None:
        return OrderEvent.ATTEMPT_ENDED_FINAL
    if next_dial_at <= now:
        return OrderEvent.ATTEMPT_ENDED_RETRY_DUE
    return OrderEvent.ATTEMPT_ENDED_RETRY_FUTURE


_A = AttemptStatus

ATTEMPT_TRANSITIONS: Mapping[AttemptStatus, frozenset[AttemptStatus]] = MappingProxyType(
    {
        _A.QUEUED: frozenset({_A.RINGING, _A.ERROR}),
        _A.RINGING: frozenset({_A.ONGOING, _A.COMPLETED, _A.ERROR}),
        _A.ONGOING: frozenset({_A.COMPLETED, _A.ERROR}),
        _A.COMPLETED: frozenset(),
        _A.ERROR: frozenset(),
    }
)
"""Where an attempt may go next.

``queued`` until a worker hands the dial to the provider, then ``ringing``; every carrier
answer therefore comes from ``ringing``. A dial error (busy, no answer, ...: the carrier
answered with a status) ends the attempt ``completed`` with ``dial_error`` set, straight
from ``ringing``. An answered call is ``ongoing`` and ends ``completed``. A platform
failure (a lost worker: ``end_reason`` ``worker_lost``, a provider fault) ends ``error``
from any non-final status. ``completed`` and ``error`` are final.
"""


def is_attempt_final(status: AttemptStatus) -> bool:
    return not ATTEMPT_TRANSITIONS[status]


def transition_attempt(current: AttemptStatus, new: AttemptStatus) -> AttemptStatus:
    """``new`` if an attempt may go there from ``current``, else ``IllegalTransition``."""
    if new in ATTEMPT_TRANSITIONS[current]:
        return new
    allowed = ", ".join(sorted(ATTEMPT_TRANSITIONS[current])) or f"none: '{current}' is final"
    raise IllegalTransition(
        f"an attempt in status '{current}' cannot become '{new}' (allowed: {allowed})",
        current=current.value,
        change=new.value,
    )


DIAL_ERRORS: frozenset[str] = frozenset(
    {
        "number_non_attributed",
        "too_many_calls",
        "busy",
        "temporarily_unavailable",
        "no_answer",
        "no_international_permission",
        "precondition_failed",
        "non_classified_error",
    }
)
STOPPING_DIAL_ERRORS: frozenset[str] = frozenset(
    {"number_non_attributed", "no_international_permission", "precondition_failed"}
)
RESULTS: frozenset[str] = frozenset(
    {"IVR", "voicemail", "human", "unknown", "ios-screening-filter"}
)
PERSON_REACHED_END_REASONS: frozenset[str] = frozenset({"transfer", "human_takeover"})


class Resolution(StrEnum):
    """What an ended attempt means for its order."""

    RESOLVE = "resolve"  # a person was reached: the order is done
    RETRY = "retry"  # try again while attempts remain
    STOP = "stop"  # calling again is pointless or unwanted: the order is done


def resolve_attempt(
    *,
    dial_error: str | None,
    result: str | None,
    end_reason: str | None,
    do_not_contact: bool,
    worker_lost: bool,
) -> Resolution:
    """Classify an ended attempt, first rule that applies:

    1. the person asked not to be called again (``do_not_contact``): stop;
    2. the worker was lost mid-attempt: retry (the attempt still counts);
    3. a dial error: stop for ``number_non_attributed``, ``no_international_permission``
       and ``precondition_failed``; retry for ``no_answer``, ``busy``,
       ``temporarily_unavailable``, ``too_many_calls`` and ``non_classified_error``;
    4. a person was reached: resolve. That is ``result`` ``human`` (also after IVR
       navigation), or an ``end_reason`` of ``transfer`` or ``human_takeover``;
    5. anything else retries: ``voicemail``, ``unknown``, ``IVR`` not navigated,
       ``ios-screening-filter``, or no result at all.

    An unknown ``dial_error`` or ``result`` raises ``ValueError`` (a provider adapter must
    map its codes to the wire's); ``end_reason`` is free text.
    """
    if dial_error is not None and dial_error not in DIAL_ERRORS:
        raise ValueError(
            f"unknown dial_error '{dial_error}'; expected one of {sorted(DIAL_ERRORS)}"
        )
    if result is not None and result not in RESULTS:
        raise ValueError(f"unknown result '{result}'; expected one of {sorted(RESULTS)}")
    if do_not_contact:
        return Resolution.STOP
    if worker_lost:
        return Resolution.RETRY
    if dial_error is not None:
        return Resolution.STOP if dial_error in STOPPING_DIAL_ERRORS else Resolution.RETRY
    if result == "human" or end_reason in PERSON_REACHED_END_REASONS:
        return Resolution.RESOLVE
    return Resolution.RETRY


AfterAttempt = Literal["retry", "final"]


def after_attempt(resolution: Resolution, *, attempts_made: int, max_attempts: int) -> AfterAttempt:
    """Whether the order goes on: ``retry`` only for a retry resolution while attempts remain
    (``attempts_made`` counts every dial so far, this one included), else ``final``."""
    if attempts_made < 1 or max_attempts < 1:
        raise ValueError(
            f"attempts_made and max_attempts must be 1 or more, not {attempts_made}, {max_attempts}"
        )
    if resolution == Resolution.RETRY and attempts_made < max_attempts:
        return "retry"
    return "final"
