"""The walking skeleton through the runtime's plumbing, in process."""

from __future__ import annotations

import gzip
import json

from infra.local.runtime import LocalPlatform


def test_ping_travels_route_table_stream_queue_state_machine_and_firehose(platform: LocalPlatform) -> None:
    # given a ping created through the API
    status, _, body = platform.request("POST", "/skeleton/ping", {"id": "int-1"})
    assert (status, body) == (201, {"id": "int-1", "status": "new"})
    # when the platform drains its streams, queues and executions
    platform.run_until_idle(flush_firehose=True)
    # then the state machine's task marked it done
    assert platform.request("GET", "/skeleton/ping/int-1")[2] == {"id": "int-1", "status": "done"}
    # and the worker's Firehose record landed under the rendered, partitioned prefix, gzipped
    s3 = platform.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="currents/")["Contents"]]
    assert any(k.startswith("currents/event_type=engagekit.skeleton.Ping/date=2026-03-01-12/") for k in keys)
    lines = [
        json.loads(line)
        for k in keys
        for line in gzip.decompress(s3.get_object(Bucket="lake", Key=k)["Body"].read()).splitlines()
    ]
    assert {"id": "ping-int-1", "event_type": "engagekit.skeleton.Ping", "time": lines[0]["time"]} in lines


def test_unknown_key_is_401_and_missing_key_is_401(platform: LocalPlatform) -> None:
    assert platform.request("GET", "/health", key="ek_not_a_real_key_at_all_xxxxxxxx")[0] == 401
    status, _, body = platform.request("GET", "/health", key="")
    assert status == 401 and "Authorization: Bearer" in body["message"]


def test_bad_json_is_a_400_naming_the_problem(platform: LocalPlatform) -> None:
    status, _, body = platform.request("POST", "/skeleton/ping", "{not json")
    assert status == 400 and "not valid JSON" in body["message"]


def test_schedule_fires_on_the_platform_clock(platform: LocalPlatform) -> None:
    ddb = platform.client("dynamodb")

    def ticks() -> int:
        item = ddb.get_item(TableName="skeleton", Key={"pk": {"S": "ticks"}}).get("Item")
        return int(item["ticks"]["N"]) if item else 0

    before = ticks()
    platform.advance(59)
    assert ticks() == before
    platform.advance(2)
    assert ticks() == before + 1
