"""Fixtures for the campaigns unit tests: a manual clock and the in-memory send path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit.campaigns.inmemory import World
from engagekit.clock import ManualClock, set_clock

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

EMAIL = {"from": "Shop <news@shop.com>", "subject": "Hi {{${first_name}}}", "body": "<p>Hello</p>"}


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    clk = ManualClock(T0)
    previous = set_clock(clk)
    try:
        yield clk
    finally:
        set_clock(previous)


@pytest.fixture
def world(clock: ManualClock) -> World:
    return World()


def campaign(**overrides: Any) -> dict[str, Any]:
    """A valid campaign body with an email message, overridden by ``overrides``."""
    body: dict[str, Any] = {"name": "Spring", "messages": {"email": dict(EMAIL)}}
    body.update(overrides)
    return body


def users(world: World, *ids: str, **attributes: Any) -> list[str]:
    """Track users ``ids`` with an email address each (plus ``attributes``); returns their user ids."""
    objects = [
        {"external_id": x, "email": f"{x}@example.com", "first_name": x.title(), **attributes} for x in ids
    ]
    for start in range(0, len(objects), 75):  # /users/track takes 75 objects per array
        world.track(*objects[start : start + 75])
    return [world.user_id(x) for x in ids]
