"""The keyword rules the answer classifier replaced (agent/understanding.py before issue
25), kept verbatim as the benchmark's baseline: the sandbox agent read its first
utterance with them, the beep arriving as the utterance ``[beep]``."""

from __future__ import annotations

import re


def is_voicemail(text: str) -> bool:
    lowered = text.lower()
    return any(
        marker in lowered
        for marker in (
            "leave a message",
            "after the tone",
            "after the beep",
            "can't take your call",
            "[beep]",
        )
    )


def is_ivr(text: str) -> bool:
    return re.search(r"\bpress \d\b", text.lower()) is not None


def is_screening(text: str) -> bool:
    lowered = text.lower()
    return any(
        marker in lowered for marker in ("reason for calling", "record your name", "screening")
    )


def keyword_result(first_utterance: str) -> str:
    """What the old sandbox agent concluded from the first utterance it heard."""
    if is_voicemail(first_utterance):
        return "voicemail"
    if is_screening(first_utterance):
        return "ios-screening-filter"
    if is_ivr(first_utterance):
        return "IVR"
    return "human" if first_utterance.strip() else "unknown"
