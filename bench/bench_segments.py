"""Segment engine benchmark (issue 4): per-record classification cost as the number of segments grows.

What the stream handler will do for one profile write, minus storage: ``changed_fields(old, new)``,
``refresh(...)`` (dependency-index lookup, evaluation of the affected segments, cascade, next-flip
timers). Measured with 10 and with 1,000 segments defined where the write touches one field that
one segment reads; goal: cost(1,000) / cost(10) < 2 (ARCHITECTURE.md "Classify": cost follows the
rate of change, not the number of segments). For contrast, the naive alternative (evaluate and
re-time every segment on every write) is measured at 1,000 segments.

Also reported: ``next_flip`` cost per call for each time-dependent filter shape, and the time to
build the dependency index (paid once per cold start of the stream handler).

Run: ``python -m bench.bench_segments`` (prints JSON); ``run()`` returns the same dict.
"""

from __future__ import annotations

import json
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


def run(
    records: int = 3_000, flip_calls: int = 2_000, segment_counts: tuple[int, int] = (10, 1_000)
) -> dict[str, Any]:
    """Run every measurement; sizes are parameters so a smoke test can run it small."""
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
    return {
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


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
