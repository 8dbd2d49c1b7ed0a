"""Send-time rules in the user's time zone: quiet hours, frequency-cap windows, local-time sends.

Instants are aware UTC; a user's IANA zone (``Profile.time_zone``, else the company zone) is used
only for calendar rules (ARCHITECTURE.md "One clock"). Daylight-saving changes follow ``zoneinfo``:
a local time that does not exist (the spring-forward gap) is shifted forward by the gap; an
ambiguous one (the fall-back hour) is its first occurrence.

Frequency capping (braze-api.md §4): a rule counts the user's earlier sends of its channel (``any``:
every capped channel, a multichannel send counting once) of campaigns carrying its tag (if any)
within its window: ``minutes`` rolling, ``days`` calendar days in the user's zone (today and the
``amount - 1`` days before), ``weeks`` rolling 7-day periods. When any enabled rule's count has
reached its limit the send is capped (rules are ANDed; the most restrictive wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engagekit.campaigns.definitions import Channel, FrequencyCapRule, QuietHours

DEFAULT_ZONE = "UTC"
"""The company time zone used for users without one (setting ``COMPANY_TIME_ZONE``)."""


@cache
def zone(name: str | None, default: str = DEFAULT_ZONE) -> tzinfo:
    """The ``ZoneInfo`` of ``name``, else of ``default`` (unknown names fall back too)."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return UTC


def local_instant(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant at which the wall clock in ``tz`` shows ``day`` ``at``.

    A wall time that does not exist (the DST gap, e.g. 02:30 on a spring-forward night) is shifted
    forward by the gap (03:30); an ambiguous one (the fall-back hour) is its first occurrence
    (``fold=0``), as ``zoneinfo`` resolves them.
    """
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(rule: QuietHours, now: datetime, tz: tzinfo) -> datetime | None:
    """If ``now`` is inside the quiet window in ``tz``, the UTC instant the window ends; else None.

    A window with ``start > end`` spans midnight. The end is computed from the local calendar, so a
    window ending at 08:00 ends at 08:00 local even across a DST change.
    """
    local = now.astimezone(tz)
    start, end = _hhmm(rule.start), _hhmm(rule.end)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return local_instant(end_day, end, tz)


def window_start(rule: FrequencyCapRule, now: datetime, tz: tzinfo) -> datetime:
    """The first instant a rule's window counts from (module docstring)."""
    amount, unit = rule.window.amount, rule.window.unit
    if unit == "minutes":
        return now - timedelta(minutes=amount)
    if unit == "weeks":
        return now - timedelta(days=7 * amount)
    first_day = now.astimezone(tz).date() - timedelta(days=amount - 1)
    return local_instant(first_day, time(0, 0), tz)


@dataclass(frozen=True)
class SentRecord:
    """One earlier send to the user, as the ledger's history index has it."""

    sent_at: datetime
    channel: str
    tags: frozenset[str]
    dispatch_id: str
    campaign_id: str | None = None


def longest_window(rules: Iterable[FrequencyCapRule], now: datetime, tz: tzinfo) -> datetime | None:
    """The earliest window start among ``rules`` (what history to read), or None without rules."""
    starts = [window_start(r, now, tz) for r in rules if r.enabled]
    return min(starts) if starts else None


def applicable(
    rules: Iterable[FrequencyCapRule], channel: Channel, tags: Iterable[str]
) -> list[FrequencyCapRule]:
    """The enabled rules that govern a send of ``channel`` by a campaign with ``tags``."""
    tagset = set(tags)
    return [
        r for r in rules if r.enabled and r.channel in ("any", channel) and (r.tag is None or r.tag in tagset)
    ]


def capped_by(
    rules: Sequence[FrequencyCapRule],
    history: Iterable[SentRecord],
    now: datetime,
    tz: tzinfo,
) -> FrequencyCapRule | None:
    """The first rule of ``rules`` (already :func:`applicable`) whose limit is reached, or None."""
    records = list(history)
    for rule in rules:
        since = window_start(rule, now, tz)
        matching = [
            r
            for r in records
            if r.sent_at >= since
            and (rule.channel == "any" or r.channel == rule.channel)
            and (rule.tag is None or rule.tag in r.tags)
        ]
        count = len({r.dispatch_id for r in matching}) if rule.channel == "any" else len(matching)
        if count >= rule.limit:
            return rule
    return None


def parse_local_time(text: str) -> datetime:
    """A naive local wall time (``2026-03-08T09:00:00``, no zone designator), braze-api.md §2.4.

    Raises ValueError when it is not ISO 8601 or carries a zone.
    """
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        raise ValueError("a local time has no zone designator")
    return parsed


def local_send_instant(local_time: str, tz: tzinfo) -> datetime:
    """The UTC instant at which the user in ``tz`` sees wall time ``local_time``."""
    naive = parse_local_time(local_time)
    return local_instant(naive.date(), naive.time(), tz)


EARLIEST_OFFSET = timedelta(hours=14)
LATEST_OFFSET = timedelta(hours=12)
"""Real zones span UTC-12:00 to UTC+14:00 (IANA tz database)."""


def earliest_local_instant(local_time: str) -> datetime:
    """The first instant any zone reaches ``local_time`` (in UTC+14:00)."""
    naive = parse_local_time(local_time)
    return (naive - EARLIEST_OFFSET).replace(tzinfo=UTC)


def latest_local_instant(local_time: str) -> datetime:
    """The last instant any zone reaches ``local_time`` (in UTC-12:00)."""
    naive = parse_local_time(local_time)
    return (naive + LATEST_OFFSET).replace(tzinfo=UTC)
