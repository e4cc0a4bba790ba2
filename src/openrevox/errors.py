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
