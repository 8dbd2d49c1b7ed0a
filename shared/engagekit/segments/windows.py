"""Sliding windows over a profile's per-UTC-day buckets ("X times in the last Y days").

A window of ``days`` covers the ``days`` UTC calendar dates ending with today's UTC date, today
included, exactly as :func:`engagekit.domain.profile.sum_window` (the profile contract keeps 30 such
buckets, braze-api.md §3 "1-30 calendar days, UTC"). A window therefore changes only at 00:00 UTC:
when the oldest counted date leaves it, or when a bucket dated in the future enters it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from engagekit.domain.profile import DAILY_WINDOW_DAYS


@lru_cache(maxsize=4096)
def _day(key: str) -> date:
    return date.fromisoformat(key)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def window_total(daily: Mapping[str, int] | Mapping[str, float], days: int, now: datetime) -> float:
    """Sum of the buckets dated within the ``days`` UTC dates ending today (``1 <= days <= 30``);
    rounded to 6 decimals so float money sums compare stably. Raises ``ValueError`` outside 1..30."""
    if not 1 <= days <= DAILY_WINDOW_DAYS:
        raise ValueError(f"a window is 1 to {DAILY_WINDOW_DAYS} days, got {days}")
    today = now.astimezone(UTC).date()
    first = (today - timedelta(days=days - 1)).isoformat()
    last = today.isoformat()
    return round(sum(n for d, n in daily.items() if first <= d <= last), 6)


def window_changes(
    daily: Mapping[str, int] | Mapping[str, float], days: int, now: datetime
) -> list[tuple[datetime, float]]:
    """Every future change of :func:`window_total` with no new data, as ``(instant, delta)`` pairs
    sorted by instant (UTC midnights strictly after ``now``; deltas at one instant are summed)."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    deltas: dict[datetime, float] = {}
    for key, n in daily.items():
        if not n:
            continue
        day = _day(key)
        if day > today:  # enters later, then leaves
            enter = _midnight(day)
            deltas[enter] = deltas.get(enter, 0) + n
        if day >= first:
            leave = _midnight(day + timedelta(days=days))
            deltas[leave] = deltas.get(leave, 0) - n
    return sorted((at, delta) for at, delta in deltas.items() if delta and at > now)
