"""Shared pieces of the wire schemas: base model, enums, field validators."""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from openrevox.domain.schedule import parse_clock_time


class WireModel(BaseModel):
    """Request bodies: unknown keys from other SDK versions are ignored, not refused."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        """NUL cannot be stored in a text column (PostgreSQL refuses it): refuse it here,
        naming the field."""
        if _has_nul(value):
            raise ValueError("text may not contain NUL (\\u0000) characters")
        return value

    def given(self) -> set[str]:
        """Keys the client sent (absent keys are left unchanged by PATCH)."""
        return set(self.model_fields_set)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


Outcome = Literal["not_interested", "interested", "completed", "requested_callback_later"]
OutcomeFilter = Literal[
    "not_interested", "interested", "completed", "requested_callback_later", "none"
]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CallStatus = Literal[
    "initializing",
    "queued_for_calling",
    "calling",
    "post_processing",
    "not_launched",
    "scheduled",
    "paused",
    "completed",
    "cancelled",
    "errored",
]
AttemptResult = Literal["IVR", "voicemail", "human", "unknown", "ios-screening-filter"]
ResultFilter = Literal["IVR", "voicemail", "human", "unknown", "ios-screening-filter", "none"]
Direction = Literal["inbound", "outbound"]
FieldType = Literal["string", "number", "boolean", "enum", "date", "datetime"]
VoiceProvider = Literal["cartesia", "elevenlabs", "gradium"]
VoiceLanguage = Literal["en", "fr", "es", "de", "it", "pt", "ru", "zh"]


def _clock_time(value: str) -> str:
    parse_clock_time(value)
    return value


def _iana_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{value}' is not an IANA timezone (examples: America/New_York, Europe/Paris)"
        ) from None
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise ValueError("must be an http:// or https:// URL")
    return value


ClockTime = Annotated[str, AfterValidator(_clock_time)]
IanaTimezone = Annotated[str, AfterValidator(_iana_timezone)]
HttpUrl = Annotated[str, Field(max_length=2000), AfterValidator(_http_url)]
NonEmpty = Annotated[str, Field(min_length=1)]
