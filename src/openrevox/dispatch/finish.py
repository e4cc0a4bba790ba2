"""Writing an attempt's end and moving its order, for workers and for recovery."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from openrevox.domain.attempt_plan import AttemptReport, OrderPlan, plan_after_attempt
from openrevox.domain.lifecycle import OrderEvent, OrderStatus, is_terminal, transition
from openrevox.domain.retry_config import policy_from_wire
from openrevox.results import webhooks
from openrevox.store.db import Database
from openrevox.store.repositories import dispatch as repo
from openrevox.store.repositories.dispatch import ClaimedAttempt
from openrevox.telephony.base import CallResult

CONTACT_FIELDS = ("first_name", "last_name", "email", "company", "job_title")


async def finish_attempt(
    db: Database,
    *,
    attempt: ClaimedAttempt,
    result: CallResult,
    worker_id: str,
    now: datetime,
    platform_error: str | None = None,
) -> OrderPlan | None:
    """Write the attempt's end, then move its order (post-processing, then completed,
    when no attempt follows). None when recovery had already ended the attempt."""
    ended_at = result.ended_at or now
    values = {
        "status": "error" if platform_error else "completed",
        "dial_error": result.dial_error,
        "result": result.result,
        "ended_by": result.ended_by,
        "end_reason": "provider_error" if platform_error else result.end_reason,
        "handled_by_ai": result.answered_at is not None,
        "answered_at": result.answered_at,
        "ended_at": ended_at,
        "transcript": [entry.wire() for entry in result.transcript] if result.transcript else None,
        "structured_output": result.structured_output,
    }
    async with db.transaction() as conn:
        if not await repo.end_attempt(
            conn, attempt_id=attempt.attempt_id, worker_id=worker_id, values=values
        ):
            return None
        order = await repo.lock_order(conn, attempt.order.id)
        if order is None:
            return None
        plan = plan_after_attempt(
            status=OrderStatus(order.status),
            policy=attempt.policy,
            attempts_made=attempt.attempt_number,
            report=AttemptReport(
                dial_error=result.dial_error,
                result=result.result,
                end_reason=result.end_reason,
                do_not_contact=result.do_not_contact,
                worker_lost=platform_error is not None,
                started_at=attempt.started_at,
                ended_at=ended_at,
            ),
            now=now,
        )
        changes: dict[str, object] = {
            "status": plan.status.value,
            "next_attempt_at": plan.next_attempt_at,
            "last_result": result.result,
            "updated_at": now,
        }
        if plan.next_attempt_at is not None:
            changes["scheduled_at"] = plan.next_attempt_at
        if result.outcome is not None:
            changes["outcome"] = result.outcome
        found = {
            k: v for k, v in (result.structured_output or {}).items() if k in CONTACT_FIELDS and v
        }
        if found:
            changes["contact"] = {**order.contact, **found}
        await repo.update_order(conn, order.id, changes)
        await webhooks.attempt_ended(conn, order, attempt.attempt_id, now)
        if result.unanswered_questions and order.assistant_id:
            await repo.add_pending_faq(
                conn,
                assistant_id=order.assistant_id,
                questions=result.unanswered_questions,
                now=now,
            )
        if result.do_not_contact:
            await repo.add_do_not_contact(
                conn,
                organization_id=order.organization_id,
                mode=order.mode,
                phone_number=order.to_phone_number,
                reason="asked not to be called again",
                now=now,
            )
    if plan.status == OrderStatus.POST_PROCESSING:
        async with db.transaction() as conn:
            done = transition(OrderStatus.POST_PROCESSING, OrderEvent.POST_PROCESSING_DONE)
            await repo.update_order(conn, order.id, {"status": done.value, "updated_at": now})
            await webhooks.order_reached_terminal(conn, order, done.value, now)
    return plan


async def recover_lost_attempts(db: Database, *, now: datetime, batch: int = 200) -> int:
    """Live attempts whose worker stopped renewing its lease end ``error``/``worker_lost``
    and count as an attempt; their order retries after its delay, never on the spot."""
    recovered = 0
    async with db.transaction() as conn:
        lost = await repo.expired_attempts(conn, now=now, limit=batch)
        for attempt_id, order_id, started_at in lost:
            values = {
                "status": "error",
                "end_reason": "worker_lost",
                "ended_by": "system",
                "ended_at": now,
            }
            if not await repo.end_attempt(
                conn, attempt_id=attempt_id, worker_id=None, values=values
            ):
                continue
            order = await repo.lock_order(conn, order_id)
            if order is None:
                continue
            policy = policy_from_wire(order.call_retry_config, zoneinfo.ZoneInfo(order.timezone))
            plan = plan_after_attempt(
                status=OrderStatus(order.status),
                policy=policy,
                attempts_made=order.calls_count,
                report=AttemptReport(
                    dial_error=None,
                    result=None,
                    end_reason="worker_lost",
                    do_not_contact=False,
                    worker_lost=True,
                    started_at=started_at or now,
                    ended_at=now,
                ),
                now=now,
            )
            status = plan.status
            if status == OrderStatus.POST_PROCESSING:
                status = transition(status, OrderEvent.POST_PROCESSING_DONE)
            changes: dict[str, object] = {
                "status": status.value,
                "next_attempt_at": plan.next_attempt_at,
                "updated_at": now,
            }
            if plan.next_attempt_at is not None:
                changes["scheduled_at"] = plan.next_attempt_at
            await repo.update_order(conn, order_id, changes)
            if is_terminal(status) and not is_terminal(OrderStatus(order.status)):
                await webhooks.order_reached_terminal(conn, order, status.value, now)
            recovered += 1
        await repo.drop_stale_slots(conn, now=now)
    return recovered
