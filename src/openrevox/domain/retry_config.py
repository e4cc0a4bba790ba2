"""From the wire ``call_retry_config`` (already validated) to a RetryPolicy."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from openrevox.domain.schedule import (
    WEEKDAYS,
    CallingWindow,
    RetryPolicy,
    in_window,
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


ALL_DAYS = frozenset(range(7))


@functools.lru_cache(maxsize=4096)
def _parsed_policy(config: str | bytes, timezone: str) -> RetryPolicy:
    return policy_from_wire(orjson.loads(config), zoneinfo.ZoneInfo(timezone))


def policy_for(config: Mapping[str, Any], timezone: str) -> RetryPolicy:
    """The order's RetryPolicy. Orders of a campaign or an assistant share their config:
    it is parsed once per process (a RetryPolicy is immutable)."""
    return _parsed_policy(orjson.dumps(config, option=orjson.OPT_SORT_KEYS), timezone)


def policy_from_text(config: str, timezone: str) -> RetryPolicy:
    """``policy_for`` from the stored JSON text, without decoding it again on a hit."""
    return _parsed_policy(config, timezone)


@functools.lru_cache(maxsize=4096)
def _always_open(policy: RetryPolicy) -> bool:
    # A window whose end equals its start lasts 24 hours; on every day, back to back.
    return policy.allowed_days == ALL_DAYS and any(w.start == w.end for w in policy.windows)


def dialable_at(policy: RetryPolicy, at: datetime) -> bool:
    """``schedule.in_window``, with the all-day, all-week policy answered at once."""
    return _always_open(policy) or in_window(policy, at)
