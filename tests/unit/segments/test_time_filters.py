"""Time filters: relative times, UTC day windows, birthdays and ages in the user's zone (DST edges).

Every case checks the answer at an instant, the next flip, and the exactness contract: the old
answer still holds 1 µs before the flip and the new answer holds at the flip itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from engagekit.domain.profile import Profile
from engagekit.segments import evaluate, next_flip, parse_filter

from tests.unit.segments.conftest import T0, make_profile

US = timedelta(microseconds=1)
DAY = timedelta(days=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def assert_flip_contract(
    tree: Any, profile: Profile, at: datetime, expected: bool, flip: datetime | None
) -> None:
    assert evaluate(tree, profile, at) is expected
    assert next_flip(tree, profile, at) == flip
    if flip is not None:
        assert evaluate(tree, profile, flip - US) is expected, "the answer changed before the timer"
        assert evaluate(tree, profile, flip) is not expected, "the timer fired but the answer did not change"


# -- relative times: half-open intervals, 1 day = 24 h ------------------------------------------

STORED = T0  # the stored instant t; X = 2 days


@dataclass
class RelCase:
    name: str
    comparison: str
    now: timedelta  # offset of the evaluation instant from t
    expected: bool
    flip: timedelta | None  # offset of the next flip from t


REL_CASES = [
    RelCase("less-than-ago: before t", "less_than_x_days_ago", -DAY, False, timedelta(0)),
    RelCase("less-than-ago: at t", "less_than_x_days_ago", timedelta(0), True, 2 * DAY),
    RelCase("less-than-ago: inside", "less_than_x_days_ago", DAY, True, 2 * DAY),
    RelCase("less-than-ago: at t+X", "less_than_x_days_ago", 2 * DAY, False, None),
    RelCase("more-than-ago: inside", "greater_than_x_days_ago", DAY, False, 2 * DAY),
    RelCase("more-than-ago: at t+X", "greater_than_x_days_ago", 2 * DAY, True, None),
    RelCase("in-less-than: far", "less_than_x_days_in_the_future", -3 * DAY, False, -2 * DAY),
    RelCase("in-less-than: at t-X", "less_than_x_days_in_the_future", -2 * DAY, True, timedelta(0)),
    RelCase("in-less-than: at t", "less_than_x_days_in_the_future", timedelta(0), False, None),
    RelCase("in-more-than: far", "greater_than_x_days_in_the_future", -3 * DAY, True, -2 * DAY),
    RelCase("in-more-than: at t-X", "greater_than_x_days_in_the_future", -2 * DAY, False, None),
]


@pytest.mark.parametrize("case", REL_CASES, ids=[c.name for c in REL_CASES])
def test_relative_time_comparison_and_its_flip(case: RelCase) -> None:
    tree = parse_filter(
        {"custom_attribute": {"custom_attribute_name": "t", "comparison": case.comparison, "value": 2}}
    )
    profile = make_profile(custom_attributes={"t": STORED.isoformat()})
    flip = None if case.flip is None else STORED + case.flip
    assert_flip_contract(tree, profile, STORED + case.now, case.expected, flip)


def test_relative_days_are_24_hours_even_across_a_dst_change() -> None:
    # New York springs forward on 2026-03-08; "less than 1 day ago" still ends 24 h later.
    tree = parse_filter(
        {
            "last_did_custom_event": {
                "custom_event_name": "e",
                "comparison": "less_than_x_days_ago",
                "value": 1,
            }
        }
    )
    profile = make_profile(time_zone="America/New_York")
    profile.record_event("e", utc("2026-03-07T12:00:00"))
    assert_flip_contract(tree, profile, utc("2026-03-08T08:00:00"), True, utc("2026-03-08T12:00:00"))


def test_decimal_days_on_last_did() -> None:
    tree = parse_filter(
        {
            "last_did_custom_event": {
                "custom_event_name": "e",
                "comparison": "greater_than_x_days_ago",
                "value": 0.25,
            }
        }
    )
    profile = make_profile()
    profile.record_event("e", T0)
    assert_flip_contract(tree, profile, T0, False, T0 + timedelta(hours=6))


def test_first_did_uses_the_first_occurrence() -> None:
    tree = parse_filter(
        {
            "first_did_custom_event": {
                "custom_event_name": "e",
                "comparison": "less_than_x_days_ago",
                "value": 7,
            }
        }
    )
    profile = make_profile()
    profile.record_event("e", T0 - 3 * DAY)
    profile.record_event("e", T0)
    assert_flip_contract(tree, profile, T0, True, T0 + 4 * DAY)


def test_last_purchase_of_a_product() -> None:
    tree = parse_filter(
        {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 7, "product_id": "sku"}}
    )
    profile = make_profile()
    profile.record_purchase("sku", T0 - DAY, 5.0)
    profile.record_purchase("other", T0, 5.0)
    assert_flip_contract(tree, profile, T0, True, T0 + 6 * DAY)


def test_never_performed_never_flips() -> None:
    tree = parse_filter(
        {
            "last_did_custom_event": {
                "custom_event_name": "e",
                "comparison": "greater_than_x_days_ago",
                "value": 1,
            }
        }
    )
    assert_flip_contract(tree, make_profile(), T0, False, None)


# -- UTC day windows ----------------------------------------------------------------------------


@dataclass
class WindowCase:
    name: str
    filter: dict[str, Any]
    events: list[str]  # UTC instants of occurrences of "e" (purchases of "sku" at 10.0 for purchase filters)
    at: str
    expected: bool
    flip: str | None


def _count(comparison: str, value: int, days: int) -> dict[str, Any]:
    return {
        "custom_event": {"custom_event_name": "e", "comparison": comparison, "value": value, "days": days}
    }


WINDOW_CASES = [
    WindowCase(
        "1 day is today's UTC date",
        _count("greater_than", 0, 1),
        ["2026-03-10T23:59:59"],
        "2026-03-10T23:59:59",
        True,
        "2026-03-11T00:00:00",
    ),
    WindowCase(
        "yesterday is outside a 1-day window",
        _count("greater_than", 0, 1),
        ["2026-03-09T23:00:00"],
        "2026-03-10T00:30:00",
        False,
        None,
    ),
    WindowCase(
        "oldest day leaves a 7-day window",
        _count("greater_than_or_equal_to", 1, 7),
        ["2026-03-04T05:00:00"],
        "2026-03-10T12:00:00",
        True,
        "2026-03-11T00:00:00",
    ),
    WindowCase(
        "exactly 2 becomes 1 when the older leaves",
        _count("equals", 2, 7),
        ["2026-03-05T10:00:00", "2026-03-09T10:00:00"],
        "2026-03-10T12:00:00",
        True,
        "2026-03-12T00:00:00",
    ),
    WindowCase(
        "at most 1 becomes true when one of two leaves",
        _count("less_than_or_equal_to", 1, 30),
        ["2026-02-20T10:00:00", "2026-03-09T10:00:00"],
        "2026-03-10T12:00:00",
        False,
        "2026-03-22T00:00:00",
    ),
    WindowCase(
        "a change that does not flip the answer is skipped",
        _count("greater_than", 0, 7),
        ["2026-03-05T10:00:00", "2026-03-09T10:00:00"],
        "2026-03-10T12:00:00",
        True,
        "2026-03-16T00:00:00",
    ),
    WindowCase(
        "a bucket dated tomorrow enters at midnight",
        _count("greater_than", 0, 1),
        ["2026-03-11T10:00:00"],
        "2026-03-10T12:00:00",
        False,
        "2026-03-11T00:00:00",
    ),
    WindowCase(
        "all-time counts never flip",
        {"custom_event": {"custom_event_name": "e", "comparison": "equals", "value": 1}},
        ["2026-03-01T00:00:00"],
        "2026-03-10T12:00:00",
        True,
        None,
    ),
    WindowCase(
        "zero in window", _count("equals", 0, 2), ["2026-03-01T00:00:00"], "2026-03-10T12:00:00", True, None
    ),
    WindowCase(
        "purchases in 7 days",
        {"purchase_count": {"comparison": "greater_than", "value": 1, "days": 7}},
        ["2026-03-04T10:00:00", "2026-03-10T10:00:00"],
        "2026-03-10T12:00:00",
        True,
        "2026-03-11T00:00:00",
    ),
    WindowCase(
        "money spent in 3 days",
        {"money_spent": {"comparison": "greater_than_or_equal_to", "value": 20, "days": 3}},
        ["2026-03-08T10:00:00", "2026-03-10T10:00:00"],
        "2026-03-10T12:00:00",
        True,
        "2026-03-11T00:00:00",
    ),
    WindowCase(
        "product in 30 days",
        {"purchased_product": {"product_id": "sku", "comparison": "greater_than", "value": 0, "days": 30}},
        ["2026-02-15T10:00:00"],
        "2026-03-10T12:00:00",
        True,
        "2026-03-17T00:00:00",
    ),
]


@pytest.mark.parametrize("case", WINDOW_CASES, ids=[c.name for c in WINDOW_CASES])
def test_window_count_and_its_flip(case: WindowCase) -> None:
    tree = parse_filter(case.filter)
    profile = make_profile(time_zone="Asia/Tokyo")  # windows are UTC dates whatever the user's zone
    for instant in case.events:
        if "custom_event" in case.filter:
            profile.record_event("e", utc(instant))
        else:
            profile.record_purchase("sku", utc(instant), 10.0)
    flip = None if case.flip is None else utc(case.flip)
    assert_flip_contract(tree, profile, utc(case.at), case.expected, flip)


def test_window_sum_agrees_with_the_profile_contract() -> None:
    profile = make_profile()
    for day in range(40):
        profile.record_event("e", T0 - day * DAY)
    profile.prune(T0)
    for days in (1, 7, 30):
        tree = parse_filter(_count("equals", profile.events["e"].in_last_days(days, T0), days))
        assert evaluate(tree, profile, T0)


# -- birthday and age in the user's zone, across DST changes -------------------------------------


@dataclass
class CalendarCase:
    name: str
    filter: dict[str, Any]
    dob: date | None
    zone: str | None
    at: str  # UTC
    expected: bool
    flip: str | None  # UTC
    extra: dict[str, Any] = field(default_factory=dict)


TODAY = {"birthday": {"comparison": "is_today"}}

CALENDAR_CASES = [
    CalendarCase(
        "UTC birthday ends at midnight",
        TODAY,
        date(1990, 3, 10),
        None,
        "2026-03-10T12:00:00",
        True,
        "2026-03-11T00:00:00",
    ),
    CalendarCase(
        "Tokyo starts 9 h before UTC",
        TODAY,
        date(1990, 3, 11),
        "Asia/Tokyo",
        "2026-03-10T12:00:00",
        False,
        "2026-03-10T15:00:00",
    ),
    CalendarCase(
        "unknown zone is UTC",
        TODAY,
        date(1990, 3, 11),
        "Mars/Olympus",
        "2026-03-10T12:00:00",
        False,
        "2026-03-11T00:00:00",
    ),
    CalendarCase(
        "New York: next midnight after spring-forward is EDT",
        TODAY,
        date(1990, 3, 9),
        "America/New_York",
        "2026-03-08T12:00:00",
        False,
        "2026-03-09T04:00:00",
    ),
    CalendarCase(
        "New York: birthday on the DST day lasts 23 h",
        TODAY,
        date(1990, 3, 8),
        "America/New_York",
        "2026-03-08T12:00:00",
        True,
        "2026-03-09T04:00:00",
    ),
    CalendarCase(
        "Santiago: midnight skipped, day starts 01:00",
        TODAY,
        date(1990, 9, 6),
        "America/Santiago",
        "2026-09-05T12:00:00",
        False,
        "2026-09-06T04:00:00",
    ),
    CalendarCase(
        "Santiago: day before the gap ends at the gap",
        TODAY,
        date(1990, 9, 5),
        "America/Santiago",
        "2026-09-05T12:00:00",
        True,
        "2026-09-06T04:00:00",
    ),
    CalendarCase(
        "Santiago: repeated 23:00 hour stays on the same date",
        TODAY,
        date(1990, 4, 4),
        "America/Santiago",
        "2026-04-05T03:30:00",
        True,
        "2026-04-05T04:00:00",
    ),
    CalendarCase(
        "Havana: first of two midnights starts the day",
        TODAY,
        date(1990, 11, 1),
        "America/Havana",
        "2026-10-31T12:00:00",
        False,
        "2026-11-01T04:00:00",
    ),
    CalendarCase(
        "Havana: 25-hour birthday",
        TODAY,
        date(1990, 11, 1),
        "America/Havana",
        "2026-11-01T04:30:00",
        True,
        "2026-11-02T05:00:00",
    ),
    CalendarCase(
        "Beirut: day starts after the repeated hour",
        TODAY,
        date(1990, 10, 25),
        "Asia/Beirut",
        "2026-10-24T21:30:00",
        False,
        "2026-10-24T22:00:00",
    ),
    CalendarCase(
        "Beirut: skipped midnight",
        TODAY,
        date(1990, 3, 29),
        "Asia/Beirut",
        "2026-03-28T12:00:00",
        False,
        "2026-03-28T22:00:00",
    ),
    CalendarCase(
        "Lord Howe: half-hour DST",
        TODAY,
        date(1990, 4, 5),
        "Australia/Lord_Howe",
        "2026-04-04T12:00:00",
        False,
        "2026-04-04T13:00:00",
    ),
    CalendarCase(
        "Feb 29 is March 1 in a common year",
        TODAY,
        date(2000, 2, 29),
        None,
        "2027-03-01T12:00:00",
        True,
        "2027-03-02T00:00:00",
    ),
    CalendarCase(
        "Feb 29 is March 1 in a leap year too",
        TODAY,
        date(2000, 2, 29),
        None,
        "2028-02-29T12:00:00",
        False,
        "2028-03-01T00:00:00",
    ),
    CalendarCase("no dob", TODAY, None, None, "2026-03-10T12:00:00", False, None),
    CalendarCase(
        "within 3 days",
        {"birthday": {"comparison": "is_within_next_x_days", "value": 3}},
        date(1990, 3, 13),
        None,
        "2026-03-10T12:00:00",
        True,
        "2026-03-14T00:00:00",
    ),
    CalendarCase(
        "4 days away",
        {"birthday": {"comparison": "is_within_next_x_days", "value": 3}},
        date(1990, 3, 13),
        None,
        "2026-03-09T12:00:00",
        False,
        "2026-03-10T00:00:00",
    ),
    CalendarCase(
        "within spans new year",
        {"birthday": {"comparison": "is_within_next_x_days", "value": 5}},
        date(1990, 1, 2),
        "Asia/Tokyo",
        "2026-12-27T12:00:00",
        False,
        "2026-12-27T15:00:00",
    ),
    CalendarCase(
        "on 03-01 includes Feb 29",
        {"birthday": {"comparison": "on", "value": "03-01"}},
        date(2000, 2, 29),
        None,
        "2026-06-01T00:00:00",
        True,
        None,
    ),
    CalendarCase(
        "before 03-01 excludes Feb 29",
        {"birthday": {"comparison": "before", "value": "03-01"}},
        date(2000, 2, 29),
        None,
        "2026-06-01T00:00:00",
        False,
        None,
    ),
    CalendarCase(
        "after 11-30",
        {"birthday": {"comparison": "after", "value": "11-30"}},
        date(2000, 12, 1),
        None,
        "2026-06-01T00:00:00",
        True,
        None,
    ),
    CalendarCase(
        "in month",
        {"birthday": {"comparison": "is_in_month", "value": 3}},
        date(2000, 2, 29),
        None,
        "2026-06-01T00:00:00",
        True,
        None,
    ),
    CalendarCase(
        "birthday exists",
        {"birthday": {"comparison": "exists"}},
        date(2000, 1, 1),
        None,
        "2026-06-01T00:00:00",
        True,
        None,
    ),
    CalendarCase(
        "age turns 18 at Tokyo midnight",
        {"age": {"comparison": "greater_than_or_equal_to", "value": 18}},
        date(2008, 3, 11),
        "Asia/Tokyo",
        "2026-03-10T12:00:00",
        False,
        "2026-03-10T15:00:00",
    ),
    CalendarCase(
        "age exactly 30 starts",
        {"age": {"comparison": "equals", "value": 30}},
        date(1996, 3, 11),
        None,
        "2026-03-10T12:00:00",
        False,
        "2026-03-11T00:00:00",
    ),
    CalendarCase(
        "age exactly 30 ends a year later",
        {"age": {"comparison": "equals", "value": 30}},
        date(1996, 3, 11),
        None,
        "2026-03-11T00:00:00",
        True,
        "2027-03-11T00:00:00",
    ),
    CalendarCase(
        "age under 18 for years",
        {"age": {"comparison": "less_than", "value": 18}},
        date(2020, 5, 1),
        None,
        "2026-03-10T12:00:00",
        True,
        "2038-05-01T00:00:00",
    ),
    CalendarCase(
        "age of a Feb 29 birth changes on March 1",
        {"age": {"comparison": "greater_than", "value": 27}},
        date(2000, 2, 29),
        None,
        "2028-02-29T12:00:00",
        False,
        "2028-03-01T00:00:00",
    ),
    CalendarCase(
        "age needs a dob",
        {"age": {"comparison": "less_than", "value": 200}},
        None,
        None,
        "2026-03-10T12:00:00",
        False,
        None,
    ),
    CalendarCase(
        "age does_not_exist",
        {"age": {"comparison": "does_not_exist"}},
        None,
        None,
        "2026-03-10T12:00:00",
        True,
        None,
    ),
    CalendarCase(
        "age past every threshold never flips",
        {"age": {"comparison": "greater_than", "value": 18}},
        date(1950, 1, 1),
        None,
        "2026-03-10T12:00:00",
        True,
        None,
    ),
]


@pytest.mark.parametrize("case", CALENDAR_CASES, ids=[c.name for c in CALENDAR_CASES])
def test_calendar_filter_in_the_users_zone(case: CalendarCase) -> None:
    tree = parse_filter(case.filter)
    profile = make_profile(dob=case.dob, time_zone=case.zone, **case.extra)
    flip = None if case.flip is None else utc(case.flip)
    assert_flip_contract(tree, profile, utc(case.at), case.expected, flip)


# -- trees ----------------------------------------------------------------------------------------


def test_tree_flip_skips_leaf_changes_that_cannot_change_the_tree() -> None:
    # Leaf flips at t+7d, but the other AND branch is false and static: no timer.
    tree = parse_filter(
        {
            "AND": [
                {
                    "last_did_custom_event": {
                        "custom_event_name": "e",
                        "comparison": "less_than_x_days_ago",
                        "value": 7,
                    }
                },
                {"standard_attribute": {"attribute_name": "country", "comparison": "equals", "value": "FR"}},
            ]
        }
    )
    profile = make_profile(country="US")
    profile.record_event("e", T0)
    assert evaluate(tree, profile, T0) is False
    assert next_flip(tree, profile, T0) is None


def test_tree_flip_is_the_first_change_of_the_whole_tree() -> None:
    # OR of "bought within 2 days" (ends T0+2d) and "birthday in 5 days" (starts local midnight T0+5d).
    tree = parse_filter(
        {
            "OR": [
                {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 2}},
                {"birthday": {"comparison": "is_today"}},
            ]
        }
    )
    profile = make_profile(dob=date(1990, 3, 15))
    profile.record_purchase("sku", T0, 1.0)
    assert_flip_contract(tree, profile, T0, True, T0 + 2 * DAY)
    assert_flip_contract(tree, profile, T0 + 2 * DAY, False, utc("2026-03-15T00:00:00"))
