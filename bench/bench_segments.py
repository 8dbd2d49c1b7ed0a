"""Segment engine benchmark (issue 4): per-record classification cost as the number of segments grows.

What the stream handler will do for one profile write, minus storage: ``changed_fields(old, new)``,
``refresh(...)`` (dependency-index lookup, evaluation of the affected segments, cascade, next-flip
timers). Measured with 10 and with 1,000 segments defined where the write touches one field that
one segment reads; goal: cost(1,000) / cost(10) < 2 (ARCHITECTURE.md "Classify": cost follows the
rate of change, not the number of segments). For contrast, the naive alternative (evaluate and
re-time every segment on every write) is measured at 1,000 segments.

Also reported: ``next_flip`` cost per call for each time-dependent filter shape, and the time to
build the dependency index (paid once per cold start of the stream handler).

Platform side (``handler``, ``timer_sweep``, ``backfill``), over in-memory stores (so the numbers are
the code's cost, not DynamoDB latency; DynamoDB requests are counted instead):

- the ``profile_stream`` function's ``handler`` itself on batches of 100 stream records (DynamoDB
  JSON images decoded, Powertools batch processing, the updater, memberships and timers), 10 vs
  1,000 segments, each record touching one field that one segment reads (goal: ratio < 2);
- the timer sweep, per due timer (GSI read, profile read, re-evaluation, membership and timer
  writes), beside the floor of ``refresh(due=...)`` alone;
- backfill throughput (profiles per second through the job runner's page task, images decoded
  per page as the DynamoDB adapter does), beside the floor of ``refresh(due=...)`` alone.

Run: ``python -m bench.bench_segments`` (prints JSON); ``run()`` returns the same dict.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engagekit.domain.profile import Profile
from engagekit.segments import (
    DependencyIndex,
    FilterNode,
    changed_fields,
    evaluate,
    next_flip,
    parse_filter,
    refresh,
)

GOAL_RATIO = 2.0
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def segment_body(i: int) -> dict[str, Any]:
    """Segment ``i``'s filter: one of four shapes, each reading only fields named after ``i``."""
    attr = {"custom_attribute_name": f"a{i}"}
    shape = i % 4
    if shape == 0:
        return {"custom_attribute": {**attr, "comparison": "equals", "value": i}}
    if shape == 1:
        return {
            "AND": [
                {"custom_attribute": {**attr, "comparison": "greater_than", "value": 5}},
                {
                    "last_did_custom_event": {
                        "custom_event_name": f"e{i}",
                        "comparison": "less_than_x_days_ago",
                        "value": 7,
                    }
                },
            ]
        }
    if shape == 2:
        return {
            "custom_event": {
                "custom_event_name": f"e{i}",
                "comparison": "greater_than_or_equal_to",
                "value": 2,
                "days": 7,
            }
        }
    return {
        "OR": [
            {"custom_attribute": {**attr, "comparison": "is_any_of", "value": ["gold", "silver"]}},
            {"NOT": {"purchased_product": {"product_id": f"p{i}", "comparison": "greater_than", "value": 0}}},
        ]
    }


def build_index(count: int) -> DependencyIndex:
    return DependencyIndex({f"s{i}": parse_filter(segment_body(i)) for i in range(count)})


def base_profile() -> Profile:
    """A realistic profile: 20 custom attributes, 10 events with 30 days of history, 5 products."""
    profile = Profile(
        user_id="5f0c2a9e1b3d4c5e6f708192",
        created_at=NOW - timedelta(days=400),
        time_zone="America/Santiago",
        dob=date(1990, 3, 14),
        custom_attributes={f"a{i}": i for i in range(20)},
    )
    for i in range(10):
        for day in range(0, 30, 3):
            profile.record_event(f"e{i}", NOW - timedelta(days=day, hours=i), {"level": day})
    for i in range(5):
        profile.record_purchase(f"p{i}", NOW - timedelta(days=i * 5), 9.99, 1, "USD")
    profile.prune(NOW)
    return profile


def _per_record_us(index: DependencyIndex, records: int, naive: bool = False) -> float:
    """Microseconds per write of ``a0`` (alternating two values), median of 3 runs."""
    old = base_profile()
    new = old.model_copy(deep=True)
    new.custom_attributes["a0"] = 0 if old.custom_attributes["a0"] != 0 else 1
    pairs = [(old, new), (new, old)]
    filters = {sid: index.filter(sid) for sid in index.segment_ids}
    members: frozenset[str] = refresh(
        index, old, NOW, memberships=set(), changed=changed_fields(None, old)
    ).memberships
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for k in range(records):
            before, after = pairs[k % 2]
            if naive:
                _naive_refresh(filters, after, members)
            else:
                changed = changed_fields(before, after)
                members = refresh(index, after, NOW, memberships=members, changed=changed).memberships
        runs.append((time.perf_counter() - start) / records * 1e6)
    return statistics.median(runs)


def _naive_refresh(filters: dict[str, FilterNode], profile: Profile, members: frozenset[str]) -> None:
    for tree in filters.values():
        evaluate(tree, profile, NOW, memberships=members)
        next_flip(tree, profile, NOW, memberships=members)


FLIP_SHAPES: dict[str, dict[str, Any]] = {
    "event_count_in_7_days": {
        "custom_event": {
            "custom_event_name": "e1",
            "comparison": "greater_than_or_equal_to",
            "value": 3,
            "days": 7,
        }
    },
    "last_did_less_than_7_days_ago": {
        "last_did_custom_event": {"custom_event_name": "e1", "comparison": "less_than_x_days_ago", "value": 7}
    },
    "money_spent_in_30_days": {"money_spent": {"comparison": "greater_than", "value": 20, "days": 30}},
    "birthday_within_7_days_santiago": {"birthday": {"comparison": "is_within_next_x_days", "value": 7}},
    "age_at_least_36_santiago": {"age": {"comparison": "greater_than_or_equal_to", "value": 36}},
    "tree_of_5_leaves": {
        "AND": [
            {"custom_attribute": {"custom_attribute_name": "a3", "comparison": "less_than", "value": 10}},
            {
                "OR": [
                    {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 30}},
                    {
                        "custom_event": {
                            "custom_event_name": "e2",
                            "comparison": "equals",
                            "value": 0,
                            "days": 3,
                        }
                    },
                ]
            },
            {"NOT": {"birthday": {"comparison": "is_today"}}},
            {"email_subscription_status": {"comparison": "is_not", "value": "unsubscribed"}},
        ]
    },
}


def _per_call_us(fn: Callable[[], object], calls: int) -> float:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        runs.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(runs)


# --- the platform side: handler, sweep, backfill over fakes --------------------------------------


def _handler_module() -> Any:
    """``functions/profile_stream/handler.py``, imported by path as the runtime does."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "functions" / "profile_stream" / "handler.py"
    spec = importlib.util.spec_from_file_location("bench_profile_stream_handler", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_workers(count: int, profiles: list[Profile] = ()) -> Any:  # type: ignore[assignment]
    from engagekit.profiles.store import InMemoryProfileStore
    from engagekit.segments.jobs import JobRunner
    from engagekit.segments.membership import InMemoryMemberships
    from engagekit.segments.profile_source import StoreProfileSource
    from engagekit.segments.runtime import Workers
    from engagekit.segments.store import InMemoryDefinitions, StoredSegment
    from engagekit.segments.timer_store import InMemoryTimers
    from engagekit.segments.updater import DefinitionCache, MembershipUpdater

    definitions = InMemoryDefinitions(
        StoredSegment(f"s{i}", f"s{i}", segment_body(i), "live", 1, NOW, NOW) for i in range(count)
    )
    store = InMemoryProfileStore()
    for profile in profiles:
        store.save_profile(profile)
    updater = MembershipUpdater(
        DefinitionCache(definitions), InMemoryMemberships(), InMemoryTimers(), StoreProfileSource(store)
    )
    return Workers(updater, JobRunner(updater, definitions))


def _stream_event(records: int) -> list[dict[str, Any]]:
    """Batches of 100 MODIFY records, each flipping ``a0`` (read by segment s0 only)."""
    from engagekit.profiles.store import encode_profile

    old = base_profile()
    new = old.model_copy(deep=True)
    new.custom_attributes["a0"] = 0 if old.custom_attributes["a0"] != 0 else 1
    images = []
    for version, profile in enumerate((old, new), start=1):
        doc, _ = encode_profile(profile)
        images.append({"user_id": {"S": profile.user_id}, "version": {"N": str(version)}, "doc": {"S": doc}})
    batch = []
    for k in range(records):
        before, after = images[k % 2], images[(k + 1) % 2]
        batch.append(
            {
                "eventID": str(k),
                "eventName": "MODIFY",
                "eventSource": "aws:dynamodb",
                "dynamodb": {"SequenceNumber": str(k), "OldImage": before, "NewImage": after},
            }
        )
    return [{"Records": batch[i : i + 100]} for i in range(0, len(batch), 100)]


def _handler_per_record_us(count: int, records: int) -> float:
    from engagekit import clock
    from engagekit.segments.runtime import use_workers

    from infra.local.lambdas import LambdaContext

    quiet = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
    saved = {k: os.environ.get(k) for k in quiet}
    os.environ.update(quiet)  # as the local runtime runs handlers: no X-Ray socket, no EMF output
    module = _handler_module()
    events = _stream_event(records)
    previous = clock.set_clock(clock.ManualClock(NOW))
    use_workers(_fake_workers(count))
    try:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            for event in events:
                out = module.handler(event, LambdaContext("profile_stream", 1024, 60))
                assert not out["batchItemFailures"], out
            runs.append((time.perf_counter() - start) / records * 1e6)
        return statistics.median(runs)
    finally:
        use_workers(None)
        clock.set_clock(previous)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _buyers(users: int) -> list[Profile]:
    """Users whose last purchase leaves "less than 7 days ago" (segment s1's shape) within a day."""
    out = []
    for i in range(users):
        profile = Profile(
            user_id=f"{i:024x}",
            created_at=NOW - timedelta(days=30),
            custom_attributes={"a1": 9},
        )
        profile.record_event("e1", NOW - timedelta(days=6, hours=i % 24), {})
        profile.record_purchase("p1", NOW - timedelta(days=6, hours=i % 24), 5.0, 1, "USD")
        out.append(profile)
    return out


def _sweep(users: int) -> dict[str, Any]:
    """Per due timer: the sweep through the updater, beside ``refresh(due=...)`` alone."""
    profiles = _buyers(users)
    workers = _fake_workers(4, profiles)
    updater = workers.updater
    for profile in profiles:  # enter s1 and set its timer, as the stream handler would
        updater.apply_change(None, profile, NOW)
    later = NOW + timedelta(days=1, hours=1)
    due = len(updater.timers.due(later, users * 10))
    start = time.perf_counter()
    out = updater.sweep(later, limit=users * 10)
    sweep_us = (time.perf_counter() - start) / max(out.fired, 1) * 1e6
    index = updater.definitions.index()
    start = time.perf_counter()
    for profile in profiles:
        refresh(index, profile, later, memberships={"s1"}, due={"s1"})
    floor_us = (time.perf_counter() - start) / users * 1e6
    return {
        "due_timers": due,
        "fired": out.fired,
        "exited": len(out.exited),
        "us_per_due_timer": round(sweep_us, 2),
        "floor_refresh_only_us": round(floor_us, 2),
    }


class _ImageSource:
    """A ProfileSource over stored item images, decoded per page like the DynamoDB adapter does
    (the in-memory store's fake scan decodes every profile on every page)."""

    def __init__(self, profiles: list[Profile]) -> None:
        from engagekit.profiles.store import encode_profile

        self.images = []
        for p in sorted(profiles, key=lambda p: p.user_id):
            doc, _ = encode_profile(p)
            self.images.append({"user_id": {"S": p.user_id}, "version": {"N": "1"}, "doc": {"S": doc}})

    def get(self, user_ids: Any) -> dict[str, Profile]:
        from engagekit.profiles.store import profile_from_image

        wanted = set(user_ids)
        found = (profile_from_image(i) for i in self.images if i["user_id"]["S"] in wanted)
        return {p.user_id: p for p in found if p is not None}

    def scan_page(
        self, part: int, parts: int, cursor: str | None, limit: int
    ) -> tuple[list[Profile], str | None]:
        from engagekit.profiles.store import profile_from_image

        mine = self.images[part::parts]
        start = int(cursor or 0)
        page = [p for p in map(profile_from_image, mine[start : start + limit]) if p is not None]
        more = start + limit < len(mine)
        return page, (str(start + limit) if more else None)


def _backfill(users: int) -> dict[str, Any]:
    """Profiles per second through the build job's page task, beside ``evaluate`` alone."""
    from engagekit.segments.jobs import Job

    profiles = _buyers(users)
    workers = _fake_workers(4)
    workers.updater.profiles = _ImageSource(profiles)
    job = Job(kind="build", segment_id="s1", generation=1, parts=4, page_size=500)
    start = time.perf_counter()
    seen = 0
    for part in workers.runner.plan(job)["parts"]:
        step: dict[str, Any] = {"cursor": None, "page": 0, "done": False}
        while not step["done"]:
            step = workers.runner.page(job, part, step["cursor"], step["page"], NOW)
    seen = workers.updater.memberships.count("s1")
    elapsed = time.perf_counter() - start
    index = workers.updater.definitions.index()
    start = time.perf_counter()
    for profile in profiles:
        refresh(index, profile, NOW, memberships=set(), due={"s1"})
    floor = time.perf_counter() - start
    return {
        "profiles": users,
        "members_after": seen,
        "profiles_per_s": round(users / elapsed),
        "floor_refresh_only_profiles_per_s": round(users / floor),
    }


def run(
    records: int = 3_000,
    flip_calls: int = 2_000,
    segment_counts: tuple[int, int] = (10, 1_000),
    platform: bool | None = None,
) -> dict[str, Any]:
    """Run every measurement; sizes are parameters so a smoke test can run it small.

    ``platform`` adds the handler, sweep and backfill measurements (default: when ``records`` is at
    least 100). They import a function handler, and Powertools' tracer opens an X-Ray UDP socket on
    import, which the unit tier forbids: unit smoke tests run small and skip them.
    """
    small, large = segment_counts
    start = time.perf_counter()
    large_index = build_index(large)
    build_ms = (time.perf_counter() - start) * 1e3
    small_us = _per_record_us(build_index(small), records)
    large_us = _per_record_us(large_index, records)
    naive_us = _per_record_us(large_index, max(records // 100, 3), naive=True)
    profile = base_profile()
    flips = {}
    for name, body in FLIP_SHAPES.items():
        tree = parse_filter(body)
        flips[name] = {
            "us_per_call": round(_per_call_us(lambda t=tree: next_flip(t, profile, NOW), flip_calls), 2),
            "next_flip": (lambda f: f.isoformat() if f else None)(next_flip(tree, profile, NOW)),
        }
    ratio = large_us / small_us
    result = {
        "benchmark": "segments",
        "record_touches": "one custom attribute read by one segment",
        "per_record_us": {f"{small}_segments": round(small_us, 2), f"{large}_segments": round(large_us, 2)},
        "ratio": round(ratio, 3),
        "goal_ratio_below": GOAL_RATIO,
        "goal_met": ratio < GOAL_RATIO,
        f"naive_every_segment_us_per_record_at_{large}": round(naive_us, 1),
        f"index_build_ms_for_{large}_segments": round(build_ms, 1),
        "next_flip": flips,
    }
    if platform if platform is not None else records >= 100:
        result.update(_platform(records, small, large))
    return result


def _platform(records: int, small: int, large: int) -> dict[str, Any]:
    handler_records = max(100, records // 3)
    handler_small = _handler_per_record_us(small, handler_records)
    handler_large = _handler_per_record_us(large, handler_records)
    handler_ratio = handler_large / handler_small
    platform_users = max(10, records // 2)
    return {
        "handler": {
            "what": "profile_stream handler, batches of 100 records, in-memory stores",
            "per_record_us": {
                f"{small}_segments": round(handler_small, 2),
                f"{large}_segments": round(handler_large, 2),
            },
            "ratio": round(handler_ratio, 3),
            "goal_met": handler_ratio < GOAL_RATIO,
        },
        "timer_sweep": _sweep(platform_users),
        "backfill": _backfill(platform_users),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
