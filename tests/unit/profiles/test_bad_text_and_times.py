"""Inputs found by review: lone surrogates (JSON can escape them, UTF-8 cannot hold them), event
times before the epoch (Currents carries epoch seconds from 0) and huge strings offered to the time
parser. Each is refused per object with a Braze error item before anything is written or exported
(braze-api.md §0, §1.1; docs/users-api.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit import clock
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.profiles import timeparse
from engagekit.profiles.store import InMemoryProfileStore
from engagekit.users.service import UsersService
from engagekit.users.track import track

T = "2026-03-01T10:00:00Z"
LONE = json.loads('"x\\ud800y"')  # what a JSON body's "\ud800" escape decodes to


@pytest.fixture(autouse=True)
def manual_clock() -> Iterator[None]:
    previous = clock.set_clock(clock.ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC)))
    yield
    clock.set_clock(previous)


@dataclass
class Case:
    name: str
    array: str
    obj: dict[str, Any]
    message: str


CASES = [
    Case("event name", "events", {"name": LONE, "time": T}, "'name' contains an unpaired surrogate"),
    Case("event property key", "events", {"name": "e", "time": T, "properties": {LONE: 1}}, "unpaired"),
    Case("event property value", "events", {"name": "e", "time": T, "properties": {"k": LONE}}, "unpaired"),
    Case("product id", "purchases",
         {"product_id": LONE, "currency": "EUR", "price": 1, "time": T}, "unpaired"),
    Case("custom attribute value", "attributes", {"plan": LONE}, "'plan' contains an unpaired surrogate"),
    Case("custom attribute name", "attributes", {LONE: 1}, "unpaired"),
    Case("nested object key", "attributes", {"prefs": {LONE: 1}}, "unpaired"),
    Case("standard attribute", "attributes", {"first_name": LONE}, "'first_name' contains an unpaired"),
    Case("event before 1970", "events", {"name": "e", "time": "1960-01-01T00:00:00Z"}, "before 1970"),
    Case("purchase in year 1", "purchases",
         {"product_id": "p", "currency": "EUR", "price": 1, "time": "0001-01-01T00:00:00Z"}, "before 1970"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_object_is_an_error_item_and_nothing_is_written(case: Case) -> None:
    store, firehose = InMemoryProfileStore(), FakeFirehose()
    svc = UsersService(store, FirehoseExporter(firehose))
    good = {"external_id": "ok", "name": "fine", "time": T}
    body = {case.array: [{"external_id": "bad", **case.obj}], "events": [good]}
    if case.array == "events":
        body = {"events": [{"external_id": "bad", **case.obj}, good]}
    outcome = track(body, svc)
    [error] = outcome.errors
    assert error["input_array"] == case.array and error["index"] == 0
    assert case.message in error["type"]
    assert [p.external_id for p, _ in outcome.profiles] == ["ok"]  # the bad user was not written
    assert all(e.external_user_id == "ok" for e in firehose.events() if hasattr(e, "external_user_id"))


def test_external_id_with_a_lone_surrogate_is_an_error_item() -> None:
    svc = UsersService(InMemoryProfileStore(), FirehoseExporter(FakeFirehose()))
    outcome = track({"events": [{"external_id": LONE, "name": "e", "time": T},
                                {"external_id": "ok", "name": "e", "time": T}]}, svc)  # fmt: skip
    assert [e["index"] for e in outcome.errors] == [0]
    assert "unpaired surrogate" in outcome.errors[0]["type"]


def test_time_parser_caches_only_short_time_shaped_strings() -> None:
    before = timeparse._parse_cached.cache_info().currsize
    for i in range(50):
        assert timeparse.parse_time(f"2026-03-01T10:00:00Z{'x' * 1_000_000}{i}") is None
        assert timeparse.parse_time(f"not a time {i}") is None
    assert timeparse._parse_cached.cache_info().currsize == before
    assert timeparse.parse_time(" 2026-03-01T10:00:00Z ") == datetime(2026, 3, 1, 10, tzinfo=UTC)


BIG = 10**400  # JSON allows any integer; no float holds it

NUMBER_CASES = [
    Case("price past float range", "purchases",
         {"product_id": "p", "currency": "USD", "price": BIG, "time": T}, "'price' is not valid"),
    Case("price times quantity overflows", "purchases",
         {"product_id": "p", "currency": "USD", "price": 1.7e308, "quantity": 100, "time": T},
         "not a finite"),
    Case("push token with a lone surrogate", "attributes",
         {"push_tokens": [{"app_id": "a", "token": LONE}]}, "push_tokens.token"),
    Case("subscription group id with a lone surrogate", "attributes",
         {"subscription_groups": [{"subscription_group_id": LONE, "subscription_state": "subscribed"}]},
         "subscription_group_id"),
    Case("nested value larger than 100 KB once stored", "attributes",
         {"o": {"v": [1e15] * 8000}}, "'o' is larger than 100 KB"),
]  # fmt: skip


@pytest.mark.parametrize("case", NUMBER_CASES, ids=[c.name for c in NUMBER_CASES])
def test_more_bad_objects_are_error_items(case: Case) -> None:
    test_bad_object_is_an_error_item_and_nothing_is_written(case)


def test_revenue_totals_that_would_overflow_refuse_the_purchase_and_keep_the_profile_readable() -> None:
    store = InMemoryProfileStore()
    svc = UsersService(store, FirehoseExporter(FakeFirehose()))
    buy = {"external_id": "rich", "product_id": "p", "currency": "USD", "price": 1e308, "time": T}
    first = track({"purchases": [buy]}, svc)
    second = track({"purchases": [buy, {**buy, "price": 1.0}]}, svc)
    assert first.errors == [] and first.counts == {"purchases_processed": 1}
    assert [e["index"] for e in second.errors] == [0] and "not a finite" in second.errors[0]["type"]
    [(profile, _)] = second.profiles
    reread = store.get_profiles([profile.user_id])[profile.user_id]  # decodes: nothing infinite stored
    assert reread.purchases.revenue == 1e308 + 1.0 and reread.purchases.count == 2
