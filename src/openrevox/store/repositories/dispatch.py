"""All the SQL of dispatch: claiming due orders with their concurrency slots, leases,
finishing attempts and recovering the attempts of lost workers."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.lifecycle import OrderEvent, OrderStatus, transition
from openrevox.domain.retry_config import policy_from_wire
from openrevox.domain.schedule import RetryPolicy, in_window, next_dial_time
from openrevox.store.repositories.calls import CallOrderRecord, order_from_row
from openrevox.store.tables import (
    assistants,
    call_attempts,
    call_orders,
    campaigns,
    concurrency_keys,
    concurrency_slots,
    do_not_contact,
    faq_items,
    organizations,
)

LIVE_ATTEMPT_STATUSES = ("queued", "ringing", "ongoing")
DUE_STATUSES = ("scheduled", "queued_for_calling")


@dataclass(frozen=True, slots=True)
class ClaimedAttempt:
    attempt_id: str
    attempt_number: int
    order: CallOrderRecord
    policy: RetryPolicy
    started_at: datetime


def policy_of(order: CallOrderRecord) -> RetryPolicy:
    return policy_from_wire(order.call_retry_config, zoneinfo.ZoneInfo(order.timezone))


def _scopes(
    row: sa.RowMapping, order: CallOrderRecord, default_key_limit: int
) -> list[tuple[str, int]]:
    scopes = [(f"org:{order.organization_id}", int(row["org_limit"]))]
    if order.concurrency_key:
        limit = order.concurrency_max or row["key_limit"] or default_key_limit
        scopes.append(
            (f"key:{order.organization_id}:{order.mode}:{order.concurrency_key}", int(limit))
        )
    if order.campaign_id and row["campaign_limit"]:
        scopes.append((f"campaign:{order.campaign_id}", int(row["campaign_limit"])))
    return scopes


def _new_attempt(
    attempt_id: str,
    order: CallOrderRecord,
    number: int,
    *,
    worker_id: str,
    now: datetime,
    lease: datetime,
) -> dict[str, Any]:
    return {
        "id": attempt_id,
        "call_order_id": order.id,
        "organization_id": order.organization_id,
        "attempt_number": number,
        "status": "queued",
        "phone_number": order.to_phone_number,
        "dial_error": None,
        "result": None,
        "ended_by": None,
        "end_reason": None,
        "handled_by_ai": False,
        "handled_by_human": False,
        "transcript": None,
        "structured_output": None,
        "recording_key": None,
        "worker_id": worker_id,
        "lease_expires_at": lease,
        "created_at": now,
        "started_at": now,
        "answered_at": None,
        "ended_at": None,
    }


def _due_query(now: datetime, limit: int, postgres: bool) -> sa.Select[Any]:
    query = (
        sa.select(
            *call_orders.c,
            campaigns.c.name.label("campaign_name"),
            organizations.c.concurrency_limit.label("org_limit"),
            campaigns.c.max_concurrent_calls.label("campaign_limit"),
            concurrency_keys.c.max_concurrent_calls.label("key_limit"),
        )
        .select_from(
            call_orders.join(organizations, organizations.c.id == call_orders.c.organization_id)
            .outerjoin(campaigns, campaigns.c.id == call_orders.c.campaign_id)
            .outerjoin(
                concurrency_keys,
                sa.and_(
                    concurrency_keys.c.organization_id == call_orders.c.organization_id,
                    concurrency_keys.c.mode == call_orders.c.mode,
                    concurrency_keys.c.key == call_orders.c.concurrency_key,
                ),
            )
        )
        .where(call_orders.c.status.in_(DUE_STATUSES), call_orders.c.next_attempt_at <= now)
        .order_by(call_orders.c.next_attempt_at, call_orders.c.id)
        .limit(limit)
    )
    if postgres:
        query = query.with_for_update(of=call_orders, skip_locked=True)
    return query


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    worker_id: str,
    capacity: int,
    lease_seconds: float,
    default_key_limit: int,
) -> list[ClaimedAttempt]:
    """Start up to ``capacity`` due attempts whose slots are free; the rest wait queued.

    A due order outside its calling window (it waited too long for a slot) is moved to
    the next window opening. Slots are rows: a full scope leaves the order queued."""
    postgres = conn.dialect.name == "postgresql"
    rows = list((await conn.execute(_due_query(now, capacity * 4, postgres))).mappings())
    if not rows:
        return []
    candidates = [(row, order_from_row(row)) for row in rows]
    scope_names = {
        s for row, order in candidates for s, _ in _scopes(row, order, default_key_limit)
    }
    taken: dict[str, set[int]] = {name: set() for name in scope_names}
    for scope, slot in await conn.execute(
        sa.select(concurrency_slots.c.scope, concurrency_slots.c.slot).where(
            concurrency_slots.c.scope.in_(scope_names)
        )
    ):
        taken[scope].add(slot)

    expires = now + timedelta(seconds=lease_seconds)
    claimed: list[ClaimedAttempt] = []
    slots: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    started: list[dict[str, Any]] = []
    waiting: list[dict[str, Any]] = []
    for row, order in candidates:
        policy = policy_of(order)
        first_skips_window = order.skip_calling_window and order.calls_count == 0
        if not first_skips_window and not in_window(policy, now):
            later = next_dial_time(policy, now)
            status = OrderStatus(order.status)
            if status == OrderStatus.QUEUED_FOR_CALLING:
                status = transition(status, OrderEvent.RESCHEDULED)
            waiting.append(
                {"b_id": order.id, "b_status": status.value, "b_next": later, "b_sched": later}
            )
            continue
        if len(claimed) >= capacity:
            continue
        wanted = []
        for scope, limit in _scopes(row, order, default_key_limit):
            free = next((i for i in range(limit) if i not in taken[scope]), None)
            if free is None:
                break
            wanted.append((scope, free))
        else:
            attempt_id = str(uuid.uuid4())
            for scope, slot in wanted:
                taken[scope].add(slot)
                slots.append(
                    {"scope": scope, "slot": slot, "attempt_id": attempt_id, "expires_at": expires}
                )
            number = order.calls_count + 1
            attempts.append(
                _new_attempt(attempt_id, order, number, worker_id=worker_id, now=now, lease=expires)
            )
            status = OrderStatus(order.status)
            if status == OrderStatus.SCHEDULED:
                status = transition(status, OrderEvent.BECAME_DUE)
            dialing = transition(status, OrderEvent.SLOT_CLAIMED)
            started.append(
                {"b_id": order.id, "b_status": dialing.value, "b_count": number, "b_at": now}
            )
            claimed.append(ClaimedAttempt(attempt_id, number, order, policy, now))
            continue
        if order.status == OrderStatus.SCHEDULED:  # due, but no slot yet
            queued = transition(OrderStatus.SCHEDULED, OrderEvent.BECAME_DUE)
            waiting.append(
                {
                    "b_id": order.id,
                    "b_status": queued.value,
                    "b_next": order.next_attempt_at,
                    "b_sched": order.scheduled_at,
                }
            )
    if slots:
        await conn.execute(sa.insert(concurrency_slots), slots)
    if attempts:
        await conn.execute(sa.insert(call_attempts), attempts)
        await conn.execute(
            sa.update(call_orders)
            .where(call_orders.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("b_status"),
                calls_count=sa.bindparam("b_count"),
                next_attempt_at=None,
                last_attempt_at=sa.bindparam("b_at"),
                updated_at=sa.bindparam("b_at"),
            ),
            started,
        )
    if waiting:
        await conn.execute(
            sa.update(call_orders)
            .where(call_orders.c.id == sa.bindparam("b_id"))
            .values(
                status=sa.bindparam("b_status"),
                next_attempt_at=sa.bindparam("b_next"),
                scheduled_at=sa.bindparam("b_sched"),
                updated_at=now,
            ),
            waiting,
        )
    return claimed


async def mark_attempt(
    conn: AsyncConnection, attempt_id: str, worker_id: str, values: dict[str, Any]
) -> None:
    await conn.execute(
        sa.update(call_attempts)
        .where(
            call_attempts.c.id == attempt_id,
            call_attempts.c.worker_id == worker_id,
            call_attempts.c.status.in_(LIVE_ATTEMPT_STATUSES),
        )
        .values(**values)
    )


async def renew_leases(
    conn: AsyncConnection, *, worker_id: str, attempt_ids: list[str], until: datetime
) -> None:
    if not attempt_ids:
        return
    await conn.execute(
        sa.update(call_attempts)
        .where(call_attempts.c.id.in_(attempt_ids), call_attempts.c.worker_id == worker_id)
        .values(lease_expires_at=until)
    )
    await conn.execute(
        sa.update(concurrency_slots)
        .where(concurrency_slots.c.attempt_id.in_(attempt_ids))
        .values(expires_at=until)
    )


async def end_attempt(
    conn: AsyncConnection, *, attempt_id: str, worker_id: str | None, values: dict[str, Any]
) -> bool:
    """Write the attempt's end if it is still live (and ours); False when someone else
    (recovery) already ended it. Its slots are released either way."""
    query = sa.update(call_attempts).where(
        call_attempts.c.id == attempt_id, call_attempts.c.status.in_(LIVE_ATTEMPT_STATUSES)
    )
    if worker_id is not None:
        query = query.where(call_attempts.c.worker_id == worker_id)
    result = await conn.execute(query.values(**values, lease_expires_at=None))
    await conn.execute(
        sa.delete(concurrency_slots).where(concurrency_slots.c.attempt_id == attempt_id)
    )
    return bool(result.rowcount)


async def lock_order(conn: AsyncConnection, call_order_id: str) -> CallOrderRecord | None:
    query = sa.select(*call_orders.c, sa.literal(None).label("campaign_name")).where(
        call_orders.c.id == call_order_id
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    return order_from_row(row) if row else None


async def update_order(conn: AsyncConnection, call_order_id: str, values: dict[str, Any]) -> None:
    await conn.execute(
        sa.update(call_orders).where(call_orders.c.id == call_order_id).values(**values)
    )


async def expired_attempts(
    conn: AsyncConnection, *, now: datetime, limit: int
) -> list[tuple[str, str, datetime]]:
    """(attempt id, order id, started_at) of live attempts whose lease ran out."""
    query = (
        sa.select(call_attempts.c.id, call_attempts.c.call_order_id, call_attempts.c.started_at)
        .where(
            call_attempts.c.status.in_(LIVE_ATTEMPT_STATUSES),
            call_attempts.c.lease_expires_at < now,
        )
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [(r.id, r.call_order_id, r.started_at) for r in await conn.execute(query)]


async def drop_stale_slots(conn: AsyncConnection, *, now: datetime) -> None:
    await conn.execute(sa.delete(concurrency_slots).where(concurrency_slots.c.expires_at < now))


async def add_do_not_contact(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: str,
    phone_number: str,
    reason: str,
    now: datetime,
) -> None:
    exists = await conn.execute(
        sa.select(do_not_contact.c.phone_number).where(
            do_not_contact.c.organization_id == organization_id,
            do_not_contact.c.mode == mode,
            do_not_contact.c.phone_number == phone_number,
        )
    )
    if exists.first() is None:
        await conn.execute(
            sa.insert(do_not_contact).values(
                organization_id=organization_id,
                mode=mode,
                phone_number=phone_number,
                reason=reason,
                created_at=now,
            )
        )


async def add_pending_faq(
    conn: AsyncConnection, *, assistant_id: str, questions: tuple[str, ...], now: datetime
) -> None:
    """Questions the agent could not answer become FAQ items awaiting a human answer."""
    exists = await conn.execute(sa.select(assistants.c.id).where(assistants.c.id == assistant_id))
    if exists.first() is None or not questions:
        return
    last = (
        await conn.execute(
            sa.select(sa.func.max(faq_items.c.position)).where(
                faq_items.c.assistant_id == assistant_id
            )
        )
    ).scalar()
    start = (last or 0) + 1
    await conn.execute(
        sa.insert(faq_items),
        [
            {
                "id": str(uuid.uuid4()), "assistant_id": assistant_id, "position": start + i,
                "question": question, "answer": "", "needs_human_answer": True, "source": "ai",
                "created_at": now,
            }
            for i, question in enumerate(questions)
        ],
    )  # fmt: skip
