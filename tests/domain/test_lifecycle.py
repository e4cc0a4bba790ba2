"""The order's transition table, attempt statuses and attempt classification."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from openrevox.domain.lifecycle import (
    ATTEMPT_TRANSITIONS,
    DIAL_ERRORS,
    RESULTS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    AttemptStatus,
    IllegalTransition,
    OrderEvent,
    OrderStatus,
    Resolution,
    accepted_events,
    after_attempt,
    attempt_ended_event,
    deprecated_flags,
    is_attempt_final,
    is_terminal,
    resolve_attempt,
    transition,
    transition_attempt,
)

S, E = OrderStatus, OrderEvent
NON_TERMINAL = [status for status in OrderStatus if status not in TERMINAL_STATUSES]
ILLEGAL = [pair for pair in itertools.product(OrderStatus, OrderEvent) if pair not in TRANSITIONS]


def test_order_statuses_are_the_wire_strings() -> None:
    assert [status.value for status in OrderStatus] == [
        "initializing",
        "not_launched",
        "queued_for_calling",
        "scheduled",
        "calling",
        "paused",
        "post_processing",
        "completed",
        "cancelled",
        "errored",
    ]


def test_attempt_statuses_are_the_wire_strings() -> None:
    assert [status.value for status in AttemptStatus] == [
        "queued",
        "ringing",
        "ongoing",
        "completed",
        "error",
    ]


@pytest.mark.parametrize(("pair", "target"), list(TRANSITIONS.items()), ids=str)
def test_every_legal_transition(pair: tuple[OrderStatus, OrderEvent], target: OrderStatus) -> None:
    assert transition(*pair) == target


@pytest.mark.parametrize("pair", ILLEGAL, ids=str)
def test_every_other_pair_is_illegal(pair: tuple[OrderStatus, OrderEvent]) -> None:
    current, event = pair
    with pytest.raises(IllegalTransition) as caught:
        transition(current, event)
    assert f"'{current}'" in str(caught.value)
    assert f"'{event}'" in str(caught.value)
    assert (caught.value.current, caught.value.change) == (current.value, event.value)


def test_illegal_transition_is_a_value_error_that_lists_what_is_accepted() -> None:
    with pytest.raises(ValueError, match=r"accepted: .*launch_due, launch_future"):
        transition(S.NOT_LAUNCHED, E.SLOT_CLAIMED)
    with pytest.raises(ValueError, match="'completed' is terminal"):
        transition(S.COMPLETED, E.CANCEL)


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_nothing_leaves_a_terminal_status(status: OrderStatus) -> None:
    assert is_terminal(status)
    assert accepted_events(status) == ()


@pytest.mark.parametrize("status", NON_TERMINAL)
def test_cancel_and_error_are_accepted_from_every_non_terminal_status(status: OrderStatus) -> None:
    assert not is_terminal(status)
    assert transition(status, E.CANCEL) is S.CANCELLED
    assert transition(status, E.ERROR) is S.ERRORED


def test_pause_holds_only_orders_waiting_for_or_making_a_dial() -> None:
    pausable = {status for status in OrderStatus if (status, E.PAUSE) in TRANSITIONS}
    assert pausable == {S.SCHEDULED, S.QUEUED_FOR_CALLING, S.CALLING}
    assert all(transition(status, E.PAUSE) is S.PAUSED for status in pausable)


@pytest.mark.parametrize(
    ("event", "target"),
    [
        (E.ATTEMPT_ENDED_RETRY_DUE, S.PAUSED),
        (E.ATTEMPT_ENDED_RETRY_FUTURE, S.PAUSED),
        (E.ATTEMPT_ENDED_FINAL, S.POST_PROCESSING),
    ],
)
def test_attempt_ending_while_paused_dials_nothing_new(
    event: OrderEvent, target: OrderStatus
) -> None:
    assert transition(S.PAUSED, event) is target


@pytest.mark.parametrize(
    ("event", "target"),
    [
        (E.RESUME_DUE, S.QUEUED_FOR_CALLING),
        (E.RESUME_FUTURE, S.SCHEDULED),
        (E.RESUME_LIVE, S.CALLING),
    ],
)
def test_resume_goes_where_the_order_left_off(event: OrderEvent, target: OrderStatus) -> None:
    assert transition(S.PAUSED, event) is target


def test_pausing_a_paused_order_is_not_a_transition() -> None:
    with pytest.raises(IllegalTransition):
        transition(S.PAUSED, E.PAUSE)


def test_a_paused_order_is_not_promoted_by_the_scheduler() -> None:
    with pytest.raises(IllegalTransition):
        transition(S.PAUSED, E.BECAME_DUE)
    with pytest.raises(IllegalTransition):
        transition(S.PAUSED, E.SLOT_CLAIMED)


def test_an_order_with_three_attempts_walks_through_the_table() -> None:
    status = S.INITIALIZING
    for event in [
        E.CREATED_FUTURE,
        E.BECAME_DUE,
        E.SLOT_CLAIMED,
        E.ATTEMPT_ENDED_RETRY_FUTURE,
        E.BECAME_DUE,
        E.SLOT_CLAIMED,
        E.ATTEMPT_ENDED_RETRY_DUE,
        E.SLOT_CLAIMED,
        E.PAUSE,
        E.RESUME_LIVE,
        E.ATTEMPT_ENDED_FINAL,
        E.POST_PROCESSING_DONE,
    ]:
        status = transition(status, event)
    assert status is S.COMPLETED


def test_a_campaign_row_waits_for_launch_and_a_due_order_can_fall_back_to_scheduled() -> None:
    assert transition(S.INITIALIZING, E.CREATED_NOT_LAUNCHED) is S.NOT_LAUNCHED
    assert transition(S.NOT_LAUNCHED, E.LAUNCH_DUE) is S.QUEUED_FOR_CALLING
    assert transition(S.NOT_LAUNCHED, E.LAUNCH_FUTURE) is S.SCHEDULED
    assert transition(S.QUEUED_FOR_CALLING, E.RESCHEDULED) is S.SCHEDULED


def _reachable(start: OrderStatus) -> set[OrderStatus]:
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for (source, _), target in TRANSITIONS.items():
            if source is current and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_status_is_reachable_and_every_order_can_end() -> None:
    assert _reachable(S.INITIALIZING) == set(OrderStatus)
    for status in NON_TERMINAL:
        assert _reachable(status) & TERMINAL_STATUSES == TERMINAL_STATUSES
    assert S.COMPLETED in _reachable(S.SCHEDULED) - {S.CANCELLED, S.ERRORED}


def test_every_event_is_used() -> None:
    assert {event for _, event in TRANSITIONS} == set(OrderEvent)


@pytest.mark.parametrize(
    ("status", "flags"),
    [(status, (status is S.CANCELLED, status is S.COMPLETED)) for status in OrderStatus],
)
def test_deprecated_flags_follow_status(status: OrderStatus, flags: tuple[bool, bool]) -> None:
    assert deprecated_flags(status) == flags


def test_deprecated_flags_for_the_end_statuses() -> None:
    assert deprecated_flags(S.CANCELLED) == (True, False)
    assert deprecated_flags(S.COMPLETED) == (False, True)
    assert deprecated_flags(S.ERRORED) == (False, False)
    assert deprecated_flags(S.POST_PROCESSING) == (False, False)


NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("next_dial_at", "event"),
    [
        (None, E.ATTEMPT_ENDED_FINAL),
        (NOW, E.ATTEMPT_ENDED_RETRY_DUE),
        (NOW - timedelta(seconds=1), E.ATTEMPT_ENDED_RETRY_DUE),
        (NOW + timedelta(seconds=1), E.ATTEMPT_ENDED_RETRY_FUTURE),
    ],
)
def test_attempt_ended_event(next_dial_at: datetime | None, event: OrderEvent) -> None:
    assert attempt_ended_event(next_dial_at=next_dial_at, now=NOW) is event


# --- attempts ------------------------------------------------------------------------

A = AttemptStatus
# Sorted: sets iterate in a per-process order, and pytest-xdist's processes must collect
# the same tests in the same order.
ATTEMPT_LEGAL = [
    (source, target)
    for source, targets in ATTEMPT_TRANSITIONS.items()
    for target in sorted(targets)
]
ATTEMPT_ILLEGAL = [
    pair for pair in itertools.product(AttemptStatus, AttemptStatus) if pair not in ATTEMPT_LEGAL
]


def test_attempt_table_is_the_documented_one() -> None:
    assert sorted(ATTEMPT_LEGAL) == sorted(
        [
            (A.QUEUED, A.RINGING),
            (A.QUEUED, A.ERROR),
            (A.RINGING, A.ONGOING),
            (A.RINGING, A.COMPLETED),  # a dial error: the carrier answered with a status
            (A.RINGING, A.ERROR),
            (A.ONGOING, A.COMPLETED),
            (A.ONGOING, A.ERROR),  # e.g. the worker was lost mid-call
        ]
    )


@pytest.mark.parametrize(("current", "new"), ATTEMPT_LEGAL, ids=str)
def test_every_legal_attempt_transition(current: AttemptStatus, new: AttemptStatus) -> None:
    assert transition_attempt(current, new) is new


@pytest.mark.parametrize(("current", "new"), ATTEMPT_ILLEGAL, ids=str)
def test_every_other_attempt_transition_is_illegal(
    current: AttemptStatus, new: AttemptStatus
) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition_attempt(current, new)
    assert f"'{current}'" in str(caught.value)
    assert f"'{new}'" in str(caught.value)


def test_an_attempt_cannot_complete_without_having_been_dialled() -> None:
    with pytest.raises(IllegalTransition, match="'queued' cannot become 'completed'"):
        transition_attempt(A.QUEUED, A.COMPLETED)


@pytest.mark.parametrize("status", list(AttemptStatus))
def test_final_attempt_statuses(status: AttemptStatus) -> None:
    assert is_attempt_final(status) is (status in {A.COMPLETED, A.ERROR})


# --- classification ------------------------------------------------------------------


def classify(
    *,
    dial_error: str | None = None,
    result: str | None = None,
    end_reason: str | None = None,
    do_not_contact: bool = False,
    worker_lost: bool = False,
) -> Resolution:
    return resolve_attempt(
        dial_error=dial_error,
        result=result,
        end_reason=end_reason,
        do_not_contact=do_not_contact,
        worker_lost=worker_lost,
    )


@pytest.mark.parametrize(
    ("dial_error", "resolution"),
    [
        ("number_non_attributed", Resolution.STOP),
        ("no_international_permission", Resolution.STOP),
        ("precondition_failed", Resolution.STOP),
        ("no_answer", Resolution.RETRY),
        ("busy", Resolution.RETRY),
        ("temporarily_unavailable", Resolution.RETRY),
        ("too_many_calls", Resolution.RETRY),
        ("non_classified_error", Resolution.RETRY),
    ],
)
def test_dial_errors(dial_error: str, resolution: Resolution) -> None:
    assert classify(dial_error=dial_error) is resolution


def test_all_eight_dial_errors_are_classified() -> None:
    assert len(DIAL_ERRORS) == 8
    assert {classify(dial_error=error) for error in DIAL_ERRORS} == {
        Resolution.STOP,
        Resolution.RETRY,
    }


@pytest.mark.parametrize(
    ("result", "resolution"),
    [
        ("human", Resolution.RESOLVE),
        ("voicemail", Resolution.RETRY),
        ("unknown", Resolution.RETRY),
        ("IVR", Resolution.RETRY),
        ("ios-screening-filter", Resolution.RETRY),
        (None, Resolution.RETRY),
    ],
)
def test_results(result: str | None, resolution: Resolution) -> None:
    assert classify(result=result) is resolution


def test_all_five_results_are_classified() -> None:
    assert {"IVR", "voicemail", "human", "unknown", "ios-screening-filter"} == RESULTS


@pytest.mark.parametrize(
    ("result", "end_reason", "resolution"),
    [
        ("human", "tool_end_call", Resolution.RESOLVE),  # after IVR navigation, a person
        (None, "transfer", Resolution.RESOLVE),
        ("unknown", "transfer", Resolution.RESOLVE),
        (None, "human_takeover", Resolution.RESOLVE),
        ("IVR", "ivr_no_navigate", Resolution.RETRY),
        ("voicemail", "voicemail", Resolution.RETRY),
        ("unknown", "user_inactive", Resolution.RETRY),
    ],
)
def test_end_reasons(result: str | None, end_reason: str, resolution: Resolution) -> None:
    assert classify(result=result, end_reason=end_reason) is resolution


def test_do_not_contact_stops_even_after_reaching_the_person() -> None:
    assert classify(result="human", do_not_contact=True) is Resolution.STOP
    assert classify(worker_lost=True, do_not_contact=True) is Resolution.STOP


def test_a_lost_worker_retries_whatever_was_recorded() -> None:
    assert classify(worker_lost=True) is Resolution.RETRY
    assert classify(worker_lost=True, result="human") is Resolution.RETRY
    assert classify(worker_lost=True, dial_error="number_non_attributed") is Resolution.RETRY


def test_a_dial_error_outranks_a_result() -> None:
    assert classify(dial_error="busy", result="human") is Resolution.RETRY


@pytest.mark.parametrize(
    ("dial_error", "result"), [("sip_486", None), (None, "Human"), (None, "none")]
)
def test_unknown_codes_are_refused(dial_error: str | None, result: str | None) -> None:
    with pytest.raises(ValueError, match="unknown"):
        classify(dial_error=dial_error, result=result)


@pytest.mark.parametrize(
    ("resolution", "made", "max_attempts", "follow_up"),
    [
        (Resolution.RETRY, 1, 3, "retry"),
        (Resolution.RETRY, 2, 3, "retry"),
        (Resolution.RETRY, 3, 3, "final"),
        (Resolution.RETRY, 1, 1, "final"),
        (Resolution.RETRY, 4, 3, "final"),
        (Resolution.RESOLVE, 1, 3, "final"),
        (Resolution.STOP, 1, 3, "final"),
    ],
)
def test_after_attempt(
    resolution: Resolution, made: int, max_attempts: int, follow_up: str
) -> None:
    assert after_attempt(resolution, attempts_made=made, max_attempts=max_attempts) == follow_up


@pytest.mark.parametrize(("made", "max_attempts"), [(0, 3), (1, 0)])
def test_after_attempt_refuses_nonsense(made: int, max_attempts: int) -> None:
    with pytest.raises(ValueError, match="1 or more"):
        after_attempt(Resolution.RETRY, attempts_made=made, max_attempts=max_attempts)
