"""A line whose media fails mid-call (TTS, STT) ends the attempt cleanly: an ``error``
with the fault's reason, the transcript so far kept, never an exception to the engine."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openrevox.domain.clock import SystemClock
from openrevox.settings import Settings
from openrevox.store.db import Database, create_engine
from openrevox.store.migrate import upgrade_to_head
from openrevox.store.repositories.sim_ledger import SimLedger
from openrevox.telephony.base import (
    CallRequest,
    ConversationOutcome,
    Line,
    LineFault,
    Transcript,
    TranscriptEntry,
)
from openrevox.telephony.sim.network import SimulatedNetwork


class _Events:
    def __init__(self) -> None:
        self.transcripts: list[int] = []

    async def ringing(self, at: datetime) -> None:
        pass

    async def answered(self, at: datetime) -> None:
        pass

    def transcript_changed(self, entries: list[TranscriptEntry]) -> None:
        self.transcripts.append(len(entries))


class _SpeechSynthesisDies:
    """An agent whose speech synthesis fails after the callee's first words."""

    async def run(
        self,
        request: CallRequest,
        line: Line,
        seconds: Callable[[float], float],
        transcript: Transcript,
    ) -> ConversationOutcome:
        heard = await line.hear(5.0)
        transcript.append(TranscriptEntry(role="user", content=heard or ""))
        raise LineFault("tts_error", "the synthesiser crashed")


def test_a_line_fault_ends_the_attempt_with_its_reason(tmp_path: Path) -> None:
    url = Settings(database_url=f"sqlite:///{tmp_path / 'faults.db'}").database_url
    upgrade_to_head(url)

    async def scenario() -> None:
        db = Database(create_engine(url, pool_size=1))
        network = SimulatedNetwork(ledger=SimLedger(db), clock=SystemClock(), speed=100.0)
        request = CallRequest(
            attempt_id=str(uuid.uuid4()), call_order_id=str(uuid.uuid4()),
            organization_id=str(uuid.uuid4()), to_number="+14155550100",
            from_number="+14155550000", attempt_number=1, max_attempts=2,
            assistant={}, prompt_variables={},
        )  # fmt: skip
        events = _Events()
        result = await network.place_call(request, events, lambda _r: _SpeechSynthesisDies())
        assert result.platform_error == "tts_error" and result.end_reason == "tts_error"
        assert result.ended_by == "system" and result.result == "human"
        assert [entry.content for entry in result.transcript] == ["Hello?"]
        assert events.transcripts == [1]  # saved live
        await db.engine.dispose()

    asyncio.run(scenario())
