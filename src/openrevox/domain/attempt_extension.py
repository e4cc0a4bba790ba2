"""The ``openrevox`` object of a call attempt: openrevox's own facts about it.

The contract's attempt keys carry only the contract's values (``domain/end_reasons.py``);
what openrevox knows beyond them lives in one open JSON object per attempt, emitted as
the attempt's ``openrevox`` key by every rendering (GET /call/{id}, lists, webhooks,
exports) and stored in one column. Known keys:

- ``error_reason``: why the platform ended the attempt when that is not a contract
  ``end_reason`` (``worker_lost``, ``llm_timeout``, ``provider_error``...);
- ``error_detail``: a short description of that error, when one is known.

Other parts add their own keys (a carrier its raw codes, speech its figures). Facts are
merged into the stored object key by key (``merge``); a fact without a value (``None``)
is not written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

KEY = "openrevox"  # the attempt's key on the wire, and the column that stores it
ERROR_DETAIL_CHARS = 200


def facts(**values: Any) -> dict[str, Any]:
    """The facts given a value (None means: nothing to say)."""
    return {key: value for key, value in values.items() if value is not None}


def error_facts(reason: str | None, detail: str | None = None) -> dict[str, Any]:
    return facts(error_reason=reason, error_detail=detail[:ERROR_DETAIL_CHARS] if detail else None)


def merge(current: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any] | None:
    """``current`` with ``new``'s facts set over it (what a write does in the database);
    None when there is still nothing to say."""
    merged = {**(current or {}), **facts(**new)}
    return merged or None


def facts_text(current: Mapping[str, Any] | None) -> str:
    """The object in one CSV cell: compact JSON, keys sorted; empty when there is none."""
    if not current:
        return ""
    return json.dumps(current, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
