"""Every key the official SDK's models declare must be present in what we send.

The SDK (Stainless) gives every field a default, so a missing key silently becomes None
in user code; this walks the model classes and the raw JSON side by side instead.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel


def _variants(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if origin is typing.Annotated:
        return _variants(typing.get_args(annotation)[0])
    return [annotation]


def _check_value(annotation: Any, value: Any, path: str, missing: list[str]) -> None:
    if value is None:
        return
    candidates = _variants(annotation)
    models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    if models and isinstance(value, dict):
        chosen = models[0]
        if len(models) > 1 and "type" in value:  # discriminated unions (llm_model)
            for model in models:
                field = model.model_fields.get("type")
                if field is not None and value["type"] in typing.get_args(field.annotation):
                    chosen = model
        missing.extend(missing_keys(chosen, value, path))
        return
    for candidate in candidates:
        if typing.get_origin(candidate) is list and isinstance(value, list):
            (item_type,) = typing.get_args(candidate) or (Any,)
            for index, item in enumerate(value):
                _check_value(item_type, item, f"{path}[{index}]", missing)


def missing_keys(model: type[BaseModel], data: dict[str, Any], path: str = "") -> list[str]:
    missing: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        where = f"{path}.{key}" if path else key
        if key not in data:
            missing.append(where)
            continue
        _check_value(field.annotation, data[key], where, missing)
    return missing


def assert_complete(raw: Any) -> Any:
    """``raw`` is an SDK ``with_raw_response`` result; returns the parsed model."""
    parsed = raw.parse()
    body = raw.http_response.json()
    if isinstance(parsed, BaseModel):
        gaps = missing_keys(type(parsed), body)
        assert not gaps, f"keys missing from {raw.http_request.url.path}: {gaps}"
    return parsed
