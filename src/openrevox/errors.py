"""The one error tree of openrevox; the API renders every branch the same way.

OpenRevoxError
 +-- BadRequest            400  malformed request (JSON that does not parse, ...)
 +-- AuthenticationFailed  401  missing, malformed, unknown or revoked API key
 +-- Forbidden             403  a credential other than a key (a signed link) is expired or wrong
 +-- NotFound              404  no such object in the caller's organization and mode
 +-- Conflict              409  a business rule refuses the change (never worth a retry)
 +-- InvalidField          422  a field is well-formed JSON but not acceptable
 +-- RateLimited           429  too many requests; retry after ``retry_after`` seconds
"""

from __future__ import annotations

import math
from typing import Any


class OpenRevoxError(Exception):
    status_code = 500
    error_type = "api_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(OpenRevoxError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationFailed(OpenRevoxError):
    status_code = 401
    error_type = "authentication_error"

    def headers(self) -> dict[str, str]:
        return {"www-authenticate": 'Bearer realm="openrevox"', "x-should-retry": "false"}


class Forbidden(OpenRevoxError):
    status_code = 403
    error_type = "permission_error"

    def headers(self) -> dict[str, str]:
        # Asking again with the same signed link never helps: get a fresh one.
        return {"x-should-retry": "false"}


class NotFound(OpenRevoxError):
    status_code = 404
    error_type = "not_found"


class Conflict(OpenRevoxError):
    status_code = 409
    error_type = "conflict"

    def headers(self) -> dict[str, str]:
        # The official SDK retries 409 unless told not to; a business conflict never heals.
        return {"x-should-retry": "false"}


class InvalidField(OpenRevoxError):
    status_code = 422
    error_type = "invalid_request_error"


class InvalidFields(InvalidField):
    """Several fields refused at once (a form shows each at its field); the first one is
    the error's ``param`` and message, as the API answers."""

    def __init__(self, errors: list[tuple[str | None, str]]):
        param, message = errors[0] if errors else (None, "invalid request")
        super().__init__(f"{param}: {message}" if param else message, param=param)
        self.errors = errors


# Discriminated unions put the chosen member's tag in the location; a client never sent it.
_UNION_TAGS = frozenset({"dedicated-instance", "openrouter", "custom", "realtime"})


def validation_param(location: tuple[Any, ...]) -> str | None:
    """The dotted ``param`` of a pydantic error's location (``llm_model.api_url``)."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header"):  # where, not which field
        parts = parts[1:]
    parts = [p for p in parts if p not in _UNION_TAGS and "[" not in p and "function-" not in p]
    return ".".join(parts) or None


def validation_message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


class RateLimited(OpenRevoxError):
    status_code = 429
    error_type = "rate_limit_error"

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        # Retry-After is whole seconds by RFC 9110; the official SDK reads the ms one first.
        return {
            "retry-after": str(max(1, math.ceil(self.retry_after))),
            "retry-after-ms": str(max(1, math.ceil(self.retry_after * 1000))),
        }
