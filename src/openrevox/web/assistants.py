"""The assistants pages: list, create, edit every contract field through the API's own
validation (each refusal shown at its field, named by the API's ``param``), clone,
delete, and the FAQ with the questions the agent could not answer, answerable here."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from openrevox.errors import InvalidField, InvalidFields, NotFound
from openrevox.services import assistant_forms
from openrevox.services import assistants as service
from openrevox.services.assistant_forms import FORM_FIELDS, FormField
from openrevox.store.repositories import assistants as repository
from openrevox.store.repositories.assistants import AssistantRecord
from openrevox.web.auth import Form, Visitor, checked_form, require_visitor
from openrevox.web.context import WebServices, web_services
from openrevox.web.templating import page


def _shown(field: FormField, value: Any) -> str:
    """A stored value as its input shows it."""
    if value is None:
        return ""
    if field.kind == "json":
        return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    if field.kind == "bool":
        return "on" if value else ""
    return str(value)


def values_of(config: dict[str, Any], name: str) -> dict[str, str]:
    return {
        field.name: _shown(field, name if field.name == "name" else config.get(field.name))
        for field in FORM_FIELDS
    }


def read_fields(form: Form) -> tuple[dict[str, Any], list[tuple[str | None, str]]]:
    """The form's values as the JSON the API would be sent; JSON that does not parse is
    refused at its field here (the API refuses a body that does not parse)."""
    data: dict[str, Any] = {}
    errors: list[tuple[str | None, str]] = []
    for field in FORM_FIELDS:
        raw = form.get(field.name, "")
        if field.kind == "bool":
            data[field.name] = raw == "on"
            continue
        text = raw if field.kind == "long_text" else raw.strip()
        if not text.strip():
            data[field.name] = "" if field.name in ("name", "prompt") else None
        elif field.kind == "json":
            try:
                data[field.name] = orjson.loads(text)
            except orjson.JSONDecodeError as error:
                errors.append((field.name, f"not valid JSON: {error}"))
        elif field.kind == "number":
            try:
                number = float(text)
                data[field.name] = int(number) if number.is_integer() else number
            except ValueError:
                data[field.name] = text  # the API's validation names it
        else:
            data[field.name] = text
    return data, errors


def errors_by_field(errors: list[tuple[str | None, str]]) -> dict[str, list[str]]:
    """Each error under the form field it belongs to (``llm_model.api_url`` under
    ``llm_model``, saying which part)."""
    names = {field.name for field in FORM_FIELDS}
    found: dict[str, list[str]] = {}
    for param, message in errors:
        top = (param or "").split(".")[0]
        key = top if top in names else "_form"
        shown = message if param in (None, top) else f"{param}: {message}"
        found.setdefault(key, []).append(shown)
    return found


def _error_list(error: InvalidField) -> list[tuple[str | None, str]]:
    if isinstance(error, InvalidFields):
        return error.errors
    return [(error.param, error.message)]


async def _record(services: WebServices, visitor: Visitor, assistant_id: str) -> AssistantRecord:
    async with services.db.read() as conn:
        record = await repository.get(
            conn,
            organization_id=visitor.principal.organization_id,
            mode=visitor.principal.mode,
            assistant_id=assistant_id,
        )
    if record is None:
        raise HTTPException(404, f"no assistant with id '{assistant_id}'")
    return record


def _form_page(
    visitor: Visitor,
    record: AssistantRecord | None,
    values: dict[str, str],
    errors: dict[str, list[str]],
    *,
    status_code: int = 200,
    saved: bool = False,
    faq_errors: dict[str, str] | None = None,
) -> Response:
    return page(
        "assistant.html",
        {
            **visitor.context(),
            "record": record,
            "fields": FORM_FIELDS,
            "values": values,
            "errors": errors,
            "saved": saved,
            "faq_errors": faq_errors or {},
        },
        status_code=status_code,
    )


async def list_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    services = web_services(request)
    async with services.db.read() as conn:
        records = await repository.list_visible(
            conn,
            organization_id=visitor.principal.organization_id,
            mode=visitor.principal.mode,
        )
    return page("assistants.html", {**visitor.context(), "assistants": records})


async def new_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    return _form_page(visitor, None, values_of(assistant_forms.DEFAULTS, ""), {})


async def create(request: Request) -> Response:
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor)
    services = web_services(request)
    data, errors = read_fields(form)
    values = {field.name: form.get(field.name, "") for field in FORM_FIELDS}
    try:
        body = assistant_forms.parse_create(data)
        if errors:
            raise InvalidFields(errors)
        async with services.db.transaction() as conn:
            record = await service.create(
                conn,
                visitor.principal,
                body,
                services.clock.now(),
                services.settings.webhook_allow_hosts,
                calendly_server=services.settings.calendly_api_key is not None,
            )
    except InvalidField as error:
        found = errors + [e for e in _error_list(error) if e not in errors]
        return _form_page(visitor, None, values, errors_by_field(found), status_code=400)
    return RedirectResponse(f"/app/assistants/{record.id}?saved=1", status_code=303)


async def edit_page(request: Request) -> Response:
    visitor = await require_visitor(request)
    record = await _record(web_services(request), visitor, request.path_params["assistant_id"])
    saved = request.query_params.get("saved") == "1"
    return _form_page(visitor, record, values_of(record.config, record.name), {}, saved=saved)


async def update(request: Request) -> Response:
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor)
    services = web_services(request)
    record = await _record(services, visitor, request.path_params["assistant_id"])
    data, errors = read_fields(form)
    values = {field.name: form.get(field.name, "") for field in FORM_FIELDS}
    try:
        body = assistant_forms.parse_update(data)
        if errors:
            raise InvalidFields(errors)
        async with services.db.transaction() as conn:
            await service.update(
                conn,
                visitor.principal,
                record.id,
                body,
                services.clock.now(),
                services.settings.webhook_allow_hosts,
                calendly_server=services.settings.calendly_api_key is not None,
            )
    except InvalidField as error:
        found = errors + [e for e in _error_list(error) if e not in errors]
        return _form_page(visitor, record, values, errors_by_field(found), status_code=400)
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    return RedirectResponse(f"/app/assistants/{record.id}?saved=1", status_code=303)


async def clone(request: Request) -> Response:
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    services = web_services(request)
    try:
        async with services.db.transaction() as conn:
            copy = await service.clone(
                conn, visitor.principal, request.path_params["assistant_id"], services.clock.now()
            )
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    return RedirectResponse(f"/app/assistants/{copy.id}", status_code=303)


async def delete(request: Request) -> Response:
    visitor = await require_visitor(request)
    await checked_form(request, visitor)
    services = web_services(request)
    try:
        async with services.db.transaction() as conn:
            await service.delete(
                conn, visitor.principal, request.path_params["assistant_id"], services.clock.now()
            )
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    return RedirectResponse("/app/assistants", status_code=303)


async def answer_faq(request: Request) -> Response:
    """A pending question answered here becomes a FAQ item with ``source: human``."""
    visitor = await require_visitor(request)
    form = await checked_form(request, visitor)
    services = web_services(request)
    assistant_id, item_id = request.path_params["assistant_id"], request.path_params["item_id"]
    try:
        async with services.db.transaction() as conn:
            await service.answer_faq(
                conn,
                visitor.principal,
                assistant_id,
                item_id,
                form.get("answer", ""),
                services.clock.now(),
            )
    except NotFound as error:
        raise HTTPException(404, error.message) from None
    except InvalidField as error:
        record = await _record(services, visitor, assistant_id)
        return _form_page(
            visitor,
            record,
            values_of(record.config, record.name),
            {},
            status_code=400,
            faq_errors={item_id: error.message},
        )
    return RedirectResponse(f"/app/assistants/{assistant_id}#faq", status_code=303)
