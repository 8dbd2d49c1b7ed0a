"""Braze's accepted time formats, parsed to aware UTC datetimes (braze-api.md §1.1.1, §1.1.2).

Accepted (a value without a zone is UTC; a date alone is midnight UTC):

- ISO 8601 (``2026-03-01T12:00:00Z``, ``2026-03-01T12:00:00.123+02:00``, ``2026-03-01``);
- ``yyyy-MM-ddTHH:mm:ss:SSSZ`` (milliseconds after a colon; zone ``Z``, ``+0000`` or ``+00:00``);
- ``yyyy-MM-ddTHH:mm:ss`` and ``yyyy-MM-dd HH:mm:ss``;
- ``MM/dd/yyyy`` (one- or two-digit month and day, e.g. ``12/1/2021``);
- ``ddd MM dd HH:mm:ss.TZD YYYY`` read as Ruby's ``Time#to_s``-like forms
  (``Wed Apr 24 09:03:04 +0000 2013`` and ``Wed 04 24 09:03:04.+0000 2013``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

MIN_YEAR = 0
MAX_YEAR = 3000
"""Braze stores a top-level date whose year is < 0 or > 3000 as a string (braze-api.md §1.1.1)."""

_COLON_MILLIS = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2}):(\d{1,3})(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE
)
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_RUBY_NAMED = re.compile(
    r"^[A-Za-z]{3} ([A-Za-z]{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([+-]\d{4}|UTC|Z) (\d{4})$"
)
_RUBY_NUMERIC = re.compile(
    r"^[A-Za-z]{3} (\d{1,2}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2})\.?([+-]\d{4}|Z) (\d{4})$"
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_LOOKS_LIKE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4}|[A-Za-z]{3} [A-Za-z0-9]{2,3} \d)")


def _zone(text: str | None) -> timezone:
    if not text or text.upper() in ("Z", "UTC"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def parse_time(value: str) -> datetime | None:
    """``value`` in one of Braze's time formats as an aware UTC datetime, or None if it is not one.

    Years outside 0..3000 are accepted by the parser here only when Python can represent them
    (1..9999); :func:`in_braze_range` tells whether Braze would store it as a time. Results for
    strings shaped like a time (at most 64 characters) are cached, 4,096 of them: batches of events
    and imports repeat their timestamps.
    """
    text = value.strip()
    if not text or len(text) > 64 or not _LOOKS_LIKE_TIME.match(text):
        return None
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> datetime | None:
    try:
        return _parse(text)
    except (ValueError, OverflowError):
        return None


def _parse(text: str) -> datetime | None:
    m = _COLON_MILLIS.match(text)
    if m:
        y, mo, d, h, mi, s, ms, tz = m.groups()
        micro = int(ms.ljust(3, "0")) * 1000
        at = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro, tzinfo=_zone(tz))
        return at.astimezone(UTC)
    m = _US_DATE.match(text)
    if m:
        mo, d, y = m.groups()
        return datetime(int(y), int(mo), int(d), tzinfo=UTC)
    m = _RUBY_NAMED.match(text)
    if m:
        mon, d, h, mi, s, frac, tz, y = m.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            return None
        micro = int((frac or "0").ljust(6, "0")[:6])
        at = datetime(int(y), month, int(d), int(h), int(mi), int(s), micro, tzinfo=_zone(tz))
        return at.astimezone(UTC)
    m = _RUBY_NUMERIC.match(text)
    if m:
        mo, d, h, mi, s, tz, y = m.groups()
        at = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=_zone(tz))
        return at.astimezone(UTC)
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    if len(iso) == 10:
        day = date.fromisoformat(iso)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def in_braze_range(at: datetime) -> bool:
    """True when Braze stores ``at`` as a time: year within 0..3000 (braze-api.md §1.1.1, §9)."""
    return MIN_YEAR <= at.year <= MAX_YEAR


def iso(at: datetime) -> str:
    """The stored form of a time: ISO 8601 UTC with milliseconds and ``Z`` (``2026-03-01T12:00:00.000Z``)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
