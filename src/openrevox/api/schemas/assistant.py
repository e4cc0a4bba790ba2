"""AssistantInput: the body of POST/PATCH /assistants and the inline assistant of POST /call.

An assistant's configuration is stored as the dict of its wire keys (``CONFIG_DEFAULTS``
lists them all); ``apply_assistant_input`` folds a request into it, telling an absent
key (unchanged) from an explicit ``null`` (cleared, or refused for non-nullable keys).
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from openrevox.api.schemas.assistant_parts import (
    CalendlyIn,
    CallRetryConfigIn,
    CustomToolIn,
    FaqItemIn,
    FieldSpecIn,
    HttpUrl,
    LlmModelIn,
    PointIn,
    PromptFlowIn,
    SlackIn,
    SttContextIn,
    TransferDestinationIn,
    VoiceIn,
    ZohoIn,
)
from openrevox.api.schemas.common import NonEmpty, OutcomeFilter, WireModel
from openrevox.errors import InvalidField

DEFAULT_VOICE: dict[str, Any] = {
    "id": "156fb8d2-335b-4950-9cb3-a2d33befec77",
    "provider": "cartesia",
    "model": None,
    "speed": None,
    "volume": None,
}

CONFIG_DEFAULTS: dict[str, Any] = {
    "prompt": "",
    "after_call_sms_outcomes": None,
    "after_call_sms_prompt": None,
    "background_sound": None,
    "background_sound_volume": 0.5,
    "calendly": None,
    "call_retry_config": CallRetryConfigIn().model_dump(mode="json"),
    "cartesia_dictionary_pronunciation_id": None,
    "custom_tools": None,
    "email_notification_address": None,
    "email_notification_outcomes": None,
    "end_of_call_sentence": None,
    "first_sentence": None,
    "first_sentence_delay_ms": 400,
    "first_sentence_mode": "generated",
    "from_phone_number": None,
    "human_transfer_mode": None,
    "ivr_navigation_enabled": False,
    "llm_model": {"type": "dedicated-instance", "name": "gpt-4.1"},
    "logo_url": None,
    "max_call_duration_secs": 600,
    "max_duration_end_message": None,
    "position": None,
    "precall_lookup_url": None,
    "prompt_flow": None,
    "slack": None,
    "sms_enabled": False,
    "sms_template": None,
    "structured_output_config": [],
    "structured_output_prompt": None,
    "stt_context": None,
    "stt_model": "stt-rt-v5",
    "thinking_sound": None,
    "thinking_sound_probability": 0.5,
    "thinking_sound_volume": 0.5,
    "transfer_destinations": None,
    "type": "standalone",
    "voice": DEFAULT_VOICE,
    "voicemail_message": None,
    "voicemail_sms_prompt": None,
    "warm_transfer_summary_instructions": None,
    "webhook_url": None,
    "zoho": None,
}

# Keys whose value can never be null on the wire Assistant: an explicit null is refused.
NOT_NULLABLE = frozenset(
    {
        "name",
        "prompt",
        "background_sound_volume",
        "first_sentence_delay_ms",
        "first_sentence_mode",
        "ivr_navigation_enabled",
        "llm_model",
        "max_call_duration_secs",
        "sms_enabled",
        "stt_model",
        "thinking_sound_probability",
        "thinking_sound_volume",
        "type",
    }
)
# Keys the input types as non-null but the Assistant allows null: null resets them.
RESET_ON_NULL = frozenset({"call_retry_config", "structured_output_config", "voice"})

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
ThinkingSound = Literal[
    "city-ambience.ogg",
    "forest-ambience.ogg",
    "office-ambience.ogg",
    "crowded-room.ogg",
    "keyboard-typing.ogg",
    "keyboard-typing2.ogg",
    "hold_music.ogg",
]


class AssistantPatch(WireModel):
    """Every AssistantInput key, all optional (PATCH); subclasses make some required."""

    name: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    prompt: Annotated[str, Field(max_length=100_000)] | None = None
    after_call_sms_outcomes: list[OutcomeFilter] | None = None
    after_call_sms_prompt: str | None = None
    background_sound: Literal["audio/office.ogg"] | None = None
    background_sound_volume: Unit | None = None
    calendly: CalendlyIn | None = None
    call_retry_config: CallRetryConfigIn | None = None
    cartesia_dictionary_pronunciation_id: str | None = None
    custom_tools: list[CustomToolIn] | None = None
    email_notification_address: str | None = None
    email_notification_outcomes: list[OutcomeFilter] | None = None
    end_of_call_sentence: str | None = None
    faq_items: list[FaqItemIn] | None = None
    first_sentence: str | None = None
    first_sentence_delay_ms: Annotated[int, Field(ge=0, le=60_000)] | None = None
    first_sentence_mode: Literal["generated", "static", "none"] | None = None
    from_phone_number: str | None = None
    human_transfer_mode: Literal["warm", "cold"] | None = None
    ivr_navigation_enabled: bool | None = None
    llm_model: LlmModelIn | None = None
    logo_url: HttpUrl | None = None
    max_call_duration_secs: Annotated[float, Field(gt=0, le=4 * 3600)] | None = None
    max_duration_end_message: str | None = None
    position: PointIn | None = None
    precall_lookup_url: HttpUrl | None = None
    prompt_flow: PromptFlowIn | None = None
    slack: SlackIn | None = None
    sms_enabled: bool | None = None
    sms_template: str | None = None
    structured_output_config: list[FieldSpecIn] | None = None
    structured_output_prompt: str | None = None
    stt_context: SttContextIn | None = None
    stt_model: Literal["stt-rt-v4", "stt-rt-v5"] | None = None
    thinking_sound: ThinkingSound | None = None
    thinking_sound_probability: Unit | None = None
    thinking_sound_volume: Unit | None = None
    transfer_destinations: list[TransferDestinationIn] | None = None
    type: Literal["standalone", "multi-step", "sub-assistant"] | None = None
    voice: VoiceIn | None = None
    voicemail_message: str | None = None
    voicemail_sms_prompt: str | None = None
    warm_transfer_summary_instructions: str | None = None
    webhook_url: HttpUrl | None = None
    zoho: ZohoIn | None = None
    # Legacy (SDK <= 0.3.0): one number, mapped onto transfer_destinations.
    transfer_phone_number: str | None = None


class AssistantCreate(AssistantPatch):
    name: Annotated[str, Field(min_length=1, max_length=500)]
    prompt: Annotated[str, Field(max_length=100_000)]


class InlineAssistant(AssistantPatch):
    """POST /call's ``assistant``: AssistantInput minus ``name``, ``prompt`` required."""

    prompt: Annotated[str, Field(max_length=100_000)]


CONFIG_KEYS = frozenset(CONFIG_DEFAULTS)


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


def apply_assistant_input(base: dict[str, Any] | None, body: AssistantPatch) -> dict[str, Any]:
    """The stored configuration after applying ``body`` to ``base`` (defaults when new)."""
    config = copy.deepcopy(base if base is not None else CONFIG_DEFAULTS)
    given = body.given()
    for key in sorted(given & (CONFIG_KEYS | {"name"})):
        value = getattr(body, key)
        if value is None and key in NOT_NULLABLE:
            raise InvalidField(f"{key} cannot be null", param=key)
        if key == "name":
            continue
        if value is None:
            config[key] = copy.deepcopy(CONFIG_DEFAULTS[key]) if key in RESET_ON_NULL else None
        else:
            config[key] = _dump(value)
    if "transfer_phone_number" in given and "transfer_destinations" not in given:
        number = body.transfer_phone_number
        config["transfer_destinations"] = (
            [{"label": "default", "phone_number": number}] if number else None
        )
    if config["transfer_destinations"]:
        config["human_transfer_mode"] = config["human_transfer_mode"] or "warm"
    else:
        config["human_transfer_mode"] = None
    return config


def faq_items_given(body: AssistantPatch) -> list[dict[str, str]] | None:
    """The new FAQ list when the body replaces it (null clears it), else None."""
    if "faq_items" not in body.given():
        return None
    return [item.model_dump() for item in body.faq_items or []]


class AssistantUpdateIn(AssistantPatch):
    """PATCH body; an empty ``{}`` is valid and changes nothing."""


NonEmptyName = NonEmpty
