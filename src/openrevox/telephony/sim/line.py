"""A simulated line at text fidelity: utterances travel as text, durations are scaled.

Answer detection runs here on the evidence text fidelity has: each utterance of the
callee as a span of voice (its scaled duration) heard as it goes, its words revealed in
proportion to the time spoken (a streaming recogniser's interim text), and the
answering machine's beep as a structured tone event (``person_beeps``: a frequency
and a length drawn from the line's seed), fed to the same policy as audio
(``domain/answer_detection.py``).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from openrevox.domain.answer_detection import Decision, Opening, Tone

HANGUP = object()


async def next_item(queue: asyncio.Queue[object], within: float) -> object:
    """The queue's next item within ``within`` seconds (raises ``TimeoutError``). Unlike
    ``asyncio.wait_for`` on Python 3.11, never drops an item taken at the very moment
    the timeout fires, and returns an item already waiting even when ``within`` is 0."""
    if not queue.empty():
        return queue.get_nowait()
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
    agent_speaking: bool = False
    transfers: list[str] = field(default_factory=list)
    seed: int = 0  # draws the answering machine's beep
    _cut_in: asyncio.Future[None] | None = None  # resolved when the person talks over us
    opening: Opening = field(default_factory=Opening)
    _answered_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())
    _beeped: asyncio.Event = field(default_factory=asyncio.Event)
    _said: list[str] = field(default_factory=list)  # the callee's utterances so far
    _speaking: tuple[str, float, float] | None = None  # text, since, seconds

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed

    def since_answer(self) -> float:
        """Real seconds since the answer (the line's durations are scaled)."""
        return (asyncio.get_running_loop().time() - self._answered_at) * self.speed

    def beep_shape(self) -> tuple[float, float]:
        """This line's beep: (Hz, seconds), within what answering machines use."""
        draw = random.Random(self.seed)
        return round(draw.uniform(400.0, 2000.0)), round(draw.uniform(0.2, 1.5), 2)

    async def answered_by(self, ceiling: float) -> Decision:
        while True:
            now = self.since_answer()
            if self.person_speaking and self._speaking is not None:
                # heard as it goes: the voice, and the words said so far (as a streaming
                # recogniser's interim transcript has them)
                text, since, length = self._speaking
                self.opening.voice(since, now)
                words = text.split()
                said = words[: int(len(words) * min((now - since) / length, 1.0))]
                self.opening.heard(" ".join([*self._said, *said]), now)
            decided = self.opening.decide(now, final=now >= ceiling)
            if decided is not None:
                return decided
            await asyncio.sleep(self.scaled(0.02))

    async def heard_beep(self, wait: float) -> bool:
        try:
            await asyncio.wait_for(self._beeped.wait(), self.scaled(wait))
        except TimeoutError:
            return False
        return True

    def answer_facts(self) -> dict[str, Any]:
        """The attempt's ``openrevox`` facts of answer detection (none if it never ran)."""
        return self.opening.facts()

    # -- the agent's side (telephony.base.Line) --
    async def hear(self, wait: float) -> str | None:
        if self.person_hung_up and self.to_agent.empty():
            return None
        try:
            item = await next_item(self.to_agent, self.scaled(wait)) if wait > 0 else None
        except TimeoutError:
            item = None
        if item is None:
            # What is there already: a zero wait never looks, and an item put as the
            # wait ran out stays in the queue when the getter is cancelled.
            try:
                item = self.to_agent.get_nowait()
            except asyncio.QueueEmpty:
                return None
        if item is HANGUP:
            return None
        assert isinstance(item, Utterance)
        return item.text

    async def say(self, text: str) -> str:
        """Speaking takes time: about 15 characters a second. If the person starts
        talking meanwhile, the agent is cut off: only the words said so far reach them
        (and are returned)."""
        if self.person_hung_up:
            return ""
        loop = asyncio.get_running_loop()
        duration = self.scaled(min(len(text) / 15.0, 8.0))
        started, cut_in = loop.time(), loop.create_future()
        self._cut_in, self.agent_speaking = cut_in, True
        try:
            await asyncio.wait({cut_in}, timeout=duration)
        finally:
            self._cut_in, self.agent_speaking = None, False
        said = text
        if cut_in.done() and duration > 0:
            words = text.split()
            share = min((loop.time() - started) / duration, 1.0)
            said = " ".join(words[: max(1, int(len(words) * share))])
        if not self.person_hung_up:
            await self.to_person.put(Utterance(said))
        return said

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
    async def person_says(self, text: str, *, interrupt: bool = False) -> None:
        """Say ``text`` once the agent has finished its sentence (a person does not talk
        over the caller), or at once when ``interrupt`` (a barge-in: the agent is cut)."""
        while self.agent_speaking and not interrupt and not self.agent_hung_up:  # noqa: ASYNC110 - polls a flag of the line
            await asyncio.sleep(self.scaled(0.05))
        self.person_speaking = True
        if self._cut_in is not None and not self._cut_in.done():
            self._cut_in.set_result(None)
        start, length = self.since_answer(), min(len(text) / 15.0, 8.0)
        self._speaking = (text, start, length)
        try:
            await asyncio.sleep(self.scaled(length))
        finally:
            self.person_speaking, self._speaking = False, None
        end = self.since_answer()
        self.opening.voice(start, end)
        self._said.append(text)
        self.opening.heard(" ".join(self._said), end)
        await self.to_agent.put(Utterance(text))

    async def person_beeps(self) -> None:
        """The answering machine's beep (``beep_shape``), heard as a tone event."""
        hz, seconds = self.beep_shape()
        start = self.since_answer()
        await asyncio.sleep(self.scaled(seconds))
        self.opening.tone(Tone(at=start, hz=hz, seconds=seconds))
        self._beeped.set()

    async def person_waits_for_the_agent_to_speak(self, wait: float) -> bool:
        """Until the agent is mid-sentence (True), or ``wait`` seconds passed."""
        deadline = asyncio.get_running_loop().time() + self.scaled(wait)
        while not self.agent_speaking:
            if asyncio.get_running_loop().time() >= deadline or self.agent_hung_up:
                return False
            await asyncio.sleep(self.scaled(0.05))
        return True

    async def person_hears(self, wait: float) -> Utterance | None:
        try:
            item = await next_item(self.to_person, self.scaled(wait))
        except TimeoutError:
            return None
        return None if item is HANGUP else item  # type: ignore[return-value]

    async def person_hangs_up(self) -> None:
        self.person_hung_up = True
        await self.to_agent.put(HANGUP)
