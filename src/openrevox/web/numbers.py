"""The numbers page: the mode's phone numbers with their carrier and inbound assistant,
assigned and labelled here through the same service as ``PATCH /phone-numbers/{id}``."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openrevox.errors import InvalidField, NotFound
from openrevox.services import number_settings
from openrevox.store.repositories import call_list, phone_numbers
from openrevox.web.auth import Visitor, checked_form, require_visitor
from openrevox.web.context import WebServices, web_services
from openrevox.web.templating import page


async def _page(
    services: WebServices,
    visitor: Visitor,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    principal = visitor.principal
    async with services.db.read() as conn:
        numbers = await phone_numbers.list_for(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
        assistants = await call_list.assistant_names(
            conn, organization_id=principal.organization_id, mode=principal.mode
        )
    return page(
        "numbers.html",
        {
            **visitor.context(),
            "numbers": numbers,
            "assistants": assistants,
            "assistant_names": dict(assistants),
            "errors": errors or {},
            "carriers": services.settings.carriers,
        },
        status_code=status_code,
    )


async def numbers_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    return await _page(web_services(request), visitor)


async def update(request: Request) -> Response:
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor)
    services = web_services(request)
    number_id = request.path_params["number_id"]
    label = form.get("label", "").strip()
    assistant_id = form.get("inbound_assistant_id", "")
    try:
        async with services.db.transaction() as conn:
            await number_settings.update(
                conn,
                visitor.principal,
                number_id,
                label=label or None,
                inbound_assistant_id=assistant_id or None,
            )
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    except InvalidField as error:
        errors = {number_id: {error.param or "label": error.message}}
        return await _page(services, visitor, errors=errors, status_code=400)
    return RedirectResponse("/app/numbers", status_code=303)
