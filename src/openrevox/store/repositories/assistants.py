"""Assistants and their FAQ items."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from openrevox.domain.api_keys import Mode
from openrevox.store.tables import assistants, faq_items, users


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    email: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True, slots=True)
class FaqItem:
    id: str
    question: str
    answer: str
    needs_human_answer: bool
    source: str


@dataclass(frozen=True, slots=True)
class AssistantRecord:
    id: str
    organization_id: str
    mode: Mode
    name: str
    type: str
    config: dict[str, Any]
    created_by: Member | None
    created_at: datetime
    updated_at: datetime
    faq_items: tuple[FaqItem, ...]


_SELECT = sa.select(
    assistants,
    users.c.email.label("creator_email"),
    users.c.first_name.label("creator_first_name"),
    users.c.last_name.label("creator_last_name"),
).outerjoin(users, users.c.id == assistants.c.created_by)


def _member(row: sa.RowMapping) -> Member | None:
    if row["created_by"] is None or row["creator_email"] is None:
        return None
    return Member(
        id=row["created_by"],
        email=row["creator_email"],
        first_name=row["creator_first_name"],
        last_name=row["creator_last_name"],
    )


async def _faq_by_assistant(
    conn: AsyncConnection, assistant_ids: list[str]
) -> dict[str, list[FaqItem]]:
    grouped: dict[str, list[FaqItem]] = {key: [] for key in assistant_ids}
    if not assistant_ids:
        return grouped
    rows = await conn.execute(
        sa.select(faq_items)
        .where(faq_items.c.assistant_id.in_(assistant_ids))
        .order_by(faq_items.c.assistant_id, faq_items.c.position)
    )
    for row in rows.mappings():
        grouped[row["assistant_id"]].append(
            FaqItem(
                id=row["id"],
                question=row["question"],
                answer=row["answer"],
                needs_human_answer=row["needs_human_answer"],
                source=row["source"],
            )
        )
    return grouped


def _record(row: sa.RowMapping, faq: list[FaqItem]) -> AssistantRecord:
    return AssistantRecord(
        id=row["id"],
        organization_id=row["organization_id"],
        mode=row["mode"],
        name=row["name"],
        type=row["type"],
        config=row["config"],
        created_by=_member(row),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        faq_items=tuple(faq),
    )


async def get(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: Mode,
    assistant_id: str,
    lock: bool = False,
) -> AssistantRecord | None:
    query = _SELECT.where(
        assistants.c.id == assistant_id,
        assistants.c.organization_id == organization_id,
        assistants.c.mode == mode,
    )
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(of=assistants)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        return None
    faq = await _faq_by_assistant(conn, [row["id"]])
    return _record(row, faq[row["id"]])


async def list_visible(
    conn: AsyncConnection, *, organization_id: str, mode: Mode
) -> list[AssistantRecord]:
    """Every assistant but sub-assistants, which the contract hides from the list."""
    rows = list(
        (
            await conn.execute(
                _SELECT.where(
                    assistants.c.organization_id == organization_id,
                    assistants.c.mode == mode,
                    assistants.c.type != "sub-assistant",
                ).order_by(assistants.c.created_at.desc(), assistants.c.id)
            )
        ).mappings()
    )
    faq = await _faq_by_assistant(conn, [row["id"] for row in rows])
    return [_record(row, faq[row["id"]]) for row in rows]


async def insert(
    conn: AsyncConnection,
    *,
    organization_id: str,
    mode: Mode,
    name: str,
    config: dict[str, Any],
    created_by: str | None,
    now: datetime,
) -> str:
    assistant_id = str(uuid.uuid4())
    await conn.execute(
        sa.insert(assistants).values(
            id=assistant_id,
            organization_id=organization_id,
            mode=mode,
            name=name,
            type=config["type"],
            config=config,
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
    )
    return assistant_id


async def update(
    conn: AsyncConnection, *, assistant_id: str, name: str, config: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        sa.update(assistants)
        .where(assistants.c.id == assistant_id)
        .values(name=name, type=config["type"], config=config, updated_at=now)
    )


async def replace_faq(
    conn: AsyncConnection, *, assistant_id: str, items: list[dict[str, Any]], now: datetime
) -> None:
    """Replace the whole FAQ (the contract's PATCH semantics); given items are human's."""
    await conn.execute(sa.delete(faq_items).where(faq_items.c.assistant_id == assistant_id))
    if items:
        await conn.execute(
            sa.insert(faq_items),
            [
                {
                    "id": str(uuid.uuid4()),
                    "assistant_id": assistant_id,
                    "position": position,
                    "question": item["question"],
                    "answer": item["answer"],
                    "needs_human_answer": bool(item.get("needs_human_answer", False)),
                    "source": item.get("source") or "human",
                    "created_at": now,
                }
                for position, item in enumerate(items)
            ],
        )


async def delete(conn: AsyncConnection, *, assistant_id: str) -> None:
    await conn.execute(sa.delete(faq_items).where(faq_items.c.assistant_id == assistant_id))
    await conn.execute(sa.delete(assistants).where(assistants.c.id == assistant_id))


async def using_voice(
    conn: AsyncConnection, *, organization_id: str, mode: Mode, provider: str, voice_id: str
) -> list[str]:
    """Ids of the assistants whose voice is the given one (JSON is compared in Python:
    the same code on SQLite and PostgreSQL, and an organization has few assistants)."""
    rows = await conn.execute(
        sa.select(assistants.c.id, assistants.c.config).where(
            assistants.c.organization_id == organization_id, assistants.c.mode == mode
        )
    )
    found = []
    for row in rows:
        voice = row.config.get("voice") or {}
        if voice.get("id") == voice_id and voice.get("provider") == provider:
            found.append(row.id)
    return found
