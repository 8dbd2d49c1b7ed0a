"""Shared fixtures for the segment engine's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit.clock import ManualClock, set_clock
from engagekit.domain.profile import Profile

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@contextmanager
def manual_clock_installed(start: datetime) -> Iterator[ManualClock]:
    """Install a ManualClock at ``start`` for the block and restore the previous clock after."""
    clk = ManualClock(start)
    previous = set_clock(clk)
    try:
        yield clk
    finally:
        set_clock(previous)


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    with manual_clock_installed(T0) as clk:
        yield clk


def make_profile(**fields: Any) -> Profile:
    """A profile created a year before T0 with the given fields."""
    base: dict[str, Any] = {
        "user_id": "5f0c2a9e1b3d4c5e6f708192",
        "created_at": datetime(2025, 3, 10, tzinfo=UTC),
    }
    base.update(fields)
    return Profile(**base)
