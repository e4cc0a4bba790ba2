"""The sandbox agent's first sentence in ``generated`` mode.

``first_sentence`` is then an instruction to an LLM ("Greet {{first_name}} and tell them
about the spring offer"), never words to read aloud. With no LLM, the sentence is composed
by a fixed rule from what the instruction and the prompt say (docs/sandbox.md):

- a greeting, with the callee's ``first_name`` when the variables give one;
- who calls: the assistant's name when it has a real one, and the company of an
  "on behalf of X" in the instruction or the prompt;
- why: the subject of the first "about X" (also "regarding", "concerning",
  "mention X") in the instruction, else in the prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from openrevox.domain.prompts import interpolate

# Names our API gives an assistant that nobody named: not said aloud.
_PLACEHOLDER_NAMES = frozenset({"", "inline assistant", "untitled assistant", "assistant"})
_SUBJECT = re.compile(
    r"\b(?:about|regarding|concerning|mention(?:ing)?|present(?:ing)?)\s+(.+?)(?:[.;!?\n]|,\s|$)",
    re.IGNORECASE,
)
_ON_BEHALF = re.compile(r"\bon behalf of\s+(.+?)(?:[.;!?\n]|,\s|\s+about\b|$)", re.IGNORECASE)
# The instruction speaks to the agent about the callee: say it to the callee instead.
_POINT_OF_VIEW = (
    (re.compile(r"\b(?:them|him|her)\b", re.IGNORECASE), "you"),
    (re.compile(r"\b(?:their|his)\b", re.IGNORECASE), "your"),
)


def _spoken(phrase: str) -> str:
    for pattern, replacement in _POINT_OF_VIEW:
        phrase = pattern.sub(replacement, phrase)
    return phrase.strip().rstrip(",")


def _first(pattern: re.Pattern[str], *texts: str) -> str | None:
    for text in texts:
        found = pattern.search(text)
        if found and found.group(1).strip():
            return _spoken(found.group(1))
    return None


def generated_first_sentence(assistant: Mapping[str, Any], variables: Mapping[str, str]) -> str:
    """The opening the sandbox agent says for ``first_sentence_mode: generated``."""
    instruction = interpolate(str(assistant.get("first_sentence") or ""), variables)
    prompt = interpolate(str(assistant.get("prompt") or ""), variables)
    first_name = (variables.get("first_name") or "").strip()
    greeting = f"Hello {first_name}," if first_name else "Hello,"
    name = str(assistant.get("name") or "").strip()
    company = _first(_ON_BEHALF, instruction, prompt)
    subject = _first(_SUBJECT, instruction, prompt)
    about = f" about {subject}" if subject else ""
    if name.lower() not in _PLACEHOLDER_NAMES:
        sentence = f"{greeting} this is {name}" + (f" from {company}." if company else ".")
        return sentence + (f" I'm calling{about}." if subject else "")
    if company:
        return f"{greeting} I'm calling on behalf of {company}{about}."
    if subject:
        return f"{greeting} I'm calling{about}."
    return f"{greeting} thank you for taking my call."
