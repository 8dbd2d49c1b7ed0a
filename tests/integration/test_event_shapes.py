"""Same code, same events: the local runtime builds events with the structure of the canonical
samples in events/, and the handlers accept the samples as they are."""

from __future__ import annotations

import json
from typing import Any

from infra.local.events import load_event, names
from infra.local.runtime import LocalPlatform


def shape(value: Any) -> Any:
    """The structure of a JSON value: dict keys and value kinds, not the values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_every_sample_is_valid_json_with_a_known_source() -> None:
    assert {n.split("/")[0] for n in names()} == {"apigw", "dynamodb", "sqs", "schedule"}


def test_http_events_have_the_shape_api_gateway_sends(platform: LocalPlatform) -> None:
    seen: list[dict[str, Any]] = []
    original = platform.registry.invoke
    platform.registry.invoke = lambda name, event: seen.append(event) or original(name, event)  # type: ignore[method-assign]
    try:
        platform.request("POST", "/skeleton/ping", {"id": "shape-1"})
        platform.request("GET", "/skeleton/ping/shape-1?verbose=1", headers={"cookie": "session=abc"})
    finally:
        platform.registry.invoke = original  # type: ignore[method-assign]
    sample_post = load_event("apigw/users_track")
    # headers depend on the client; everything else has exactly the sample's structure
    assert all(k == k.lower() and isinstance(v, str) for k, v in seen[0]["headers"].items())
    assert shape(seen[0]) | {"headers": None} == shape(sample_post) | {"headers": None}
    sample_get = load_event("apigw/segment_users_get")
    assert set(seen[1]) == set(sample_get)
    assert shape(seen[1]["requestContext"]) == shape(sample_get["requestContext"])


def test_stream_and_queue_events_have_the_shape_lambda_sends(platform: LocalPlatform) -> None:
    platform.run_until_idle()  # nothing left over from other tests
    seen: dict[str, dict[str, Any]] = {}
    original = platform.registry.invoke

    def spy(name: str, event: Any) -> Any:
        seen.setdefault(name, event)
        return original(name, event)

    platform.registry.invoke = spy  # type: ignore[method-assign]
    try:
        platform.request("POST", "/skeleton/ping", {"id": "shape-2"})
        platform.run_until_idle()
    finally:
        platform.registry.invoke = original  # type: ignore[method-assign]
    stream_sample = load_event("dynamodb/skeleton_insert")["Records"][0]
    stream_built = seen["skeleton_stream"]["Records"][0]
    assert set(stream_built) == set(stream_sample)
    assert set(stream_built["dynamodb"]) == set(stream_sample["dynamodb"])
    queue_sample = load_event("sqs/skeleton_work")["Records"][0]
    assert shape(seen["skeleton_worker"]["Records"][0]) == shape(queue_sample)
    assert seen["skeleton_task"] == {"id": "shape-2"}


def test_handlers_accept_the_samples_as_they_are(platform: LocalPlatform) -> None:
    # the sample's key is not a real one, so the API answers 401 in Braze's shape, not a 5xx
    result = platform.invoke(
        "health", load_event("apigw/users_track", routeKey="GET /health", rawPath="/health")
    )
    assert result["statusCode"] in (401, 404) and "message" in json.loads(result["body"])
    assert platform.invoke("skeleton_task", load_event("schedule/skeleton_tick"))["ticks"] >= 1
    out = platform.invoke("skeleton_worker", load_event("sqs/skeleton_work"))
    assert out == {"batchItemFailures": []}
