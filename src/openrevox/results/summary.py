"""A brief, factual summary of one attempt (the webhook's ``annotation``)."""

from __future__ import annotations

from openrevox.store.repositories.calls import AttemptRecord

_RESULTS = {
    "human": "Reached a person",
    "voicemail": "Reached voicemail",
    "IVR": "Reached an IVR menu",
    "ios-screening-filter": "Stopped by a call-screening assistant",
    "unknown": "Answered, but nobody spoke",
}


def annotate(attempt: AttemptRecord | None) -> str:
    if attempt is None:
        return "No attempt was made."
    if attempt.dial_error:
        return f"Not answered: {attempt.dial_error.replace('_', ' ')}."
    parts = [_RESULTS.get(attempt.result or "", "Call ended")]
    if attempt.ended_by:
        # openrevox's own reason says more than the contract value it maps onto.
        why = (attempt.openrevox or {}).get("error_reason") or attempt.end_reason
        reason = f" ({str(why).replace('_', ' ')})" if why else ""
        parts.append(f"ended by the {attempt.ended_by}{reason}")
    summary = "; ".join(parts) + "."
    if attempt.structured_output:
        summary += " Extracted: " + ", ".join(sorted(attempt.structured_output)) + "."
    return summary


def transcript_text(attempt: AttemptRecord | None) -> str:
    lines = []
    for entry in (attempt.transcript if attempt else None) or []:
        role = entry.get("role")
        if role == "tool":
            lines.append(f"[tool {entry.get('tool_name')}] {entry.get('content', '')}")
        else:
            lines.append(
                f"{'Agent' if role == 'assistant' else 'User'}: {entry.get('content', '')}"
            )
    return "\n".join(lines)
