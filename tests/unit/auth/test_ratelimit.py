"""Rate limits (braze-api.md §9): configuration, fixed windows, groups and shards, over a fake store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from engagekit import clock
from engagekit.api.ratelimit import (
    DEFAULT_GROUPS,
    FixedWindowLimiter,
    Group,
    Limit,
    RateLimitExceeded,
    parse_groups,
    parse_limit,
    shard_count,
)
from engagekit.auth import ApiKey
from engagekit.errors import ConfigError, RateLimitedError

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # epoch 1772366400, a multiple of 3, 60 and 3600


class FakeCounters:
    """In-memory :class:`CounterStore`: remembers every counter and its expiry."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.expiry: dict[str, int] = {}

    def incr(self, counter_id: str, expires_at: int) -> int:
        self.counts[counter_id] += 1
        self.expiry[counter_id] = expires_at
        return self.counts[counter_id]


@pytest.fixture
def manual() -> Iterator[clock.ManualClock]:
    manual = clock.ManualClock(START)
    previous = clock.set_clock(manual)
    yield manual
    clock.set_clock(previous)


def key(key_id: str = "abc123def456") -> ApiKey:
    return ApiKey(key_id, "test", frozenset({"*"}), START, None)


@dataclass
class LimitCase:
    text: str
    expected: Limit


@pytest.mark.parametrize(
    "case",
    [
        LimitCase("3000/3s", Limit(3000, 3)),
        LimitCase("250/1m", Limit(250, 60)),
        LimitCase("250/m", Limit(250, 60)),
        LimitCase("1000/1h", Limit(1000, 3600)),
        LimitCase("100/d", Limit(100, 86_400)),
        LimitCase("500/60", Limit(500, 60)),
        LimitCase(" 7 / 2 min ", Limit(7, 120)),
    ],
    ids=lambda c: c.text,
)
def test_parse_limit_reads_requests_per_window(case: LimitCase) -> None:
    assert parse_limit(case.text) == case.expected


@pytest.mark.parametrize("text", ["", "3000", "3000/3y", "0/1m", "5/0s", "-1/1m", "a/b"])
def test_parse_limit_rejects_malformed_limits(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_limit(text)


def test_defaults_are_brazes_documented_limits() -> None:
    # braze-api.md §9: /users/track 3,000 per 3 s; export/ids 250/min; identity endpoints 20,000/min
    # shared; default 250,000/h.
    limiter = FixedWindowLimiter(FakeCounters())
    assert limiter.group_for("users.track").limit == Limit(3000, 3)
    assert limiter.group_for("users.export.ids").limit == Limit(250, 60)
    assert limiter.group_for("users.merge") is limiter.group_for("users.identify")
    assert limiter.group_for("users.identify").limit == Limit(20_000, 60)
    assert limiter.group_for("subscription.status.set").limit == Limit(5000, 60)
    assert limiter.group_for("anything.else").name == "default"
    assert limiter.group_for("").limit == Limit(250_000, 3600)


def test_spec_overrides_only_the_named_groups() -> None:
    groups = parse_groups("users.track=5/1m, default=9/1h")
    assert groups is not None
    by_name = {g.name: g for g in groups}
    assert by_name["users.track"].limit == Limit(5, 60)
    assert by_name["default"].limit == Limit(9, 3600)
    assert by_name["users.export.ids"].limit == Limit(250, 60)
    assert by_name["users.track"].permissions == frozenset({"users.track"})


@pytest.mark.parametrize("spec", ["off", "OFF", "none", "disabled"])
def test_spec_off_disables_limiting(spec: str) -> None:
    assert parse_groups(spec) is None


def test_empty_spec_keeps_the_defaults() -> None:
    assert parse_groups("") == DEFAULT_GROUPS


@pytest.mark.parametrize("spec", ["nope=1/1s", "users.track", "users.track=fast"], ids=str)
def test_spec_rejects_unknown_groups_and_malformed_items(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_groups(spec)


def test_counts_down_then_429_until_the_window_resets(manual: clock.ManualClock) -> None:
    groups = parse_groups("users.track=3/1m")
    assert groups is not None
    limiter = FixedWindowLimiter(FakeCounters(), groups)
    reset = int(START.timestamp()) + 60
    assert [limiter.hit(key(), "users.track") for _ in range(3)] == [
        (3, 2, reset),
        (3, 1, reset),
        (3, 0, reset),
    ]
    with pytest.raises(RateLimitExceeded) as over:
        limiter.hit(key(), "users.track")
    assert (over.value.limit, over.value.reset, over.value.group) == (3, reset, "users.track")
    assert isinstance(over.value, RateLimitedError)
    manual.advance(60)
    assert limiter.hit(key(), "users.track") == (3, 2, reset + 60)


def test_windows_are_aligned_to_the_epoch(manual: clock.ManualClock) -> None:
    limiter = FixedWindowLimiter(FakeCounters(), parse_groups("users.track=10/1m") or ())
    manual.advance(59)
    first = limiter.hit(key(), "users.track")
    manual.advance(1)
    second = limiter.hit(key(), "users.track")
    assert first == (10, 9, int(START.timestamp()) + 60)
    assert second == (10, 9, int(START.timestamp()) + 120)


def test_keys_and_groups_count_separately_and_shared_groups_share(manual: clock.ManualClock) -> None:
    store = FakeCounters()
    limiter = FixedWindowLimiter(store, parse_groups("users.identity=2/1m") or ())
    limiter.hit(key("aaaaaaaaaaaa"), "users.identify")
    limiter.hit(key("aaaaaaaaaaaa"), "users.merge")
    with pytest.raises(RateLimitExceeded):
        limiter.hit(key("aaaaaaaaaaaa"), "users.delete")
    assert limiter.hit(key("bbbbbbbbbbbb"), "users.identify")[1] == 1
    assert limiter.hit(key("aaaaaaaaaaaa"), "users.export.ids")[1] == 249


def test_counters_expire_after_their_window(manual: clock.ManualClock) -> None:
    store = FakeCounters()
    limiter = FixedWindowLimiter(store, parse_groups("default=5/1h") or ())
    limiter.hit(key(), "")
    (expiry,) = store.expiry.values()
    assert expiry == int(START.timestamp()) + 3600 + 60


@dataclass
class ShardCase:
    limit: Limit
    shards: int


@pytest.mark.parametrize(
    "case",
    [
        ShardCase(Limit(3000, 3), 4),  # 1,000 req/s: four counters of <= 250 writes/s each
        ShardCase(Limit(250, 1), 1),
        ShardCase(Limit(251, 1), 2),
        ShardCase(Limit(20_000, 60), 2),
        ShardCase(Limit(250_000, 3600), 1),
    ],
    ids=lambda c: str(c.limit),
)
def test_hot_groups_spread_over_shards_under_dynamodbs_item_write_rate(case: ShardCase) -> None:
    assert shard_count(case.limit) == case.shards


def test_sharded_count_is_estimated_from_one_shard(manual: clock.ManualClock) -> None:
    # given 500 req/s: two counters, the shard picked per request (here alternating)
    store = FakeCounters()
    picks = iter([0, 1, 0, 1])
    hot = Group("default", Limit(500, 1), frozenset(), "test")
    limiter = FixedWindowLimiter(store, (hot,), shard_choice=lambda n: next(picks))
    # then each answer estimates the total as the shard's count times two
    assert [limiter.hit(key(), "")[1] for _ in range(4)] == [498, 498, 496, 496]
    assert len(store.counts) == 2


def test_a_limiter_needs_a_default_group() -> None:
    with pytest.raises(ConfigError):
        FixedWindowLimiter(FakeCounters(), (Group("x", Limit(1, 1), frozenset(), "t"),))
