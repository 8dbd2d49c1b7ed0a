"""Attribute operations, event/purchase validation and folding, merges (braze-api.md §1.1, §1.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit.domain.profile import Profile, UserAlias
from engagekit.profiles.attributes import AddressState, apply_attributes, parse_attributes
from engagekit.profiles.behaviors import apply_purchase, parse_event, parse_purchase
from engagekit.profiles.changes import UserChanges
from engagekit.profiles.errors import ItemError
from engagekit.profiles.limits import Limits
from engagekit.profiles.merge import merge_into
from engagekit.profiles.resolve import Ambiguous, pick

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
P = {"product_id": "p", "currency": "USD", "price": 1, "time": "2026-03-01"}


def profile(**fields: Any) -> Profile:
    return Profile(user_id=fields.pop("user_id", "a" * 24), created_at=NOW, **fields)


def apply(p: Profile, obj: dict[str, Any], limits: Limits = Limits()) -> UserChanges:
    changes = UserChanges()
    parsed = parse_attributes(obj, limits, identified_by="external_id")
    apply_attributes(p, parsed, changes, limits, {})
    return changes


def test_array_cap_is_configurable() -> None:
    p = profile()
    apply(p, {"a": ["1", "2", "3", "4"]}, Limits(array_max_length=3))
    assert p.custom_attributes["a"] == ["2", "3", "4"]
    with pytest.raises(ValueError):
        Limits(array_max_length=101)


def test_changes_record_only_what_changed() -> None:
    p = profile(first_name="Jon")
    changes = apply(p, {"first_name": "Jon", "last_name": "Snow", "x": 1})
    assert changes.standard == {"last_name": "Snow"} and changes.custom == {"x": 1}
    assert apply(p, {"x": 1}).custom == {}


def test_new_email_takes_the_address_state_else_resubscribes() -> None:
    p = profile(email="old@example.com", email_subscribe="unsubscribed")
    changes = UserChanges()
    parsed = parse_attributes({"email": "new@example.com"}, Limits(), identified_by="external_id")
    apply_attributes(p, parsed, changes, Limits(), {"new@example.com": AddressState("opted_in", True, False)})
    assert (p.email_subscribe, p.email_hard_bounced) == ("opted_in", True)
    apply(p, {"email": "third@example.com"})
    assert (p.email_subscribe, p.email_hard_bounced) == ("subscribed", False)
    # an explicit state in the same object wins over the reset
    apply(p, {"email": "fourth@example.com", "email_subscribe": "unsubscribed"})
    assert p.email_subscribe == "unsubscribed"


@dataclass
class Bad:
    name: str
    obj: dict[str, Any]


@pytest.mark.parametrize(
    "case",
    [
        Bad("nan", {"n": float("nan")}),
        Bad("dollar name", {"$x": 1}),
        Bad("long name", {"x" * 256: 1}),
        Bad("array of mixed", {"a": [1, {"b": 2}]}),
        Bad("add not array", {"a": {"add": "x"}}),
        Bad("$remove entry without value", {"a": {"$remove": [{"$identifier_key": "id"}]}}),
        Bad(
            "$update without new object",
            {"a": {"$update": [{"$identifier_key": "id", "$identifier_value": 1}]}},
        ),
        Bad("nested too big", {"o": {"k": "x" * 255, **{f"k{i}": "y" * 255 for i in range(500)}}}),
        Bad("merge flag not bool", {"_merge_objects": "yes"}),
        Bad(
            "bad group state",
            {"subscription_groups": [{"subscription_group_id": "g", "subscription_state": "maybe"}]},
        ),
        Bad("push token without app", {"push_tokens": [{"token": "t"}]}),
        Bad("location out of range", {"current_location": {"longitude": 200, "latitude": 0}}),
        Bad("bad language", {"language": "english"}),
        Bad("bad email", {"email": "nope"}),
    ],
    ids=lambda c: c.name,
)
def test_invalid_attributes_raise_item_error(case: Bad) -> None:
    with pytest.raises(ItemError):
        parse_attributes(case.obj, Limits(), identified_by="external_id")


@pytest.mark.parametrize(
    "case",
    [
        Bad("no name", {"time": "2026-03-01"}),
        Bad("no time", {"name": "e"}),
        Bad("bad time", {"name": "e", "time": "yesterday"}),
        Bad("reserved property", {"name": "e", "time": "2026-03-01", "properties": {"time": 1}}),
        Bad("dollar property", {"name": "e", "time": "2026-03-01", "properties": {"$p": 1}}),
        Bad("long value", {"name": "e", "time": "2026-03-01", "properties": {"p": "x" * 256}}),
        Bad(
            "properties too big",
            {"name": "e", "time": "2026-03-01", "properties": {f"p{i}": "x" * 250 for i in range(420)}},
        ),
        Bad("properties not object", {"name": "e", "time": "2026-03-01", "properties": [1]}),
    ],
    ids=lambda c: c.name,
)
def test_invalid_events_raise_item_error(case: Bad) -> None:
    with pytest.raises(ItemError):
        parse_event(case.obj, NOW)


@pytest.mark.parametrize(
    "case",
    [
        Bad("no currency", {"product_id": "p", "price": 1, "time": "2026-03-01"}),
        Bad("bad currency", {"product_id": "p", "currency": "DOLLARS", "price": 1, "time": "2026-03-01"}),
        Bad("price string", {"product_id": "p", "currency": "USD", "price": "1", "time": "2026-03-01"}),
        Bad("quantity 0", {**P, "quantity": 0}),
        Bad("quantity 101", {**P, "quantity": 101}),
        Bad("quantity bool", {**P, "quantity": True}),
        Bad("properties over 50KB", {"product_id": "p", "currency": "USD", "price": 1, "time": "2026-03-01",
                                     "properties": {f"p{i}": "x" * 250 for i in range(210)}}),
    ],
    ids=lambda c: c.name,
)  # fmt: skip
def test_invalid_purchases_raise_item_error(case: Bad) -> None:
    with pytest.raises(ItemError):
        parse_purchase(case.obj, NOW)


def test_purchase_quantity_counts_as_that_many_purchases() -> None:
    p = profile()
    record = parse_purchase(
        {"product_id": "p", "currency": "usd", "price": 2.5, "quantity": 4, "time": "2030-01-01"}, NOW
    )
    assert record.at == NOW and record.currency == "USD"
    apply_purchase(p, record, UserChanges())
    assert (p.products["p"].count, p.products["p"].quantity, p.purchases.revenue) == (4, 4, 10.0)


def test_merge_sums_behaviour_and_keeps_target_attributes() -> None:
    keep = profile(user_id="k" * 24, first_name="Keep", custom_attributes={"c": 1})
    other = profile(
        user_id="o" * 24,
        first_name="Other",
        last_name="Only",
        custom_attributes={"c": 2, "d": 3},
        user_aliases=[UserAlias(alias_name="n", alias_label="l")],
    )
    keep.record_event("e", datetime(2026, 2, 1, tzinfo=UTC))
    other.record_event("e", datetime(2026, 2, 5, tzinfo=UTC))
    other.record_purchase("p", NOW, 3.0, 2)
    changes = merge_into(keep, other)
    assert (keep.first_name, keep.last_name) == ("Keep", "Only")
    assert keep.custom_attributes == {"c": 1, "d": 3}
    assert keep.events["e"].count == 2 and keep.events["e"].last == datetime(2026, 2, 5, tzinfo=UTC)
    assert keep.purchases.count == 2 and keep.purchases.revenue == 6.0
    assert keep.user_aliases == other.user_aliases and changes.anything


@dataclass
class PickCase:
    name: str
    priority: list[str]
    expected: str | None


def _candidates() -> list[Profile]:
    old = profile(user_id="1" * 24, external_id="known", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    new = profile(user_id="2" * 24, updated_at=datetime(2026, 2, 1, tzinfo=UTC))
    newer = profile(user_id="3" * 24, updated_at=datetime(2026, 2, 2, tzinfo=UTC))
    return [old, new, newer]


@pytest.mark.parametrize(
    "case",
    [
        PickCase("identified", ["identified"], "1" * 24),
        PickCase("unidentified most recent", ["unidentified", "most_recently_updated"], "3" * 24),
        PickCase("least recent", ["least_recently_updated"], "1" * 24),
        PickCase("unidentified alone is ambiguous", ["unidentified"], "ambiguous"),
    ],
    ids=lambda c: c.name,
)
def test_prioritization_picks_one_profile(case: PickCase) -> None:
    if case.expected == "ambiguous":
        with pytest.raises(Ambiguous):
            pick(_candidates(), case.priority)
        return
    chosen = pick(_candidates(), case.priority)
    assert chosen is not None and chosen.user_id == case.expected


@dataclass
class IncCase:
    name: str
    start: Any
    step: Any


NON_FINITE_INCREMENTS = [
    IncCase("float overflow", 1e308, 1e308),
    IncCase("negative overflow", -1e308, -1e308),
    IncCase("huge int plus float", 10**400, 1.5),
]


@pytest.mark.parametrize("case", NON_FINITE_INCREMENTS, ids=lambda c: c.name)
def test_inc_with_a_non_finite_result_is_refused_and_keeps_the_value(case: IncCase) -> None:
    p = profile(custom_attributes={"n": case.start, "other": 1})
    parsed = parse_attributes({"n": {"inc": case.step}, "other": 2}, Limits(), identified_by="external_id")
    with pytest.raises(ItemError, match="'n': the increment's result is not a finite number"):
        apply_attributes(p, parsed, UserChanges(), Limits(), {})
    # nothing of the object applied
    assert p.custom_attributes == {"n": case.start, "other": 1}
