"""What a transcript holds, asked by the recordings and by GET /call/{id}'s readers."""

from __future__ import annotations

from typing import Any


def speaks(transcript: list[dict[str, Any]] | None) -> bool:
    """Whether a transcript has anything to turn into audio."""
    return any(
        entry.get("role") in ("assistant", "user") and str(entry.get("content") or "").strip()
        for entry in transcript or ()
    )
