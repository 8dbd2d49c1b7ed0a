"""Calendar rules in the user's zone: quiet hours (incl. DST), frequency-cap windows, local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from engagekit.campaigns.definitions import FrequencyCapRule, QuietHours
from engagekit.campaigns.rules import (
    SentRecord,
    applicable,
    capped_by,
    earliest_local_instant,
    local_send_instant,
    quiet_until,
    window_start,
    zone,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class QuietCase:
    id: str
    start: str
    end: str
    now: str
    tz: str
    until: str | None


QUIET = [
    QuietCase("outside-daytime-window", "09:00", "17:00", "2026-03-02T08:59:00", "UTC", None),
    QuietCase("inside-daytime-window", "09:00", "17:00", "2026-03-02T09:00:00", "UTC", "2026-03-02T17:00:00"),
    QuietCase("end-is-exclusive", "09:00", "17:00", "2026-03-02T17:00:00", "UTC", None),
    QuietCase(
        "overnight-before-midnight", "22:00", "08:00", "2026-03-02T23:30:00", "UTC", "2026-03-03T08:00:00"
    ),
    QuietCase(
        "overnight-after-midnight", "22:00", "08:00", "2026-03-03T02:00:00", "UTC", "2026-03-03T08:00:00"
    ),
    QuietCase("overnight-outside", "22:00", "08:00", "2026-03-03T12:00:00", "UTC", None),
    # 23:30 UTC is 18:30 in New York (EST): outside a 22:00-08:00 window there
    QuietCase("users-zone-not-utc", "22:00", "08:00", "2026-03-02T23:30:00", "America/New_York", None),
    # 04:00 UTC = 23:00 EST on Mar 7; the window ends 08:00 EDT on Mar 8 (DST began 02:00) = 12:00 UTC
    QuietCase(
        "across-spring-forward",
        "22:00",
        "08:00",
        "2026-03-08T04:00:00",
        "America/New_York",
        "2026-03-08T12:00:00",
    ),
    # 03:00 UTC = 23:00 EDT on Oct 31; ends 08:00 EST on Nov 1 (DST ended 02:00) = 13:00 UTC
    QuietCase(
        "across-fall-back", "22:00", "08:00", "2026-11-01T03:00:00", "America/New_York", "2026-11-01T13:00:00"
    ),
    QuietCase(
        "unknown-zone-uses-utc",
        "09:00",
        "17:00",
        "2026-03-02T10:00:00",
        "Mars/Olympus",
        "2026-03-02T17:00:00",
    ),
]


@pytest.mark.parametrize("case", QUIET, ids=lambda c: c.id)
def test_quiet_hours_in_the_users_zone(case: QuietCase) -> None:
    rule = QuietHours(start=case.start, end=case.end)
    got = quiet_until(rule, utc(case.now), zone(case.tz))
    assert got == (utc(case.until) if case.until else None)


@dataclass
class WindowCase:
    id: str
    amount: int
    unit: str
    now: str
    tz: str
    start: str


WINDOWS = [
    WindowCase("minutes-rolling", 90, "minutes", "2026-03-02T12:00:00", "UTC", "2026-03-02T10:30:00"),
    WindowCase("one-day-is-today-utc", 1, "days", "2026-03-02T12:00:00", "UTC", "2026-03-02T00:00:00"),
    # 03:00 UTC on Mar 2 is still Mar 1 in Los Angeles: the calendar day began at 08:00 UTC on Mar 1
    WindowCase(
        "one-day-is-users-today",
        1,
        "days",
        "2026-03-02T03:00:00",
        "America/Los_Angeles",
        "2026-03-01T08:00:00",
    ),
    WindowCase("two-days-tokyo", 2, "days", "2026-03-02T16:00:00", "Asia/Tokyo", "2026-03-01T15:00:00"),
    WindowCase("weeks-rolling", 1, "weeks", "2026-03-09T12:00:00", "Asia/Tokyo", "2026-03-02T12:00:00"),
]


@pytest.mark.parametrize("case", WINDOWS, ids=lambda c: c.id)
def test_frequency_cap_window_starts(case: WindowCase) -> None:
    rule = FrequencyCapRule.model_validate(
        {"channel": "any", "limit": 1, "window": {"amount": case.amount, "unit": case.unit}}
    )
    assert window_start(rule, utc(case.now), zone(case.tz)) == utc(case.start)


def record(
    at: str, channel: str = "email", dispatch: str = "d1", tags: frozenset[str] = frozenset()
) -> SentRecord:
    return SentRecord(utc(at), channel, tags, dispatch)


@dataclass
class CapCase:
    id: str
    rule: dict[str, object]
    history: list[SentRecord]
    capped: bool


DAY = {"amount": 1, "unit": "days"}
CAPS = [
    CapCase(
        "under-limit", {"channel": "email", "limit": 2, "window": DAY}, [record("2026-03-02T08:00:00")], False
    ),
    CapCase(
        "at-limit",
        {"channel": "email", "limit": 2, "window": DAY},
        [record("2026-03-02T08:00:00"), record("2026-03-02T09:00:00", dispatch="d2")],
        True,
    ),
    CapCase(
        "yesterday-does-not-count",
        {"channel": "email", "limit": 1, "window": DAY},
        [record("2026-03-01T23:00:00")],
        False,
    ),
    CapCase(
        "other-channel-does-not-count",
        {"channel": "email", "limit": 1, "window": DAY},
        [record("2026-03-02T08:00:00", "sms")],
        False,
    ),
    CapCase(
        "any-counts-every-channel",
        {"channel": "any", "limit": 1, "window": DAY},
        [record("2026-03-02T08:00:00", "sms")],
        True,
    ),
    CapCase(
        "any-counts-a-multichannel-send-once",
        {"channel": "any", "limit": 2, "window": DAY},
        [record("2026-03-02T08:00:00", "sms"), record("2026-03-02T08:00:00", "email")],
        False,
    ),
    CapCase(
        "tag-rule-counts-tagged-sends-only",
        {"channel": "email", "tag": "promo", "limit": 1, "window": DAY},
        [record("2026-03-02T08:00:00")],
        False,
    ),
    CapCase(
        "tag-rule-at-limit",
        {"channel": "email", "tag": "promo", "limit": 1, "window": DAY},
        [record("2026-03-02T08:00:00", tags=frozenset({"promo"}))],
        True,
    ),
]


@pytest.mark.parametrize("case", CAPS, ids=lambda c: c.id)
def test_frequency_caps(case: CapCase) -> None:
    rule = FrequencyCapRule.model_validate(case.rule)
    rules = applicable([rule], "email", ["promo"])
    got = capped_by(rules, case.history, utc("2026-03-02T12:00:00"), zone("UTC"))
    assert (got is not None) == case.capped


def test_disabled_and_other_tag_rules_do_not_apply() -> None:
    base = {"limit": 1, "window": DAY}
    rules = [
        FrequencyCapRule.model_validate({**base, "channel": "email", "enabled": False}),
        FrequencyCapRule.model_validate({**base, "channel": "email", "tag": "other"}),
        FrequencyCapRule.model_validate({**base, "channel": "sms"}),
    ]
    assert applicable(rules, "email", ["promo"]) == []


def test_local_send_instants_follow_each_zone() -> None:
    assert local_send_instant("2026-03-08T09:00:00", zone("Asia/Tokyo")) == utc("2026-03-08T00:00:00")
    assert local_send_instant("2026-03-08T09:00:00", zone("America/New_York")) == utc("2026-03-08T13:00:00")
    assert earliest_local_instant("2026-03-08T09:00:00") == utc("2026-03-07T19:00:00")


def test_a_wall_time_in_the_dst_gap_is_shifted_forward() -> None:
    # 02:30 does not exist in New York on 2026-03-08; it is taken as 03:30 EDT (07:30 UTC)
    assert local_send_instant("2026-03-08T02:30:00", zone("America/New_York")) == utc("2026-03-08T07:30:00")
