"""Extracted values checked and coerced to each field's declared type.

``structured_output_config`` declares fields of type string, number, boolean, enum,
date or datetime. Whatever extracted them (an LLM's JSON, the sandbox agent's slot
filling), a value that cannot be read as its type is dropped rather than stored wrong;
a required field is always present in the output, ``null`` when it was not obtained.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

TRUE = {"true", "yes", "y", "1", "oui", "sure", "correct", "absolutely"}
FALSE = {"false", "no", "n", "0", "non", "nope", "incorrect"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%B %d, %Y", "%d %B %Y", "%b %d, %Y")


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    text = re.sub(r"[\s,$€£]", "", str(value))
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in text else number


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower().rstrip(".!")
    return True if text in TRUE else False if text in FALSE else None


def _enum(value: Any, options: Sequence[str]) -> str | None:
    text = str(value).strip().lower()
    for option in options:
        if option.lower() == text:
            return option
    return None


def _date(value: Any) -> str | None:
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def _datetime(value: Any) -> str | None:
    text = str(value).strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


def coerce_value(field: Mapping[str, Any], value: Any) -> Any:
    """The value as the field's type, or None when it cannot be one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = field.get("type", "string")
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "enum":
        return _enum(value, [str(option) for option in field.get("enum_options") or []])
    if kind == "date":
        return _date(value)
    if kind == "datetime":
        return _datetime(value)
    if isinstance(value, dict | list):
        return None
    return str(value).strip()


def coerce(fields: Sequence[Mapping[str, Any]], raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The output for ``fields`` from ``raw`` values; None when no field is configured."""
    if not fields:
        return None
    output: dict[str, Any] = {}
    for field in fields:
        name = str(field["name"])
        value = coerce_value(field, raw.get(name))
        if value is not None or field.get("required"):
            output[name] = value
    return output


def json_schema(fields: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON schema an LLM fills for ``fields`` (nullable: it may not know)."""
    properties: dict[str, Any] = {}
    for field in fields:
        kind = field.get("type", "string")
        types: dict[str, dict[str, Any]] = {
            "number": {"type": ["number", "null"]},
            "boolean": {"type": ["boolean", "null"]},
            "date": {"type": ["string", "null"], "format": "date"},
            "datetime": {"type": ["string", "null"], "format": "date-time"},
        }
        spec = types.get(kind, {"type": ["string", "null"]})
        if kind == "enum":
            spec = {"type": ["string", "null"], "enum": [*(field.get("enum_options") or []), None]}
        if field.get("description"):
            spec = {**spec, "description": str(field["description"])}
        properties[str(field["name"])] = spec
    return {
        "type": "object",
        "properties": properties,
        "required": [str(field["name"]) for field in fields if field.get("required")],
    }
