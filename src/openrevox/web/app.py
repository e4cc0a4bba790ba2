"""The dashboard's Starlette application, mounted at ``/app`` by the API's app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from openrevox.web import assistants, auth, calls, campaigns, keys, live, numbers, overview
from openrevox.web.context import ServicesGetter, WebServices
from openrevox.web.templating import STATIC, page

__all__ = ["WebServices", "create_web_app", "install_dashboard"]

MOUNT = "/app"


async def _home(request: Request) -> Response:
    return RedirectResponse("/app/calls", status_code=303)


async def _error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code in (301, 302, 303, 307) and error.headers:
        return RedirectResponse(error.headers["location"], status_code=error.status_code)
    visitor = None
    try:
        visitor = await auth.visitor_of(request)
    except Exception:  # an error page must render even when the database does not answer
        visitor = None
    return page(
        "error.html",
        {
            "session": visitor.session if visitor else None,
            "csrf": visitor.session.csrf_token if visitor else "",
            "status": error.status_code,
            "message": error.detail,
        },
        status_code=error.status_code,
        headers=dict(error.headers or {}),
    )


def create_web_app(services: ServicesGetter) -> Starlette:
    """The pages; ``services`` returns the running server's services (built at startup,
    after this app is created)."""
    routes = [
        Route("/", _home),
        Route("/sign-in", auth.sign_in_page, methods=["GET"]),
        Route("/sign-in", auth.sign_in_post, methods=["POST"]),
        Route("/sign-in/link/{token}", auth.link_page, methods=["GET"]),
        Route("/sign-in/link", auth.link_post, methods=["POST"]),
        Route("/sign-out", auth.sign_out, methods=["POST"]),
        Route("/mode", auth.switch_mode, methods=["POST"]),
        Route("/calls", calls.calls_page, methods=["GET"]),
        Route("/calls/{call_id}", calls.call_page, methods=["GET"]),
        Route("/calls/{call_id}/live", live.call_stream, methods=["GET"]),
        Route("/calls/{call_id}/webhooks/{event_id}/replay", calls.replay_event, methods=["POST"]),
        Route("/assistants", assistants.list_page, methods=["GET"]),
        Route("/assistants/new", assistants.new_page, methods=["GET"]),
        Route("/assistants/new", assistants.create, methods=["POST"]),
        Route("/assistants/{assistant_id}", assistants.edit_page, methods=["GET"]),
        Route("/assistants/{assistant_id}", assistants.update, methods=["POST"]),
        Route("/assistants/{assistant_id}/clone", assistants.clone, methods=["POST"]),
        Route("/assistants/{assistant_id}/delete", assistants.delete, methods=["POST"]),
        Route("/assistants/{assistant_id}/faq/{item_id}", assistants.answer_faq, methods=["POST"]),
        Route("/campaigns", campaigns.list_page, methods=["GET"]),
        Route("/campaigns", campaigns.create, methods=["POST"]),
        Route("/campaigns/{campaign_id}", campaigns.campaign_page, methods=["GET"]),
        Route("/campaigns/{campaign_id}/live", campaigns.progress_stream, methods=["GET"]),
        Route("/campaigns/{campaign_id}/{action}", campaigns.action, methods=["POST"]),
        Route("/numbers", numbers.numbers_page, methods=["GET"]),
        Route("/numbers/{number_id}", numbers.update, methods=["POST"]),
        Route("/overview", overview.overview_page, methods=["GET"]),
        Route("/keys", keys.keys_page, methods=["GET"]),
        Route("/keys", keys.create_key, methods=["POST"]),
        Route("/keys/{key_id}/revoke", keys.revoke_key, methods=["POST"]),
        Route("/webhooks/{event_id}/replay", keys.replay_event, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _error})
    app.state.services_getter = services
    return app


class RootRedirect:
    """``GET /`` (exactly: not ``/api``, which the API's path normalizer also maps to
    ``/``) goes to the dashboard; everything else passes through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/" and scope["method"] in ("GET", "HEAD"):
            await RedirectResponse(MOUNT + "/", status_code=307)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def install_dashboard(app: Starlette, services: ServicesGetter) -> None:
    """Mount the pages at ``/app`` (not in the OpenAPI document; the API's paths are
    untouched). Call it after the app's other middleware: the root redirect must see the
    path as the browser sent it."""
    app.mount(MOUNT, create_web_app(services), name="dashboard")
    app.add_middleware(RootRedirect)
