"""Bodies of the call routes: POST /call, /call/search, /call/export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from openrevox.api.schemas.assistant import InlineAssistant
from openrevox.api.schemas.common import (
    CallStatus,
    Direction,
    NonEmpty,
    OutcomeFilter,
    ResultFilter,
    WireModel,
)


def _string_map(value: Any) -> Any:
    """map<string,string>: scalars are stringified (older clients send numbers too)."""
    if value is None or not isinstance(value, dict):
        return value
    converted: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            converted[key] = "true" if item else "false"
        elif isinstance(item, int | float):
            converted[key] = str(item)
        elif item is None:
            converted[key] = ""
        else:
            converted[key] = item
    return converted


StringMap = Annotated[dict[str, str], BeforeValidator(_string_map)]


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes (the SDK sends them without an offset) are read as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ConcurrencyIn(WireModel):
    key: Annotated[str, Field(min_length=1, max_length=200)]
    # SDK <= 0.3.0 sent the key's cap with every call.
    max: Annotated[int, Field(ge=1, le=10_000)] | None = None


class CallCreate(WireModel):
    phone_number: NonEmpty
    assistant: InlineAssistant | None = None
    assistant_id: str | None = None
    concurrency: ConcurrencyIn | None = None
    from_phone_number: str | None = None
    metadata: StringMap | None = None
    prompt_variables: StringMap | None = None
    scheduled_at: datetime | None = None
    skip_calling_window: bool | None = None
    force_now: bool | None = None  # SDK 0.1.1's name for skip_calling_window

    @field_validator("scheduled_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)


class CallFilters(WireModel):
    """The filters of /call/search and /call/export; an empty list means no filter."""

    assignee_ids: list[str] = Field(default_factory=list)
    assistant_ids: list[str] = Field(default_factory=list)
    campaign_ids: list[str] = Field(default_factory=list)
    directions: list[Direction] = Field(default_factory=list)
    from_phone_numbers: list[str] = Field(default_factory=list)
    outcomes: list[OutcomeFilter] = Field(default_factory=list)
    results: list[ResultFilter] = Field(default_factory=list)
    statuses: list[CallStatus] = Field(default_factory=list)
    call_ids: list[str] | None = None
    query: str | None = None
    sort_by: str | None = None
    sort_direction: Annotated[str, Field(pattern="^(asc|desc)$")] | None = None
    to_phone_number: str | None = None
    page: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    page_size: Annotated[int, Field(ge=1, le=1000)] = 50


class CallExportIn(WireModel):
    filters: CallFilters = Field(default_factory=CallFilters)
    include_metadata: bool = False
    include_structured_output_fields: bool = False
