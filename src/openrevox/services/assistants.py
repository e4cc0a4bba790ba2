"""Assistants: create, update (re-snapshotting pending calls), clone, delete."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.api.schemas.assistant import (
    AssistantCreate,
    AssistantPatch,
    apply_assistant_input,
    faq_items_given,
)
from openrevox.domain.lifecycle import OrderEvent
from openrevox.domain.phone import normalize_e164
from openrevox.domain.prompts import missing_variables
from openrevox.errors import InvalidField, NotFound
from openrevox.results.webhook_safety import check_url
from openrevox.services import calendly_connections, order_status
from openrevox.store.repositories import assistants, calls, phone_numbers
from openrevox.store.repositories.accounts import Principal
from openrevox.store.repositories.assistants import AssistantRecord, FaqItem
from openrevox.wire import assistant_wire


async def check_config(
    conn: AsyncConnection,
    principal: Principal,
    config: dict[str, Any],
    allow_hosts: tuple[str, ...] = (),
    *,
    calendly_server: bool = False,
    calendly_given: bool = True,
) -> None:
    """E.164 for transfer destinations; the caller id must be one of the organization's;
    the webhook and a custom LLM endpoint may not target a private address (unless
    admitted); ``calendly.connection_id`` must name a connection of the organization (or
    ``server`` when ``calendly_server``: the server has OPENREVOX_CALENDLY_API_KEY), when
    ``calendly_given`` (a patch that leaves ``calendly`` alone does not re-check it: an
    assistant saved before connections existed stays patchable)."""
    if config.get("webhook_url"):
        reason = check_url(config["webhook_url"], allow_hosts)
        if reason:
            raise InvalidField(reason, param="webhook_url")
    llm_model = config.get("llm_model") or {}
    if llm_model.get("type") == "custom" and llm_model.get("api_url"):
        # The worker sends the conversation there and speaks the answer: no SSRF.
        reason = check_url(str(llm_model["api_url"]), allow_hosts)
        if reason:
            raise InvalidField(reason, param="llm_model.api_url")
    for index, destination in enumerate(config.get("transfer_destinations") or []):
        try:
            destination["phone_number"] = normalize_e164(
                destination["phone_number"], default_region=principal.country
            )
        except ValueError as error:
            raise InvalidField(
                str(error), param=f"transfer_destinations.{index}.phone_number"
            ) from None
    if config.get("from_phone_number"):
        config["from_phone_number"] = await owned_number(
            conn, principal, config["from_phone_number"], param="from_phone_number"
        )
    if calendly_given:
        await calendly_connections.check_assistant(conn, principal, config, server=calendly_server)


async def owned_number(conn: AsyncConnection, principal: Principal, raw: str, *, param: str) -> str:
    try:
        number = normalize_e164(raw, default_region=principal.country)
    except ValueError as error:
        raise InvalidField(str(error), param=param) from None
    owned = await phone_numbers.find_owned(
        conn, organization_id=principal.organization_id, mode=principal.mode, phone_number=number
    )
    if owned is None:
        raise InvalidField(
            f"{number} is not one of your organization's phone numbers (GET /phone-numbers)",
            param=param,
        )
    return number


async def get_or_404(
    conn: AsyncConnection, principal: Principal, assistant_id: str
) -> AssistantRecord:
    record = await assistants.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        assistant_id=assistant_id,
    )
    if record is None:
        raise NotFound(f"no assistant with id '{assistant_id}'", param="id")
    return record


async def create(
    conn: AsyncConnection,
    principal: Principal,
    body: AssistantCreate,
    now: datetime,
    allow_hosts: tuple[str, ...] = (),
    *,
    calendly_server: bool = False,
) -> AssistantRecord:
    config = apply_assistant_input(None, body)
    await check_config(conn, principal, config, allow_hosts, calendly_server=calendly_server)
    assistant_id = await assistants.insert(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        name=body.name,
        config=config,
        created_by=principal.user_id,
        now=now,
    )
    await assistants.replace_faq(
        conn, assistant_id=assistant_id, items=faq_items_given(body) or [], now=now
    )
    return await get_or_404(conn, principal, assistant_id)


def inline_snapshot(principal: Principal, body: AssistantPatch, now: datetime) -> dict[str, Any]:
    """The wire Assistant of an inline ``assistant`` given with POST /call (not stored)."""
    config = apply_assistant_input(None, body)
    record = AssistantRecord(
        id=str(uuid.uuid4()),
        organization_id=principal.organization_id,
        mode=principal.mode,
        name=body.name or "Inline assistant",
        type=config["type"],
        config=config,
        created_by=None,
        created_at=now,
        updated_at=now,
        faq_items=tuple(
            FaqItem(
                id=str(uuid.uuid4()),
                question=item["question"],
                answer=item["answer"],
                needs_human_answer=False,
                source="human",
            )
            for item in faq_items_given(body) or []
        ),
    )
    return assistant_wire(record)


@dataclass(frozen=True, slots=True)
class UpdateResult:
    assistant: AssistantRecord
    unpatched_count: int
    unpatched_variables: list[str]


async def update(
    conn: AsyncConnection,
    principal: Principal,
    assistant_id: str,
    body: AssistantPatch,
    now: datetime,
    allow_hosts: tuple[str, ...] = (),
    *,
    calendly_server: bool = False,
) -> UpdateResult:
    current = await assistants.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        assistant_id=assistant_id,
        lock=True,
    )
    if current is None:
        raise NotFound(f"no assistant with id '{assistant_id}'", param="id")
    if not body.given():
        return UpdateResult(current, 0, [])
    config = apply_assistant_input(current.config, body)
    await check_config(
        conn,
        principal,
        config,
        allow_hosts,
        calendly_server=calendly_server,
        calendly_given="calendly" in body.given(),
    )
    await assistants.update(
        conn, assistant_id=assistant_id, name=body.name or current.name, config=config, now=now
    )
    faq = faq_items_given(body)
    if faq is not None:
        await assistants.replace_faq(conn, assistant_id=assistant_id, items=faq, now=now)
    updated = await get_or_404(conn, principal, assistant_id)
    count, variables = await _resnapshot_pending_calls(conn, principal, updated, now)
    return UpdateResult(updated, count, variables)


async def _resnapshot_pending_calls(
    conn: AsyncConnection, principal: Principal, assistant: AssistantRecord, now: datetime
) -> tuple[int, list[str]]:
    """Pending orders take the new configuration, unless they lack one of its variables."""
    snapshot = assistant_wire(assistant)
    texts = (assistant.config.get("prompt"), assistant.config.get("first_sentence"))
    unpatched = 0
    lacking: set[str] = set()
    pending = await calls.pending_for_assistant(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        assistant_id=assistant.id,
    )
    patchable: list[str] = []
    for order in pending:
        missing = missing_variables(texts, order.prompt_variables)
        if missing:
            unpatched += 1
            lacking.update(missing)
        else:
            patchable.append(order.id)
    if patchable:
        snapshot_id = await calls.insert_snapshot(
            conn, organization_id=principal.organization_id, content=snapshot, now=now
        )
        await calls.repoint_snapshot(
            conn, patchable, snapshot_id, snapshot["call_retry_config"], now
        )
    return unpatched, sorted(lacking)


async def clone(
    conn: AsyncConnection, principal: Principal, assistant_id: str, now: datetime
) -> AssistantRecord:
    source = await get_or_404(conn, principal, assistant_id)
    new_id = await assistants.insert(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        name=f"{source.name} (Copy)"[:500],
        config=source.config,
        created_by=principal.user_id,
        now=now,
    )
    await assistants.replace_faq(
        conn,
        assistant_id=new_id,
        items=[
            {
                "question": item.question,
                "answer": item.answer,
                "needs_human_answer": item.needs_human_answer,
                "source": item.source,
            }
            for item in source.faq_items
        ],
        now=now,
    )
    return await get_or_404(conn, principal, new_id)


async def delete(
    conn: AsyncConnection, principal: Principal, assistant_id: str, now: datetime
) -> None:
    """Delete for good; its pending call orders can no longer be carried: they error."""
    await get_or_404(conn, principal, assistant_id)
    pending = await calls.pending_for_assistant(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        assistant_id=assistant_id,
    )
    for order in pending:
        await order_status.apply(conn, order, OrderEvent.ERROR, now, next_attempt_at=None)
    await assistants.delete(conn, assistant_id=assistant_id)


async def answer_faq(
    conn: AsyncConnection,
    principal: Principal,
    assistant_id: str,
    item_id: str,
    answer: str,
    now: datetime,
) -> AssistantRecord:
    """A person's answer to a question the agent could not answer: the item becomes an
    answered FAQ item with ``source: human``; the others keep theirs (unlike a PATCH of
    ``faq_items``, which replaces the whole list with human items). Pending calls take it."""
    answer = answer.strip()
    if not answer:
        raise InvalidField("write an answer", param="answer")
    if len(answer) > 10_000 or "\x00" in answer:
        raise InvalidField("an answer has at most 10,000 characters, no NUL", param="answer")
    current = await assistants.get(
        conn,
        organization_id=principal.organization_id,
        mode=principal.mode,
        assistant_id=assistant_id,
        lock=True,
    )
    if current is None:
        raise NotFound(f"no assistant with id '{assistant_id}'", param="id")
    if not any(item.id == item_id for item in current.faq_items):
        raise NotFound(f"no FAQ item with id '{item_id}'", param="faq_item")
    items = [
        {
            "question": item.question,
            "answer": answer if item.id == item_id else item.answer,
            "needs_human_answer": False if item.id == item_id else item.needs_human_answer,
            "source": "human" if item.id == item_id else item.source,
        }
        for item in current.faq_items
    ]
    await assistants.replace_faq(conn, assistant_id=assistant_id, items=items, now=now)
    updated = await get_or_404(conn, principal, assistant_id)
    await _resnapshot_pending_calls(conn, principal, updated, now)
    return updated
