"""The one door through which an order's status changes (see domain.lifecycle): the
change, and the webhook event when the order reaches a terminal status, in the same
transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.lifecycle import OrderEvent, OrderStatus, is_terminal, transition
from openrevox.results import webhooks
from openrevox.store.repositories import calls
from openrevox.store.repositories.calls import CallOrderRecord


def move(current: OrderStatus, event: OrderEvent) -> OrderStatus:
    return transition(current, event)


async def apply(
    conn: AsyncConnection,
    order: CallOrderRecord,
    event: OrderEvent,
    now: datetime,
    **values: Any,
) -> OrderStatus:
    """Move ``order`` by ``event``, write ``values`` with it, and enqueue the webhook of a
    terminal status. Returns the new status."""
    status = transition(OrderStatus(order.status), event)
    await calls.update_order(conn, order.id, {**values, "status": status.value, "updated_at": now})
    await after_change(conn, order, status, now)
    return status


async def after_change(
    conn: AsyncConnection, order: CallOrderRecord, status: OrderStatus, now: datetime
) -> None:
    """What follows a status change written elsewhere (bulk paths, the engine)."""
    if is_terminal(status) and not is_terminal(OrderStatus(order.status)):
        await webhooks.order_reached_terminal(conn, order, status.value, now)
