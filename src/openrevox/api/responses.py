"""JSON responses rendered with orjson (fast, and exact about what we emit)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def success() -> JSON:
    return JSON({"success": True})
