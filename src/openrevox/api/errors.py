"""Render every error as ``{"error": {type, message, param, code}}`` with its status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openrevox.api.responses import JSON
from openrevox.errors import OpenRevoxError, validation_message, validation_param

log = logging.getLogger("openrevox.api")


def error_body(
    error_type: str, message: str, param: str | None, code: str | None
) -> dict[str, Any]:
    return {"error": {"type": error_type, "message": message, "param": param, "code": code}}


_param = validation_param
_describe = validation_message


async def _on_openrevox_error(_request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, OpenRevoxError)
    return JSON(
        error_body(exc.error_type, exc.message, exc.param, exc.code),
        status_code=exc.status_code,
        headers=exc.headers(),
    )


async def _on_validation_error(_request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return JSON(
            error_body("invalid_request_error", "the body is not valid JSON", None, "json_invalid"),
            status_code=400,
        )
    param = _param(tuple(first.get("loc", ())))
    message = f"{param}: {_describe(first)}" if param else _describe(first)
    body = error_body("invalid_request_error", message, param, "invalid_field")
    body["error"]["errors"] = [
        {"param": _param(tuple(e.get("loc", ()))), "message": _describe(e)} for e in errors[:20]
    ]
    return JSON(body, status_code=422)


async def _on_http_error(_request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, StarletteHTTPException)
    kinds = {404: "not_found", 405: "invalid_request_error", 401: "authentication_error"}
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    if exc.status_code == 404:
        message = "no such route"
    return JSON(
        error_body(kinds.get(exc.status_code, "invalid_request_error"), message, None, None),
        status_code=exc.status_code,
        headers=dict(exc.headers or {}),
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSON:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    # Whether anything was committed is unknown here: never let the SDK repeat a POST.
    return JSON(
        error_body("api_error", "internal error; the request was not completed", None, None),
        status_code=500,
        headers={"x-should-retry": "false" if request.method != "GET" else "true"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OpenRevoxError, _on_openrevox_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
