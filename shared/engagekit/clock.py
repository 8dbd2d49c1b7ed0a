"""One injectable clock for the whole platform.

Every piece of engagekit that needs "now" calls :func:`now` (or :func:`now_epoch`). In Lambda the
clock is the system clock. The local runtime installs a :class:`ScaledClock` so a 3-day journey
delay runs in seconds (``engagekit local --time-scale N``), and tests install a :class:`ManualClock`
and move it with :meth:`ManualClock.advance`, so nothing time-based ever sleeps in a test.

All instants are timezone-aware UTC ``datetime`` objects; epoch values are seconds (float) unless a
name ends in ``_ms``. A user's IANA zone is applied only for calendar rules, never for storage.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What every clock provides."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds`` of this clock's time (not wall time)."""
        ...


class SystemClock:
    """Wall-clock time. The default everywhere, and the only clock in Lambda."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class ScaledClock:
    """Time that runs ``scale`` times faster than the wall clock, from ``start`` (default: now).

    ``ScaledClock(60)`` makes one wall second one platform minute. ``advance`` jumps ahead at once.
    """

    def __init__(self, scale: float = 1.0, start: datetime | None = None) -> None:
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self._lock = threading.Lock()
        self._origin_wall = time.monotonic()
        self._origin = (start or datetime.now(UTC)).astimezone(UTC)
        self._offset = timedelta(0)

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin_wall) * self.scale
        with self._lock:
            return self._origin + timedelta(seconds=elapsed) + self._offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.scale)

    def advance(self, seconds: float) -> None:
        """Jump the clock forward by ``seconds`` of platform time."""
        with self._lock:
            self._offset += timedelta(seconds=seconds)


class ManualClock:
    """A clock that only moves when told to; ``sleep`` advances it instantly. For tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = (start or datetime(2026, 1, 1, tzinfo=UTC)).astimezone(UTC)

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``; negative values raise ``ValueError``."""
        if seconds < 0:
            raise ValueError("a clock never goes backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def set(self, instant: datetime) -> None:
        """Jump to ``instant`` (aware, not earlier than now)."""
        instant = instant.astimezone(UTC)
        with self._lock:
            if instant < self._now:
                raise ValueError("a clock never goes backwards")
            self._now = instant


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    """The clock in force."""
    return _clock


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` for the whole process and return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> datetime:
    """The current instant (aware UTC) from the clock in force."""
    return _clock.now()


def now_epoch() -> float:
    """The current instant as epoch seconds (float) from the clock in force."""
    return _clock.now().timestamp()


def utc_iso(instant: datetime) -> str:
    """``instant`` as ISO 8601 in UTC with a ``Z`` suffix, millisecond precision."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
