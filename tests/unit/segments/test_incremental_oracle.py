"""The oracle test for the whole design (issue 4, "Done when"; CONVENTIONS.md practice 10).

Given random segment definitions (random filter trees, segments referencing earlier segments) and a
random history of attribute writes, events, purchases, zone and birthday changes and clock
advances, incremental membership must equal brute-force evaluation at every step:

- a data change re-evaluates only ``index.affected_segments(changed_fields(old, new))`` (plus the
  cascade through segment references), exactly as the stream handler will;
- time passes only through timers from ``next_flip``: when the ManualClock advances, each due timer
  fires at its own instant; just before it (1 µs) and right after it the incremental state must
  equal ``evaluate`` at that instant, so a late timer and an inexact one both fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engagekit.clock import utc_iso
from engagekit.domain.profile import Profile, PushToken
from engagekit.segments import (
    DependencyIndex,
    Refresh,
    changed_fields,
    evaluate,
    parse_filter,
    refresh,
    topological_order,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.segments.conftest import manual_clock_installed

MICROSECOND = timedelta(microseconds=1)

# Instants near daylight-saving changes (US, EU, Santiago/Havana/Beirut midnight transitions,
# Lord Howe's 30-minute shift) and around February 28 / March 1 of a leap year.
STARTS = [
    datetime(2026, 3, 7, 2, tzinfo=UTC),
    datetime(2026, 3, 27, 20, tzinfo=UTC),
    datetime(2026, 4, 3, 9, tzinfo=UTC),
    datetime(2026, 9, 4, 18, tzinfo=UTC),
    datetime(2026, 10, 23, 12, tzinfo=UTC),
    datetime(2026, 10, 30, 20, tzinfo=UTC),
    datetime(2028, 2, 26, 23, tzinfo=UTC),
]
ZONES = [
    None,
    "UTC",
    "America/New_York",
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "Asia/Beirut",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Not/AZone",
]
ATTRS = ["n", "s", "b", "t", "arr"]
EVENTS = ["e1", "e2"]
PRODUCTS = ["p1", "p2"]
DAYS = [None, 1, 2, 7, 30]
REL_DAYS = [0.5, 1, 2, 7, 30]

# -- filters ---------------------------------------------------------------------------------------


def _iso(start: datetime, hours: int) -> str:
    return utc_iso(start + timedelta(hours=hours))


@st.composite
def time_comparison(draw: st.DrawFn, start: datetime) -> dict[str, Any]:
    op = draw(
        st.sampled_from(
            [
                "before",
                "after",
                "less_than_x_days_ago",
                "greater_than_x_days_ago",
                "less_than_x_days_in_the_future",
                "greater_than_x_days_in_the_future",
                "exists",
                "does_not_exist",
            ]
        )
    )
    if op in ("before", "after"):
        return {"comparison": op, "value": _iso(start, draw(st.integers(-240, 240)))}
    if op in ("exists", "does_not_exist"):
        return {"comparison": op}
    return {"comparison": op, "value": draw(st.sampled_from(REL_DAYS))}


@st.composite
def value_comparison(draw: st.DrawFn, start: datetime) -> dict[str, Any]:
    """A typed comparison as in custom_attribute / custom_event_property."""
    kind = draw(st.sampled_from(["number", "string", "boolean", "time", "array", "any"]))
    if kind == "number":
        op = draw(
            st.sampled_from(
                [
                    "equals",
                    "not_equal",
                    "greater_than",
                    "greater_than_or_equal_to",
                    "less_than",
                    "less_than_or_equal_to",
                ]
            )
        )
        return {"comparison": op, "value": draw(st.sampled_from([0, 1, 2.5, -1]))}
    if kind == "string":
        return draw(
            st.sampled_from(
                [
                    {"comparison": "equals", "value": "a"},
                    {"comparison": "not_equal", "value": "a"},
                    {"comparison": "matches_regex", "value": "^A"},
                    {"comparison": "does_not_match_regex", "value": "b$"},
                    {"comparison": "is_any_of", "value": ["a", "b"]},
                    {"comparison": "is_none_of", "value": ["a"]},
                    {"comparison": "contains_any_of", "value": ["b"]},
                    {"comparison": "does_not_contain_any_of", "value": ["a"]},
                    {"comparison": "exists", "data_type": "string"},
                ]
            )
        )
    if kind == "boolean":
        op = draw(st.sampled_from(["equals", "does_not_equal"]))
        return {"comparison": op, "value": draw(st.booleans())}
    if kind == "time":
        return {**draw(time_comparison(start)), "data_type": "time"}
    if kind == "array":
        return draw(
            st.sampled_from(
                [
                    {"comparison": "includes_value", "value": "a"},
                    {"comparison": "does_not_include_value", "value": 1},
                    {"comparison": "includes_any_of", "value": ["a", 1]},
                    {"comparison": "includes_none_of", "value": ["b"]},
                    {"comparison": "includes_all_of", "value": ["a", "b"]},
                    {"comparison": "is_empty"},
                    {"comparison": "has_a_value"},
                    {"comparison": "matches_regex", "value": "a", "data_type": "array"},
                ]
            )
        )
    return draw(
        st.sampled_from(
            [
                {"comparison": "exists"},
                {"comparison": "does_not_exist"},
                {"comparison": "matches_regex", "value": "a"},
            ]
        )
    )


COUNT_OPS = [
    "equals",
    "not_equal",
    "greater_than",
    "greater_than_or_equal_to",
    "less_than",
    "less_than_or_equal_to",
]


@st.composite
def count_fields(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"comparison": draw(st.sampled_from(COUNT_OPS)), "value": draw(st.integers(0, 3))}
    days = draw(st.sampled_from(DAYS))
    if days is not None:
        body["days"] = days
    return body


@st.composite
def leaf(draw: st.DrawFn, start: datetime, earlier_segments: list[str]) -> dict[str, Any]:
    # Leaves whose answer changes with time are listed twice so trees often schedule timers.
    kinds = [
        *("custom_attribute", "custom_event", "last_did_custom_event", "money_spent"),
        *("purchased_product", "birthday", "age", "first_purchase"),
        "custom_attribute",
        "custom_event",
        "first_did_custom_event",
        "last_did_custom_event",
        "custom_event_property",
        "purchased_product",
        "purchase_count",
        "money_spent",
        "first_purchase",
        "last_purchase",
        "standard_attribute",
        "age",
        "birthday",
        "email_subscription_status",
        "push_subscription_status",
        "subscription_group",
        "email_available",
        "push_enabled",
        "random_bucket",
    ]
    if earlier_segments:
        kinds.append("segment")
    kind = draw(st.sampled_from(kinds))
    body: dict[str, Any]
    if kind == "custom_attribute":
        body = {"custom_attribute_name": draw(st.sampled_from(ATTRS)), **draw(value_comparison(start))}
    elif kind == "custom_event":
        body = {"custom_event_name": draw(st.sampled_from(EVENTS)), **draw(count_fields())}
    elif kind in ("first_did_custom_event", "last_did_custom_event"):
        body = {"custom_event_name": draw(st.sampled_from(EVENTS)), **draw(time_comparison(start))}
    elif kind == "custom_event_property":
        body = {
            "custom_event_name": draw(st.sampled_from(EVENTS)),
            "property_name": "p",
            **draw(value_comparison(start)),
        }
    elif kind == "purchased_product":
        body = {"product_id": draw(st.sampled_from(PRODUCTS)), **draw(count_fields())}
    elif kind == "purchase_count":
        body = draw(count_fields())
    elif kind == "money_spent":
        body = {**draw(count_fields()), "value": draw(st.sampled_from([0, 1.5, 10.0, 20]))}
    elif kind in ("first_purchase", "last_purchase"):
        body = draw(time_comparison(start))
        product = draw(st.sampled_from([None, *PRODUCTS]))
        if product:
            body["product_id"] = product
    elif kind == "standard_attribute":
        body = draw(
            st.sampled_from(
                [
                    {"attribute_name": "country", "comparison": "equals", "value": "US"},
                    {"attribute_name": "country", "comparison": "is_none_of", "value": ["US", "FR"]},
                    {"attribute_name": "time_zone", "comparison": "does_not_exist"},
                    {"attribute_name": "email", "comparison": "matches_regex", "value": "@example"},
                ]
            )
            | time_comparison(start).map(lambda c: {"attribute_name": "created_at", **c})
        )
    elif kind == "age":
        op = draw(st.sampled_from([*COUNT_OPS, "exists", "does_not_exist"]))
        body = {"comparison": op} if "exist" in op else {"comparison": op, "value": draw(st.integers(19, 31))}
    elif kind == "birthday":
        body = draw(
            st.sampled_from(
                [
                    {"comparison": "is_today"},
                    {"comparison": "is_within_next_x_days", "value": 1},
                    {"comparison": "is_within_next_x_days", "value": 3},
                    {"comparison": "on", "value": "03-01"},
                    {"comparison": "before", "value": "06-15"},
                    {"comparison": "is_in_month", "value": start.month},
                    {"comparison": "does_not_exist"},
                ]
            )
        )
    elif kind in ("email_subscription_status", "push_subscription_status"):
        body = {
            "comparison": draw(st.sampled_from(["is", "is_not"])),
            "value": draw(st.sampled_from(["opted_in", "subscribed", "unsubscribed"])),
        }
    elif kind == "subscription_group":
        body = {
            "subscription_group_id": "g1",
            "comparison": draw(st.sampled_from(["is", "is_not"])),
            "value": draw(st.sampled_from(["subscribed", "unsubscribed"])),
        }
    elif kind in ("email_available", "push_enabled"):
        body = {"value": draw(st.booleans())}
    elif kind == "random_bucket":
        body = {
            "comparison": draw(st.sampled_from(COUNT_OPS)),
            "value": draw(st.sampled_from([0, 5000, 9999])),
        }
    else:
        body = {"segment_id": draw(st.sampled_from(earlier_segments))}
    return {kind: body}


def filter_tree(start: datetime, earlier_segments: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaf(start, earlier_segments),
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda c: {"AND": c}),
            st.lists(children, min_size=1, max_size=3).map(lambda c: {"OR": c}),
            children.map(lambda c: {"NOT": c}),
        ),
        max_leaves=5,
    )


RELATIVE_OPS = [
    "less_than_x_days_ago",
    "greater_than_x_days_ago",
    "less_than_x_days_in_the_future",
    "greater_than_x_days_in_the_future",
]


@st.composite
def timed_leaf(draw: st.DrawFn) -> dict[str, Any]:
    """A leaf whose answer changes with the passage of time alone."""
    relative = {"comparison": draw(st.sampled_from(RELATIVE_OPS)), "value": draw(st.sampled_from(REL_DAYS))}
    windowed = {**draw(count_fields()), "days": draw(st.sampled_from([1, 2, 7, 30]))}
    event = draw(st.sampled_from(EVENTS))
    return draw(
        st.sampled_from(
            [
                {"custom_event": {"custom_event_name": event, **windowed}},
                {"purchased_product": {"product_id": "p1", **windowed}},
                {"purchase_count": windowed},
                {"money_spent": {**windowed, "value": draw(st.sampled_from([1.5, 10.0]))}},
                {"last_did_custom_event": {"custom_event_name": event, **relative}},
                {"first_did_custom_event": {"custom_event_name": event, **relative}},
                {"last_purchase": relative},
                {"first_purchase": {**relative, "product_id": "p2"}},
                {"custom_attribute": {"custom_attribute_name": draw(st.sampled_from(ATTRS)), **relative}},
                {"custom_event_property": {"custom_event_name": event, "property_name": "p", **relative}},
                {"standard_attribute": {"attribute_name": "created_at", **relative}},
                {"birthday": {"comparison": "is_today"}},
                {
                    "birthday": {
                        "comparison": "is_within_next_x_days",
                        "value": draw(st.sampled_from([1, 2, 5])),
                    }
                },
                {"age": {"comparison": draw(st.sampled_from(COUNT_OPS)), "value": draw(st.integers(19, 31))}},
            ]
        )
    )


def timed_tree() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        timed_leaf(),
        timed_leaf().map(lambda c: {"NOT": c}),
        st.lists(timed_leaf(), min_size=2, max_size=3).map(lambda c: {"AND": c}),
        st.lists(timed_leaf(), min_size=2, max_size=3).map(lambda c: {"OR": c}),
    )


# -- histories -------------------------------------------------------------------------------------

VALUES: list[Any] = [None, 0, 1, 2.5, -1, "a", "b", "A", "", True, False, [], ["a"], ["a", "b"], [1]]


@st.composite
def operation(draw: st.DrawFn, writes_only: bool = False, timed: bool = False) -> tuple[Any, ...]:
    kinds = ["attr", "time_attr", "time_attr", "event", "event", "purchase", "purchase", "dob", "zone"]
    if timed:  # zone and birthday changes move the user's local date under calendar filters
        kinds += ["dob", "zone"]
    else:
        kinds += ["country", "email", "subscription", "push", "group"]
    if not writes_only:
        kinds += ["advance"] * 6
    kind = draw(st.sampled_from(kinds))
    if kind == "advance":
        seconds = draw(
            st.one_of(
                st.integers(1, 3_600),
                st.integers(3_600, 3 * 86_400),
                st.integers(86_400, 40 * 86_400),
            )
        )
        return ("advance", seconds)
    if kind == "attr":
        return ("attr", draw(st.sampled_from(ATTRS)), draw(st.sampled_from(VALUES)))
    if kind == "time_attr":
        return ("time_attr", draw(st.sampled_from(ATTRS)), draw(st.integers(-24 * 40, 24 * 40)))
    if kind == "event":
        prop = draw(
            st.one_of(st.sampled_from(VALUES), st.integers(-24 * 40, 24 * 40).map(lambda h: ("t", h)))
        )
        return ("event", draw(st.sampled_from(EVENTS)), draw(st.integers(0, 36 * 86_400)), prop)
    if kind == "purchase":
        return (
            "purchase",
            draw(st.sampled_from(PRODUCTS)),
            draw(st.integers(0, 36 * 86_400)),
            draw(st.sampled_from([0.0, 1.5, 10.0])),
            draw(st.integers(1, 3)),
        )
    if kind == "zone":
        return ("zone", draw(st.sampled_from(ZONES)))
    if kind == "dob":
        return ("dob", draw(st.integers(19, 31)), draw(st.integers(-3, 3)), draw(st.booleans()))
    if kind == "country":
        return ("country", draw(st.sampled_from([None, "US", "FR", "DE"])))
    if kind == "email":
        return (
            "email",
            draw(st.sampled_from([None, "x@example.com", "broken"])),
            draw(st.sampled_from(["opted_in", "subscribed", "unsubscribed"])),
            draw(st.booleans()),
        )
    if kind == "subscription":
        return ("push_state", draw(st.sampled_from(["opted_in", "subscribed", "unsubscribed"])))
    if kind == "push":
        return ("push_tokens", draw(st.booleans()))
    return ("group", draw(st.sampled_from([None, "subscribed", "unsubscribed"])))


def apply(profile: Profile, op: tuple[Any, ...], now: datetime) -> Profile:
    """A new version of ``profile`` after a write at ``now`` (the old one is left untouched)."""
    new = profile.model_copy(deep=True)
    kind = op[0]
    if kind == "attr":
        _, name, value = op
        if value is None:
            new.custom_attributes.pop(name, None)
        else:
            new.custom_attributes[name] = value
    elif kind == "time_attr":
        new.custom_attributes[op[1]] = utc_iso(now + timedelta(hours=op[2]))
    elif kind == "event":
        _, name, ago, prop = op
        value = utc_iso(now + timedelta(hours=prop[1])) if isinstance(prop, tuple) else prop
        props = {} if value is None else {"p": value}
        new.record_event(name, now - timedelta(seconds=ago), props)
    elif kind == "purchase":
        _, product, ago, price, quantity = op
        new.record_purchase(product, now - timedelta(seconds=ago), price, quantity, "USD")
    elif kind == "zone":
        new.time_zone = op[1]
    elif kind == "dob":
        _, age, shift, leap_day = op
        if leap_day:
            new.dob = date(2000, 2, 29) if age % 2 else date(1996, 2, 29)
        else:
            around = now.date() + timedelta(days=shift)
            if (around.month, around.day) == (2, 29):
                around += timedelta(days=1)
            new.dob = around.replace(year=around.year - age)
    elif kind == "country":
        new.country = op[1]
    elif kind == "email":
        _, email, state, bounced = op
        new.email, new.email_subscribe, new.email_hard_bounced = email, state, bounced
    elif kind == "push_state":
        new.push_subscribe = op[1]
    elif kind == "push_tokens":
        new.push_tokens = [PushToken(app_id="app", token="tok")] if op[1] else []
    elif kind == "group":
        if op[1] is None:
            new.subscription_groups.pop("g1", None)
        else:
            new.subscription_groups["g1"] = op[1]
    new.prune(now)
    return new


def timed_operations() -> st.SearchStrategy[list[tuple[Any, ...]]]:
    """Writes each followed by a clock advance of hours to weeks, so timers keep falling due."""
    advance = st.tuples(
        st.just("advance"),
        st.builds(
            lambda base, extra: base + extra,
            st.sampled_from([3_600, 6 * 3_600, 86_400, 2 * 86_400, 7 * 86_400, 31 * 86_400]),
            st.integers(0, 86_400),
        ),
    )
    pairs = st.lists(st.tuples(operation(writes_only=True, timed=True), advance), min_size=3, max_size=10)
    return pairs.map(lambda ps: [op for pair in ps for op in pair])


@dataclass
class Scenario:
    start: datetime
    definitions: dict[str, dict[str, Any]]
    history: list[tuple[Any, ...]]
    operations: list[tuple[Any, ...]]
    user_id: str
    zone: str | None


@st.composite
def scenarios(draw: st.DrawFn, timed: bool = False) -> Scenario:
    start = draw(st.sampled_from(STARTS)) + timedelta(seconds=draw(st.integers(0, 3 * 86_400)))
    count = draw(st.integers(1, 4))
    definitions: dict[str, dict[str, Any]] = {}
    for i in range(count):
        tree = timed_tree() if timed else filter_tree(start, list(definitions))
        definitions[f"s{i}"] = draw(tree)
    return Scenario(
        start=start,
        definitions=definitions,
        history=draw(st.lists(operation(writes_only=True, timed=timed), min_size=2, max_size=10)),
        operations=draw(timed_operations() if timed else st.lists(operation(), min_size=5, max_size=25)),
        user_id=draw(st.sampled_from(["0" * 24, "5f0c2a9e1b3d4c5e6f708192", "ffffffffffffffffffffffff"])),
        zone=draw(st.sampled_from(ZONES)),
    )


# -- the simulation --------------------------------------------------------------------------------


class Simulation:
    """One user's memberships kept the way the stream handler and the timer sweep will keep them."""

    def __init__(self, scenario: Scenario) -> None:
        self.filters = {sid: parse_filter(body) for sid, body in scenario.definitions.items()}
        self.index = DependencyIndex(self.filters)
        self.order = topological_order(self.filters)
        self.members: frozenset[str] = frozenset()
        self.timers: dict[str, datetime] = {}
        self.evaluations = 0

    def absorb(self, result: Refresh, now: datetime) -> None:
        self.members = result.memberships
        self.evaluations += len(result.evaluated)
        for sid, at in result.timers.items():
            if at is None:
                self.timers.pop(sid, None)
            else:
                assert at > now, f"timer for {sid} at {at} is not after {now}"
                self.timers[sid] = at

    def brute_force(self, profile: Profile, at: datetime) -> frozenset[str]:
        members: set[str] = set()
        for sid in self.order:
            if evaluate(self.filters[sid], profile, at, memberships=members):
                members.add(sid)
        return frozenset(members)

    def check(self, profile: Profile, at: datetime, step: str) -> None:
        expected = self.brute_force(profile, at)
        assert self.members == expected, (
            f"after {step} at {at.isoformat()}: incremental {sorted(self.members)} "
            f"!= brute force {sorted(expected)}; timers {self.timers}"
        )


ORACLE_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@ORACLE_SETTINGS
@given(scenarios())
def test_incremental_membership_equals_brute_force_at_every_step(scenario: Scenario) -> None:
    run_scenario(scenario)


@ORACLE_SETTINGS
@given(scenarios(timed=True))
def test_time_driven_membership_flips_exactly_when_timers_fire(scenario: Scenario) -> None:
    run_scenario(scenario)


def run_scenario(scenario: Scenario) -> None:
    with manual_clock_installed(scenario.start) as clk:
        sim = Simulation(scenario)
        profile = Profile(
            user_id=scenario.user_id,
            created_at=scenario.start - timedelta(days=3),
            time_zone=scenario.zone,
        )
        now = clk.now()
        for op in scenario.history:  # data the user had before the segments existed
            profile = apply(profile, op, now)
        sim.absorb(
            refresh(sim.index, profile, now, memberships=sim.members, changed=changed_fields(None, profile)),
            now,
        )
        sim.check(profile, now, "profile creation")
        for step, op in enumerate(scenario.operations):
            if op[0] == "advance":
                target = clk.now() + timedelta(seconds=op[1])
                while sim.timers and min(sim.timers.values()) <= target:
                    due_at = min(sim.timers.values())
                    if due_at - MICROSECOND > clk.now():
                        sim.check(profile, due_at - MICROSECOND, f"step {step}: just before a timer")
                    clk.set(due_at)
                    due = {sid for sid, at in sim.timers.items() if at == due_at}
                    for sid in due:
                        del sim.timers[sid]
                    sim.absorb(refresh(sim.index, profile, due_at, memberships=sim.members, due=due), due_at)
                    sim.check(profile, due_at, f"step {step}: timers {sorted(due)} fired")
                clk.set(target)
                sim.check(profile, target, f"step {step}: clock advanced {op[1]} s")
            else:
                now = clk.now()
                new = apply(profile, op, now)
                changed = changed_fields(profile, new)
                sim.absorb(refresh(sim.index, new, now, memberships=sim.members, changed=changed), now)
                profile = new
                sim.check(profile, now, f"step {step}: {op}")
