"""POST /users/track through the local runtime on moto (braze-api.md §1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.currents.exporter import FirehoseExporter

from infra.local.runtime import LocalPlatform
from tests.integration.users.conftest import export, service_of, track, user

T = "2026-03-01T10:00:00Z"


@dataclass
class Case:
    name: str
    updates: list[dict[str, Any]]
    attribute: str
    expected: Any


CUSTOM_CASES = [
    Case("string", [{"s": "hello"}], "s", "hello"),
    Case("number", [{"n": 1.5}], "n", 1.5),
    Case("boolean", [{"b": True}], "b", True),
    Case("time string", [{"t": "2021-12-01"}], "t", "2021-12-01T00:00:00.000Z"),
    Case("us date", [{"t": "12/1/2021"}], "t", "2021-12-01T00:00:00.000Z"),
    Case("year 3001 stays a string", [{"t": "3001-01-01"}], "t", "3001-01-01"),
    Case("array deduplicated", [{"a": ["hotdog", "hotdog", "hotdog", "pizza"]}], "a", ["hotdog", "pizza"]),
    Case("array add moves to end", [{"a": ["x", "y"]}, {"a": {"add": ["x", "z"]}}], "a", ["y", "x", "z"]),
    Case("array remove", [{"a": ["x", "y"]}, {"a": {"remove": ["x"]}}], "a", ["y"]),
    Case("array cap drops oldest", [{"a": [str(i) for i in range(30)]}], "a", [str(i) for i in range(5, 30)]),
    Case("inc from nothing", [{"c": {"inc": 2}}], "c", 2),
    Case("inc negative", [{"c": 5}, {"c": {"inc": -7}}], "c", -2),
    Case("null deletes", [{"d": "x"}, {"d": None}], "d", "<absent>"),
    Case("object replaces", [{"o": {"a": 1, "b": {"c": 2}}}, {"o": {"b": {"d": 3}}}], "o", {"b": {"d": 3}}),
    Case(
        "object merges",
        [{"o": {"a": 1, "b": {"c": 2}}}, {"_merge_objects": True, "o": {"b": {"d": 3}, "a": None}}],
        "o",
        {"b": {"c": 2, "d": 3}},
    ),
    Case(
        "nested $time", [{"o": {"when": {"$time": "1980-01-01"}}}], "o", {"when": "1980-01-01T00:00:00.000Z"}
    ),
    Case(
        "objects $add $remove $update",
        [
            {"pets": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]},
            {
                "pets": {
                    "$add": [{"id": 3, "name": "c"}],
                    "$remove": [{"$identifier_key": "id", "$identifier_value": 1}],
                }
            },
            {
                "pets": {
                    "$update": [{"$identifier_key": "id", "$identifier_value": 2, "$new_object": {"age": 4}}]
                }
            },
        ],
        "pets",
        [{"age": 4}, {"id": 3, "name": "c"}],
    ),
    Case(
        "objects $update merges with _merge_objects",
        [
            {"pets": [{"id": 2, "name": "b"}]},
            {
                "_merge_objects": True,
                "pets": {
                    "$update": [{"$identifier_key": "id", "$identifier_value": 2, "$new_object": {"age": 4}}]
                },
            },
        ],
        "pets",
        [{"id": 2, "name": "b", "age": 4}],
    ),
]


@pytest.mark.parametrize("case", CUSTOM_CASES, ids=lambda c: c.name)
def test_custom_attribute_types_and_operations(platform: LocalPlatform, case: Case) -> None:
    external_id = f"custom-{case.name}"
    # given a user updated by each attributes object in turn
    for update in case.updates:
        track(platform, {"attributes": [{"external_id": external_id, **update}]})
    # then the exported custom attribute holds the result
    attrs = user(platform, external_id, "custom_attributes")["custom_attributes"]
    assert attrs.get(case.attribute, "<absent>") == case.expected


def test_all_updates_in_one_request_fold_in_order(platform: LocalPlatform) -> None:
    # given one request whose objects all address the same user
    body = {"attributes": [{"external_id": "fold", "a": ["x"]}, {"external_id": "fold", "a": {"add": ["y"]}}]}
    track(platform, body)
    # then both applied, in order
    assert user(platform, "fold", "custom_attributes")["custom_attributes"]["a"] == ["x", "y"]


@dataclass
class StdCase:
    name: str
    attributes: dict[str, Any]
    expected: dict[str, Any]


# fmt: off
STANDARD_CASES = [
    StdCase("names", {"first_name": "Jon", "last_name": "Snow", "home_city": "Winterfell"},
            {"first_name": "Jon", "last_name": "Snow", "home_city": "Winterfell"}),
    StdCase("country by name", {"country": "Australia"}, {"country": "AU"}),
    StdCase("country unmappable is null", {"country": "Channel Islands"}, {}),
    StdCase("country code", {"country": "fr"}, {"country": "FR"}),
    StdCase("rails time zone", {"time_zone": "Eastern Time (US & Canada)"},
            {"time_zone": "America/New_York"}),
    StdCase("iana time zone", {"time_zone": "Europe/Paris"}, {"time_zone": "Europe/Paris"}),
    StdCase("invalid time zone not set", {"time_zone": "Mars/Olympus"}, {}),
    StdCase("dob", {"dob": "1980-12-21"}, {"dob": "1980-12-21"}),
    StdCase("gender", {"gender": "f"}, {"gender": "F"}),
    StdCase("language", {"language": "EN"}, {"language": "en"}),
    StdCase("email subscribe", {"email": "a@b.co", "email_subscribe": "opted_in"},
            {"email": "a@b.co", "email_subscribe": "opted_in"}),
    StdCase("push subscribe", {"push_subscribe": "unsubscribed"}, {"push_subscribe": "unsubscribed"}),
    StdCase("location", {"current_location": {"longitude": -73.99, "latitude": 40.75}},
            {"last_coordinates": [-73.99, 40.75]}),
]
# fmt: on


@pytest.mark.parametrize("case", STANDARD_CASES, ids=lambda c: c.name)
def test_standard_attributes(platform: LocalPlatform, case: StdCase) -> None:
    external_id = f"std-{case.name}"
    track(platform, {"attributes": [{"external_id": external_id, **case.attributes}]})
    got = user(platform, external_id)
    for key, value in case.expected.items():
        assert got[key] == value
    if case.name == "country unmappable is null":
        assert "country" not in got


def test_subscription_groups_and_push_tokens(platform: LocalPlatform) -> None:
    track(
        platform,
        {
            "attributes": [
                {
                    "external_id": "groups",
                    "subscription_groups": [
                        {"subscription_group_id": "g1", "subscription_state": "subscribed"}
                    ],
                    "push_tokens": [{"app_id": "app", "token": "tok", "device_id": "d1"}],
                }
            ]
        },
    )
    got = user(platform, "groups", "subscription_groups", "push_tokens")
    assert got["subscription_groups"] == [{"id": "g1", "state": "subscribed"}]
    assert got["push_tokens"] == [{"app": "app", "token": "tok", "device_id": "d1"}]


def test_events_and_purchases_fold_into_aggregates(platform: LocalPlatform) -> None:
    # given two events (one in the future) and a purchase of quantity 3
    out = track(
        platform,
        {
            "events": [
                {"external_id": "agg", "name": "played", "time": T, "properties": {"level": 3}},
                {"external_id": "agg", "name": "played", "time": "2030-01-01T00:00:00Z"},
            ],
            "purchases": [
                {
                    "external_id": "agg",
                    "product_id": "p1",
                    "currency": "GBP",
                    "price": 2.5,
                    "quantity": 3,
                    "time": T,
                }
            ],
        },
    )
    # then both arrays are counted
    assert out == {"message": "success", "events_processed": 2, "purchases_processed": 1}
    got = user(platform, "agg", "custom_events", "purchases", "total_revenue")
    # and the future event was clamped to now (2026-03-01T12:00Z, the platform clock)
    assert got["custom_events"] == [
        {
            "name": "played",
            "first": "2026-03-01T10:00:00.000Z",
            "last": "2026-03-01T12:00:00.000Z",
            "count": 2,
        }
    ]
    # and quantity 3 counts as three purchases
    assert got["purchases"] == [
        {"name": "p1", "first": "2026-03-01T10:00:00.000Z", "last": "2026-03-01T10:00:00.000Z", "count": 3}
    ]
    assert got["total_revenue"] == 7.5


def test_partially_bad_request_reports_items_and_processes_the_rest(platform: LocalPlatform) -> None:
    out = track(
        platform,
        {
            "attributes": [{"external_id": "partial", "first_name": "ok"}, {"first_name": "no identifier"}],
            "events": [
                {"external_id": "partial", "name": "e"},
                {"external_id": "partial", "name": "e", "time": T},
            ],
            "purchases": [
                {"external_id": "partial", "product_id": "p", "currency": "USD", "price": "x", "time": T}
            ],
        },
    )
    assert (
        out["attributes_processed"] == 1 and out["events_processed"] == 1 and out["purchases_processed"] == 0
    )
    assert out["errors"] == [
        {
            "type": "an object needs one of 'external_id', 'user_alias', 'braze_id', 'email' or 'phone'",
            "input_array": "attributes",
            "index": 1,
        },
        {"type": "'time' is required", "input_array": "events", "index": 0},
        {"type": "'price' is not valid", "input_array": "purchases", "index": 0},
    ]
    assert user(platform, "partial", "first_name")["first_name"] == "ok"


def test_request_with_no_valid_object_is_fatal_and_writes_nothing(platform: LocalPlatform) -> None:
    body = {
        "purchases": [{"external_id": "fatal", "product_id": "p", "currency": "USD", "price": "x", "time": T}]
    }
    out = track(platform, body, status=400)
    assert (
        out["message"] == "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
    )
    assert out["errors"] == [{"type": "'price' is not valid", "input_array": "purchases", "index": 0}]
    assert export(platform, external_ids=["fatal"])["invalid_user_ids"] == ["fatal"]


def test_more_than_75_objects_is_max_input_length_exceeded(platform: LocalPlatform) -> None:
    body = {"events": [{"external_id": f"many-{i}", "name": "e", "time": T} for i in range(76)]}
    out = track(platform, body, status=400)
    assert out["message"] == "Max Input Length Exceeded"
    assert export(platform, external_ids=["many-0"])["invalid_user_ids"] == ["many-0"]


@dataclass
class BadCase:
    name: str
    attributes: dict[str, Any]
    error: str


BAD_ATTRIBUTES = [
    BadCase("string too long", {"s": "x" * 256}, "'s' is longer than 255 characters"),
    BadCase("bad dob", {"dob": "21/12/1980"}, "'dob' must be a date 'YYYY-MM-DD'"),
    BadCase("bad gender", {"gender": "X"}, "'gender' must be one of M, F, O, N, P"),
    BadCase("bad subscribe", {"email_subscribe": "yes"}, "'email_subscribe' must be one of"),
    BadCase("inc needs a number", {"c": {"inc": "1"}}, "'c': 'inc' needs a number"),
    BadCase("nested key with dot", {"o": {"a.b": 1}}, "'o' has key 'a.b': keys may not contain '.'"),
    BadCase("nested null without merge", {"o": {"a": None}}, "'o.a' contains null"),
    BadCase("bad nested time", {"o": {"t": {"$time": "nope"}}}, "'o.t' has an invalid $time value"),
    BadCase("two identifiers", {"braze_id": "x"}, "only one of 'external_id', 'user_alias', 'braze_id'"),
]


@pytest.mark.parametrize("case", BAD_ATTRIBUTES, ids=lambda c: c.name)
def test_invalid_attributes_object_is_rejected_whole(platform: LocalPlatform, case: BadCase) -> None:
    external_id = f"bad-{case.name}"
    body = {"attributes": [{"external_id": external_id, "first_name": "kept?", **case.attributes}]}
    out = track(platform, body, status=400)
    [error] = out["errors"]
    assert error["type"].startswith(case.error)
    assert (error["input_array"], error["index"]) == ("attributes", 0)
    assert export(platform, external_ids=[external_id])["invalid_user_ids"] == [external_id]


def test_alias_only_profile_needs_update_existing_only_false(platform: LocalPlatform) -> None:
    alias = {"alias_name": "anon-1", "alias_label": "device"}
    # given an attributes object for an unknown alias with the default (update only)
    out = track(platform, {"attributes": [{"user_alias": alias, "first_name": "A"}]})
    # then nothing is created
    assert out["attributes_processed"] == 0
    assert export(platform, user_aliases=[alias])["users"] == []
    # when _update_existing_only is false, the alias-only profile is created
    track(
        platform, {"attributes": [{"user_alias": alias, "first_name": "A", "_update_existing_only": False}]}
    )
    # and events for the alias then apply to it
    track(platform, {"events": [{"user_alias": alias, "name": "seen", "time": T}]})
    [got] = export(platform, user_aliases=[alias])["users"]
    assert (
        got["first_name"] == "A" and got["user_aliases"] == [alias] and got["custom_events"][0]["count"] == 1
    )


def test_external_id_update_existing_only_true_skips_unknown_user(platform: LocalPlatform) -> None:
    out = track(platform, {"attributes": [{"external_id": "ghost", "_update_existing_only": True, "x": 1}]})
    assert out["attributes_processed"] == 0
    assert export(platform, external_ids=["ghost"])["invalid_user_ids"] == ["ghost"]


def test_braze_id_addresses_an_existing_profile(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "by-braze-id", "x": 1}]})
    braze_id = user(platform, "by-braze-id", "braze_id")["braze_id"]
    track(platform, {"attributes": [{"braze_id": braze_id, "x": 2}]})
    assert user(platform, "by-braze-id", "custom_attributes")["custom_attributes"] == {"x": 2}


def test_email_identifier_prefers_the_identified_profile_then_creates_email_only(
    platform: LocalPlatform,
) -> None:
    # given an identified profile with an email
    track(platform, {"attributes": [{"external_id": "has-email", "email": "Shared@Example.com"}]})
    # when an object is identified only by that email (case-insensitive)
    track(platform, {"attributes": [{"email": "shared@example.com", "via_email": True}]})
    # then it updated the identified profile
    assert user(platform, "has-email", "custom_attributes")["custom_attributes"] == {"via_email": True}
    # and an unknown email creates an email-only profile
    track(platform, {"attributes": [{"email": "new@example.com", "first_name": "E"}]})
    [created] = export(platform, email_address="new@example.com")["users"]
    assert created["email"] == "new@example.com" and "external_id" not in created


def test_one_write_per_user_and_one_firehose_call_per_request(platform: LocalPlatform) -> None:
    svc = service_of(platform, "users_track")
    store: Any = svc.store
    requests = store.watch_requests()
    exporter = svc.exporter
    assert isinstance(exporter, FirehoseExporter)
    calls_before = exporter.stats.calls
    # given a request of 3 users x (attributes + 2 events + a purchase), one new identity each
    body = {
        "attributes": [{"external_id": f"w-{u}", "n": {"inc": 1}} for u in range(3)],
        "events": [{"external_id": f"w-{u}", "name": "e", "time": T} for u in range(3) for _ in range(2)],
        "purchases": [
            {"external_id": f"w-{u}", "product_id": "p", "currency": "USD", "price": 1, "time": T}
            for u in range(3)
        ],
    }
    track(platform, body)
    # then: 1 read (identities; no profile exists yet), 3 identity claims, 3 profile writes,
    # and one Firehose call
    assert requests["BatchGetItem"] == 1
    assert requests["PutItem"] == 3 and requests["UpdateItem"] == 3
    assert exporter.stats.calls - calls_before == 1
    # and a second request for the same (now existing) users: only the 3 profile writes
    requests.clear()
    track(platform, body)
    assert requests["PutItem"] == 3 and requests["UpdateItem"] == 0 and requests["BatchGetItem"] == 2


def test_behaviour_events_reach_currents_shaped(platform: LocalPlatform) -> None:
    svc = service_of(platform, "users_track")
    track(
        platform,
        {
            "attributes": [
                {"external_id": "cur", "first_name": "C", "email": "c@x.io", "email_subscribe": "opted_in"}
            ],
            "events": [{"external_id": "cur", "name": "opened", "time": T, "properties": {"k": "v"}}],
            "purchases": [
                {
                    "external_id": "cur",
                    "product_id": "p",
                    "currency": "EUR",
                    "price": 3,
                    "quantity": 2,
                    "time": T,
                }
            ],
        },
    )
    platform.run_until_idle(flush_firehose=True)
    lake = platform.client("s3")
    keys = [o["Key"] for o in lake.list_objects_v2(Bucket="lake", Prefix="currents/")["Contents"]]
    types = {k.split("/")[1] for k in keys}
    assert {
        "event_type=users.behaviors.CustomEvent",
        "event_type=users.behaviors.Purchase",
        "event_type=users.profile.Update",
        "event_type=users.behaviors.subscription.GlobalStateChange",
    } <= types
    assert svc.exporter is not None


def test_increment_past_float_range_is_an_error_item(platform: LocalPlatform) -> None:
    # given a number attribute near the float maximum
    track(platform, {"attributes": [{"external_id": "inf1", "n": 1e308}]})
    # when it is incremented past it (alone, then beside a valid object): an error item, found when
    # applying to the stored value (so 201 with nothing processed, like other stored-value limits)
    out = track(platform, {"attributes": [{"external_id": "inf1", "n": {"inc": 1e308}}]})
    assert out["attributes_processed"] == 0
    assert out["errors"] == [
        {
            "type": "'n': the increment's result is not a finite number",
            "input_array": "attributes",
            "index": 0,
        }
    ]
    body = {"attributes": [{"external_id": "inf2", "m": 1}, {"external_id": "inf1", "n": {"inc": 1e308}}]}
    out = track(platform, body)
    assert out["attributes_processed"] == 1 and out["errors"][0]["index"] == 1
    # then the attribute keeps its finite value
    assert user(platform, "inf1", "custom_attributes")["custom_attributes"] == {"n": 1e308}
