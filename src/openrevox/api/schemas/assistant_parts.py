"""Nested objects of the Assistant wire schema (AssistantInput in the contract)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from openrevox.api.schemas.common import (
    ClockTime,
    FieldType,
    HttpUrl,
    IanaTimezone,
    NonEmpty,
    OutcomeFilter,
    VoiceProvider,
    Weekday,
    WireModel,
)

WORKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
VOICE_SPEED_RANGES: dict[str, tuple[float, float]] = {
    "cartesia": (0.6, 1.5),
    "elevenlabs": (0.7, 1.2),
    "gradium": (0.6, 1.5),
}


class CallingWindowIn(WireModel):
    calling_window_start_time: ClockTime = "10:00"
    calling_window_end_time: ClockTime = "18:00"
    retry_delay_seconds: Annotated[int, Field(ge=0, le=30 * 86400)] = 7200


class CallRetryConfigIn(WireModel):
    """0.5.0 sends all four required keys; 0.1.1 only windows and attempts: default the rest."""

    allowed_days: Annotated[list[Weekday], Field(min_length=1)] = Field(
        default_factory=lambda: list(WORKDAYS)
    )
    call_twice_in_a_row: bool = False
    calling_windows: Annotated[list[CallingWindowIn], Field(min_length=1, max_length=20)] = Field(
        default_factory=lambda: [CallingWindowIn()]
    )
    max_retry_attempts: Annotated[int, Field(ge=1, le=100)] = 3
    timezone: IanaTimezone | None = None

    @field_validator("allowed_days")
    @classmethod
    def _unique_days(cls, days: list[str]) -> list[str]:
        return list(dict.fromkeys(days))


class VoiceIn(WireModel):
    id: NonEmpty
    provider: VoiceProvider
    model: Literal["sonic-3", "sonic-3.5"] | None = None
    speed: float | None = None
    volume: Annotated[float, Field(ge=0.5, le=2.0)] | None = None

    @model_validator(mode="after")
    def _speed_in_provider_range(self) -> VoiceIn:
        low, high = VOICE_SPEED_RANGES[self.provider]
        if self.speed is not None and not low <= self.speed <= high:
            raise ValueError(f"speed for {self.provider} must be between {low} and {high}")
        return self


class DedicatedInstanceLlm(WireModel):
    type: Literal["dedicated-instance"]
    name: Literal["gpt-4.1", "ministral-3-8b-instruct"]


class OpenRouterLlm(WireModel):
    type: Literal["openrouter"]
    openrouter_model_id: NonEmpty
    openrouter_provider: NonEmpty


class CustomLlm(WireModel):
    type: Literal["custom"]
    api_key: NonEmpty
    api_url: HttpUrl
    model_name: NonEmpty


class RealtimeLlm(WireModel):
    type: Literal["realtime"]
    provider: Literal["openai", "google"]
    realtime_model_id: NonEmpty
    realtime_voice_id: str | None = None


LlmModelIn = Annotated[
    DedicatedInstanceLlm | OpenRouterLlm | CustomLlm | RealtimeLlm, Field(discriminator="type")
]


class FieldSpecIn(WireModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    required: bool
    type: FieldType
    description: str | None = None
    enum_options: list[NonEmpty] | None = None

    @model_validator(mode="after")
    def _enum_needs_options(self) -> FieldSpecIn:
        if self.type == "enum" and not self.enum_options:
            raise ValueError(f"field '{self.name}' of type enum needs enum_options")
        return self


class FaqItemIn(WireModel):
    question: NonEmpty
    answer: str


class TransferDestinationIn(WireModel):
    label: NonEmpty
    phone_number: NonEmpty


class CalendlyIn(WireModel):
    connection_id: NonEmpty
    event_type_id: NonEmpty


class KeyValueIn(WireModel):
    key: str
    value: str


_TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class CustomToolIn(WireModel):
    name: str
    description: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    url: Annotated[str, Field(min_length=1)]
    body_template: str | None = None
    headers: list[KeyValueIn] = Field(default_factory=list)
    query_params: list[KeyValueIn] = Field(default_factory=list)
    input_schema: list[FieldSpecIn] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _snake_case(cls, name: str) -> str:
        if not _TOOL_NAME.match(name):
            raise ValueError("tool names are lowercase_snake_case (e.g. check_inventory)")
        return name


class PointIn(WireModel):
    x: float
    y: float


class PromptFlowNodeData(WireModel):
    body: str
    title: str


class PromptFlowNode(WireModel):
    id: str
    data: PromptFlowNodeData
    position: PointIn
    type: Literal["promptBlock"]


class PromptFlowEdge(WireModel):
    id: str
    source: str
    target: str


class PromptFlowIn(WireModel):
    edges: list[PromptFlowEdge]
    nodes: list[PromptFlowNode]


class SlackChannelIn(WireModel):
    id: NonEmpty
    name: str | None = None


class SlackIn(WireModel):
    channels: list[SlackChannelIn]
    connection_id: NonEmpty
    outcomes: list[OutcomeFilter]
    template: str | None = None


class SttContextIn(WireModel):
    general: list[KeyValueIn]
    terms: list[str]


class ZohoFieldMapping(WireModel):
    source: NonEmpty
    zoho_field: NonEmpty


class ZohoIn(WireModel):
    connection_id: NonEmpty
    field_mapping: list[ZohoFieldMapping]
    log_call_activity: bool
    module: NonEmpty
    outcomes: list[OutcomeFilter]
    template: str | None = None


__all__ = [
    "VOICE_SPEED_RANGES",
    "CalendlyIn",
    "CallRetryConfigIn",
    "CallingWindowIn",
    "CustomToolIn",
    "FaqItemIn",
    "FieldSpecIn",
    "HttpUrl",
    "IanaTimezone",
    "LlmModelIn",
    "PointIn",
    "PromptFlowIn",
    "SlackIn",
    "SttContextIn",
    "TransferDestinationIn",
    "VoiceIn",
    "ZohoIn",
]
