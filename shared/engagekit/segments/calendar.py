"""Calendar rules in the user's time zone: local dates, the instant a local day starts, birthdays.

Instants are aware UTC datetimes; a user's IANA zone is applied only to calendar rules (birthday,
age), never to storage (ARCHITECTURE.md "One clock"). Daylight saving is handled exactly: where a
local midnight does not exist (a spring-forward gap at 00:00, e.g. America/Santiago or
America/Havana) the day starts at the transition instant, and where midnight occurs twice the day
starts at the first one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


@lru_cache(maxsize=1024)
def user_zone(name: str | None) -> tzinfo:
    """The zone for an IANA name; UTC when ``name`` is empty or not a known IANA zone.

    Braze also accepts Rails-style names ("Eastern Time (US & Canada)", braze-api.md §1.1.1);
    ingestion is expected to store IANA names, anything else evaluates as UTC.
    """
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_date(instant: datetime, zone: tzinfo) -> date:
    """The calendar date in ``zone`` at ``instant`` (aware)."""
    return instant.astimezone(zone).date()


def _offset(instant: datetime, zone: tzinfo) -> timedelta | None:
    return instant.astimezone(zone).utcoffset()


def _first_offset_change(lo: datetime, hi: datetime, zone: tzinfo) -> datetime:
    """The first instant in ``(lo, hi]`` whose UTC offset differs from ``lo``'s (bisection to 1 µs).

    Requires ``_offset(hi) != _offset(lo)``.
    """
    base = _offset(lo, zone)
    while hi - lo > _ONE_MICROSECOND:
        mid = lo + (hi - lo) / 2
        if _offset(mid, zone) == base:
            lo = mid
        else:
            hi = mid
    return hi


def next_date_change(after: datetime, zone: tzinfo) -> datetime:
    """The earliest instant ``t > after`` (UTC) at which the local date in ``zone`` differs from the
    local date at ``after``: normally the next local midnight, or the daylight-saving transition
    instant when that transition jumps over midnight.
    """
    after = after.astimezone(UTC)
    today = local_date(after, zone)
    naive = datetime.combine(today + ONE_DAY, time())
    candidates = sorted({naive.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)})
    best = next(
        (c for c in candidates if c > after and local_date(c, zone) != today),
        after + timedelta(hours=27),
    )
    if _offset(after, zone) != _offset(best, zone):
        # A transition lies in (after, best]; it changes the date earlier when it jumps over midnight.
        switch = _first_offset_change(after, best, zone)
        if switch < best and local_date(switch, zone) != today:
            best = switch
    return best


def start_of_local_day(day: date, zone: tzinfo) -> datetime:
    """The first instant (UTC) at which the local date in ``zone`` is ``day`` or later.

    When ``day`` is skipped entirely (Pacific/Apia skipped 2011-12-30) this is when the following day
    starts.
    """
    ref = datetime.combine(day - ONE_DAY, time(12)).replace(tzinfo=zone).astimezone(UTC)
    while local_date(ref, zone) >= day:  # that noon was itself skipped
        ref -= timedelta(hours=12)
    while local_date(ref, zone) < day:
        ref = next_date_change(ref, zone)
    return ref


def birthday_in_year(dob: date, year: int) -> date:
    """The user's birthday in ``year``; a February 29 birthday counts as March 1 in every year
    (braze-api.md §3, Birthday: "Feb 29 ⇒ Mar 1")."""
    if dob.month == 2 and dob.day == 29:
        return date(year, 3, 1)
    return dob.replace(year=year)


def age_on(dob: date, day: date) -> int:
    """Whole years from ``dob`` to ``day`` (the age increments on :func:`birthday_in_year`)."""
    age = day.year - dob.year
    if day < birthday_in_year(dob, day.year):
        age -= 1
    return age


def date_of_age(dob: date, age: int) -> date:
    """The local date on which someone born on ``dob`` turns ``age``."""
    return birthday_in_year(dob, dob.year + age)
