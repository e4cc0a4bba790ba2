"""The agent's side of answer detection: its first words wait for the line's decision."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from openrevox.domain.answer_detection import CEILING, Decision
from openrevox.telephony.base import CallRequest, Line


async def answered(request: CallRequest, line: Line, seconds: Callable[[float], float]) -> Decision:
    """Who answered: the line's decision, awaited together with the assistant's
    ``first_sentence_delay_ms`` (the first sentence starts when both are over; the
    decision comes ``CEILING`` seconds after the answer at the latest, so a delay
    longer than that is the only wait)."""
    delay = float(request.assistant.get("first_sentence_delay_ms") or 0) / 1000
    decision, _ = await asyncio.gather(line.answered_by(CEILING), asyncio.sleep(seconds(delay)))
    return decision
