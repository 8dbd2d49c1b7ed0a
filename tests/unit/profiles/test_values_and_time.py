"""Time formats, countries, time zones and identifiers (braze-api.md §1.1.1, §1.1.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from engagekit.profiles import identity as ids
from engagekit.profiles.geo import country_code, time_zone_name
from engagekit.profiles.timeparse import in_braze_range, iso, parse_time


@dataclass
class TimeCase:
    text: str
    expected: datetime | None


TIME_CASES = [
    TimeCase("2026-03-01T12:00:00Z", datetime(2026, 3, 1, 12, tzinfo=UTC)),
    TimeCase("2026-03-01T12:00:00.250+02:00", datetime(2026, 3, 1, 10, 0, 0, 250_000, tzinfo=UTC)),
    TimeCase("2013-04-24T09:03:04:123Z", datetime(2013, 4, 24, 9, 3, 4, 123_000, tzinfo=UTC)),
    TimeCase("2013-04-24T09:03:04:000+0100", datetime(2013, 4, 24, 8, 3, 4, tzinfo=UTC)),
    TimeCase("2026-03-01T12:00:00", datetime(2026, 3, 1, 12, tzinfo=UTC)),
    TimeCase("2026-03-01 12:00:00", datetime(2026, 3, 1, 12, tzinfo=UTC)),
    TimeCase("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    TimeCase("12/1/2021", datetime(2021, 12, 1, tzinfo=UTC)),
    TimeCase("Wed Apr 24 09:03:04 +0000 2013", datetime(2013, 4, 24, 9, 3, 4, tzinfo=UTC)),
    TimeCase("Wed 04 24 09:03:04.+0000 2013", datetime(2013, 4, 24, 9, 3, 4, tzinfo=UTC)),
    TimeCase("hello", None),
    TimeCase("2026-13-01", None),
    TimeCase("13/45/2021", None),
    TimeCase("", None),
]


@pytest.mark.parametrize("case", TIME_CASES, ids=lambda c: c.text or "empty")
def test_parse_time_accepts_brazes_formats(case: TimeCase) -> None:
    assert parse_time(case.text) == case.expected


def test_years_outside_0_to_3000_are_not_times() -> None:
    at = parse_time("3001-01-01")
    assert at is not None and not in_braze_range(at)
    assert iso(datetime(2026, 3, 1, tzinfo=UTC)) == "2026-03-01T00:00:00.000Z"


@dataclass
class MapCase:
    given: str
    expected: str | None


@pytest.mark.parametrize(
    "case",
    [
        MapCase("Australia", "AU"),
        MapCase("united kingdom", "GB"),
        MapCase("EIRE", "IE"),
        MapCase("RSA", "ZA"),
        MapCase("USA", "US"),
        MapCase("de", "DE"),
        MapCase("Channel Islands", None),
        MapCase("Unspecified", None),
    ],
    ids=lambda c: c.given,
)
def test_country_names_map_to_iso_codes(case: MapCase) -> None:
    assert country_code(case.given) == case.expected


@pytest.mark.parametrize(
    "case",
    [
        MapCase("Eastern Time (US & Canada)", "America/New_York"),
        MapCase("London", "Europe/London"),
        MapCase("america/new_york", "America/New_York"),
        MapCase("Europe/Paris", "Europe/Paris"),
        MapCase("Mars/Olympus", None),
    ],
    ids=lambda c: c.given,
)
def test_time_zones_iana_or_rails(case: MapCase) -> None:
    assert time_zone_name(case.given) == case.expected


@pytest.mark.parametrize(
    "case",
    [
        MapCase("A@Example.COM ", "a@example.com"),
        MapCase("not-an-email", None),
        MapCase("a@b", None),
    ],
    ids=lambda c: c.given,
)
def test_email_normalization(case: MapCase) -> None:
    assert ids.normalize_email(case.given) == case.expected


@pytest.mark.parametrize(
    "case",
    [MapCase("+1 (555) 555-0100", "+15555550100"), MapCase("555.0100", "5550100"), MapCase("call me", None)],
    ids=lambda c: c.given,
)
def test_phone_normalization(case: MapCase) -> None:
    assert ids.normalize_phone(case.given) == case.expected


def test_identity_keys_are_unambiguous() -> None:
    from engagekit.domain.profile import UserAlias

    a = ids.alias(UserAlias(alias_name="b#c", alias_label="a"))
    b = ids.alias(UserAlias(alias_name="c", alias_label="a#b"))
    assert a.key != b.key
    assert ids.braze_id("x").key is None and ids.external_id("x").key == "external_id#x"
    assert ids.is_user_id(ids.new_user_id())
