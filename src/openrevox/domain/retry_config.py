"""From the wire ``call_retry_config`` (already validated) to a RetryPolicy."""

from __future__ import annotations

import zoneinfo
from typing import Any

from openrevox.domain.schedule import (
    WEEKDAYS,
    CallingWindow,
    RetryPolicy,
    parse_clock_time,
    timezone_for_number,
)


def policy_from_wire(config: dict[str, Any], timezone: zoneinfo.ZoneInfo) -> RetryPolicy:
    return RetryPolicy(
        windows=tuple(
            CallingWindow(
                start=parse_clock_time(window["calling_window_start_time"]),
                end=parse_clock_time(window["calling_window_end_time"]),
                retry_delay_seconds=int(window["retry_delay_seconds"]),
            )
            for window in config["calling_windows"]
        ),
        max_attempts=int(config["max_retry_attempts"]),
        allowed_days=frozenset(WEEKDAYS.index(day) for day in config["allowed_days"]),
        call_twice_in_a_row=bool(config["call_twice_in_a_row"]),
        timezone=timezone,
    )


def recipient_timezone(config: dict[str, Any], e164: str) -> zoneinfo.ZoneInfo:
    return timezone_for_number(e164, config.get("timezone"))
