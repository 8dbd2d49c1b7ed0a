"""Every comparison and its NULL behaviour (braze-api.md §2.6, §3 "Operators by type", §11.10).

NULL means: the attribute is absent, JSON null, or holds a value of another type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.segments import evaluate, parse_filter

from tests.unit.segments.conftest import T0, make_profile

ABSENT = object()


@dataclass
class Case:
    name: str
    comparison: str
    value: Any
    stored: Any
    expected: bool
    data_type: str | None = None


def _cases(
    comparison: str, value: Any, rows: list[tuple[str, Any, bool]], data_type: str | None = None
) -> list[Case]:
    return [
        Case(f"{comparison} {value!r}: {label}", comparison, value, stored, want, data_type)
        for label, stored, want in rows
    ]


CASES = [
    # -- numbers: "Exactly 0" and "Less Than" include NULL ----------------------------------------
    *_cases(
        "equals", 0, [("zero", 0, True), ("zero float", 0.0, True), ("one", 1, False), ("NULL", ABSENT, True)]
    ),
    *_cases(
        "equals", 0, [("null", None, True), ("string is NULL", "0", True), ("false is not 0", False, True)]
    ),
    *_cases("equals", 5, [("five", 5, True), ("five float", 5.0, True), ("NULL", ABSENT, False)]),
    *_cases("not_equal", 5, [("four", 4, True), ("five", 5, False), ("NULL", ABSENT, True)]),
    *_cases("not_equal", 0, [("one", 1, True), ("zero", 0, False), ("NULL is 0", ABSENT, False)]),
    *_cases("greater_than", 5, [("six", 6, True), ("five", 5, False), ("NULL", ABSENT, False)]),
    *_cases("greater_than_or_equal_to", 5, [("five", 5, True), ("4.9", 4.9, False), ("NULL", ABSENT, False)]),
    *_cases(
        "less_than", 5, [("four", 4, True), ("five", 5, False), ("NULL", ABSENT, True), ("text", "a", True)]
    ),
    *_cases("less_than", -1, [("minus two", -2, True), ("zero", 0, False), ("NULL", ABSENT, True)]),
    *_cases("less_than_or_equal_to", 5, [("five", 5, True), ("six", 6, False), ("NULL", ABSENT, True)]),
    *_cases("exists", None, [("zero", 0, True), ("NULL", ABSENT, False), ("text", "a", False)], "number"),
    *_cases(
        "does_not_exist", None, [("zero", 0, False), ("NULL", ABSENT, True), ("text", "a", True)], "number"
    ),
    # -- strings: EQUALS case-sensitive, regex case-insensitive -----------------------------------
    *_cases("equals", "pro", [("same", "pro", True), ("case", "Pro", False), ("NULL", ABSENT, False)]),
    *_cases("not_equal", "pro", [("other", "free", True), ("same", "pro", False), ("NULL", ABSENT, True)]),
    *_cases(
        "matches_regex",
        "^pr",
        [("prefix", "pro", True), ("case-insensitive", "PRO", True), ("NULL", ABSENT, False)],
    ),
    *_cases("matches_regex", "o$", [("array element", ["x", "pro"], True), ("no match", "pr", False)]),
    *_cases(
        "does_not_match_regex",
        "^pr",
        [("other", "free", True), ("match", "pro", False), ("NULL", ABSENT, False)],
    ),
    *_cases("does_not_match_regex", "^pr", [("empty string needs a value", "", False)]),
    *_cases("is_any_of", ["a", "b"], [("a", "a", True), ("c", "c", False), ("NULL", ABSENT, False)]),
    *_cases("is_none_of", ["a", "b"], [("c", "c", True), ("b", "b", False), ("NULL", ABSENT, True)]),
    *_cases("contains_any_of", ["gold"], [("inside", "former_gold_tier", True), ("case", "GOLD", False)]),
    *_cases("contains_any_of", ["gold"], [("NULL", ABSENT, False)]),
    *_cases(
        "does_not_contain_any_of",
        ["gold"],
        [("silver", "silver", True), ("gold", "gold", False), ("NULL", ABSENT, True)],
    ),
    *_cases(
        "exists",
        None,
        [("text", "a", True), ("empty is blank", "", False), ("NULL", ABSENT, False)],
        "string",
    ),
    *_cases("does_not_exist", None, [("text", "a", False), ("empty is blank", "", True)], "string"),
    # -- untyped presence: any value but NULL, "" and [] -------------------------------------------
    *_cases(
        "exists",
        None,
        [("false", False, True), ("zero", 0, True), ("empty list", [], False), ("null", None, False)],
    ),
    *_cases(
        "does_not_exist", None, [("absent", ABSENT, True), ("empty string", "", True), ("value", "x", False)]
    ),
    # -- booleans: "does not equal true" is "false or not set" -------------------------------------
    *_cases(
        "equals",
        True,
        [("true", True, True), ("false", False, False), ("NULL", ABSENT, False), ("one", 1, False)],
    ),
    *_cases("equals", False, [("false", False, True), ("NULL", ABSENT, False), ("zero", 0, False)]),
    *_cases("does_not_equal", True, [("false", False, True), ("true", True, False), ("NULL", ABSENT, True)]),
    *_cases("not_equal", False, [("true", True, True), ("false", False, False), ("NULL", ABSENT, True)]),
    *_cases("exists", None, [("false", False, True), ("NULL", ABSENT, False)], "boolean"),
    # -- times: before/after strict, NULL never matches --------------------------------------------
    *_cases(
        "before",
        "2026-01-01",
        [("earlier", "2025-12-31T23:59:59Z", True), ("equal", "2026-01-01T00:00:00Z", False)],
    ),
    *_cases(
        "before",
        "2026-01-01",
        [("NULL", ABSENT, False), ("unparseable", "soon", False), ("number", 5, False)],
    ),
    *_cases(
        "after",
        "2026-01-01T00:00:00+02:00",
        [("later", "2025-12-31T23:00:00Z", True), ("offset equal", "2025-12-31T22:00:00Z", False)],
    ),
    *_cases(
        "after",
        "2026-01-01",
        [("date only is midnight UTC", "2026-01-02", True), ("naive is UTC", "2026-01-01T00:00:01", True)],
    ),
    *_cases("exists", None, [("time", "2026-01-01", True), ("not a time", "soon", False)], "time"),
    # -- arrays -------------------------------------------------------------------------------------
    *_cases(
        "includes_value",
        "a",
        [("has", ["a", "b"], True), ("lacks", ["b"], False), ("NULL", ABSENT, False), ("string", "a", False)],
    ),
    *_cases(
        "includes_value",
        1,
        [("number", [1, 2], True), ("true is not 1", [True], False), ("1.0 is 1", [1.0], True)],
    ),
    *_cases(
        "does_not_include_value",
        "a",
        [("lacks", ["b"], True), ("has", ["a"], False), ("NULL", ABSENT, True), ("empty", [], True)],
    ),
    *_cases(
        "includes_any_of", ["a", "z"], [("one", ["a"], True), ("none", ["b"], False), ("NULL", ABSENT, False)]
    ),
    *_cases(
        "includes_none_of", ["a", "z"], [("none", ["b"], True), ("one", ["z"], False), ("NULL", ABSENT, True)]
    ),
    *_cases(
        "includes_all_of",
        ["a", "b"],
        [("all", ["b", "a", "c"], True), ("some", ["a"], False), ("NULL", ABSENT, False)],
    ),
    *_cases(
        "does_not_include_all_of",
        ["a", "b"],
        [("some", ["a"], True), ("all", ["a", "b"], False), ("NULL", ABSENT, True)],
    ),
    *_cases("has_a_value", None, [("values", ["a"], True), ("empty", [], False), ("NULL", ABSENT, False)]),
    *_cases("is_empty", None, [("empty", [], True), ("NULL", ABSENT, True), ("values", ["a"], False)]),
    *_cases(
        "matches_regex",
        "^sc",
        [("element", ["horror", "Sci-fi"], True), ("string not array", "sci-fi", False)],
        "array",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_custom_attribute_comparison(case: Case) -> None:
    body: dict[str, Any] = {"custom_attribute_name": "attr", "comparison": case.comparison}
    if case.value is not None:
        body["value"] = case.value
    if case.data_type:
        body["data_type"] = case.data_type
    attributes = {} if case.stored is ABSENT else {"attr": case.stored}
    profile = make_profile(custom_attributes=attributes)
    assert evaluate(parse_filter({"custom_attribute": body}), profile, T0) is case.expected


@dataclass
class PropertyCase:
    name: str
    events: dict[str, dict[str, Any]]
    comparison: str
    value: Any
    expected: bool


PROPERTY_CASES = [
    PropertyCase("matches on the latest occurrence", {"played": {"level": 12}}, "greater_than", 10, True),
    PropertyCase("never performed never matches", {}, "less_than", 10, False),
    PropertyCase("never performed, not_equal", {}, "not_equal", 10, False),
    PropertyCase("missing property is NULL: less_than", {"played": {}}, "less_than", 10, True),
    PropertyCase("missing property is NULL: greater_than", {"played": {}}, "greater_than", 10, False),
    PropertyCase("string property", {"played": {"level": "boss"}}, "equals", "boss", True),
]


@pytest.mark.parametrize("case", PROPERTY_CASES, ids=[c.name for c in PROPERTY_CASES])
def test_event_property_comparison(case: PropertyCase) -> None:
    profile = make_profile()
    for name, props in case.events.items():
        profile.record_event(name, T0, props)
    tree = parse_filter(
        {
            "custom_event_property": {
                "custom_event_name": "played",
                "property_name": "level",
                "comparison": case.comparison,
                "value": case.value,
            }
        }
    )
    assert evaluate(tree, profile, T0) is case.expected


@dataclass
class StandardCase:
    name: str
    attribute: str
    comparison: str
    value: Any
    profile: dict[str, Any]
    expected: bool


STANDARD_CASES = [
    StandardCase("country equals", "country", "equals", "US", {"country": "US"}, True),
    StandardCase("country NULL not_equal", "country", "not_equal", "US", {}, True),
    StandardCase("language any of", "language", "is_any_of", ["en", "fr"], {"language": "fr"}, True),
    StandardCase("city blank", "home_city", "does_not_exist", None, {"home_city": ""}, True),
    StandardCase("gender", "gender", "equals", "F", {"gender": "M"}, False),
    StandardCase(
        "email regex", "email", "matches_regex", "@EXAMPLE\\.com$", {"email": "a@example.com"}, True
    ),
    StandardCase("first name", "first_name", "exists", None, {"first_name": "Ada"}, True),
    StandardCase("last name NULL", "last_name", "equals", "Lovelace", {}, False),
    StandardCase("time zone", "time_zone", "equals", "Europe/Paris", {"time_zone": "Europe/Paris"}, True),
    StandardCase("external id", "external_id", "is_none_of", ["u1"], {"external_id": "u2"}, True),
    StandardCase("created before", "created_at", "before", "2025-06-01", {}, True),
    StandardCase("created less than 30 days ago", "created_at", "less_than_x_days_ago", 30, {}, False),
]


@pytest.mark.parametrize("case", STANDARD_CASES, ids=[c.name for c in STANDARD_CASES])
def test_standard_attribute_comparison(case: StandardCase) -> None:
    body: dict[str, Any] = {"attribute_name": case.attribute, "comparison": case.comparison}
    if case.value is not None:
        body["value"] = case.value
    assert (
        evaluate(parse_filter({"standard_attribute": body}), make_profile(**case.profile), T0)
        is case.expected
    )


@dataclass
class ChannelCase:
    name: str
    filter: dict[str, Any]
    profile: dict[str, Any]
    expected: bool


CHANNEL_CASES = [
    ChannelCase(
        "email is default subscribed",
        {"email_subscription_status": {"comparison": "is", "value": "subscribed"}},
        {},
        True,
    ),
    ChannelCase(
        "email is_not opted_in",
        {"email_subscription_status": {"comparison": "is_not", "value": "opted_in"}},
        {"email_subscribe": "opted_in"},
        False,
    ),
    ChannelCase(
        "push is unsubscribed",
        {"push_subscription_status": {"comparison": "is", "value": "unsubscribed"}},
        {"push_subscribe": "unsubscribed"},
        True,
    ),
    ChannelCase(
        "group subscribed",
        {"subscription_group": {"subscription_group_id": "g", "comparison": "is", "value": "subscribed"}},
        {"subscription_groups": {"g": "subscribed"}},
        True,
    ),
    ChannelCase(
        "group with no state is unsubscribed",
        {"subscription_group": {"subscription_group_id": "g", "comparison": "is", "value": "unsubscribed"}},
        {},
        True,
    ),
    ChannelCase(
        "group is_not subscribed",
        {"subscription_group": {"subscription_group_id": "g", "comparison": "is_not", "value": "subscribed"}},
        {"subscription_groups": {"h": "subscribed"}},
        True,
    ),
    ChannelCase("email available", {"email_available": {"value": True}}, {"email": "a@b.co"}, True),
    ChannelCase("no address", {"email_available": {"value": True}}, {}, False),
    ChannelCase("invalid address", {"email_available": {"value": True}}, {"email": "a@b"}, False),
    ChannelCase(
        "unsubscribed",
        {"email_available": {"value": False}},
        {"email": "a@b.co", "email_subscribe": "unsubscribed"},
        True,
    ),
    ChannelCase(
        "hard bounced",
        {"email_available": {"value": True}},
        {"email": "a@b.co", "email_hard_bounced": True},
        False,
    ),
    ChannelCase(
        "marked as spam", {"email_available": {"value": True}}, {"email": "a@b.co", "email_spam": True}, False
    ),
    ChannelCase(
        "push enabled",
        {"push_enabled": {"value": True}},
        {"push_tokens": [{"app_id": "a", "token": "t"}]},
        True,
    ),
    ChannelCase(
        "push token but unsubscribed",
        {"push_enabled": {"value": True}},
        {"push_tokens": [{"app_id": "a", "token": "t"}], "push_subscribe": "unsubscribed"},
        False,
    ),
    ChannelCase("no token", {"push_enabled": {"value": False}}, {}, True),
]


@pytest.mark.parametrize("case", CHANNEL_CASES, ids=[c.name for c in CHANNEL_CASES])
def test_channel_filters(case: ChannelCase) -> None:
    assert evaluate(parse_filter(case.filter), make_profile(**case.profile), T0) is case.expected


@pytest.mark.parametrize(
    ("comparison", "value", "expected"),
    [
        ("equals", 1127, True),
        ("less_than", 1127, False),
        ("less_than_or_equal_to", 1127, True),
        ("greater_than", 9999, False),
    ],
    ids=["equals", "less_than", "at_most", "above_max"],
)
def test_random_bucket_is_stable_per_user(comparison: str, value: int, expected: bool) -> None:
    profile = make_profile(user_id="5f0c2a9e1b3d4c5e6f708192")
    assert profile.random_bucket == 1127
    tree = parse_filter({"random_bucket": {"comparison": comparison, "value": value}})
    assert evaluate(tree, profile, T0) is expected
