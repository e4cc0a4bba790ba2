"""What an order does after one of its attempts ended: pure, from lifecycle and schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from openrevox.domain.lifecycle import (
    OrderEvent,
    OrderStatus,
    after_attempt,
    attempt_ended_event,
    is_terminal,
    resolve_attempt,
    transition,
)
from openrevox.domain.schedule import RetryPolicy, next_attempt_time


@dataclass(frozen=True, slots=True)
class AttemptReport:
    dial_error: str | None
    result: str | None
    end_reason: str | None
    do_not_contact: bool
    worker_lost: bool
    started_at: datetime
    ended_at: datetime


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """``status`` is the order's next status (unchanged when it was already terminal);
    ``next_attempt_at`` the next planned dial; ``final`` when no attempt follows."""

    status: OrderStatus
    next_attempt_at: datetime | None
    final: bool


def plan_after_attempt(
    *,
    status: OrderStatus,
    policy: RetryPolicy,
    attempts_made: int,
    report: AttemptReport,
    now: datetime,
) -> OrderPlan:
    if is_terminal(status):  # cancelled while live: the attempt is kept, nothing moves
        return OrderPlan(status=status, next_attempt_at=None, final=True)
    resolution = resolve_attempt(
        dial_error=report.dial_error,
        result=report.result,
        end_reason=report.end_reason,
        do_not_contact=report.do_not_contact,
        worker_lost=report.worker_lost,
    )
    next_at = None
    if (
        after_attempt(resolution, attempts_made=attempts_made, max_attempts=policy.max_attempts)
        == "retry"
    ):
        next_at = next_attempt_time(
            policy,
            attempts_made=attempts_made,
            last_attempt_started_at=report.started_at,
            last_attempt_ended_at=report.ended_at,
            reached_human=report.result == "human",
        )
    event = attempt_ended_event(next_dial_at=next_at, now=now)
    return OrderPlan(
        status=transition(status, event),
        next_attempt_at=next_at,
        final=event == OrderEvent.ATTEMPT_ENDED_FINAL,
    )
