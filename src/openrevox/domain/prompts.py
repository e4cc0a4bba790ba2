"""``{{variable}}`` placeholders in prompts and sentences."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")


def variables_in(*texts: str | None) -> set[str]:
    found: set[str] = set()
    for text in texts:
        if text:
            found.update(_PLACEHOLDER.findall(text))
    return found


def missing_variables(texts: Iterable[str | None], provided: Mapping[str, str] | None) -> list[str]:
    """Placeholders the texts use that ``provided`` does not fill, sorted."""
    return sorted(variables_in(*texts) - set(provided or {}))


def interpolate(text: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders we have values for; unknown ones stay as they are."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
