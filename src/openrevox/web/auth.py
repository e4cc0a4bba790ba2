"""Sign-in, sessions and CSRF for the dashboard.

- The session cookie holds a random token (only its SHA-256 is stored): HttpOnly,
  SameSite=Lax, Secure when the request came over https, scoped to ``/app``.
- Every form that changes something carries the session's synchronizer token (``csrf``),
  compared in constant time; a post without it is refused with 403.
- The sign-in form, shown before any session exists, carries an HMAC of a random
  pre-session cookie under a key derived from the server secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openrevox.domain.api_keys import Mode
from openrevox.results.recording_links import load_secret
from openrevox.services import sign_in as service
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.web_auth import WebSession
from openrevox.web.context import web_services
from openrevox.web.templating import page

SESSION_COOKIE = "openrevox_session"
PRESESSION_COOKIE = "openrevox_presession"
COOKIE_PATH = "/app"
_PURPOSE = b"openrevox dashboard sign-in form v1"


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in browser: its session and who the services see."""

    token: str
    session: WebSession
    principal: Principal

    def context(self) -> dict[str, Any]:
        return {"session": self.session, "csrf": self.session.csrf_token}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


async def visitor_of(request: Request) -> Visitor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    services = web_services(request)
    session = await service.session_of(services.db, token, services.clock.now())
    if session is None:
        return None
    return Visitor(token, session, service.principal_of(session))


async def require_visitor(request: Request) -> Visitor:
    """The signed-in visitor; anyone else is sent to the sign-in page (401 for
    fragments and streams, which a browser would not follow to a form)."""
    visitor = await visitor_of(request)
    if visitor is not None:
        return visitor
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        raise HTTPException(303, headers={"location": f"/app/sign-in?next={target}"})
    raise HTTPException(401, "sign in first")


MAX_FORM_BYTES = 64 * 1024

Form = dict[str, str]


async def read_form(request: Request, max_bytes: int = MAX_FORM_BYTES) -> Form:
    """An urlencoded form (all our forms are): parsed here, so that no multipart parser
    is needed; the first value of each name."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise HTTPException(413, "the form is too large")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise HTTPException(400, "the form could not be read") from None
    form: Form = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


async def checked_form(request: Request, visitor: Visitor, max_bytes: int = MAX_FORM_BYTES) -> Form:
    """The posted form, after its synchronizer token was checked (403 otherwise)."""
    form = await read_form(request, max_bytes)
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(
        sent.encode(), visitor.session.csrf_token.encode()
    ):
        raise HTTPException(403, "this form's CSRF token is missing or wrong: reload the page")
    return form


async def _form_key(request: Request) -> bytes:
    app_state = request.app.state
    key: bytes | None = getattr(app_state, "form_key", None)
    if key is None:
        services = web_services(request)
        secret = await load_secret(services.db, services.settings.secret_key, services.clock.now())
        key = hmac.new(secret, _PURPOSE, hashlib.sha256).digest()
        app_state.form_key = key
    return key


async def _presession_token(request: Request, nonce: str) -> str:
    return hmac.new(await _form_key(request), nonce.encode(), hashlib.sha256).hexdigest()


def safe_next(target: str | None) -> str:
    """Only a path of ours: never another host (no open redirect)."""
    if target and target.startswith("/app/") and not target.startswith("/app//"):
        return target
    return "/app/calls"


async def sign_in_page(request: Request) -> Response:
    return await _sign_in_form(request, next_path=request.query_params.get("next"))


async def _sign_in_form(
    request: Request,
    *,
    next_path: str | None,
    error: str | None = None,
    email: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    template: str = "sign_in.html",
    extra: dict[str, Any] | None = None,
) -> Response:
    nonce = request.cookies.get(PRESESSION_COOKIE) or ""
    if len(nonce) != 43:
        nonce = secrets.token_urlsafe(32)
    response = page(
        template,
        {
            "session": None,
            "csrf": await _presession_token(request, nonce),
            "next": safe_next(next_path),
            "error": error,
            "email": email,
            **(extra or {}),
        },
        status_code=status_code,
        headers=headers,
    )
    set_cookie(response, request, PRESESSION_COOKIE, nonce, max_age=3600)
    return response


async def _check_presession(request: Request, form: Form) -> None:
    nonce = request.cookies.get(PRESESSION_COOKIE) or ""
    sent = form.get("csrf")
    expected = await _presession_token(request, nonce)
    if not nonce or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "this form's CSRF token is missing or wrong: reload the page")


def _signed_in(request: Request, signed: service.SignedIn, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    lifetime = int(service.SESSION_LIFETIME.total_seconds())
    set_cookie(response, request, SESSION_COOKIE, signed.token, max_age=lifetime)
    response.delete_cookie(PRESESSION_COOKIE, path=COOKIE_PATH)
    return response


async def sign_in_post(request: Request) -> Response:
    form = await read_form(request)
    await _check_presession(request, form)
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = str(form.get("next") or "")
    services = web_services(request)
    client_ip = request.client.host if request.client else "unknown"
    if not email or not password:
        return await _sign_in_form(
            request, next_path=target, email=email, status_code=400,
            error="enter your email and your password",
        )  # fmt: skip
    try:
        result = await service.sign_in(
            services.db,
            email=email,
            password=password,
            client_ip=client_ip,
            now=services.clock.now(),
        )
    except service.WrongCredentials:
        return await _sign_in_form(
            request, next_path=target, email=email, status_code=401,
            error="wrong email or password",
        )  # fmt: skip
    if isinstance(result, service.Locked):
        wait = int(result.retry_after)
        return await _sign_in_form(
            request, next_path=target, email=email, status_code=429,
            headers={"retry-after": str(wait)},
            error=f"too many wrong passwords: try again in {wait} seconds",
        )  # fmt: skip
    return _signed_in(request, result, safe_next(target))


async def link_page(request: Request) -> Response:
    """A one-time link opens a page with one button: a link checker or a preview that
    fetches the URL does not use it up."""
    token = request.path_params["token"]
    return await _sign_in_form(
        request, next_path=None, template="sign_in_link.html", extra={"token": token}
    )


async def link_post(request: Request) -> Response:
    form = await read_form(request)
    await _check_presession(request, form)
    services = web_services(request)
    signed = await service.sign_in_with_link(
        services.db, str(form.get("token") or ""), services.clock.now()
    )
    if signed is None:
        return await _sign_in_form(
            request, next_path=None, status_code=400,
            error="this sign-in link was already used or has expired",
        )  # fmt: skip
    return _signed_in(request, signed, "/app/calls")


async def sign_out(request: Request) -> Response:
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    await service.sign_out(web_services(request).db, visitor.token)
    response = RedirectResponse("/app/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


async def switch_mode(request: Request) -> Response:
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor)
    wanted = form.get("mode")
    if wanted not in ("live", "test"):
        raise HTTPException(400, "mode must be live or test")
    mode: Mode = "live" if wanted == "live" else "test"
    await service.switch_mode(web_services(request).db, visitor.token, mode)
    # Back to the list: a call page of one mode does not exist in the other.
    return RedirectResponse("/app/calls", status_code=303)
