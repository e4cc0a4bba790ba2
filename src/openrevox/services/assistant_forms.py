"""What a form (the dashboard's) needs to edit an assistant through the API's own
validation: the contract's fields with the kind of input each takes, a form's values
read as an AssistantInput (every pydantic error named at its ``param``, as the API
names them), and which fields are stored but not acted on yet (docs/agent.md)."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from openrevox.api.schemas.assistant import (
    CONFIG_DEFAULTS,
    NOT_NULLABLE,
    AssistantCreate,
    AssistantPatch,
    AssistantUpdateIn,
)
from openrevox.errors import InvalidFields, validation_message, validation_param

Kind = Literal["text", "long_text", "number", "bool", "choice", "json"]

# The 0.5.0-only integrations: stored and returned, not acted on by the agent yet.
STORED_NOT_ACTED_ON = frozenset(
    {
        "after_call_sms_outcomes",
        "after_call_sms_prompt",
        "custom_tools",
        "email_notification_address",
        "email_notification_outcomes",
        "precall_lookup_url",
        "prompt_flow",
        "slack",
        "sms_enabled",
        "sms_template",
        "thinking_sound",
        "thinking_sound_probability",
        "thinking_sound_volume",
        "voicemail_sms_prompt",
        "zoho",
        "logo_url",
        "position",
    }
)
LONG_TEXT = frozenset(
    {
        "prompt",
        "first_sentence",
        "end_of_call_sentence",
        "structured_output_prompt",
        "after_call_sms_prompt",
        "voicemail_message",
        "voicemail_sms_prompt",
        "warm_transfer_summary_instructions",
        "max_duration_end_message",
        "sms_template",
    }
)
# Not a form field: the legacy single number (transfer_destinations holds it) and the
# FAQ (its own section, answerable item by item).
_LEFT_OUT = frozenset({"transfer_phone_number", "faq_items"})


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    kind: Kind
    options: tuple[str, ...]
    nullable: bool
    stored_only: bool


def _bare(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and ``| None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _kind(name: str, annotation: Any) -> tuple[Kind, tuple[str, ...]]:
    bare = _bare(annotation)
    if typing.get_origin(bare) is Literal:
        return "choice", tuple(str(option) for option in typing.get_args(bare))
    if bare is bool:
        return "bool", ()
    if bare in (int, float):
        return "number", ()
    if bare is str or name in ("webhook_url", "logo_url", "precall_lookup_url"):
        return ("long_text" if name in LONG_TEXT else "text"), ()
    return "json", ()


def _fields() -> tuple[FormField, ...]:
    found = []
    for name, info in AssistantPatch.model_fields.items():
        if name in _LEFT_OUT:
            continue
        kind, options = _kind(name, info.annotation)
        found.append(
            FormField(name, kind, options, name not in NOT_NULLABLE, name in STORED_NOT_ACTED_ON)
        )
    return tuple(found)


FORM_FIELDS = _fields()
DEFAULTS: dict[str, Any] = {"name": "", **CONFIG_DEFAULTS}


def _refused(error: ValidationError) -> InvalidFields:
    return InvalidFields(
        [
            (validation_param(tuple(item.get("loc", ()))), validation_message(dict(item)))
            for item in error.errors()[:50]
        ]
    )


def parse_create(data: dict[str, Any]) -> AssistantCreate:
    """``data`` (JSON values by wire key) as POST /assistants reads its body; every
    refused field at once, each with the API's ``param`` and message."""
    try:
        return AssistantCreate.model_validate(data)
    except ValidationError as error:
        raise _refused(error) from None


def parse_update(data: dict[str, Any]) -> AssistantUpdateIn:
    """``data`` as PATCH /assistants/{id} reads its body."""
    try:
        return AssistantUpdateIn.model_validate(data)
    except ValidationError as error:
        raise _refused(error) from None
