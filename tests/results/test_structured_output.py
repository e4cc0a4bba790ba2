"""Extracted values coerced to their declared types; required fields always present."""

from __future__ import annotations

from typing import Any

import pytest

from openrevox.results.structured_output import coerce, coerce_value, json_schema


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        ({"type": "string"}, "  Alex ", "Alex"),
        ({"type": "string"}, 42, "42"),
        ({"type": "string"}, {"a": 1}, None),
        ({"type": "number"}, "42", 42),
        ({"type": "number"}, "3.50", 3.5),
        ({"type": "number"}, "$1,200", 1200),
        ({"type": "number"}, "many", None),
        ({"type": "number"}, True, None),
        ({"type": "boolean"}, "Yes.", True),
        ({"type": "boolean"}, "no", False),
        ({"type": "boolean"}, False, False),
        ({"type": "boolean"}, "maybe", None),
        ({"type": "enum", "enum_options": ["Gold", "Silver"]}, "gold", "Gold"),
        ({"type": "enum", "enum_options": ["Gold", "Silver"]}, "bronze", None),
        ({"type": "date"}, "2026-12-01", "2026-12-01"),
        ({"type": "date"}, "December 1, 2026", "2026-12-01"),
        ({"type": "date"}, "2026-12-01T10:00:00Z", "2026-12-01"),
        ({"type": "date"}, "next week", None),
        ({"type": "datetime"}, "2026-12-01T10:00:00Z", "2026-12-01T10:00:00+00:00"),
        ({"type": "datetime"}, "tomorrow at ten", None),
        ({"type": "string"}, "   ", None),
    ],
)
def test_values_take_their_declared_type(field: dict[str, Any], raw: Any, expected: Any) -> None:
    assert coerce_value(field, raw) == expected


def test_required_fields_are_present_even_when_unknown() -> None:
    fields = [
        {"name": "email", "type": "string", "required": True},
        {"name": "age", "type": "number", "required": False},
        {"name": "vip", "type": "boolean", "required": False},
    ]
    assert coerce(fields, {"age": "forty", "vip": "yes"}) == {"email": None, "vip": True}
    assert coerce([], {"anything": 1}) is None


def test_json_schema_lists_required_fields_and_enum_options() -> None:
    schema = json_schema(
        [
            {"name": "plan", "type": "enum", "enum_options": ["a", "b"], "required": True,
             "description": "the plan"},
            {"name": "when", "type": "date", "required": False},
        ]
    )  # fmt: skip
    assert schema["required"] == ["plan"]
    assert schema["properties"]["plan"]["enum"] == ["a", "b", None]
    assert schema["properties"]["plan"]["description"] == "the plan"
    assert schema["properties"]["when"]["format"] == "date"
