"""The local runtime's event source mappings behave as Lambda's do, on the platform clock.

A small manifest with test functions (tests/fixtures/runtime) exercises: SQS batch size, partial
batch failures, retry after the visibility timeout on the clock, redrive to the DLQ at
maxReceiveCount, a crashing batch; DynamoDB stream retries from the failed record, then the
on-failure queue; routes with path parameters.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engagekit.clock import ManualClock

from infra.local.runtime import LocalPlatform
from infra.spec import Function, HttpTrigger, Key, Manifest, Queue, QueueTrigger, Route, StreamTrigger, Table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runtime"

MANIFEST = Manifest(
    tables=(Table("events", partition_key=Key("pk"), stream="NEW_AND_OLD_IMAGES"),),
    queues=(Queue("work", visibility_timeout_s=30, max_receive_count=3), Queue("failures")),
    functions=(
        Function("flaky_consumer", "test", triggers=(QueueTrigger("work", batch_size=10),)),
        Function(
            "flaky_stream",
            "test",
            triggers=(StreamTrigger("events", batch_size=10, max_retries=2, on_failure="failures"),),
        ),
        Function(
            "writer",
            "test",
            triggers=(HttpTrigger((Route("GET", "/things/{thing_id}"), Route("GET", "/things/special"))),),
        ),
    ),
)


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(MANIFEST, clock=ManualClock(), serve_http=False, background=False, root=FIXTURES) as p:
        yield p


def module(name: str) -> Any:
    return importlib.import_module(f"engagekit_functions.{name}")


def send(platform: LocalPlatform, *bodies: dict[str, Any]) -> None:
    url = platform.refs[("queue", "work", "url")]
    for start in range(0, len(bodies), 10):
        platform.client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(bodies[start : start + 10])
            ],
        )


def count(platform: LocalPlatform, queue_url_key: tuple[str, str, str]) -> int:
    attrs = platform.client("sqs").get_queue_attributes(
        QueueUrl=platform.refs[queue_url_key], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_batches_respect_batch_size_and_failed_items_retry_after_the_visibility_timeout(
    platform: LocalPlatform,
) -> None:
    # given 12 messages, one of which fails once
    platform.invoke("flaky_consumer", {"Records": []})  # import the module
    calls = module("flaky_consumer").CALLS
    calls.clear()
    send(platform, *[{"id": f"a{i}", "fail_times": 1 if i == 3 else 0} for i in range(12)])
    # when the platform drains
    platform.run_until_idle()
    # then no batch exceeded 10 and the failed one is not retried before its visibility timeout
    assert all(len(c) <= 10 for c in calls)
    assert sum(c.count("a3") for c in calls) == 1
    platform.advance(29)
    assert sum(c.count("a3") for c in calls) == 1
    # and it is retried once the platform clock passes the queue's 30 s visibility timeout
    platform.advance(2)
    assert sum(c.count("a3") for c in calls) == 2
    assert sorted({m for c in calls for m in c}) == sorted(f"a{i}" for i in range(12))


def test_a_message_that_always_fails_moves_to_the_dlq_after_max_receive_count(
    platform: LocalPlatform,
) -> None:
    calls = module("flaky_consumer").CALLS
    calls.clear()
    send(platform, {"id": "poison", "fail_times": 99})
    for _ in range(5):
        platform.advance(31)
    assert sum(c.count("poison") for c in calls) == 3
    assert count(platform, ("queue", "work-dlq", "url")) == 1


def test_a_crashing_handler_fails_the_whole_batch_which_is_retried(platform: LocalPlatform) -> None:
    calls = module("flaky_consumer").CALLS
    calls.clear()
    send(platform, {"id": "c1", "crash": True}, {"id": "c2"})
    platform.run_until_idle()
    first = [m for c in calls for m in c]
    platform.advance(31)
    again = [m for c in calls for m in c]
    assert "c2" in first and again.count("c2") == 2


def test_stream_retries_from_the_failed_record_then_sends_it_to_the_on_failure_queue(
    platform: LocalPlatform,
) -> None:
    ddb = platform.client("dynamodb")
    for key in ("ok1", "bad1", "ok2"):
        ddb.put_item(TableName="events", Item={"pk": {"S": key}})
    platform.run_until_idle()
    seen = module("flaky_stream").SEEN
    # ok1 was delivered once; bad1 three times (first try + 2 retries); ok2 after bad1 was given up
    assert seen.count("ok1") == 1
    assert seen.count("bad1") == 3
    assert seen[-1] == "ok2"
    failure = platform.client("sqs").receive_message(QueueUrl=platform.refs[("queue", "failures", "url")])
    info = json.loads(failure["Messages"][0]["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["DDBStreamBatchInfo"]["batchSize"] == 2


def test_literal_routes_win_over_parameters_and_parameters_reach_the_handler(platform: LocalPlatform) -> None:
    status, _, body = platform.request("GET", "/things/special?x=1")
    assert status == 200 and body["routeKey"] == "GET /things/special" and body["query"] == {"x": "1"}
    status, _, body = platform.request("GET", "/things/abc")
    assert body["routeKey"] == "GET /things/{thing_id}" and body["pathParameters"] == {"thing_id": "abc"}
    assert 0 < body["remaining_ms"] <= 10_000 and body["function"] == "writer"
    assert platform.request("POST", "/things/abc")[0] == 404
