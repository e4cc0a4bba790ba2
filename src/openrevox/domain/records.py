"""The record decorator: read-only dataclasses that are cheap to build."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

_Record = TypeVar("_Record")


@dataclass_transform(frozen_default=True)
def record(cls: type[_Record]) -> type[_Record]:
    """A frozen dataclass to the type checker, which refuses any assignment to a field.

    Not frozen at run time: a frozen dataclass sets each field through
    ``object.__setattr__``, far costlier than a plain slot store, and GET
    /call/{id} builds four of these (its rows, ``domain/call_rows.py``) per request, ~70
    fields. Equality and hashing are those of a frozen dataclass (``unsafe_hash``
    generates the same ``__hash__``)."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
