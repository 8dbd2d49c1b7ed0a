"""The Firehose adapter against moto's Firehose, and exported events through the local Firehose
emulation (infra.local.firehose) into the S3 layout that the DuckDB views read."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from engagekit import clock
from engagekit.currents import events as ev
from engagekit.currents.errors import CurrentsDeliveryError
from engagekit.currents.exporter import FirehoseAdapter, FirehoseExporter, FirehosePort
from engagekit.currents.query import run_query
from moto import mock_aws

from infra.local.firehose import FirehoseEmulator
from infra.manifest import DELIVERY_STREAMS

USER = ev.UserIds("5f1e2d3c4b5a69788796a5b4", "ext-1", "UTC")
SEND = ev.MessageIds(campaign_id="camp", dispatch_id="disp", send_id="send")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


def mixed_events(n: int) -> list[ev.CurrentsEvent]:
    out: list[ev.CurrentsEvent] = []
    for i in range(n):
        out.append(ev.custom_event(USER, "played", {"i": i}, time=1_767_225_600 + i))
        out.append(ev.message_event(ev.EmailSend, USER, SEND, time=1_767_225_600 + i, email_address="a@b.io"))
        out.append(ev.message_event(ev.InAppMessageClick, USER, SEND, time=1_767_225_600 + i, card_id="c"))
    return out


def test_exporter_through_moto_firehose_lands_every_event_in_s3(aws: None) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="lake")
    firehose = boto3.client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="currents",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "raw/",
        },
    )
    exporter = FirehoseExporter(FirehoseAdapter("currents", firehose))
    events = mixed_events(40)

    exporter.export(events)
    exporter.flush()

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix="raw/")["Contents"]]
    body = b"".join(s3.get_object(Bucket="lake", Key=k)["Body"].read() for k in keys)
    assert [json.loads(x)["id"] for x in body.splitlines()] == [e.id for e in events]
    assert exporter.stats.calls == 1


def test_a_missing_delivery_stream_is_a_delivery_error(aws: None) -> None:
    adapter = FirehoseAdapter("no-such-stream", boto3.client("firehose"))
    with pytest.raises(CurrentsDeliveryError, match="no-such-stream"):
        adapter.put_record_batch([b"{}\n"])


class EmulatorPort(FirehosePort):
    """Hands PutRecordBatch records to the local runtime's Firehose emulation, as moto_glue does."""

    def __init__(self, emulator: FirehoseEmulator) -> None:
        self.emulator = emulator

    def put_record_batch(self, records: Any) -> None:
        self.emulator.put("currents", list(records))


def test_events_through_the_local_firehose_emulation_are_queryable_once_each(tmp_path: Path) -> None:
    fixed = clock.ManualClock(datetime(2026, 1, 1, 10, 59, 50, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    try:

        def put_object(bucket: str, key: str, body: bytes) -> None:
            path = tmp_path / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)

        emulator = FirehoseEmulator(DELIVERY_STREAMS, put_object, clock.now)
        exporter = FirehoseExporter(EmulatorPort(emulator))
        first, second = mixed_events(30), mixed_events(20)

        exporter.export(first)
        exporter.flush()
        emulator.flush()
        fixed.advance(20)  # the next hour's partition
        exporter.export([*second, *first[:10]])  # a retried request repeats ten events
        exporter.flush()
        emulator.flush()
    finally:
        clock.set_clock(previous)

    objects = sorted(p.relative_to(tmp_path / "lake").as_posix() for p in (tmp_path / "lake").rglob("*.gz"))
    prefixes = {o.rsplit("/", 1)[0] for o in objects}
    assert "currents/event_type=users.messages.email.Send/date=2026-01-01-10" in prefixes
    assert "currents/event_type=users.behaviors.CustomEvent/date=2026-01-01-11" in prefixes
    first_object = tmp_path / "lake" / objects[0]
    assert all(json.loads(x) for x in gzip.decompress(first_object.read_bytes()).splitlines())

    _, rows = run_query(
        "SELECT (SELECT count(*) FROM custom_events), (SELECT count(*) FROM email_sends), "
        "(SELECT count(*) FROM in_app_message_clicks), (SELECT count(DISTINCT id) FROM custom_events)",
        tmp_path / "lake",
    )
    assert rows == [(50, 50, 50, 50)]
