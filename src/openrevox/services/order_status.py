"""The one door through which an order's status changes (see domain.lifecycle)."""

from __future__ import annotations

from openrevox.domain.lifecycle import OrderEvent, OrderStatus, transition


def move(current: OrderStatus, event: OrderEvent) -> OrderStatus:
    return transition(current, event)
