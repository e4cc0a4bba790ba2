"""Writing attempts' ends and moving their orders, for workers and for recovery.

Both work on batches: the attempts that ended in the same moment are written in one
transaction, with a constant number of statements per batch.

Post-processing: an order whose last attempt ended goes to ``post_processing`` and, as
nothing is computed after the last attempt yet, on to ``completed`` in the same
transaction (two transitions, one commit). When results are computed after the call
(an LLM summary, outcome detection), that work goes between the two transitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain import attempt_extension
from openrevox.domain.attempt_extension import error_facts
from openrevox.domain.attempt_plan import AttemptReport, OrderPlan, plan_after_attempt
from openrevox.domain.end_reasons import wire_end_reason
from openrevox.domain.lifecycle import OrderEvent, OrderStatus, is_terminal, transition
from openrevox.results import webhooks
from openrevox.store.db import Database
from openrevox.store.repositories import calls, do_not_contact
from openrevox.store.repositories import dispatch as repo
from openrevox.store.repositories.calls import CallOrderRecord
from openrevox.store.repositories.dispatch import ClaimedAttempt
from openrevox.telephony.base import CallResult

CONTACT_FIELDS = ("first_name", "last_name", "email", "company", "job_title")


@dataclass(frozen=True, slots=True)
class Finished:
    """One attempt that ended in a worker: what the provider reported."""

    attempt: ClaimedAttempt
    result: CallResult
    # When it started ringing (the claim's stamp if it never rang).
    started_at: datetime
    platform_error: str | None = None


def _attempt_end(finished: Finished, now: datetime) -> dict[str, Any]:
    """The columns an attempt's end writes. Those with no value are left out: they are
    still NULL from the claim (attempts that end alike share one executemany)."""
    result, error = finished.result, finished.platform_error
    # A fault the agent reported keeps its own reason (``llm_timeout``...); on the wire
    # it is a contract value, the reason itself an ``openrevox`` fact.
    reason = wire_end_reason(
        (result.end_reason or "provider_error") if error else result.end_reason
    )
    detail = error if error != reason.error_reason else None  # the provider's exception
    facts = {**result.facts, **error_facts(reason.error_reason, detail)}
    values = {
        "status": "error" if error else "completed",
        "dial_error": result.dial_error,
        "result": result.result,
        "ended_by": result.ended_by,
        "end_reason": reason.end_reason,
        "openrevox": attempt_extension.facts(**facts) or None,
        "handled_by_ai": result.answered_at is not None,
        "started_at": finished.started_at,
        "answered_at": result.answered_at,
        "ended_at": result.ended_at or now,
        "transcript": [entry.wire() for entry in result.transcript] if result.transcript else None,
        "structured_output": result.structured_output,
        "speech_events": result.speech_events,
    }
    return {key: value for key, value in values.items() if value is not None}


def _contact_found(result: CallResult) -> dict[str, Any]:
    """Contact fields the call's structured output filled."""
    output = result.structured_output or {}
    return {key: value for key, value in output.items() if key in CONTACT_FIELDS and value}


def _settled(plan: OrderPlan) -> OrderStatus:
    """The status the order is written with: post-processing (nothing to compute) is
    done at once."""
    if plan.status == OrderStatus.POST_PROCESSING:
        return transition(OrderStatus.POST_PROCESSING, OrderEvent.POST_PROCESSING_DONE)
    return plan.status


def _order_changes(plan: OrderPlan, status: OrderStatus, now: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {
        "status": status.value,
        "next_attempt_at": plan.next_attempt_at,
        "updated_at": now,
    }
    if plan.next_attempt_at is not None:
        changes["scheduled_at"] = plan.next_attempt_at
    return changes


async def finish_in(
    conn: AsyncConnection, finished: Sequence[Finished], *, worker_id: str, now: datetime
) -> list[OrderPlan | None]:
    """Write the ends of ``finished`` attempts and move their orders, inside ``conn``'s
    transaction. One plan per attempt, None for an attempt recovery had already ended."""
    ids = sorted(item.attempt.attempt_id for item in finished)
    ends = {item.attempt.attempt_id: _attempt_end(item, now) for item in finished}
    live = await repo.end_live_attempts(conn, {key: ends[key] for key in ids}, worker_id)
    await repo.release_slots(conn, ids)
    ending = [item for item in finished if item.attempt.attempt_id in live]
    states = await repo.lock_order_states(
        conn,
        [item.attempt.order.id for item in ending],
        with_contact=[item.attempt.order.id for item in ending if _contact_found(item.result)],
    )
    assistants = await calls.snapshot_contents(
        conn,
        {state.snapshot_id for state in states.values()},
        known={item.attempt.snapshot_id: item.attempt.order.assistant for item in ending},
    )
    plans: list[OrderPlan | None] = []
    changes: dict[str, dict[str, Any]] = {}
    for item in finished:
        attempt, result = item.attempt, item.result
        state = states.get(attempt.order.id) if attempt.attempt_id in live else None
        if state is None:
            plans.append(None)
            continue
        # The order as claimed, with what may have changed since under its lock.
        order = replace(
            attempt.order,
            status=state.status,
            contact=state.contact,
            assistant=assistants[state.snapshot_id],
        )
        end = ends[attempt.attempt_id]
        plan = plan_after_attempt(
            status=OrderStatus(order.status),
            policy=attempt.policy,
            attempts_made=attempt.attempt_number,
            report=AttemptReport(
                dial_error=result.dial_error,
                result=result.result,
                end_reason=result.end_reason,
                do_not_contact=result.do_not_contact,
                worker_lost=item.platform_error is not None,
                started_at=item.started_at,
                ended_at=end["ended_at"],
            ),
            now=now,
        )
        status = _settled(plan)
        change = _order_changes(plan, status, now)
        change["last_result"] = result.result
        if result.outcome is not None:
            change["outcome"] = result.outcome
        if result.outcome_summary is not None:
            change["outcome_summary"] = result.outcome_summary
        found = _contact_found(result)
        if found:
            change["contact"] = {**order.contact, **found}
        changes[order.id] = change
        plans.append(plan)
        await _side_effects(conn, order, item, status, now)
    await repo.update_orders(conn, changes)
    return plans


async def _side_effects(
    conn: AsyncConnection,
    order: CallOrderRecord,
    item: Finished,
    status: OrderStatus,
    now: datetime,
) -> None:
    result = item.result
    await webhooks.attempt_ended(conn, order, item.attempt.attempt_id, now)
    if result.unanswered_questions and order.assistant_id:
        await repo.add_pending_faq(
            conn, assistant_id=order.assistant_id, questions=result.unanswered_questions, now=now
        )
    if result.do_not_contact:
        await do_not_contact.add(
            conn,
            organization_id=order.organization_id,
            mode=order.mode,
            phone_number=order.to_phone_number
            if order.direction == "outbound"
            else order.from_phone_number,
            reason="asked not to be called again",
            now=now,
        )
    if is_terminal(status) and not is_terminal(OrderStatus(order.status)):
        await webhooks.order_reached_terminal(conn, order, status.value, now)


async def recover_lost_attempts(db: Database, *, now: datetime, batch: int = 200) -> int:
    """Live attempts whose worker stopped renewing its lease end ``error`` at ``now``
    (``end_reason`` ``connection_timeout``, ``openrevox.error_reason`` ``worker_lost``)
    and count as an attempt; their order retries after its delay, never on
    the spot. Their slots are released in the same transaction. Returns how many."""
    async with db.transaction() as conn:
        lost = await repo.expired_attempts(conn, now=now, limit=batch)
        if lost:
            reason = wire_end_reason("worker_lost")
            end = {
                "status": "error",
                "end_reason": reason.end_reason,
                "ended_by": "system",
                "openrevox": error_facts(reason.error_reason),
            }
            await repo.end_attempts(
                conn, {attempt_id: {**end, "ended_at": now} for attempt_id, _, _ in lost}
            )
            await repo.release_slots(conn, [attempt_id for attempt_id, _, _ in lost])
            orders = await repo.lock_orders(conn, [order_id for _, order_id, _ in lost])
            changes: dict[str, dict[str, Any]] = {}
            for _attempt_id, order_id, started_at in lost:
                order = orders.get(order_id)
                if order is None:
                    continue
                plan = plan_after_attempt(
                    status=OrderStatus(order.status),
                    policy=repo.policy_of(order),
                    attempts_made=order.calls_count,
                    report=AttemptReport(
                        dial_error=None,
                        result=None,
                        end_reason="worker_lost",
                        do_not_contact=False,
                        worker_lost=True,
                        started_at=min(started_at or now, now),
                        ended_at=now,
                    ),
                    now=now,
                )
                status = _settled(plan)
                changes[order_id] = _order_changes(plan, status, now)
                if is_terminal(status) and not is_terminal(OrderStatus(order.status)):
                    await webhooks.order_reached_terminal(conn, order, status.value, now)
            await repo.update_orders(conn, changes)
        await repo.drop_stale_slots(conn, now=now)
    return len(lost)
