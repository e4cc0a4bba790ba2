"""``end_reason`` on the wire: only the contract's values, and the one table that maps
openrevox's own reasons onto them.

SDK 0.5.0 types ``CallAttempt.end_reason`` as an enum; a strict client rejects any other
value. openrevox ends attempts for reasons of its own too (a lost worker, an LLM that
timed out, a provider that failed): those are written as the contract value of the
table below, and the reason itself goes into the attempt's ``openrevox`` extension
object as ``error_reason`` (``domain/attempt_extension.py``). docs/behaviour.md shows the
same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# SDK 0.5.0's enum, in its order (tests/domain/test_contract_values.py compares them).
END_REASONS: tuple[str, ...] = (
    "client_initiated",
    "connection_timeout",
    "human_takeover",
    "ivr_no_navigate",
    "max_duration",
    "participant_removed",
    "tool_end_call",
    "transfer",
    "user_inactive",
    "user_rejected",
    "user_unavailable",
    "voicemail",
    "speed_dial_abandoned",
    "speed_dial_operator_missed",
    "speed_dial_timeout",
    "speed_dial_hangup",
)
_CONTRACT = frozenset(END_REASONS)
NO_ROUTE = "no_route"

# Nobody heard from the call any more: its worker, its provider or its carrier went away.
LOST = "connection_timeout"
# Our side hung up because a part of the platform failed (the LLM, speech synthesis or
# recognition): the agent is the client that ended the call.
AGENT_FAULT = "client_initiated"

ERROR_END_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "worker_lost": LOST,  # the worker's lease expired mid-attempt
        "provider_error": LOST,  # the telephony provider raised while carrying the call
        "llm_timeout": AGENT_FAULT,  # the LLM sent nothing for OPENREVOX_LLM_TIMEOUT_SECONDS
        "llm_error": AGENT_FAULT,  # the LLM answered an error or an unreadable stream
        "llm_unreachable": AGENT_FAULT,  # the LLM endpoint could not be reached
        "tts_error": AGENT_FAULT,  # speech synthesis failed mid-call
        "stt_error": AGENT_FAULT,  # speech recognition failed mid-call
        "media_stream_lost": LOST,  # the carrier's media websocket dropped mid-call
        "media_stream_missing": LOST,  # the carrier answered but its media never came
        # A speech provider (audio/providers) could not be reached, or was lost mid-call.
        "tts_unreachable": AGENT_FAULT,
        "stt_unreachable": AGENT_FAULT,
        "tts_disconnected": AGENT_FAULT,
        "stt_disconnected": AGENT_FAULT,
        "stt_timeout": AGENT_FAULT,
        # Routing refused the attempt when it was due (the configuration changed since
        # the call was accepted, domain/routing.py): nothing was dialled.
        NO_ROUTE: AGENT_FAULT,
    }
)
"""openrevox's reasons and the contract value each is written as. A reason in neither
this table nor the contract (a new line fault) is written as ``AGENT_FAULT``."""


@dataclass(frozen=True, slots=True)
class WireEndReason:
    end_reason: str | None  # a contract value, or None
    error_reason: str | None  # openrevox's own reason, when it is not a contract value


def wire_end_reason(reason: str | None) -> WireEndReason:
    """The contract's ``end_reason`` for any reason the platform ended an attempt with."""
    if reason is None or reason in _CONTRACT:
        return WireEndReason(reason, None)
    return WireEndReason(ERROR_END_REASONS.get(reason, AGENT_FAULT), reason)


def is_contract_end_reason(reason: str | None) -> bool:
    return reason is None or reason in _CONTRACT
