"""Querying exported Currents data in S3 served by moto on loopback, through the synced folder."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from engagekit.currents import events as ev
from engagekit.currents.errors import CurrentsQueryError
from engagekit.currents.query import S3Source, run_query, schema, sync_s3
from moto.server import ThreadedMotoServer

USER = ev.UserIds("5f1e2d3c4b5a69788796a5b4", "ext-1", "UTC")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class Bucket:
    client: Any
    name: str


@pytest.fixture
def s3(endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Bucket:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"lake-{request.node.name.replace('_', '-')[:40]}".lower()
    client.create_bucket(Bucket=bucket)
    return Bucket(client, bucket)


def put_events(s3: Bucket, events: list[ev.CurrentsEvent], hour: str, name: str) -> str:
    event_type = events[0].event_type
    key = f"currents/event_type={event_type}/date={hour}/currents-1-{hour}-{name}.gz"
    s3.client.put_object(Bucket=s3.name, Key=key, Body=gzip.compress(b"".join(e.to_line() for e in events)))
    return key


def test_query_reads_s3_through_the_local_endpoint(s3: Bucket, endpoint: str, tmp_path: Path) -> None:
    events = [ev.custom_event(USER, "played", time=1_767_225_600 + i) for i in range(7)]
    put_events(s3, events, "2026-01-01-00", "a")
    put_events(s3, events[:2], "2026-01-01-01", "retry")
    source = S3Source(s3.name, endpoint_url=endpoint, cache_dir=tmp_path / "cache")

    _, rows = run_query("SELECT count(*), min(time), max(time) FROM custom_events", source)

    assert rows == [(7, 1_767_225_600, 1_767_225_606)]
    assert schema(source)["custom_events"][-1] == ("date", "VARCHAR")


def test_sync_downloads_only_new_objects_and_follows_deletions(s3: Bucket, tmp_path: Path) -> None:
    source = S3Source(s3.name, cache_dir=tmp_path / "cache", client=s3.client)
    first = put_events(s3, [ev.custom_event(USER, "a", time=1)], "2026-01-01-00", "a")
    data_dir = sync_s3(source)
    cached = tmp_path / "cache" / first
    stamp = cached.stat().st_mtime_ns

    second = put_events(s3, [ev.custom_event(USER, "b", time=2)], "2026-01-01-00", "b")
    sync_s3(source)
    assert cached.stat().st_mtime_ns == stamp  # unchanged object: not downloaded again
    assert (tmp_path / "cache" / second).is_file()

    s3.client.delete_object(Bucket=s3.name, Key=first)
    sync_s3(source)
    assert not cached.exists()
    assert data_dir == tmp_path / "cache" / "currents"
    assert run_query("SELECT name FROM custom_events", source)[1] == [("b",)]


def test_sync_ignores_keys_outside_the_layout(s3: Bucket, tmp_path: Path) -> None:
    s3.client.put_object(Bucket=s3.name, Key="currents/../../escape.gz", Body=b"x")
    s3.client.put_object(Bucket=s3.name, Key="currents/notes.txt", Body=b"x")
    source = S3Source(s3.name, cache_dir=tmp_path / "cache", client=s3.client)

    sync_s3(source)

    assert not (tmp_path / "escape.gz").exists()
    assert [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_an_unknown_bucket_is_a_query_error(s3: Bucket, tmp_path: Path) -> None:
    source = S3Source("no-such-bucket", cache_dir=tmp_path / "cache", client=s3.client)
    with pytest.raises(CurrentsQueryError, match="no-such-bucket"):
        run_query("SELECT 1", source)
