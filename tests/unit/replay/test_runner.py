"""The replay's batching and summary, and the independent expected aggregates, over a fake API."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engagekit.imports.track import ApiResponse
from engagekit.replay import ReplayAborted, expected_customers, read_records, replay
from engagekit.replay.runner import platform_now, shift_to

from tests.unit.imports.fakes import FakeTrack

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
MINI = HEADER + "\n".join(
    [
        "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536365,71053,LANTERN,250,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",
        "536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom",
        "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom",
        "536414,22139,TEA SET,56,2010-12-01 11:52:00,0,,United Kingdom",
        "536370,22728,ALARM CLOCK,24,2010-12-02 08:45:00,3.75,12583.0,France",
        "536589,21777,damaged,-10,2010-12-02 16:50:00,0,,United Kingdom",
        "536370,22727,ALARM CLOCK RED,24,2010-12-03 08:45:00,3.75,12583.0,France",
    ]
)


def mini(tmp_path: Path) -> Path:
    path = tmp_path / "mini.csv"
    path.write_text(MINI + "\n", encoding="utf-8")
    return path


def sent(fake: FakeTrack, array: str) -> list[dict[str, Any]]:
    return [obj for body in fake.bodies for obj in body.get(array, [])]


def test_summary_counts_users_objects_and_skips(tmp_path: Path) -> None:
    fake = FakeTrack()
    summary = replay(read_records(mini(tmp_path)), fake)
    assert summary.as_dict() | {"elapsed_s": 0, "rows_per_s": 0, "requests_per_s": 0} == {
        "rows": 8,
        "requests": 1,
        "customers": 3,
        "anonymous": 1,
        "purchases": 8,  # 250 units are 3 purchases
        "units": 366,  # 6 + 250 + 6 + 56 + 24 + 24
        "events": 1,
        "attributes": 4,
        "skipped": 1,
        "errors": 0,
        "shift_days": 0,
        "elapsed_s": 0,
        "rows_per_s": 0,
        "requests_per_s": 0,
        "error_reasons": {},
    }
    assert fake.requests[0][:2] == ("POST", "/users/track")


def test_requests_hold_at_most_the_batch_size_and_attributes_never_trail(tmp_path: Path) -> None:
    fake = FakeTrack()
    replay(read_records(mini(tmp_path)), fake, batch_size=2)
    assert all(len(objs) <= 2 for body in fake.bodies for objs in body.values())
    # an anonymous user's attributes object (which creates it) is in the same or an earlier request
    # than its purchases and events: those never create alias-only users (braze-api.md §1.1)
    created: dict[str, int] = {}
    for number, body in enumerate(fake.bodies):
        for obj in body.get("attributes", []):
            if "user_alias" in obj:
                created.setdefault(obj["user_alias"]["alias_name"], number)
        for obj in body.get("purchases", []) + body.get("events", []):
            if "user_alias" in obj:
                assert created[obj["user_alias"]["alias_name"]] <= number
    assert len(sent(fake, "purchases")) == 8 and len(fake.bodies) == 4


def test_refused_objects_are_counted_with_their_reasons(tmp_path: Path) -> None:
    def answer(body: dict[str, Any]) -> ApiResponse:
        errors = [{"type": "'price' is not valid", "input_array": "purchases", "index": 0}]
        return ApiResponse(201, {}, {"message": "success", "errors": errors})

    summary = replay(read_records(mini(tmp_path)), FakeTrack(default=answer))
    assert summary.errors == 1
    assert summary.error_reasons == {"purchases: 'price' is not valid": 1}


def test_a_refused_key_aborts(tmp_path: Path) -> None:
    fake = FakeTrack(ApiResponse(403, {}, {"message": "Access Denied: this key lacks 'users.track'"}))
    with pytest.raises(ReplayAborted, match="403"):
        replay(read_records(mini(tmp_path)), fake)


def test_shift_to_today_moves_whole_days() -> None:
    assert shift_to(date(2010, 12, 3), date(2026, 3, 1)) == timedelta(days=5567)
    assert shift_to(date(2010, 12, 3), date(2010, 12, 3)) == timedelta(0)


def test_platform_now_reads_the_health_clock_or_falls_back() -> None:
    fake = FakeTrack(ApiResponse(200, {}, {"status": "ok", "time": "2026-03-01T12:00:00.000Z"}))
    assert platform_now(fake) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert platform_now(FakeTrack(ApiResponse(401, {}, {"message": "Unauthorized"}))).tzinfo is not None


def test_expected_aggregates_from_the_csv(tmp_path: Path) -> None:
    totals = expected_customers(mini(tmp_path))
    assert set(totals) == {"17850", "14527", "12583"}
    c = totals["17850"]
    assert (c.country, c.purchase_count, c.revenue) == ("GB", 262, round(6 * 2.55 + 250 * 3.39 + 6 * 1.85, 2))
    assert c.first_purchase == datetime(2010, 12, 1, 8, 26, tzinfo=UTC)
    assert c.last_purchase == datetime(2010, 12, 1, 8, 28, tzinfo=UTC)
    assert c.products["71053"].count == 250 and c.products["71053"].lines == 1
    assert c.top_products(2) == ["71053", "85123A"]
    assert (totals["14527"].cancellations, totals["14527"].purchase_count) == (1, 0)
    assert totals["12583"].country == "FR"
    windowed = expected_customers(mini(tmp_path), date_from=date(2010, 12, 3), shift_days=1)
    assert set(windowed) == {"12583"}
    assert windowed["12583"].first_purchase == datetime(2010, 12, 4, 8, 45, tzinfo=UTC)


def aggregate_sent(fake: FakeTrack) -> dict[str, tuple[int, float]]:
    """Per external_id: units and revenue of the purchases the replay sent."""
    out: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for p in sent(fake, "purchases"):
        if "external_id" in p:
            out[p["external_id"]][0] += p["quantity"]
            out[p["external_id"]][1] += p["quantity"] * p["price"]
    return {k: (int(v[0]), round(v[1], 2)) for k, v in out.items()}


def test_what_the_replay_sends_agrees_with_the_independent_oracle(tmp_path: Path) -> None:
    fake = FakeTrack()
    replay(read_records(mini(tmp_path)), fake)
    expected = {
        k: (v.purchase_count, v.revenue)
        for k, v in expected_customers(mini(tmp_path)).items()
        if v.purchase_count
    }
    assert aggregate_sent(fake) == expected


def test_the_3_day_sample_agrees_with_the_oracle(retail_sample: Path) -> None:
    fake = FakeTrack()
    summary = replay(read_records(retail_sample), fake)
    expected = expected_customers(retail_sample)
    assert summary.rows == 7419 and summary.errors == 0
    assert summary.customers == len(expected)
    assert aggregate_sent(fake) == {
        k: (v.purchase_count, pytest.approx(v.revenue, abs=0.011))
        for k, v in expected.items()
        if v.purchase_count
    }
    assert summary.events == sum(v.cancellations for v in expected.values()) + sum(
        1 for e in sent(fake, "events") if "user_alias" in e
    )


def test_workers_keep_each_users_objects_on_one_lane_and_send_everything(tmp_path: Path) -> None:
    lanes = [FakeTrack(), FakeTrack(), FakeTrack()]
    summary = replay(read_records(mini(tmp_path)), lanes, batch_size=2)
    single = FakeTrack()
    replay(read_records(mini(tmp_path)), single, batch_size=2)
    owners: dict[str, set[int]] = defaultdict(set)
    for index, fake in enumerate(lanes):
        for body in fake.bodies:
            for objs in body.values():
                for obj in objs:
                    owners[str(obj.get("external_id") or obj.get("user_alias"))].add(index)
    assert all(len(lanes_used) == 1 for lanes_used in owners.values())
    assert len({i for used in owners.values() for i in used}) > 1
    assert summary.purchases == 8 and summary.requests == sum(len(f.requests) for f in lanes)

    def key(obj: dict[str, Any]) -> str:
        return repr(sorted(obj.items()))

    assert sorted(key(p) for f in lanes for p in sent(f, "purchases")) == sorted(
        key(p) for p in sent(single, "purchases")
    )


def test_a_failing_lane_stops_the_replay(tmp_path: Path) -> None:
    refused = ApiResponse(401, {}, {"message": "Unauthorized"})
    lanes = [FakeTrack(default=lambda body: refused), FakeTrack(default=lambda body: refused)]
    with pytest.raises(ReplayAborted, match="401"):
        replay(read_records(mini(tmp_path)), lanes, batch_size=1)
