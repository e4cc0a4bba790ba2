"""Rule-based reading of what the other side said (the sandbox agent's ears)."""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "do",
        "does",
        "you",
        "your",
        "i",
        "me",
        "my",
        "to",
        "of",
        "for",
        "and",
        "or",
        "in",
        "on",
        "it",
        "what",
        "how",
    ]
)


def ivr_choice(text: str) -> str:
    """The digit of the first menu entry that sounds like a person (sales), else 1."""
    for digit, label in re.findall(r"press (\d) for (\w+)", text.lower()):
        if label in ("sales", "operator", "reception", "agent"):
            return str(digit)
    found = re.search(r"press (\d)", text.lower())
    return found.group(1) if found else "1"


def wants_no_more_calls(text: str) -> bool:
    lowered = text.lower()
    return any(
        m in lowered for m in ("stop calling", "do not call", "don't call", "remove my number")
    )


def wants_callback(text: str) -> bool:
    lowered = text.lower()
    return "call me back" in lowered or "call back later" in lowered


def wants_human(text: str) -> bool:
    lowered = text.lower()
    return any(
        m in lowered for m in ("speak to a human", "real person", "talk to someone", "an agent")
    )


def wants_meeting(text: str) -> bool:
    lowered = text.lower()
    return "book" in lowered and (
        "meeting" in lowered or "appointment" in lowered or "call" in lowered
    )


# Said with a question mark, but asking nothing: a greeting or a prompt to go on.
GREETINGS = frozenset(["hello", "hi", "hey", "yes", "yeah", "allo", "sorry", "pardon"])


def is_question(text: str) -> bool:
    """A real question ("What does it cost?"), not a "Hello?" on picking up."""
    return "?" in text and bool(_tokens(text) - GREETINGS)


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z0-9]+", text.lower()) if t not in STOP_WORDS}


def faq_answer(question: str, faq: list[dict[str, Any]]) -> str | None:
    """The answer of the FAQ item that shares most words with the question (at least half
    of the item's own question words)."""
    asked = _tokens(question)
    best, best_score = None, 0.0
    for item in faq:
        if item.get("needs_human_answer"):
            continue
        words = _tokens(item.get("question", ""))
        if not words:
            continue
        score = len(asked & words) / len(words)
        if score > best_score:
            best, best_score = item.get("answer"), score
    return best if best_score >= 0.5 else None


def extract(field: dict[str, Any], reply: str) -> Any:
    """A structured-output value read from the answer to the question about ``field``."""
    kind = field.get("type", "string")
    lowered = reply.lower()
    name = field.get("name", "").lower()
    if kind == "boolean":
        if re.search(r"\b(yes|yeah|sure|absolutely|of course|correct)\b", lowered):
            return True
        if re.search(r"\b(no|nope|not really|never)\b", lowered):
            return False
        return None
    if kind == "number":
        found = NUMBER.search(reply)
        return float(found.group(0).replace(",", ".")) if found else None
    if kind == "enum":
        for option in field.get("enum_options") or []:
            if option.lower() in lowered:
                return option
        return None
    if "email" in name:
        found = EMAIL.search(reply)
        return found.group(0) if found else None
    match = re.search(r"\b(?:is|am|it's|i'm)\s+(.+?)[.!]?$", reply, re.IGNORECASE)
    value = (match.group(1) if match else reply).strip().rstrip(".!")
    if "name" in name:  # "Alex Martin from sales": the name, not where they work
        value = re.split(r"\s+(?:from|at|of|with)\s+", value, maxsplit=1)[0]
    return value or None
