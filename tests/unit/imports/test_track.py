"""Client side of /users/track: 75-object batches, per-item failures, retries on 429/5xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from engagekit import clock
from engagekit.imports.track import (
    ApiCallError,
    ApiResponse,
    HttpTransport,
    RetryPolicy,
    TrackBatch,
    TransportError,
    failures_of,
    post_with_retry,
)

from tests.unit.imports.fakes import FakeTrack, down

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def manual() -> Iterator[clock.ManualClock]:
    manual = clock.ManualClock(START)
    previous = clock.set_clock(manual)
    yield manual
    clock.set_clock(previous)


def test_batch_holds_at_most_75_per_array_and_sends_only_non_empty_arrays() -> None:
    batch: TrackBatch[int] = TrackBatch()
    for i in range(74):
        batch.add("purchases", {"i": i}, i)
    batch.add("attributes", {"a": 1}, 100)
    assert not batch.full and batch.has_room("purchases") and not batch.has_room("purchases", 2)
    batch.add("purchases", {"i": 74}, 74)
    assert batch.full and len(batch) == 76
    with pytest.raises(ValueError):
        batch.add("purchases", {"i": 75}, 75)
    assert set(batch.body()) == {"attributes", "purchases"}
    batch.clear()
    assert len(batch) == 0 and batch.body() == {}


def batch_of(n: int) -> TrackBatch[str]:
    batch: TrackBatch[str] = TrackBatch()
    for i in range(n):
        batch.add("attributes", {"external_id": f"u{i}"}, f"row{i}")
    batch.add("events", {"external_id": "u0", "name": "e"}, "ev0")
    return batch


def test_success_with_item_errors_names_only_those_items() -> None:
    resp = ApiResponse(
        201,
        {},
        {
            "message": "success",
            "errors": [
                {"type": "'first_name' is not valid", "input_array": "attributes", "index": 1},
                {"type": "bad time", "input_array": "events", "index": 0},
                {"type": "out of range", "input_array": "attributes", "index": 99},
            ],
        },
    )
    failures = failures_of(resp, batch_of(3))
    assert [(f.array, f.tag, f.message) for f in failures] == [
        ("attributes", "row1", "'first_name' is not valid"),
        ("events", "ev0", "bad time"),
    ]


def test_plain_success_has_no_failures() -> None:
    assert failures_of(ApiResponse(201, {}, {"message": "success"}), batch_of(2)) == []


def test_a_refused_request_fails_every_object_with_the_reason() -> None:
    resp = ApiResponse(
        400,
        {},
        {
            "message": "Valid data must be provided",
            "errors": [{"type": "'price' is not valid", "input_array": "attributes", "index": 0}],
        },
    )
    failures = failures_of(resp, batch_of(2))
    assert len(failures) == 3
    assert failures[0].message.startswith("'price' is not valid (request refused (400)")
    assert failures[1].message == "request refused (400): Valid data must be provided"


def test_429_waits_until_the_reset_then_retries(manual: clock.ManualClock) -> None:
    reset = int(START.timestamp()) + 3
    fake = FakeTrack(ApiResponse(429, {"x-ratelimit-reset": str(reset)}, {"message": "Rate Limited"}))
    waits: list[tuple[str, float]] = []
    resp = post_with_retry(
        fake, "/users/track", {"attributes": []}, on_wait=lambda r, s: waits.append((r, s))
    )
    assert resp.status == 201 and len(fake.requests) == 2
    assert waits == [("rate limited", 3.0)]
    assert clock.now() == datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)


def test_5xx_and_no_answer_back_off_exponentially(manual: clock.ManualClock) -> None:
    fake = FakeTrack(down(), ApiResponse(503, {}, {"message": "busy"}), down())
    waits: list[float] = []
    resp = post_with_retry(fake, "/users/track", {}, on_wait=lambda r, s: waits.append(s))
    assert resp.status == 201
    assert waits == [0.5, 1.0, 2.0]


def test_gives_up_after_the_attempts(manual: clock.ManualClock) -> None:
    fake = FakeTrack(*[ApiResponse(500, {}, {"message": "boom"})] * 3)
    with pytest.raises(ApiCallError) as failed:
        post_with_retry(fake, "/users/track", {}, RetryPolicy(attempts=3))
    assert failed.value.status == 500
    with pytest.raises(TransportError):
        post_with_retry(FakeTrack(down(), down()), "/users/track", {}, RetryPolicy(attempts=2))


def test_4xx_is_returned_without_retry(manual: clock.ManualClock) -> None:
    fake = FakeTrack(ApiResponse(400, {}, {"message": "Max Input Length Exceeded"}))
    assert post_with_retry(fake, "/users/track", {}).status == 400
    assert len(fake.requests) == 1


@pytest.mark.parametrize("url", ["ftp://x", "localhost:8000", "http://"])
def test_http_transport_refuses_non_http_urls(url: str) -> None:
    with pytest.raises(ValueError):
        HttpTransport(url, "key")
