"""When may an order dial? Calling windows, allowed days and retry timing.

Pure policy: no I/O and no wall clock; every function takes the instants it needs.
Every datetime in and out is timezone-aware (naive input raises ``ValueError``); results
are in UTC. Windows and allowed days are read in the recipient's timezone.

Documented behaviour:

- A window whose end is at or before its start crosses midnight and ends on the next day
  (``22:00``-``02:00``). Equal start and end make a full 24-hour window, so
  ``00:00``-``24:00`` means "all day".
- The day that counts for ``allowed_days`` is the day a window *starts*: with Monday to
  Friday, Friday's ``22:00``-``02:00`` window runs into Saturday 02:00, and Sunday's does
  not open at all (not even its Monday-morning part).
- Daylight saving time: a window edge that falls in a spring-forward gap moves to the first
  valid instant after the gap (02:30 on the day New York skips 02:00-03:00 is 03:00 EDT).
  A wall time that occurs twice (fall-back) means its first occurrence, so the repeated
  hour never opens a window a second time. A window that a gap swallows whole does not
  open that day.
- Several windows a day are simply unioned; overlapping windows are fine.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import phonenumbers
from phonenumbers import timezone as phone_timezones

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
"""Wire names of ``allowed_days``; the index is ``datetime.weekday()``."""

DEFAULT_WINDOW_START = time(10, 0)
DEFAULT_WINDOW_END = time(18, 0)
DEFAULT_RETRY_DELAY_SECONDS = 7200
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_ALLOWED_DAYS: frozenset[int] = frozenset(range(5))  # Monday to Friday

_SEARCH_DAYS = range(-1, 9)  # local days examined around an instant: yesterday to +8

_CLOCK_24H = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_CLOCK_12H = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?\s*([ap])m", re.IGNORECASE)


def parse_clock_time(text: str) -> time:
    """Read a calling-window time: ``HH:mm`` (24-hour) or ``h[:mm]am/pm`` (12-hour).

    Accepted: ``17:00``, ``09:00``, ``9:00``, ``6pm``, ``6 pm``, ``6PM``, ``9:30am``,
    ``12:30 PM``; ``12am`` is midnight and ``12pm`` noon. ``24:00`` is accepted and read as
    midnight (``time(0)``): since a window ending at or before its start ends on the next
    day, ``22:00``-``24:00`` ends at the end of the day and ``00:00``-``24:00`` is all day.
    As a start, ``24:00`` is the same as ``00:00``. Anything else raises ``ValueError``.
    """
    cleaned = text.strip()
    if match := _CLOCK_24H.fullmatch(cleaned):
        hour, minute = int(match[1]), int(match[2])
        if (hour, minute) == (24, 0):
            return time(0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    elif match := _CLOCK_12H.fullmatch(cleaned):
        hour, minute = int(match[1]), int(match[2] or 0)
        if 1 <= hour <= 12 and minute < 60:
            return time(hour % 12 + (12 if match[3].lower() == "p" else 0), minute)
    raise ValueError(
        f"'{text}' is not a time of day; use HH:mm (17:00) or h[:mm]am/pm (6pm, 9:30am)"
    )


def format_clock_time(value: time) -> str:
    """``time(9, 5)`` -> ``"09:05"``, the 24-hour form we echo."""
    return f"{value.hour:02d}:{value.minute:02d}"


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """A daily span of the recipient's local time in which dialling is allowed.

    ``end <= start`` means the window crosses midnight; ``end == start`` is all day.
    ``retry_delay_seconds`` is the wait after an attempt made in this window; 0 means
    "retry as soon as the calling window allows".
    """

    start: time
    end: time
    retry_delay_seconds: int

    def __post_init__(self) -> None:
        if self.retry_delay_seconds < 0:
            raise ValueError(
                f"retry_delay_seconds must be 0 or more, not {self.retry_delay_seconds}"
            )

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """An order's dialling rules, in the recipient's timezone.

    ``max_attempts`` counts every dial of the order, the first included. An empty
    ``allowed_days`` is representable but no window can then open: ``next_dial_time``
    raises ``ValueError``.
    """

    windows: tuple[CallingWindow, ...]
    max_attempts: int
    allowed_days: frozenset[int]
    call_twice_in_a_row: bool
    timezone: zoneinfo.ZoneInfo

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("a retry policy needs at least one calling window")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more, not {self.max_attempts}")
        if not self.allowed_days <= frozenset(range(7)):
            raise ValueError(f"allowed_days must be weekdays 0..6, not {sorted(self.allowed_days)}")


def default_policy(timezone: zoneinfo.ZoneInfo) -> RetryPolicy:
    """Revox's defaults: 10:00-18:00, 2 hours between attempts, 3 attempts, Monday-Friday."""
    return RetryPolicy(
        windows=(
            CallingWindow(DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_RETRY_DELAY_SECONDS),
        ),
        max_attempts=DEFAULT_MAX_ATTEMPTS,
        allowed_days=DEFAULT_ALLOWED_DAYS,
        call_twice_in_a_row=False,
        timezone=timezone,
    )


# Where a number's range spans several timezones, the zone where most of its people live.
_MAIN_ZONE_BY_REGION: dict[str, str] = {
    "US": "America/New_York",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "ID": "Asia/Jakarta",
    "CD": "Africa/Kinshasa",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "NZ": "Pacific/Auckland",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "IT": "Europe/Rome",
    "FI": "Europe/Helsinki",
    "NO": "Europe/Oslo",
    "MN": "Asia/Ulaanbaatar",
    "KI": "Pacific/Tarawa",
    "PF": "Pacific/Tahiti",
}


def timezone_for_number(
    e164: str, override: str | None, *, fallback: str = "UTC"
) -> zoneinfo.ZoneInfo:
    """The recipient's timezone: ``override`` (an IANA name) if given, else the number's.

    A blank override counts as none; an unknown one raises ``ValueError``. From the number,
    ``phonenumbers`` gives the candidate zones. When there are several (a whole-country
    mobile or toll-free range such as ``+1 800`` or ``+7 9xx``), we take the country's most
    populous zone when it is a candidate (``America/New_York`` for the US,
    ``Europe/Moscow`` for Russia, ``Australia/Sydney`` for Australia, ...), else the first
    candidate in alphabetical order, so the choice is deterministic. A number with no known
    location (``Etc/Unknown``, e.g. ``+800``) gets ``fallback``. A string that is not a
    phone number raises ``ValueError``.
    """
    if override is not None and override.strip():
        return load_timezone(override.strip())
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"'{e164}' is not a phone number in E.164 form") from None
    candidates = [
        name for name in phone_timezones.time_zones_for_number(parsed) if name != "Etc/Unknown"
    ]
    if not candidates:
        return load_timezone(fallback)
    main = _MAIN_ZONE_BY_REGION.get(phonenumbers.region_code_for_number(parsed) or "")
    return load_timezone(main if main in candidates else sorted(candidates)[0])


def load_timezone(name: str) -> zoneinfo.ZoneInfo:
    """``zoneinfo.ZoneInfo(name)`` with a ``ValueError`` that says what to send."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{name}' is not an IANA timezone (examples: America/New_York, Europe/Paris)"
        ) from None


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _offset_at(instant: datetime, tz: zoneinfo.ZoneInfo) -> timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset


def _instant(day: date, wall: time, tz: zoneinfo.ZoneInfo) -> datetime:
    """The UTC instant at which clocks in ``tz`` show ``wall`` on ``day``.

    A repeated wall time (fall-back) gives its first occurrence; a skipped one
    (spring-forward gap) gives the first valid instant after the gap, i.e. the transition.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=0 reads the wall time with the offset before the transition, fold=1
    # with the offset after; the transition lies between the two readings.
    other = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = (int(reading.timestamp()) for reading in sorted((first, other)))
    after = _offset_at(datetime.fromtimestamp(high, UTC), tz)
    while high - low > 1:  # tz transitions fall on whole seconds
        middle = (low + high) // 2
        if _offset_at(datetime.fromtimestamp(middle, UTC), tz) == after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _interval(window: CallingWindow, day: date, tz: zoneinfo.ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC span ``[start, end)`` of ``window`` opening on local ``day``."""
    end_day = day + timedelta(days=1) if window.crosses_midnight else day
    return _instant(day, window.start, tz), _instant(end_day, window.end, tz)


def _openings(policy: RetryPolicy, around: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Non-empty window spans on allowed days from the local day before ``around`` to 8
    days after: enough to reach every weekday, including a window a DST gap swallowed."""
    local_day = around.astimezone(policy.timezone).date()
    for shift in _SEARCH_DAYS:
        day = local_day + timedelta(days=shift)
        if day.weekday() not in policy.allowed_days:
            continue
        for window in policy.windows:
            start, end = _interval(window, day, policy.timezone)
            if start < end:
                yield start, end


def next_dial_time(
    policy: RetryPolicy, not_before: datetime, *, skip_window: bool = False
) -> datetime:
    """The earliest instant at or after ``not_before`` inside a calling window that opens
    on an allowed day (UTC). ``skip_window`` returns ``not_before`` itself.

    Raises ``ValueError`` when no window can ever open (no allowed day).
    """
    earliest = _utc(not_before, "not_before")
    if skip_window:
        return earliest
    if not policy.allowed_days:
        raise ValueError("no calling window can open: allowed_days is empty")
    best: datetime | None = None
    for start, end in _openings(policy, earliest):
        if end > earliest:
            candidate = max(start, earliest)
            if best is None or candidate < best:
                best = candidate
    if best is None:  # pragma: no cover - unreachable with an allowed day in every week
        raise ValueError("no calling window opens within the next week")
    return best


def in_window(policy: RetryPolicy, at: datetime) -> bool:
    """Whether ``at`` lies inside a calling window on an allowed day."""
    return bool(policy.allowed_days) and next_dial_time(policy, at) == _utc(at, "at")


def retry_delay_for(policy: RetryPolicy, attempt_started_at: datetime) -> int:
    """The ``retry_delay_seconds`` of the window the attempt started in.

    The first window in the policy's order whose span contains the start wins (allowed
    days are not checked: a ``skip_calling_window`` dial on a Saturday at 11:00 uses the
    10:00-18:00 window's delay). An attempt made outside every window (a skipped window)
    uses the first window's delay.
    """
    started = _utc(attempt_started_at, "attempt_started_at")
    local_day = started.astimezone(policy.timezone).date()
    for window in policy.windows:
        for day in (local_day - timedelta(days=1), local_day):
            start, end = _interval(window, day, policy.timezone)
            if start <= started < end:
                return window.retry_delay_seconds
    return policy.windows[0].retry_delay_seconds


def next_attempt_time(
    policy: RetryPolicy,
    *,
    attempts_made: int,
    last_attempt_started_at: datetime,
    last_attempt_ended_at: datetime,
    reached_human: bool,
) -> datetime | None:
    """When the next dial of an order that goes on may happen, or ``None`` when its
    attempts are spent (``attempts_made >= max_attempts``).

    The next dial waits ``retry_delay_for`` the last attempt after that attempt *ended*,
    then the next calling window. ``call_twice_in_a_row`` skips the delay between attempts
    1 and 2 when attempt 1 did not reach a human; windows and allowed days still apply.
    Whether the order goes on at all (resolved, stopped) is ``lifecycle.after_attempt``'s
    business, not this function's.
    """
    if attempts_made < 1:
        raise ValueError(f"attempts_made must be 1 or more after an attempt, not {attempts_made}")
    started = _utc(last_attempt_started_at, "last_attempt_started_at")
    ended = _utc(last_attempt_ended_at, "last_attempt_ended_at")
    if ended < started:
        raise ValueError("last_attempt_ended_at is before last_attempt_started_at")
    if attempts_made >= policy.max_attempts:
        return None
    if policy.call_twice_in_a_row and attempts_made == 1 and not reached_human:
        delay = 0
    else:
        delay = retry_delay_for(policy, started)
    return next_dial_time(policy, ended + timedelta(seconds=delay))


def first_dial_time(
    policy: RetryPolicy, *, now: datetime, requested_at: datetime | None, skip_window: bool
) -> datetime:
    """When an order's first attempt may dial.

    It starts from ``requested_at`` (``scheduled_at``) when that is in the future, else
    from ``now`` (a past ``scheduled_at`` means "now"). ``skip_window`` (also the legacy
    ``force_now``) lifts the window and allowed-days check for this first attempt only:
    it dials at exactly that time. Otherwise the next calling window applies.
    """
    start = _utc(now, "now")
    if requested_at is not None:
        start = max(start, _utc(requested_at, "requested_at"))
    return next_dial_time(policy, start, skip_window=skip_window)
