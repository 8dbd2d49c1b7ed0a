"""Packing Currents events into Firehose records, the exporter, the boto3 adapter and the fake."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from engagekit import clock
from engagekit.currents import events as ev
from engagekit.currents.errors import CurrentsDeliveryError, CurrentsError
from engagekit.currents.exporter import (
    BILLING_UNIT_BYTES,
    MAX_CALL_BYTES,
    MAX_EVENTS_PER_RECORD,
    MAX_RECORD_BYTES,
    MAX_RECORDS_PER_CALL,
    FakeFirehose,
    FirehoseAdapter,
    FirehoseExporter,
    PackingPolicy,
    billed_bytes,
    pack_records,
    plan_calls,
)

USER = ev.UserIds("5f1e2d3c4b5a69788796a5b4", "ext-1", "UTC")
SEND = ev.MessageIds(campaign_id="camp", dispatch_id="disp", send_id="send")


def line(size: int, tag: str = "x") -> bytes:
    """A newline-terminated JSON line of exactly ``size`` bytes."""
    head = f'{{"event_type":"{tag}","pad":"'
    return (head + "p" * (size - len(head) - 3) + '"}\n').encode()


@pytest.fixture
def manual_clock() -> Iterator[clock.ManualClock]:
    fixed = clock.ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    previous = clock.set_clock(fixed)
    yield fixed
    clock.set_clock(previous)


# --------------------------------------------------------------------------------------------
# billed_bytes, pack_records, plan_calls


@dataclass
class BillCase:
    name: str
    sizes: list[int]
    billed: int


@pytest.mark.parametrize(
    "case",
    [
        BillCase("empty", [], 0),
        BillCase("one-byte", [1], 5120),
        BillCase("exact-unit", [5120], 5120),
        BillCase("just-over", [5121], 10240),
        BillCase("each-record-rounded", [1000, 1000], 10240),
    ],
    ids=lambda c: c.name,
)
def test_billed_bytes_round_each_record_up_to_5_kib(case: BillCase) -> None:
    assert billed_bytes(case.sizes) == case.billed


@dataclass
class PackCase:
    name: str
    lines: list[bytes]
    record_sizes: list[int]
    policy: PackingPolicy = field(default_factory=PackingPolicy)


PACK_CASES = [
    PackCase("nothing", [], []),
    PackCase("small-batch-is-one-record", [line(400)] * 75, [30_000]),
    # 600 lines of 400 B: the 500-line cap forces a cut; the first record stops just below
    # 39 * 5120 = 199,680 bytes (499 lines) instead of billing 40 units for 200,000 bytes.
    PackCase("cut-below-a-5kib-multiple", [line(400)] * 600, [199_600, 40_400]),
    # 500 lines of 100 B = 50,000 B would bill 10 units; 460 lines (46,000 B) bill 9 exactly.
    PackCase("max-lines-per-record", [line(100)] * 1001, [46_000, 46_000, 8_100]),
    # Cutting back would move a whole 300 KB line (more than one 5 KiB unit): keep the greedy cut.
    PackCase("max-bytes-per-record", [line(300_000)] * 4, [900_000, 300_000]),
    PackCase("near-1000-kib-line-stands-alone", [line(1_023_990), line(100)], [1_023_990, 100]),
    PackCase(
        "one-type-limits-from-policy",
        [line(100)] * 25,
        [1_000, 1_000, 500],
        PackingPolicy(max_events_per_record=10, billing_unit=1_000),
    ),
]


@pytest.mark.parametrize("case", PACK_CASES, ids=lambda c: c.name)
def test_pack_records_respects_limits_and_billing_units(case: PackCase) -> None:
    records = pack_records(case.lines, case.policy)

    assert [len(r) for r in records] == case.record_sizes
    assert b"".join(records) == b"".join(case.lines)  # order kept, nothing lost
    assert all(r.count(b"\n") <= MAX_EVENTS_PER_RECORD and len(r) <= MAX_RECORD_BYTES for r in records)


def test_packing_never_bills_more_than_greedy_filling_for_uniform_lines() -> None:
    lines = [line(731)] * 2_345
    packed = pack_records(lines)
    greedy = [b"".join(lines[i : i + 500]) for i in range(0, len(lines), 500)]

    assert billed_bytes(len(r) for r in packed) <= billed_bytes(len(r) for r in greedy)


def test_pack_records_refuses_a_line_longer_than_a_record() -> None:
    with pytest.raises(CurrentsError, match="exceeds"):
        pack_records([line(MAX_RECORD_BYTES + 1)])


@dataclass
class CallCase:
    name: str
    record_sizes: list[int]
    call_lengths: list[int]


@pytest.mark.parametrize(
    "case",
    [
        CallCase("one-call", [1000] * 10, [10]),
        CallCase("500-records-per-call", [100] * 1001, [500, 500, 1]),
        CallCase("4-mb-per-call", [1_000_000] * 9, [4, 4, 1]),
    ],
    ids=lambda c: c.name,
)
def test_plan_calls_respects_putrecordbatch_limits(case: CallCase) -> None:
    calls = plan_calls([b"x" * s for s in case.record_sizes])

    assert [len(c) for c in calls] == case.call_lengths
    assert all(sum(len(r) for r in c) <= MAX_CALL_BYTES and len(c) <= MAX_RECORDS_PER_CALL for c in calls)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_events_per_record": 501}, {"max_records_per_call": 0}, {"max_record_bytes": MAX_RECORD_BYTES + 1}],
    ids=["lines-over-deaggregation-cap", "no-records", "record-over-1000-kib"],
)
def test_packing_policy_refuses_limits_beyond_aws(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PackingPolicy(**kwargs)


# --------------------------------------------------------------------------------------------
# FirehoseExporter over the fake


def request_events(n: int) -> list[ev.CurrentsEvent]:
    """What one /users/track request might produce: custom events, purchases, sends."""
    out: list[ev.CurrentsEvent] = []
    for i in range(n):
        out.append(ev.custom_event(USER, "played", {"level": i}, time=1_000 + i))
        out.extend(ev.purchases(USER, f"sku-{i}", 1.5, "USD", time=1_000 + i))
        out.append(
            ev.message_event(ev.EmailSend, USER, SEND, time=1_000 + i, email_address=f"u{i}@example.com")
        )
    return out


def test_one_request_is_one_firehose_call_and_every_event_arrives_once() -> None:
    fake = FakeFirehose()
    exporter = FirehoseExporter(fake)
    events = request_events(75)

    exporter.export(events)
    exporter.flush()

    assert fake.calls == 1
    assert [e.id for e in fake.events()] == [e.id for e in events]
    assert exporter.stats.events == 225 and exporter.buffered_events == 0


def test_default_records_mix_event_types_and_every_line_names_its_type() -> None:
    fake = FakeFirehose()
    exporter = FirehoseExporter(fake)
    exporter.export(request_events(3))
    exporter.flush()

    assert fake.record_count == 1
    types = {json.loads(raw)["event_type"] for raw in fake.lines()}
    assert types == {"users.behaviors.CustomEvent", "users.behaviors.Purchase", "users.messages.email.Send"}


def test_one_type_per_record_policy_groups_records_by_event_type() -> None:
    fake = FakeFirehose()
    exporter = FirehoseExporter(fake, PackingPolicy(one_type_per_record=True))
    exporter.export(request_events(3))
    exporter.flush()

    per_record = [{json.loads(raw)["event_type"] for raw in r.splitlines()} for r in fake.records]
    assert fake.calls == 1 and len(per_record) == 3
    assert all(len(types) == 1 for types in per_record)


def test_large_batches_bill_close_to_their_payload() -> None:
    fake = FakeFirehose(keep=False)
    exporter = FirehoseExporter(fake)
    exporter.export(request_events(2_000))
    exporter.flush()

    assert fake.billed / fake.bytes <= 1.05
    assert exporter.stats.billed_bytes == fake.billed and exporter.stats.payload_bytes == fake.bytes


def test_flush_without_events_makes_no_call() -> None:
    fake = FakeFirehose()
    FirehoseExporter(fake).flush()
    assert fake.calls == 0


def test_export_sends_on_its_own_once_a_call_is_full() -> None:
    fake = FakeFirehose()
    exporter = FirehoseExporter(fake, auto_flush_bytes=20_000)

    exporter.export(request_events(10))  # ~8 KB: stays buffered
    assert fake.calls == 0
    exporter.export(request_events(30))  # over 20 KB: sent
    assert fake.calls == 1 and exporter.buffered_events == 0


def test_an_event_over_900_kb_is_dropped_and_counted_like_braze(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeFirehose()
    exporter = FirehoseExporter(fake)
    huge = ev.custom_event(USER, "big", {"blob": "x" * (900 * 1024)}, time=1)
    small = ev.custom_event(USER, "small", time=1)

    exporter.export([huge, small])
    exporter.flush()

    assert [e.id for e in fake.events()] == [small.id]
    assert exporter.stats.dropped_oversize == 1
    assert "dropped users.behaviors.CustomEvent" in caplog.text


def test_a_failed_call_keeps_its_records_and_the_next_flush_sends_them_first() -> None:
    fake = FakeFirehose(fail_calls=1)
    exporter = FirehoseExporter(fake)
    first = request_events(2)

    exporter.export(first)
    with pytest.raises(CurrentsDeliveryError):
        exporter.flush()
    assert exporter.pending_records == 1 and fake.calls == 0

    second = request_events(1)
    exporter.export(second)
    exporter.flush()
    assert [e.id for e in fake.events()] == [e.id for e in [*first, *second]]
    assert exporter.pending_records == 0


def test_a_partial_failure_keeps_only_the_undelivered_records() -> None:
    class HalfFailing(FakeFirehose):
        def put_record_batch(self, records: Sequence[bytes]) -> None:
            super().put_record_batch(records[:1])
            raise CurrentsDeliveryError("second refused", failed=len(records) - 1, records=records[1:])

    fake = HalfFailing()
    exporter = FirehoseExporter(fake, PackingPolicy(one_type_per_record=True))
    exporter.export(request_events(1))

    with pytest.raises(CurrentsDeliveryError):
        exporter.flush()

    assert exporter.pending_records == 2
    assert exporter.stats.records == 1


def test_an_unexpected_port_error_keeps_the_records_pending() -> None:
    class Broken(FakeFirehose):
        def put_record_batch(self, records: Sequence[bytes]) -> None:
            raise RuntimeError("socket closed")

    exporter = FirehoseExporter(Broken())
    exporter.export(request_events(1))

    with pytest.raises(RuntimeError):
        exporter.flush()
    assert exporter.pending_records == 1 and exporter.stats.records == 0


@dataclass
class LimitCase:
    name: str
    records: list[bytes]
    match: str


@pytest.mark.parametrize(
    "case",
    [
        LimitCase("empty-call", [], "at least one"),
        LimitCase("over-500-records", [b"{}\n"] * 501, "501 records"),
        LimitCase("over-4-mb", [b"x" * 1_000_000] * 5, "bytes"),
        LimitCase("record-over-1000-kib", [b"x" * (MAX_RECORD_BYTES + 1)], "record of"),
        LimitCase("over-500-lines", [b"{}\n" * 501], "lines"),
    ],
    ids=lambda c: c.name,
)
def test_fake_firehose_enforces_aws_limits(case: LimitCase) -> None:
    with pytest.raises(CurrentsDeliveryError, match=case.match):
        FakeFirehose().put_record_batch(case.records)


# --------------------------------------------------------------------------------------------
# FirehoseAdapter over a scripted boto3-shaped client


@dataclass
class ScriptedClient:
    """A Firehose client double: answers PutRecordBatch from a script of per-call error codes."""

    script: list[list[str | None]] = field(default_factory=list)
    calls: list[list[bytes]] = field(default_factory=list)
    raise_error: ClientError | None = None

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        assert DeliveryStreamName == "currents"
        self.calls.append([r["Data"] for r in Records])
        if self.raise_error is not None:
            raise self.raise_error
        codes = self.script.pop(0) if self.script else [None] * len(Records)
        responses = [
            {"ErrorCode": c, "ErrorMessage": "slow down"} if c else {"RecordId": f"r{i}"}
            for i, c in enumerate(codes)
        ]
        return {"FailedPutCount": sum(1 for c in codes if c), "RequestResponses": responses}


def test_adapter_retries_only_the_records_that_failed(manual_clock: clock.ManualClock) -> None:
    client = ScriptedClient(
        script=[[None, "ServiceUnavailableException", None, "InternalFailure"], [None, None]]
    )
    adapter = FirehoseAdapter("currents", client)

    adapter.put_record_batch([b"a\n", b"b\n", b"c\n", b"d\n"])

    assert client.calls == [[b"a\n", b"b\n", b"c\n", b"d\n"], [b"b\n", b"d\n"]]
    assert manual_clock.now() >= datetime(2026, 3, 1, tzinfo=UTC)  # backoff slept on the engagekit clock


def test_adapter_gives_up_after_max_attempts_with_the_undelivered_records(
    manual_clock: clock.ManualClock,
) -> None:
    client = ScriptedClient(
        script=[["ServiceUnavailableException", None]] + [["ServiceUnavailableException"]] * 2
    )
    adapter = FirehoseAdapter("currents", client, max_attempts=3)

    with pytest.raises(CurrentsDeliveryError) as raised:
        adapter.put_record_batch([b"a\n", b"b\n"])

    assert len(client.calls) == 3
    assert raised.value.records == (b"a\n",)
    assert raised.value.error_codes == {"ServiceUnavailableException": 1}


def test_adapter_maps_a_failed_call_to_a_delivery_error() -> None:
    error = ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": "no stream"}}, "PutRecordBatch"
    )
    adapter = FirehoseAdapter("currents", ScriptedClient(raise_error=error))

    with pytest.raises(CurrentsDeliveryError, match="ResourceNotFoundException") as raised:
        adapter.put_record_batch([b"a\n"])
    assert raised.value.records == (b"a\n",)


def test_adapter_creates_its_boto3_client_lazily_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)  # credentials in the environment: no instance-metadata lookup
    adapter = FirehoseAdapter("currents")

    client = adapter.client

    assert client.meta.service_model.service_name == "firehose"
    assert adapter.client is client


def test_exporter_over_the_adapter_recovers_from_throttled_records(manual_clock: clock.ManualClock) -> None:
    client = ScriptedClient(script=[["ServiceUnavailableException"]])
    exporter = FirehoseExporter(FirehoseAdapter("currents", client))
    events = request_events(2)

    exporter.export(events)
    exporter.flush()

    assert len(client.calls) == 2 and client.calls[0] == client.calls[1]
    delivered = [json.loads(x)["id"] for x in client.calls[-1][0].splitlines()]
    assert delivered == [e.id for e in events]


def test_billing_unit_is_5_kib() -> None:
    assert BILLING_UNIT_BYTES == 5 * 1024
