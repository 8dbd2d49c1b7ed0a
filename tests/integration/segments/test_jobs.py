"""Segment jobs on the local runtime: the backfill state machine (parallel scan parts, page loops)
and POST /users/export/segment (gzip NDJSON in Braze's key layout, the shared projection, the
callback through the SSRF guard)."""

from __future__ import annotations

import gzip
import ipaddress
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from engagekit.liquid.connected.guard import UnsafeTestAllowlist, UrlGuard
from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher
from engagekit.segments.runtime import use_callback_fetcher

from infra.local.runtime import LocalPlatform
from tests.integration.segments.helpers import members, put, segments_service, track
from tests.integration.segments.world import NoJobs

SCORE = {
    "custom_attribute": {
        "custom_attribute_name": "jscore",
        "comparison": "greater_than_or_equal_to",
        "value": 10,
    }
}


@pytest.fixture(scope="module")
def scored(platform: LocalPlatform) -> dict[str, int]:
    """30 users with scores 0..29, tracked before any segment reads them."""
    scores = {f"job-{i}": i for i in range(30)}
    for start in (0, 15):
        users = list(scores)[start : start + 15]
        track(platform, {"attributes": [{"external_id": u, "jscore": scores[u], "tier": "t"} for u in users]})
    return scores


def test_a_new_segment_is_built_over_existing_profiles_by_parts_and_pages(
    platform: LocalPlatform, scored: dict[str, int]
) -> None:
    # given small pages and several scan parts, so each part loops
    svc = segments_service(platform)
    svc.backfill_parts, svc.backfill_page_size = 4, 3
    try:
        # when the segment is created
        created = put(platform, "job-high", SCORE)
        assert created["state"] == "building"
        platform.run_until_idle()
    finally:
        svc.backfill_parts, svc.backfill_page_size = 8, 500
    # then every existing matching user is a member and the segment is live
    assert members(platform, "job-high") == {u for u, s in scored.items() if s >= 10}
    _, _, got = platform.request("GET", "/segments/job-high")
    assert (got["state"], got["size"]) == ("live", 20)
    # and the execution walked the table with a Map, not one execution per user
    sfn = platform.client("stepfunctions")
    arn = platform.refs[("state_machine", "segment_backfill", "arn")]
    runs = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if "job-high" in e["name"]]
    assert len(runs) == 1 and runs[0]["status"] == "SUCCEEDED"


class Receiver(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", "0"))
        Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def callback_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    guard = UrlGuard(unsafe_test_allowlist=UnsafeTestAllowlist([ipaddress.ip_network("127.0.0.0/8")], [port]))
    use_callback_fetcher(Urllib3Fetcher(guard))
    Receiver.bodies = []
    yield f"http://127.0.0.1:{port}/done"
    use_callback_fetcher(None)
    server.shutdown()
    server.server_close()


def _objects(platform: LocalPlatform, prefix: str) -> dict[str, bytes]:
    s3 = platform.client("s3")
    listed = s3.list_objects_v2(Bucket="lake", Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket="lake", Key=o["Key"])["Body"].read() for o in listed}


def test_export_writes_gzip_ndjson_with_the_export_ids_projection_and_calls_back(
    platform: LocalPlatform, scored: dict[str, int], callback_server: str
) -> None:
    # given a live segment of 20 users
    put(platform, "job-exp", SCORE)
    platform.run_until_idle()
    fields = ["external_id", "braze_id", "custom_attributes", "created_at"]
    # when it is exported with a callback
    status, _, out = platform.request(
        "POST",
        "/users/export/segment",
        {"segment_id": "job-exp", "fields_to_export": fields, "callback_endpoint": callback_server},
    )
    # then Braze's response shape comes back at once
    assert status == 200 and set(out) == {"message", "object_prefix"} and out["message"] == "success"
    prefix = out["object_prefix"]
    platform.run_until_idle()
    # and the files sit under segment-export/SEGMENT_ID/YYYY-MM-dd/OBJECT_PREFIX/
    day = platform.clock.now().strftime("%Y-%m-%d")
    files = _objects(platform, f"segment-export/job-exp/{day}/{prefix}/")
    assert files and all(k.endswith(".json.gz") for k in files)
    lines = [
        json.loads(line) for body in files.values() for line in gzip.decompress(body).decode().splitlines()
    ]
    assert sorted(u["external_id"] for u in lines) == sorted(u for u, s in scored.items() if s >= 10)
    # each line is exactly what /users/export/ids returns for that user and those fields
    ids = [u["external_id"] for u in lines]
    _, _, by_ids = platform.request(
        "POST", "/users/export/ids", {"external_ids": ids[:50], "fields_to_export": fields}
    )
    assert sorted(lines, key=lambda u: u["external_id"]) == sorted(
        by_ids["users"], key=lambda u: u["external_id"]
    )
    # and the callback was told
    assert Receiver.bodies == [{"success": True, "segment_id": "job-exp", "object_prefix": prefix}]


def test_custom_attributes_to_export_narrows_the_attributes(
    platform: LocalPlatform, scored: dict[str, int]
) -> None:
    put(platform, "job-narrow", SCORE)
    platform.run_until_idle()
    status, _, out = platform.request(
        "POST",
        "/users/export/segment",
        {
            "segment_id": "job-narrow",
            "fields_to_export": ["external_id"],
            "custom_attributes_to_export": ["jscore"],
        },
    )
    assert status == 200
    platform.run_until_idle()
    files = _objects(platform, "segment-export/job-narrow/")
    lines = [
        json.loads(line) for body in files.values() for line in gzip.decompress(body).decode().splitlines()
    ]
    assert lines and all(set(u) == {"external_id", "custom_attributes"} for u in lines)
    assert all(set(u["custom_attributes"]) == {"jscore"} for u in lines)
    assert out["object_prefix"] in next(iter(files))


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"segment_id": "job-nope"}, 404, "not found"),
        ({"segment_id": "job-high", "output_format": "zip"}, 400, "gzip"),
        ({"segment_id": "job-high", "fields_to_export": ["shoe_size"]}, 400, "schema"),
        (
            {"segment_id": "job-high", "callback_endpoint": "http://127.0.0.1:9/x"},
            400,
            "callback_endpoint refused",
        ),
        (
            {"segment_id": "job-high", "callback_endpoint": "file:///etc/passwd"},
            400,
            "callback_endpoint refused",
        ),
    ],
    ids=["unknown segment", "zip", "unknown field", "loopback callback", "file callback"],
)
def test_export_refuses_bad_requests(
    platform: LocalPlatform, body: dict[str, Any], status: int, words: str
) -> None:
    got, _, out = platform.request("POST", "/users/export/segment", body)
    assert got == status, out
    assert words in out["message"]


def test_a_second_export_of_a_segment_while_one_runs_is_429(platform: LocalPlatform) -> None:
    # given exports whose jobs never finish (the job starter is swapped for a recorder)
    put(platform, "job-busy", SCORE)
    svc = segments_service(platform)
    real, svc.jobs = svc.jobs, NoJobs()
    try:
        first = platform.request("POST", "/users/export/segment", {"segment_id": "job-busy"})
        second = platform.request("POST", "/users/export/segment", {"segment_id": "job-busy"})
    finally:
        svc.jobs = real
    # then the second is refused until the first finishes (braze-api.md §1.7)
    assert first[0] == 200
    assert second[0] == 429 and "already running" in second[2]["message"]
