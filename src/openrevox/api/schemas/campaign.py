"""Bodies of the campaign routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from openrevox.api.schemas.assistant_parts import CallRetryConfigIn
from openrevox.api.schemas.call import as_utc
from openrevox.api.schemas.common import (
    CallStatus,
    Direction,
    NonEmpty,
    OutcomeFilter,
    ResultFilter,
    WireModel,
)

MAX_CONTACTS_PER_REQUEST = 100_000


class ContactIn(WireModel):
    to_phone_number: NonEmpty
    # map<string,string> in 0.1.1, any JSON object in 0.5.0: values are stringified.
    prompt_variables: dict[str, Any] | None = None


class ContactsIn(WireModel):
    contacts: Annotated[list[ContactIn], Field(max_length=MAX_CONTACTS_PER_REQUEST)]


class CampaignCreate(WireModel):
    assistant_id: NonEmpty
    contacts: Annotated[list[ContactIn], Field(max_length=MAX_CONTACTS_PER_REQUEST)]
    name: Annotated[str, Field(min_length=1, max_length=500)]
    call_retry_config: CallRetryConfigIn | None = None
    from_phone_number: str | None = None
    max_concurrent_calls: Annotated[int, Field(ge=1, le=10_000)] | None = None
    # Older clients: 0.1.1 launched at create (optionally at scheduled_at), 0.2-0.3 sent launch.
    scheduled_at: datetime | None = None
    launch: bool | None = None

    @field_validator("scheduled_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)


class CampaignPatch(WireModel):
    call_retry_config: CallRetryConfigIn | None = None
    from_phone_number: str | None = None
    max_concurrent_calls: Annotated[int, Field(ge=1, le=10_000)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class SelectionFilters(WireModel):
    assignee_ids: list[str] = Field(default_factory=list)
    directions: list[Direction] = Field(default_factory=list)
    outcomes: list[OutcomeFilter] = Field(default_factory=list)
    results: list[ResultFilter] = Field(default_factory=list)
    statuses: list[CallStatus] = Field(default_factory=list)
    query: str | None = None


class RowSelection(WireModel):
    call_ids: list[str] = Field(default_factory=list)
    mode: Literal["all_except", "only"] = "all_except"


class Selection(WireModel):
    filters: SelectionFilters = Field(default_factory=SelectionFilters)
    rows: RowSelection = Field(default_factory=RowSelection)


class LaunchIn(WireModel):
    mode: Literal["ai_first", "speed_dial"]
    selection: Selection
    scheduled_at: datetime | None = None

    @field_validator("scheduled_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value)
