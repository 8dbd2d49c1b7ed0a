"""The membership updater on fakes: the stream step, the sweep, backfill and drop pages, retries.

The same code path the functions run (``MembershipUpdater``), over in-memory stores, checked
against a brute-force evaluation of every segment for every profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from engagekit.clock import ManualClock, set_clock
from engagekit.segments.membership import InMemoryMemberships
from engagekit.segments.updater import DefinitionCache

from tests.integration.segments.world import World

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRO = {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}}
RECENT_BUYER = {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 7}}
WEEK_BUYER = {"purchase_count": {"comparison": "greater_than", "value": 0, "days": 7}}
VIP = {"AND": [{"segment": {"segment_id": "pro"}}, {"segment": {"segment_id": "recent"}}]}


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    clk = ManualClock(T0)
    previous = set_clock(clk)
    yield clk
    set_clock(previous)


def buy(external_id: str, at: datetime, plan: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purchases": [
            {
                "external_id": external_id,
                "product_id": "sku",
                "currency": "USD",
                "price": 10.0,
                "time": at.isoformat().replace("+00:00", "Z"),
            }
        ]
    }
    if plan:
        body["attributes"] = [{"external_id": external_id, "plan": plan}]
    return body


def world_with_segments() -> World:
    world = World()
    world.define("pro", PRO)
    world.define("recent", RECENT_BUYER)
    world.define("week", WEEK_BUYER)
    world.define("vip", VIP)
    return world


def test_stream_step_keeps_memberships_equal_to_brute_force_across_timers(clock: ManualClock) -> None:
    # given four segments, one referencing two others, and users with purchases on different days
    world = world_with_segments()
    world.track(buy("a", T0 - timedelta(days=1), plan="pro"))
    world.track(buy("b", T0 - timedelta(days=6, hours=20)))
    world.track({"attributes": [{"external_id": "c", "plan": "pro"}]})
    assert world.actual() == world.expected()
    assert world.members("vip") == {"a"}
    # when the clock passes every timer, one sweep at a time
    for _ in range(12):
        clock.advance(86400)
        while world.updater.sweep(clock.now(), limit=2).more:
            pass
        # then memberships equal the brute force at every step
        assert world.actual() == world.expected()
    assert world.members("recent") == world.members("week") == world.members("vip") == set()
    assert world.members("pro") == {"a", "c"}
    assert list(world.timers.all()) == []


def test_a_write_touching_no_indexed_field_reads_and_writes_nothing(clock: ManualClock) -> None:
    # given a user in "pro"
    world = world_with_segments()
    world.track({"attributes": [{"external_id": "a", "plan": "pro"}]})
    timer_writes = world.timers.writes

    class Counting(InMemoryMemberships):
        reads = 0

        def user_segments(self, user_id: str) -> frozenset[str]:
            Counting.reads += 1
            return super().user_segments(user_id)

    counting = world.updater.memberships = Counting()
    # when an attribute no segment reads changes
    world.track({"attributes": [{"external_id": "a", "nickname": "al"}]})
    # then no membership was read and nothing was written
    assert Counting.reads == 0
    assert (counting.writes, world.timers.writes) == (0, timer_writes)


class Crash(Exception):
    pass


class FlakyMemberships(InMemoryMemberships):
    """Fails the ``fail_at``-th membership write (1-based), once."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.calls = 0

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise Crash(f"write {self.calls}")

    def add(self, segment_id: str, user_id: str) -> bool:
        self._maybe_fail()
        return super().add(segment_id, user_id)

    def remove(self, segment_id: str, user_id: str) -> bool:
        self._maybe_fail()
        return super().remove(segment_id, user_id)


@dataclass
class RetryCase:
    name: str
    fail_at: int


@pytest.mark.parametrize(
    "case", [RetryCase("first write", 1), RetryCase("second write", 2), RetryCase("third write", 3)], ids=str
)
def test_a_record_retried_after_a_crash_ends_with_every_membership_and_timer(
    clock: ManualClock, case: RetryCase
) -> None:
    # given a record that enters a user in pro, recent and vip (three writes), crashing at one write
    world = world_with_segments()
    world.memberships = world.updater.memberships = FlakyMemberships(case.fail_at)  # type: ignore[assignment]
    from engagekit.users.track import track

    track(buy("a", T0 - timedelta(hours=1), plan="pro"), world.users)
    old, new = world.store.changes[-1]
    with pytest.raises(Crash):
        world.updater.apply_change(old, new, clock.now())
    # when the stream retries the record
    world.updater.apply_change(old, new, clock.now())
    world.store.changes.clear()
    # then memberships match the brute force, and the timers make them flip on time
    assert world.actual() == world.expected()
    assert world.members("vip") == {"a"}
    clock.advance(7 * 86400)
    world.updater.sweep(clock.now())
    assert world.actual() == world.expected()
    assert world.members("vip") == set()


def test_deleting_a_profile_removes_its_memberships_and_timers(clock: ManualClock) -> None:
    # given a member of three segments with timers
    world = world_with_segments()
    world.track(buy("a", T0 - timedelta(hours=1), plan="pro"))
    uid = world.user_id("a")
    assert world.timers.for_user(uid)
    # when the profile is deleted (the stream's REMOVE record)
    world.store.delete_profile(uid)
    world.drain()
    # then it is in no segment, counts dropped, and no timer is left
    assert world.memberships.user_segments(uid) == frozenset()
    assert all(world.memberships.count(s) == 0 for s in ("pro", "recent", "vip"))
    assert world.timers.for_user(uid) == {}


def test_the_sweep_deletes_timers_of_deleted_segments_and_profiles(clock: ManualClock) -> None:
    # given timers for a segment that no longer exists and for a profile that no longer exists
    world = world_with_segments()
    world.track(buy("a", T0 - timedelta(hours=1)))
    uid = world.user_id("a")
    world.timers.write([(uid, "gone", T0 + timedelta(minutes=1)), ("ghost", "recent", T0)])
    # when they fall due
    clock.advance(120)
    out = world.updater.sweep(clock.now())
    # then both are deleted, the user's real timers stay
    assert out.fired == 2
    assert "gone" not in world.timers.for_user(uid)
    assert world.timers.for_user("ghost") == {}
    assert set(world.timers.for_user(uid)) == {"recent", "week"}


def test_backfill_pages_over_all_parts_make_a_new_segment_correct(clock: ManualClock) -> None:
    # given 25 users tracked before the segment existed
    world = World()
    for i in range(25):
        world.track({"attributes": [{"external_id": f"u{i}", "score": i}]})
    high = {"custom_attribute_name": "score", "comparison": "greater_than", "value": 9}
    world.define("high", {"custom_attribute": high})
    assert world.members("high") == set()
    # when a build job walks 3 parts in pages of 4
    pages = 0
    for part in range(3):
        cursor = None
        while True:
            page = world.updater.backfill_page(
                "high", 1, clock.now(), part=part, parts=3, cursor=cursor, limit=4
            )
            pages += 1
            cursor = page.cursor
            if page.done:
                break
    # then every matching user is a member
    assert world.members("high") == {f"u{i}" for i in range(10, 25)}
    assert pages >= 7


def test_a_backfill_of_a_superseded_generation_changes_nothing(clock: ManualClock) -> None:
    # given a segment at generation 2 and a job still running for generation 1
    world = World()
    world.track({"attributes": [{"external_id": "a", "plan": "pro"}]})
    world.define("pro", PRO, generation=1)
    world.define("pro", PRO, generation=2)
    # when the old job's page runs
    page = world.updater.backfill_page("pro", 1, clock.now(), part=0, parts=1, cursor=None, limit=10)
    # then it stops without writing
    assert page.done and page.outcome.users == 0
    assert world.members("pro") == set()


def test_drop_pages_empty_a_deleted_segment_shard_by_shard(clock: ManualClock) -> None:
    # given a segment with members in several shards
    world = world_with_segments()
    for i in range(20):
        world.track({"attributes": [{"external_id": f"u{i}", "plan": "pro"}]})
    assert world.memberships.count("pro") == 20
    # when every shard is dropped in pages of 1
    from engagekit.segments.membership import SHARDS

    for shard in range(SHARDS):
        while not world.updater.drop_page("pro", shard, 1).done:
            pass
    # then nobody is left, and the users' sets no longer name the segment
    assert world.memberships.count("pro") == 0
    assert all("pro" not in world.memberships.user_segments(u) for u in map(world.user_id, ["u0", "u7"]))


def test_the_definition_cache_reloads_only_when_the_version_moves(clock: ManualClock) -> None:
    # given a cache that checks at most every 5 wall seconds
    world = World()
    ticks = [0.0]
    cache = DefinitionCache(world.definitions, check_every_s=5.0, monotonic=lambda: ticks[0])
    world.define("pro", PRO)
    assert cache.check().segment_ids == {"pro"}
    loads, reads = cache.loads, world.definitions.version_reads
    # when checked again within 5 s, and again later without any change
    cache.check()
    ticks[0] = 6.0
    cache.check()
    # then the version was read once and nothing reloaded
    assert (cache.loads, world.definitions.version_reads - reads) == (loads, 1)
    # when a definition changes, the next due check reloads
    world.define("recent", RECENT_BUYER)
    ticks[0] = 12.0
    assert cache.check().segment_ids == {"pro", "recent"}


def test_stored_definitions_forming_a_cycle_are_left_out_of_the_index(clock: ManualClock) -> None:
    # given two segments saved concurrently that reference each other, and an unrelated one
    world = World()
    world.define("pro", PRO)
    world.define("a", {"segment": {"segment_id": "b"}})
    world.define("b", {"segment": {"segment_id": "a"}})
    # then the index holds the unrelated segment only
    assert world.cache.check(force=True).segment_ids == {"pro"}
