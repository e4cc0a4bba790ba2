"""Calling windows, allowed days and retry timing; every instant is given, never read."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from openrevox.domain.schedule import (
    DEFAULT_ALLOWED_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_DELAY_SECONDS,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    WEEKDAYS,
    CallingWindow,
    RetryPolicy,
    default_policy,
    first_dial_time,
    format_clock_time,
    in_window,
    next_attempt_time,
    next_dial_time,
    parse_clock_time,
    retry_delay_for,
    timezone_for_number,
)

NEW_YORK = ZoneInfo("America/New_York")
ALL_DAYS = frozenset(range(7))
MON_FRI = frozenset(range(5))


def policy(
    *windows: tuple[str, str, int],
    days: frozenset[int] = ALL_DAYS,
    tz: str = "America/New_York",
    max_attempts: int = 3,
    twice: bool = False,
) -> RetryPolicy:
    return RetryPolicy(
        windows=tuple(
            CallingWindow(parse_clock_time(start), parse_clock_time(end), delay)
            for start, end, delay in (windows or (("10:00", "18:00", 7200),))
        ),
        max_attempts=max_attempts,
        allowed_days=days,
        call_twice_in_a_row=twice,
        timezone=ZoneInfo(tz),
    )


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    """A New York wall time as an aware UTC instant."""
    wall = datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)
    return wall.astimezone(UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# 2026-01-05 is a Monday; 2026-01-09 a Friday, 10 Saturday, 11 Sunday, 12 Monday.
MONDAY = (2026, 1, 5)


def test_weekdays_are_indexed_like_datetime_weekday() -> None:
    assert WEEKDAYS[datetime(*MONDAY).weekday()] == "monday"
    assert WEEKDAYS == (
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17:00", time(17, 0)),
        ("09:00", time(9, 0)),
        ("9:00", time(9, 0)),
        ("0:00", time(0, 0)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("24:00", time(0, 0)),
        ("6pm", time(18, 0)),
        ("6 pm", time(18, 0)),
        ("6PM", time(18, 0)),
        ("6 Pm", time(18, 0)),
        ("10am", time(10, 0)),
        ("9:30am", time(9, 30)),
        ("10:00 am", time(10, 0)),
        ("12am", time(0, 0)),
        ("12:30am", time(0, 30)),
        ("12pm", time(12, 0)),
        ("12:30 PM", time(12, 30)),
        ("11:59pm", time(23, 59)),
        ("1am", time(1, 0)),
        ("  10am  ", time(10, 0)),
    ],
)
def test_parse_clock_time_accepts_every_documented_format(text: str, expected: time) -> None:
    assert parse_clock_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "25:00",
        "24:01",
        "24:30",
        "12:60",
        "-1:00",
        "9",
        "17",
        "",
        "   ",
        "noon",
        "13pm",
        "0am",
        "0pm",
        "12:61pm",
        "9:5",
        "9:005",
        "109:00",
        "17:00:00",
        "6 p.m.",
        "9.30am",
        "6pmx",
        "am",
        "\u0661\u0667:\u0660\u0660",  # Arabic-Indic digits
    ],
)
def test_parse_clock_time_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time of day"):
        parse_clock_time(text)


def test_parse_clock_time_error_says_what_to_send() -> None:
    with pytest.raises(ValueError) as caught:
        parse_clock_time("25:00")
    assert str(caught.value) == (
        "'25:00' is not a time of day; use HH:mm (17:00) or h[:mm]am/pm (6pm, 9:30am)"
    )


def test_format_clock_time_is_24_hour_with_leading_zeros() -> None:
    assert format_clock_time(time(9, 5)) == "09:05"
    assert format_clock_time(parse_clock_time("6pm")) == "18:00"


def test_defaults_are_revox_defaults() -> None:
    assert (time(10), time(18)) == (DEFAULT_WINDOW_START, DEFAULT_WINDOW_END)
    assert (DEFAULT_RETRY_DELAY_SECONDS, DEFAULT_MAX_ATTEMPTS) == (7200, 3)
    assert frozenset(WEEKDAYS[d] for d in DEFAULT_ALLOWED_DAYS) == {
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
    }
    built = default_policy(NEW_YORK)
    assert built.windows == (CallingWindow(time(10), time(18), 7200),)
    assert (built.max_attempts, built.call_twice_in_a_row, built.timezone) == (3, False, NEW_YORK)


def test_window_and_policy_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="retry_delay_seconds"):
        CallingWindow(time(10), time(18), -1)
    with pytest.raises(ValueError, match="at least one calling window"):
        RetryPolicy((), 3, ALL_DAYS, False, NEW_YORK)
    window = CallingWindow(time(10), time(18), 0)
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy((window,), 0, ALL_DAYS, False, NEW_YORK)
    with pytest.raises(ValueError, match="allowed_days"):
        RetryPolicy((window,), 3, frozenset({7}), False, NEW_YORK)


# --- timezone_for_number -------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        ("+12125550100", "America/New_York"),
        ("+14155550100", "America/Los_Angeles"),
        ("+18085550100", "Pacific/Honolulu"),
        ("+33612345678", "Europe/Paris"),
        ("+74951234567", "Europe/Moscow"),
    ],
)
def test_timezone_from_a_number_with_one_zone(number: str, zone: str) -> None:
    assert timezone_for_number(number, None) == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        ("+18005550100", "America/New_York"),  # US toll-free: every NANP zone
        ("+79161234567", "Europe/Moscow"),  # Russian mobile: 16 zones
        ("+77011234567", "Asia/Almaty"),  # Kazakh mobile, same +7 candidates
        ("+61412345678", "Australia/Sydney"),  # Australian mobile
        ("+34612345678", "Europe/Madrid"),  # Spanish mobile, Canaries included
        ("+59995181234", "America/Curacao"),  # no main zone known: first alphabetically
    ],
)
def test_number_with_several_zones_takes_the_most_populous(number: str, zone: str) -> None:
    assert timezone_for_number(number, None) == ZoneInfo(zone)


def test_override_wins_over_the_number() -> None:
    assert timezone_for_number("+12125550100", "Europe/Paris") == ZoneInfo("Europe/Paris")
    assert timezone_for_number("+12125550100", " Asia/Tokyo ") == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_override_counts_as_none(blank: str) -> None:
    assert timezone_for_number("+14155550100", blank) == ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize("override", ["Mars/Base", "utc", "../etc/passwd", "Europe/"])
def test_unknown_override_is_refused(override: str) -> None:
    with pytest.raises(ValueError, match="is not an IANA timezone"):
        timezone_for_number("+12125550100", override)


def test_number_with_unknown_location_gets_the_fallback() -> None:
    assert timezone_for_number("+80012345678", None) == ZoneInfo("UTC")
    assert timezone_for_number("+80012345678", None, fallback="Europe/Paris") == ZoneInfo(
        "Europe/Paris"
    )


@pytest.mark.parametrize("text", ["not a number", "+999", ""])
def test_text_that_is_not_a_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a phone number"):
        timezone_for_number(text, None)


# --- next_dial_time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("not_before", "expected"),
    [
        (ny(*MONDAY, 12), ny(*MONDAY, 12)),  # inside: at once
        (ny(*MONDAY, 10), ny(*MONDAY, 10)),  # the start is inside
        (ny(*MONDAY, 7, 30), ny(*MONDAY, 10)),  # before: the opening
        (ny(*MONDAY, 18), ny(2026, 1, 6, 10)),  # the end is outside
        (ny(*MONDAY, 23, 59), ny(2026, 1, 6, 10)),
    ],
)
def test_dial_time_is_the_earliest_instant_in_a_window(
    not_before: datetime, expected: datetime
) -> None:
    assert next_dial_time(policy(), not_before) == expected


def test_result_is_utc_even_for_input_in_another_offset() -> None:
    paris_noon = datetime(2026, 1, 5, 18, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 12:00 NY
    result = next_dial_time(policy(), paris_noon)
    assert result == ny(*MONDAY, 12)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("not_before", "expected"),
    [
        (ny(2026, 1, 9, 19), ny(2026, 1, 12, 10)),  # Friday evening -> Monday
        (ny(2026, 1, 10, 11), ny(2026, 1, 12, 10)),  # Saturday inside the hours -> Monday
        (ny(2026, 1, 11, 23), ny(2026, 1, 12, 10)),  # Sunday night -> Monday
    ],
)
def test_weekends_are_skipped_with_monday_to_friday(
    not_before: datetime, expected: datetime
) -> None:
    assert next_dial_time(policy(days=MON_FRI), not_before) == expected


def test_only_allowed_days_open() -> None:
    wednesdays = policy(days=frozenset({2}))
    assert next_dial_time(wednesdays, ny(*MONDAY, 12)) == ny(2026, 1, 7, 10)
    assert next_dial_time(wednesdays, ny(2026, 1, 7, 18)) == ny(2026, 1, 14, 10)


def test_days_are_the_recipients_local_days() -> None:
    # Saturday 02:00 UTC is still Friday 21:00 in New York: Friday's window applies.
    evening = policy(("20:00", "23:00", 0), days=MON_FRI)
    assert next_dial_time(evening, utc(2026, 1, 10, 2)) == utc(2026, 1, 10, 2)


@pytest.mark.parametrize(
    ("not_before", "expected"),
    [
        (ny(*MONDAY, 12, 30), ny(*MONDAY, 14)),  # between the windows
        (ny(*MONDAY, 8), ny(*MONDAY, 9)),
        (ny(*MONDAY, 15), ny(*MONDAY, 15)),
        (ny(*MONDAY, 17, 30), ny(2026, 1, 6, 9)),
    ],
)
def test_several_windows_a_day(not_before: datetime, expected: datetime) -> None:
    # Listed out of order on purpose: the order of windows does not matter here.
    two = policy(("14:00", "17:00", 0), ("9:00", "12:00", 0))
    assert next_dial_time(two, not_before) == expected


def test_overlapping_windows_join() -> None:
    overlapping = policy(("09:00", "13:00", 0), ("12:00", "16:00", 0))
    assert next_dial_time(overlapping, ny(*MONDAY, 12, 30)) == ny(*MONDAY, 12, 30)
    assert next_dial_time(overlapping, ny(*MONDAY, 15, 59)) == ny(*MONDAY, 15, 59)
    assert next_dial_time(overlapping, ny(*MONDAY, 16)) == ny(2026, 1, 6, 9)


@pytest.mark.parametrize(
    ("not_before", "expected"),
    [
        (ny(2026, 1, 9, 23), ny(2026, 1, 9, 23)),  # Friday night, Friday's window
        (ny(2026, 1, 10, 1), ny(2026, 1, 10, 1)),  # Saturday 01:00: still Friday's window
        (ny(2026, 1, 10, 2), ny(2026, 1, 12, 22)),  # Friday's window closed at 02:00
        (ny(2026, 1, 11, 23), ny(2026, 1, 12, 22)),  # Sunday's window never opens
        (ny(2026, 1, 12, 1), ny(2026, 1, 12, 22)),  # ... not even its Monday part
        (ny(2026, 1, 13, 1), ny(2026, 1, 13, 1)),  # Tuesday 01:00: Monday's window
    ],
)
def test_window_crossing_midnight_counts_the_start_day(
    not_before: datetime, expected: datetime
) -> None:
    night = policy(("22:00", "02:00", 0), days=MON_FRI)
    assert next_dial_time(night, not_before) == expected


def test_all_day_window() -> None:
    all_day = policy(("00:00", "24:00", 0))
    for hour in range(0, 24, 5):
        assert next_dial_time(all_day, ny(*MONDAY, hour)) == ny(*MONDAY, hour)
    weekdays_all_day = policy(("0:00", "0:00", 0), days=MON_FRI)
    assert next_dial_time(weekdays_all_day, ny(2026, 1, 10, 12)) == ny(2026, 1, 12, 0)
    assert next_dial_time(weekdays_all_day, ny(2026, 1, 9, 23, 59)) == ny(2026, 1, 9, 23, 59)


def test_spring_forward_gap_moves_start_to_first_valid_instant() -> None:
    # 2026-03-08: New York clocks jump from 02:00 EST to 03:00 EDT (07:00 UTC).
    gap_start = policy(("2:30", "5:00", 0))
    assert next_dial_time(gap_start, ny(2026, 3, 8, 0)) == utc(2026, 3, 8, 7)
    assert next_dial_time(gap_start, utc(2026, 3, 8, 7, 30)) == utc(2026, 3, 8, 7, 30)


def test_spring_forward_gap_moves_end_to_first_valid_instant() -> None:
    ends_in_gap = policy(("1:00", "2:30", 0))
    assert next_dial_time(ends_in_gap, utc(2026, 3, 8, 6, 59)) == utc(2026, 3, 8, 6, 59)
    # 07:00 UTC is 03:00 EDT: the window is over; the next one is Monday 01:00 EDT.
    assert next_dial_time(ends_in_gap, utc(2026, 3, 8, 7)) == utc(2026, 3, 9, 5)


def test_spring_forward_gap_that_swallows_a_window_skips_that_day() -> None:
    inside_gap = policy(("2:00", "2:45", 0))
    assert next_dial_time(inside_gap, ny(2026, 3, 8, 0)) == ny(2026, 3, 9, 2)


def test_spring_forward_day_window_is_an_hour_shorter_in_real_time() -> None:
    overnight = policy(("22:00", "06:00", 0))
    # Saturday 22:00 EST (03:00 UTC Sun) to Sunday 06:00 EDT (10:00 UTC): 7 real hours.
    assert next_dial_time(overnight, utc(2026, 3, 8, 9, 59)) == utc(2026, 3, 8, 9, 59)
    assert next_dial_time(overnight, utc(2026, 3, 8, 10)) == ny(2026, 3, 8, 22)


def test_fall_back_repeated_hour_opens_the_window_once() -> None:
    # 2026-11-01: New York clocks go from 02:00 EDT back to 01:00 EST; 01:xx happens twice.
    early = policy(("1:00", "1:30", 0))
    first_pass = utc(2026, 11, 1, 5)  # 01:00 EDT
    assert next_dial_time(early, ny(2026, 11, 1, 0)) == first_pass
    assert next_dial_time(early, utc(2026, 11, 1, 5, 29)) == utc(2026, 11, 1, 5, 29)
    # 01:10 EST, the second pass: the window has had its turn; next is Monday 01:00 EST.
    assert next_dial_time(early, utc(2026, 11, 1, 6, 10)) == utc(2026, 11, 2, 6)


def test_fall_back_window_uses_the_new_offset() -> None:
    day = policy()
    assert next_dial_time(day, ny(2026, 10, 31, 20)) == utc(2026, 11, 1, 15)  # 10:00 EST
    assert next_dial_time(day, utc(2026, 11, 1, 22, 59)) == utc(2026, 11, 1, 22, 59)
    assert next_dial_time(day, utc(2026, 11, 1, 23)) == utc(2026, 11, 2, 15)


def test_fall_back_window_spanning_the_repeated_hour_is_one_interval() -> None:
    spanning = policy(("0:30", "3:00", 0))
    # 00:30 EDT (04:30 UTC) to 03:00 EST (08:00 UTC), repeated hour included.
    for minutes in range(0, 210, 15):
        instant = utc(2026, 11, 1, 4, 30) + timedelta(minutes=minutes)
        assert next_dial_time(spanning, instant) == instant
    assert next_dial_time(spanning, utc(2026, 11, 1, 8)) == ny(2026, 11, 2, 0, 30)


def test_skip_window_returns_not_before_itself() -> None:
    saturday_night = ny(2026, 1, 10, 23)
    assert next_dial_time(policy(days=MON_FRI), saturday_night, skip_window=True) == saturday_night


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_dial_time(policy(), datetime(2026, 1, 5, 12))


def test_no_allowed_day_means_no_window_can_open() -> None:
    with pytest.raises(ValueError, match="allowed_days is empty"):
        next_dial_time(policy(days=frozenset()), ny(*MONDAY))
    assert not in_window(policy(days=frozenset()), ny(*MONDAY, 12))


def test_in_window() -> None:
    weekdays = policy(days=MON_FRI)
    assert in_window(weekdays, ny(*MONDAY, 10))
    assert not in_window(weekdays, ny(*MONDAY, 18))
    assert not in_window(weekdays, ny(2026, 1, 10, 12))


def _oracle_next(
    windows: list[tuple[int, int]], days: frozenset[int], start: datetime, horizon: int
) -> list[datetime | None]:
    """Brute force in a zone without DST: minute by minute, which minutes are open, then
    for each minute the first open one at or after it."""
    tokyo = ZoneInfo("Asia/Tokyo")
    is_open: list[bool] = []
    for index in range(horizon):
        local = (start + timedelta(minutes=index)).astimezone(tokyo)
        minute = local.hour * 60 + local.minute
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        hit = False
        for begin, end in windows:
            if end > begin:
                hit = hit or (today in days and begin <= minute < end)
            else:
                hit = hit or (today in days and minute >= begin)
                hit = hit or (yesterday in days and minute < end)
        is_open.append(hit)
    answers: list[datetime | None] = [None] * horizon
    following: datetime | None = None
    for index in range(horizon - 1, -1, -1):
        if is_open[index]:
            following = start + timedelta(minutes=index)
        answers[index] = following
    return answers


@pytest.mark.parametrize("seed", range(12))
def test_next_dial_time_matches_a_brute_force_oracle(seed: int) -> None:
    rng = random.Random(seed)
    windows = [(rng.randrange(0, 1440, 30), rng.randrange(0, 1440, 30)) for _ in range(2)]
    days = frozenset(rng.sample(range(7), rng.randint(1, 7)))
    tested = RetryPolicy(
        windows=tuple(
            CallingWindow(time(b // 60, b % 60), time(e // 60, e % 60), 0) for b, e in windows
        ),
        max_attempts=1,
        allowed_days=days,
        call_twice_in_a_row=False,
        timezone=ZoneInfo("Asia/Tokyo"),
    )
    start, horizon = utc(2026, 1, 1), 20 * 1440
    oracle = _oracle_next(windows, days, start, horizon)
    for index in range(0, 10 * 1440, 17):
        instant = start + timedelta(minutes=index)
        assert next_dial_time(tested, instant) == oracle[index], instant


# --- retry_delay_for -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("started", "delay"),
    [
        (ny(*MONDAY, 10, 30), 600),  # first window
        (ny(*MONDAY, 15), 3600),  # second window
        (ny(*MONDAY, 12, 30), 600),  # overlap: the first window in the policy's order
        (ny(*MONDAY, 20), 600),  # outside every window: the first window's
        (ny(2026, 1, 10, 15), 3600),  # a Saturday: the window times still tell
        (ny(2026, 1, 6, 1), 60),  # 01:00: the window that crossed midnight
    ],
)
def test_retry_delay_is_the_window_the_attempt_started_in(started: datetime, delay: int) -> None:
    three = policy(
        ("09:00", "13:00", 600),
        ("12:00", "18:00", 3600),
        ("23:00", "02:00", 60),
        days=MON_FRI,
    )
    assert retry_delay_for(three, started) == delay


# --- next_attempt_time ---------------------------------------------------------------


def attempt(
    tested: RetryPolicy,
    *,
    made: int = 1,
    started: datetime,
    ended: datetime | None = None,
    human: bool = False,
) -> datetime | None:
    return next_attempt_time(
        tested,
        attempts_made=made,
        last_attempt_started_at=started,
        last_attempt_ended_at=ended or started + timedelta(minutes=1),
        reached_human=human,
    )


def test_retry_waits_the_delay_after_the_attempt_ended() -> None:
    got = attempt(policy(), started=ny(*MONDAY, 11), ended=ny(*MONDAY, 11, 5))
    assert got == ny(*MONDAY, 13, 5)


def test_retry_past_the_window_moves_to_the_next_opening() -> None:
    got = attempt(policy(days=MON_FRI), started=ny(2026, 1, 9, 17), ended=ny(2026, 1, 9, 17, 1))
    assert got == ny(2026, 1, 12, 10)


def test_retry_delay_comes_from_the_window_the_attempt_started_in() -> None:
    two = policy(("09:00", "12:00", 3600), ("12:00", "18:00", 60))
    assert attempt(two, started=ny(*MONDAY, 11, 59), ended=ny(*MONDAY, 12, 5)) == ny(*MONDAY, 13, 5)


def test_retry_delay_zero_dials_as_soon_as_the_window_allows() -> None:
    eager = policy(("10:00", "18:00", 0))
    assert attempt(eager, started=ny(*MONDAY, 11), ended=ny(*MONDAY, 11, 2)) == ny(*MONDAY, 11, 2)
    assert attempt(eager, started=ny(*MONDAY, 17, 58), ended=ny(*MONDAY, 18, 1)) == ny(
        2026, 1, 6, 10
    )


@pytest.mark.parametrize(("made", "max_attempts"), [(3, 3), (1, 1), (4, 3)])
def test_no_retry_once_attempts_are_spent(made: int, max_attempts: int) -> None:
    tested = policy(max_attempts=max_attempts, twice=True)
    assert attempt(tested, made=made, started=ny(*MONDAY, 11)) is None


def test_retries_until_the_last_attempt() -> None:
    tested = policy(max_attempts=3)
    assert attempt(tested, made=2, started=ny(*MONDAY, 11)) == ny(*MONDAY, 13, 1)


def test_call_twice_in_a_row_dials_attempt_two_at_once() -> None:
    twice = policy(twice=True)
    assert attempt(twice, started=ny(*MONDAY, 11), ended=ny(*MONDAY, 11, 1)) == ny(*MONDAY, 11, 1)


def test_call_twice_in_a_row_still_respects_the_window() -> None:
    twice = policy(twice=True, days=MON_FRI)
    got = attempt(twice, started=ny(2026, 1, 9, 17, 59), ended=ny(2026, 1, 9, 18, 1))
    assert got == ny(2026, 1, 12, 10)


@pytest.mark.parametrize(("made", "human"), [(2, False), (1, True)])
def test_call_twice_in_a_row_only_affects_one_to_two_without_a_human(
    made: int, human: bool
) -> None:
    twice = policy(twice=True, max_attempts=5)
    got = attempt(twice, made=made, started=ny(*MONDAY, 11), ended=ny(*MONDAY, 11, 1), human=human)
    assert got == ny(*MONDAY, 13, 1)


def test_next_attempt_time_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="attempts_made"):
        attempt(policy(), made=0, started=ny(*MONDAY, 11))
    with pytest.raises(ValueError, match="before"):
        attempt(policy(), started=ny(*MONDAY, 11), ended=ny(*MONDAY, 10))
    with pytest.raises(ValueError, match="timezone-aware"):
        attempt(policy(), started=datetime(2026, 1, 5, 11), ended=ny(*MONDAY, 12))


# --- first_dial_time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "requested", "expected"),
    [
        (ny(*MONDAY, 11), None, ny(*MONDAY, 11)),  # now, inside the window
        (ny(*MONDAY, 7), None, ny(*MONDAY, 10)),  # now, before the window
        (ny(*MONDAY, 11), ny(*MONDAY, 15), ny(*MONDAY, 15)),  # scheduled later today
        (ny(*MONDAY, 11), ny(*MONDAY, 20), ny(2026, 1, 6, 10)),  # scheduled after hours
        (ny(*MONDAY, 11), ny(2026, 1, 1, 12), ny(*MONDAY, 11)),  # past: means now
        (ny(2026, 1, 10, 11), None, ny(2026, 1, 12, 10)),  # Saturday -> Monday
    ],
)
def test_first_dial_time(now: datetime, requested: datetime | None, expected: datetime) -> None:
    got = first_dial_time(policy(days=MON_FRI), now=now, requested_at=requested, skip_window=False)
    assert got == expected


@pytest.mark.parametrize(
    ("now", "requested", "expected"),
    [
        (ny(2026, 1, 10, 23), None, ny(2026, 1, 10, 23)),  # Saturday night, at once
        (ny(*MONDAY, 11), ny(*MONDAY, 22), ny(*MONDAY, 22)),  # exactly when requested
        (ny(*MONDAY, 11), ny(2026, 1, 1, 3), ny(*MONDAY, 11)),  # past: now
    ],
)
def test_skip_window_lifts_window_and_days_for_the_first_attempt(
    now: datetime, requested: datetime | None, expected: datetime
) -> None:
    got = first_dial_time(policy(days=MON_FRI), now=now, requested_at=requested, skip_window=True)
    assert got == expected


def test_first_dial_time_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        first_dial_time(policy(), now=datetime(2026, 1, 5), requested_at=None, skip_window=False)
    with pytest.raises(ValueError, match="requested_at must be timezone-aware"):
        first_dial_time(
            policy(), now=ny(*MONDAY), requested_at=datetime(2026, 1, 6), skip_window=True
        )


def test_a_day_the_timezone_skipped_entirely_has_no_window() -> None:
    # Samoa skipped 2011-12-30 when it crossed the date line (UTC-10 to UTC+14).
    apia = ZoneInfo("Pacific/Apia")
    samoa = policy(tz="Pacific/Apia")
    evening = datetime(2011, 12, 29, 20, tzinfo=apia).astimezone(UTC)
    assert next_dial_time(samoa, evening) == datetime(2011, 12, 31, 10, tzinfo=apia)
