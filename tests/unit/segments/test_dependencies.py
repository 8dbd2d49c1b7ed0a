"""The dependency index: fields read per leaf, fields a write touched, segments affected, cycles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from engagekit.domain.profile import Profile, PushToken
from engagekit.segments import (
    PROFILE,
    PURCHASES,
    DependencyIndex,
    FieldRef,
    SegmentCycleError,
    changed_fields,
    check_acyclic,
    fields,
    find_cycle,
    parse_filter,
    topological_order,
    unknown_references,
)
from engagekit.segments.base import standard

from tests.unit.segments.conftest import T0, make_profile
from tests.unit.segments.test_filter_parsing import VALID


@dataclass
class FieldsCase:
    example: str
    expected: set[FieldRef]


FIELDS_CASES = [
    FieldsCase("custom_attribute", {FieldRef("custom_attribute", "plan")}),
    FieldsCase("standard_attribute", {standard("country")}),
    FieldsCase("created_at", {standard("created_at")}),
    FieldsCase("age", {standard("dob"), standard("time_zone")}),
    FieldsCase("birthday", {standard("dob"), standard("time_zone")}),
    FieldsCase("custom_event", {FieldRef("event", "played")}),
    FieldsCase("first_did", {FieldRef("event", "played")}),
    FieldsCase("event_property", {FieldRef("event", "played")}),
    FieldsCase("purchased_product", {FieldRef("product", "sku-1")}),
    FieldsCase("purchase_count", {PURCHASES}),
    FieldsCase("money_spent", {PURCHASES}),
    FieldsCase("first_purchase", {PURCHASES}),
    FieldsCase("last_purchase", {FieldRef("product", "sku-1")}),
    FieldsCase("email_status", {standard("email_subscribe")}),
    FieldsCase("push_status", {standard("push_subscribe")}),
    FieldsCase("subscription_group", {FieldRef("subscription_group", "news")}),
    FieldsCase("random_bucket", {standard("user_id")}),
    FieldsCase("segment", {FieldRef("segment", "vip")}),
    FieldsCase(
        "tree",
        {
            standard("email"),
            standard("email_subscribe"),
            standard("email_hard_bounced"),
            standard("email_spam"),
            standard("push_tokens"),
            standard("push_subscribe"),
            FieldRef("segment", "churned"),
        },
    ),
]


@pytest.mark.parametrize("case", FIELDS_CASES, ids=[c.example for c in FIELDS_CASES])
def test_fields_read_by_each_leaf_kind(case: FieldsCase) -> None:
    assert fields(parse_filter(VALID[case.example])) == case.expected


@dataclass
class ChangeCase:
    name: str
    change: Callable[[Profile], None]
    expected: set[FieldRef]


def _set(name: str, value: Any) -> Callable[[Profile], None]:
    return lambda p: setattr(p, name, value)


def _attr(name: str, value: Any) -> Callable[[Profile], None]:
    return lambda p: p.custom_attributes.__setitem__(name, value)


CHANGE_CASES = [
    ChangeCase("nothing", lambda p: None, set()),
    ChangeCase("country", _set("country", "FR"), {standard("country")}),
    ChangeCase("time zone", _set("time_zone", "Asia/Tokyo"), {standard("time_zone")}),
    ChangeCase("dob", _set("dob", date(1990, 1, 1)), {standard("dob")}),
    ChangeCase(
        "push token",
        lambda p: p.push_tokens.append(PushToken(app_id="a", token="t")),
        {standard("push_tokens")},
    ),
    ChangeCase("new attribute", _attr("plan", "pro"), {FieldRef("custom_attribute", "plan")}),
    ChangeCase("changed attribute", _attr("n", 2), {FieldRef("custom_attribute", "n")}),
    ChangeCase("same value", _attr("n", 1), set()),
    ChangeCase("1 to true is a change", _attr("n", True), {FieldRef("custom_attribute", "n")}),
    ChangeCase("1 to 1.0 is a change", _attr("n", 1.0), {FieldRef("custom_attribute", "n")}),
    ChangeCase("[1] to [true] is a change", _attr("arr", [True]), {FieldRef("custom_attribute", "arr")}),
    ChangeCase(
        "removed attribute", lambda p: p.custom_attributes.pop("n"), {FieldRef("custom_attribute", "n")}
    ),
    ChangeCase("event", lambda p: p.record_event("played", T0), {FieldRef("event", "played")}),
    ChangeCase(
        "event property type only",
        lambda p: setattr(p.events["seen"], "last_properties", {"x": 1.0}),
        {FieldRef("event", "seen")},
    ),
    ChangeCase(
        "purchase",
        lambda p: p.record_purchase("sku", T0, 2.0),
        {PURCHASES, FieldRef("product", "sku")},
    ),
    ChangeCase(
        "group",
        lambda p: p.subscription_groups.__setitem__("g", "subscribed"),
        {FieldRef("subscription_group", "g")},
    ),
    ChangeCase(
        "prune of old buckets", lambda p: p.prune(T0 + timedelta(days=40)), {FieldRef("event", "seen")}
    ),
]


@pytest.mark.parametrize("case", CHANGE_CASES, ids=[c.name for c in CHANGE_CASES])
def test_changed_fields_between_two_versions(case: ChangeCase) -> None:
    old = make_profile(custom_attributes={"n": 1, "arr": [1]})
    old.record_event("seen", T0, {"x": 1})
    new = old.model_copy(deep=True)
    case.change(new)
    assert changed_fields(old, new) == case.expected


def test_created_or_deleted_profile_affects_everything() -> None:
    assert changed_fields(None, make_profile()) == {PROFILE}
    assert changed_fields(make_profile(), None) == {PROFILE}


def _definitions(**bodies: dict[str, Any]) -> dict[str, Any]:
    return {sid: parse_filter(body) for sid, body in bodies.items()}


def _ca(name: str) -> dict[str, Any]:
    return {"custom_attribute": {"custom_attribute_name": name, "comparison": "exists"}}


def _seg(sid: str) -> dict[str, Any]:
    return {"segment": {"segment_id": sid}}


def test_index_maps_fields_to_the_segments_reading_them() -> None:
    index = DependencyIndex(
        _definitions(a=_ca("plan"), b={"AND": [_ca("plan"), _ca("tier")]}, c=_ca("tier"), d=_seg("a"))
    )
    assert index.affected_segments({FieldRef("custom_attribute", "plan")}) == {"a", "b"}
    assert index.affected_segments({FieldRef("custom_attribute", "tier"), FieldRef("event", "x")}) == {
        "b",
        "c",
    }
    assert index.affected_segments({FieldRef("custom_attribute", "other")}) == set()
    assert index.affected_segments({PROFILE}) == {"a", "b", "c", "d"}
    assert index.dependents("a") == {"d"}
    assert index.rank("d") > index.rank("a")


@dataclass
class CycleCase:
    name: str
    bodies: dict[str, dict[str, Any]]
    cycle: list[str] | None


CYCLE_CASES = [
    CycleCase("no references", {"a": _ca("x"), "b": _ca("y")}, None),
    CycleCase("chain", {"a": _seg("b"), "b": _seg("c"), "c": _ca("x")}, None),
    CycleCase(
        "diamond", {"a": {"AND": [_seg("b"), _seg("c")]}, "b": _seg("d"), "c": _seg("d"), "d": _ca("x")}, None
    ),
    CycleCase("self", {"a": {"NOT": _seg("a")}}, ["a", "a"]),
    CycleCase("two", {"a": _seg("b"), "b": {"OR": [_ca("x"), _seg("a")]}}, ["a", "b", "a"]),
    CycleCase(
        "three behind a tail",
        {"t": _seg("a"), "a": _seg("b"), "b": _seg("c"), "c": _seg("a")},
        ["a", "b", "c", "a"],
    ),
    CycleCase("unknown reference is not a cycle", {"a": _seg("ghost")}, None),
]


@pytest.mark.parametrize("case", CYCLE_CASES, ids=[c.name for c in CYCLE_CASES])
def test_cycle_detection(case: CycleCase) -> None:
    definitions = _definitions(**case.bodies)
    assert find_cycle(definitions) == case.cycle
    if case.cycle is None:
        check_acyclic(definitions)
        order = topological_order(definitions)
        for sid, tree in definitions.items():
            for ref in fields(tree):
                if ref.kind == "segment" and ref.name in definitions:
                    assert order.index(ref.name) < order.index(sid)
    else:
        with pytest.raises(SegmentCycleError, match="form a cycle: " + " -> ".join(case.cycle)):
            check_acyclic(definitions)
        with pytest.raises(SegmentCycleError):
            DependencyIndex(definitions)


def test_unknown_references_are_reported() -> None:
    definitions = _definitions(a=_seg("ghost"), b=_seg("a"))
    assert unknown_references(definitions) == {"a": frozenset({"ghost"})}
