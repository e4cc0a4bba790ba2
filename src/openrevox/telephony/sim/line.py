"""A simulated line at text fidelity: utterances travel as text, durations are scaled."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

HANGUP = object()


async def next_item(queue: asyncio.Queue[object], within: float) -> object:
    """The queue's next item within ``within`` seconds (raises ``TimeoutError``). Unlike
    ``asyncio.wait_for`` on Python 3.11, never drops an item taken at the very moment
    the timeout fires."""
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter}, timeout=within)
    if getter in done:
        return getter.result()
    getter.cancel()
    try:
        return await getter  # it may have taken an item before the cancellation landed
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        raise TimeoutError from None


@dataclass(slots=True)
class Utterance:
    text: str
    dtmf: str | None = None


@dataclass
class SimLine:
    """Both ends of one call. ``speed`` divides every real duration."""

    speed: float
    to_agent: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    to_person: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    agent_hung_up: bool = False
    person_hung_up: bool = False
    person_speaking: bool = False
    transfers: list[str] = field(default_factory=list)

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed

    # -- the agent's side (telephony.base.Line) --
    async def hear(self, wait: float) -> str | None:
        if self.person_hung_up and self.to_agent.empty():
            return None
        try:
            item = await next_item(self.to_agent, self.scaled(wait))
        except TimeoutError:
            return None
        if item is HANGUP:
            return None
        assert isinstance(item, Utterance)
        return item.text

    async def say(self, text: str) -> None:
        if not self.person_hung_up:
            # Speaking takes time: about 15 characters a second.
            await asyncio.sleep(self.scaled(min(len(text) / 15.0, 8.0)))
            await self.to_person.put(Utterance(text))

    async def send_dtmf(self, digits: str) -> None:
        await self.to_person.put(Utterance("", dtmf=digits))

    async def transfer(self, number: str) -> bool:
        self.transfers.append(number)
        return True

    async def hang_up(self) -> None:
        self.agent_hung_up = True
        await self.to_person.put(HANGUP)

    @property
    def callee_hung_up(self) -> bool:
        return self.person_hung_up

    @property
    def callee_speaking(self) -> bool:
        return self.person_speaking

    # -- the simulated person's side --
    async def person_says(self, text: str) -> None:
        self.person_speaking = True
        try:
            await asyncio.sleep(self.scaled(min(len(text) / 15.0, 8.0)))
        finally:
            self.person_speaking = False
        await self.to_agent.put(Utterance(text))

    async def person_hears(self, wait: float) -> Utterance | None:
        try:
            item = await next_item(self.to_person, self.scaled(wait))
        except TimeoutError:
            return None
        return None if item is HANGUP else item  # type: ignore[return-value]

    async def person_hangs_up(self) -> None:
        self.person_hung_up = True
        await self.to_agent.put(HANGUP)
