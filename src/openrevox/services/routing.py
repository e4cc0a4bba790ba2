"""Routing per call (domain/routing.py) with what it needs from the store: the provider
of the caller-ID number, looked up once for any number of destinations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.routing import Route, route_call
from openrevox.store.repositories import phone_numbers
from openrevox.store.repositories.accounts import Principal


@dataclass(frozen=True, slots=True)
class Router:
    """The routing inputs of one key and caller ID; ``route`` is pure (safe in a thread)."""

    mode: str
    carriers: tuple[str, ...]
    line_number: str | None
    line_provider: str | None

    def route(self, remote_number: str) -> Route:
        return route_call(
            mode=self.mode,
            remote_number=remote_number,
            carriers=self.carriers,
            line_number=self.line_number,
            line_provider=self.line_provider,
        )

    def refusal(self, remote_number: str) -> str | None:
        return self.route(remote_number).refusal

    @property
    def refuses(self) -> Callable[[str], str | None] | None:
        """``refusal``, or None when no number can be refused (a test key)."""
        return None if self.mode == "test" else self.refusal


async def router_for(
    conn: AsyncConnection, principal: Principal, carriers: tuple[str, ...], line: str | None
) -> Router:
    provider = None
    if principal.mode == "live" and carriers:
        provider = await phone_numbers.line_provider(
            conn, organization_id=principal.organization_id, mode=principal.mode, number=line
        )
    return Router(principal.mode, carriers, line, provider)
