"""Export Currents events to Firehose: many events per billed record, few calls, retries of failures.

The port is :class:`CurrentsExporter` (``export`` then ``flush``). :class:`FirehoseExporter`
implements it over a :class:`FirehosePort`, which is either the boto3 adapter
(:class:`FirehoseAdapter`) or the in-memory :class:`FakeFirehose`.

Record shape (decided in docs/currents.md, "Firehose records"): a record is newline-delimited
JSON, one event per line, every line carrying ``event_type``. The delivery stream splits each
record into its lines (RecordDeAggregation, type JSON) before dynamic partitioning reads
``.event_type`` of each line, and appends a newline after each (AppendDelimiterToRecord), so the
S3 objects are NDJSON again. Hence one record may mix event types (``PackingPolicy.one_type_per_record``
restores one type per record).

AWS limits applied (Amazon Data Firehose quotas, PutRecordBatch API reference):

- at most 500 records and 4 MB per PutRecordBatch call; at most 1,000 KiB per record;
- record deaggregation splits at most 500 sub-records per record;
- ingestion is billed per record rounded up to the next 5 KB, so records pack many events, and a
  group that needs several records is cut just below a multiple of 5 KB (:func:`pack_records`).

Events whose line exceeds 900 KB are dropped and counted, as Braze does (braze-api.md §6).
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from engagekit import clock
from engagekit.currents.errors import CurrentsDeliveryError, CurrentsError
from engagekit.currents.events import CurrentsEvent, parse_event

__all__ = [
    "BILLING_UNIT_BYTES",
    "MAX_CALL_BYTES",
    "MAX_EVENTS_PER_RECORD",
    "MAX_EVENT_BYTES",
    "MAX_RECORDS_PER_CALL",
    "MAX_RECORD_BYTES",
    "CurrentsExporter",
    "EventLine",
    "ExportStats",
    "Exportable",
    "FakeFirehose",
    "FirehoseAdapter",
    "FirehoseExporter",
    "FirehosePort",
    "PackingPolicy",
    "billed_bytes",
    "pack_records",
    "plan_calls",
]

logger = logging.getLogger(__name__)

MAX_RECORDS_PER_CALL = 500
"""PutRecordBatch: at most 500 records per call (AWS Firehose API reference)."""
MAX_CALL_BYTES = 4_000_000
"""PutRecordBatch: at most 4 MB per call; 4,000,000 bytes fits both 4 MB and 4 MiB readings."""
MAX_RECORD_BYTES = 1_000 * 1024
"""One Firehose record: at most 1,000 KiB before base64 (AWS Firehose API reference)."""
MAX_EVENTS_PER_RECORD = 500
"""Record deaggregation splits at most 500 sub-records per record (Firehose developer guide)."""
BILLING_UNIT_BYTES = 5 * 1024
"""Firehose bills ingestion per record rounded up to the next 5 KB (Amazon Data Firehose pricing)."""
MAX_EVENT_BYTES = 900 * 1024
"""Braze drops Currents events whose payload exceeds 900 KB (braze-api.md §6); so does engagekit."""


class Exportable(Protocol):
    """What an exporter takes: a Currents event that knows its type and its JSON line.

    Both the event models of :mod:`engagekit.currents.events` and :class:`EventLine` qualify.
    """

    @property
    def event_type(self) -> str:
        """The Currents event type, e.g. ``users.behaviors.CustomEvent``."""
        ...

    def to_line(self) -> bytes:
        """The event as one newline-terminated compact JSON line (UTF-8), null fields omitted."""
        ...


class EventLine(NamedTuple):
    """A Currents event already serialized: its ``event_type`` and its newline-terminated JSON line.

    Hot paths (``/users/track`` emits about one event per object) build the line from fields they
    have already validated instead of validating a model per event; the tests parse such lines back
    with :func:`engagekit.currents.events.parse_event`, so they are held to the same schema.
    """

    event_type: str
    line: bytes

    def to_line(self) -> bytes:
        """The JSON line (``line``)."""
        return self.line


class CurrentsExporter(Protocol):
    """The port every producer of Currents events uses.

    ``export`` buffers (and may send when the buffer holds a full call); ``flush`` sends everything
    buffered. A handler exports what one request or batch produced and flushes once before it
    answers, so an accepted request never loses its events (delivery is at least once; readers
    dedupe by ``id``).
    """

    def export(self, events: Iterable[Exportable]) -> None:
        """Buffer ``events``; raises CurrentsDeliveryError only if an automatic send fails."""
        ...

    def flush(self) -> None:
        """Send everything buffered; raises CurrentsDeliveryError when Firehose keeps refusing."""
        ...


class FirehosePort(Protocol):
    """One PutRecordBatch call's worth of records to a delivery stream."""

    def put_record_batch(self, records: Sequence[bytes]) -> None:
        """Deliver every record (≤ 500, ≤ 4 MB together) or raise CurrentsDeliveryError."""
        ...


@dataclass(frozen=True)
class PackingPolicy:
    """How lines are packed into records and records into calls (defaults: the AWS limits).

    ``one_type_per_record`` keeps each record to one ``event_type`` (for a stream without
    deaggregation-aware partitioning); by default records mix types, which bills fewer 5 KB units.
    """

    one_type_per_record: bool = False
    max_events_per_record: int = MAX_EVENTS_PER_RECORD
    max_record_bytes: int = MAX_RECORD_BYTES
    max_records_per_call: int = MAX_RECORDS_PER_CALL
    max_call_bytes: int = MAX_CALL_BYTES
    billing_unit: int = BILLING_UNIT_BYTES
    max_event_bytes: int = MAX_EVENT_BYTES

    def __post_init__(self) -> None:
        if not 1 <= self.max_events_per_record <= MAX_EVENTS_PER_RECORD:
            raise ValueError(f"max_events_per_record must be 1..{MAX_EVENTS_PER_RECORD}")
        if not 1 <= self.max_records_per_call <= MAX_RECORDS_PER_CALL:
            raise ValueError(f"max_records_per_call must be 1..{MAX_RECORDS_PER_CALL}")
        record_cap = min(MAX_RECORD_BYTES, self.max_call_bytes)
        if not 0 < self.max_event_bytes <= self.max_record_bytes <= record_cap:
            raise ValueError("need 0 < max_event_bytes <= max_record_bytes <= min(1,000 KiB, max_call_bytes)")
        if self.max_call_bytes > MAX_CALL_BYTES or self.billing_unit <= 0:
            raise ValueError("max_call_bytes must be <= 4 MB and billing_unit positive")


DEFAULT_POLICY = PackingPolicy()


def billed_bytes(record_sizes: Iterable[int], unit: int = BILLING_UNIT_BYTES) -> int:
    """Bytes Firehose bills for records of ``record_sizes`` bytes: each rounded up to ``unit``."""
    return sum(-(-size // unit) * unit for size in record_sizes)


def pack_records(lines: Sequence[bytes], policy: PackingPolicy = DEFAULT_POLICY) -> list[bytes]:
    """Concatenate newline-terminated ``lines`` into as few records as the limits allow.

    Each record holds at most ``max_events_per_record`` lines and ``max_record_bytes`` bytes. A
    record that is not the last is cut at the line boundary just below the highest multiple of
    ``billing_unit`` it reaches, so it bills no partly used 5 KB unit; the remainder moves on. Lines
    keep their order. Raises CurrentsError for a line longer than ``max_record_bytes`` (callers
    drop those first, see :data:`MAX_EVENT_BYTES`).
    """
    records: list[bytes] = []
    n = len(lines)
    i = 0
    unit = policy.billing_unit
    max_lines, max_bytes = policy.max_events_per_record, policy.max_record_bytes
    while i < n:
        j, size = i, 0
        while j < n and j - i < max_lines and size + len(lines[j]) <= max_bytes:
            size += len(lines[j])
            j += 1
        if j == i:
            raise CurrentsError(f"a line of {len(lines[i])} bytes exceeds the {max_bytes}-byte record")
        target = size - size % unit
        if j < n and 0 < target < size:
            # Moving at most one unit's worth of bytes on saves one unit here and adds at most
            # about one to the records after it; when more would move, keep the greedy cut.
            k, kept = j, size
            while k > i + 1 and kept > target:
                k -= 1
                kept -= len(lines[k])
            if kept <= target and size - kept <= unit:
                j = k
        records.append(b"".join(lines[i:j]))
        i = j
    return records


def plan_calls(records: Sequence[bytes], policy: PackingPolicy = DEFAULT_POLICY) -> list[list[bytes]]:
    """Split ``records`` (in order) into PutRecordBatch calls of ≤ 500 records and ≤ 4 MB each."""
    calls: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    max_records, max_bytes = policy.max_records_per_call, policy.max_call_bytes
    for record in records:
        if current and (len(current) >= max_records or size + len(record) > max_bytes):
            calls.append(current)
            current, size = [], 0
        current.append(record)
        size += len(record)
    if current:
        calls.append(current)
    return calls


@dataclass
class ExportStats:
    """What an exporter has done: events exported, events dropped for size, records, calls, bytes.

    ``payload_bytes`` is the sum of record sizes sent; ``billed_bytes`` the same with each record
    rounded up to the 5 KB billing unit.
    """

    events: int = 0
    dropped_oversize: int = 0
    records: int = 0
    calls: int = 0
    payload_bytes: int = 0
    billed_bytes: int = 0


class FirehoseExporter:
    """:class:`CurrentsExporter` that packs events into Firehose records and sends them via ``port``.

    Lines are buffered in memory until :meth:`flush`, or until ``auto_flush_bytes`` are buffered
    (default: one call's 4 MB). If a send fails, the records not delivered stay pending, go out
    first on the next flush, and the error propagates (CurrentsDeliveryError). Thread-safe.
    """

    def __init__(
        self,
        port: FirehosePort,
        policy: PackingPolicy = DEFAULT_POLICY,
        *,
        auto_flush_bytes: int | None = None,
    ) -> None:
        self._port = port
        self._policy = policy
        self._auto_flush_bytes = auto_flush_bytes if auto_flush_bytes is not None else policy.max_call_bytes
        self._lock = threading.RLock()
        self._buffer: dict[str, list[bytes]] = {}
        self._buffered_bytes = 0
        self._pending: list[bytes] = []
        self.stats = ExportStats()

    @property
    def buffered_events(self) -> int:
        """Events exported and not yet handed to Firehose."""
        with self._lock:
            return sum(len(lines) for lines in self._buffer.values())

    @property
    def pending_records(self) -> int:
        """Packed records a failed send left behind; they go first on the next flush."""
        with self._lock:
            return len(self._pending)

    def export(self, events: Iterable[Exportable]) -> None:
        """Serialize and buffer ``events`` (see :class:`CurrentsExporter`).

        An event whose JSON line exceeds ``policy.max_event_bytes`` (900 KB) is dropped, counted in
        ``stats.dropped_oversize`` and logged, as Braze drops such events (braze-api.md §6).
        """
        group_by_type = self._policy.one_type_per_record
        limit = self._policy.max_event_bytes
        with self._lock:
            for event in events:
                line = event.to_line()
                if len(line) > limit:
                    self.stats.dropped_oversize += 1
                    logger.warning("dropped %s: %d bytes > %d", event.event_type, len(line), limit)
                    continue
                key = event.event_type if group_by_type else ""
                self._buffer.setdefault(key, []).append(line)
                self._buffered_bytes += len(line)
                self.stats.events += 1
            if self._buffered_bytes >= self._auto_flush_bytes:
                self.flush()

    def flush(self) -> None:
        """Pack the buffer into records, send them in as few calls as the limits allow.

        Raises CurrentsDeliveryError when the port gives up (any other error of the port
        propagates as is); undelivered records stay pending either way.
        """
        with self._lock:
            records = self._pending
            for lines in self._buffer.values():
                records.extend(pack_records(lines, self._policy))
            self._pending = []
            self._buffer = {}
            self._buffered_bytes = 0
            calls = plan_calls(records, self._policy)
            for index, call in enumerate(calls):
                try:
                    self._port.put_record_batch(call)
                except Exception as exc:
                    # Keep what was not delivered (all of the call unless the port says otherwise).
                    failed = list(call)
                    if isinstance(exc, CurrentsDeliveryError) and exc.records:
                        failed = list(exc.records)
                    self._count(_without(call, failed))
                    self._pending = [*failed, *(r for later in calls[index + 1 :] for r in later)]
                    raise
                self._count(call)

    def _count(self, records: Sequence[bytes]) -> None:
        if not records:
            return
        sizes = [len(r) for r in records]
        self.stats.calls += 1
        self.stats.records += len(records)
        self.stats.payload_bytes += sum(sizes)
        self.stats.billed_bytes += billed_bytes(sizes, self._policy.billing_unit)


def _without(records: Sequence[bytes], removed: Sequence[bytes]) -> list[bytes]:
    """``records`` minus ``removed`` (as multisets), keeping order."""
    left = Counter(removed)
    kept: list[bytes] = []
    for record in records:
        if left[record]:
            left[record] -= 1
        else:
            kept.append(record)
    return kept


class FirehoseAdapter:
    """:class:`FirehosePort` over boto3's Firehose ``put_record_batch``.

    ``client`` is an injectable boto3 Firehose client; without one, a client is created on first
    use (botocore standard retry mode retries throttling and 5xx of the whole call). Records
    that come back with an ``ErrorCode`` (``FailedPutCount`` > 0) are retried alone, up to
    ``max_attempts`` attempts in all, with capped exponential backoff and full jitter on the
    engagekit clock. Raises CurrentsDeliveryError, whose ``records`` are the undelivered ones,
    when records still fail after the last attempt or the call itself fails.
    """

    def __init__(
        self,
        stream_name: str,
        client: Any | None = None,
        *,
        max_attempts: int = 5,
        base_delay_s: float = 0.05,
        max_delay_s: float = 2.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.stream_name = stream_name
        self._client = client
        self._max_attempts = max_attempts
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s

    @property
    def client(self) -> Any:
        """The boto3 Firehose client, created lazily (region and endpoint from the environment)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client("firehose", config=Config(retries={"mode": "standard"}))
        return self._client

    def put_record_batch(self, records: Sequence[bytes]) -> None:
        """Send ``records`` in one PutRecordBatch; retry only the records that failed."""
        from botocore.exceptions import BotoCoreError, ClientError

        if len(records) > MAX_RECORDS_PER_CALL:
            raise CurrentsError(f"{len(records)} records exceed the {MAX_RECORDS_PER_CALL} of one call")
        pending = list(records)
        codes: Counter[str] = Counter()
        for attempt in range(1, self._max_attempts + 1):
            if not pending:
                return
            try:
                response = self.client.put_record_batch(
                    DeliveryStreamName=self.stream_name, Records=[{"Data": data} for data in pending]
                )
            except (ClientError, BotoCoreError) as exc:
                raise CurrentsDeliveryError(
                    f"PutRecordBatch to {self.stream_name} failed: {exc}",
                    failed=len(pending),
                    records=pending,
                ) from exc
            if not response.get("FailedPutCount"):
                return
            results = response.get("RequestResponses", [])
            failed = [(data, res.get("ErrorCode")) for data, res in zip(pending, results, strict=True)]
            failed = [(data, code) for data, code in failed if code]
            codes = Counter(str(code) for _, code in failed)
            pending = [data for data, _ in failed]
            if pending and attempt < self._max_attempts:
                ceiling = min(self._max_delay_s, self._base_delay_s * 2 ** (attempt - 1))
                clock.get_clock().sleep(random.uniform(0, ceiling))
        if pending:
            raise CurrentsDeliveryError(
                f"{len(pending)} records refused by {self.stream_name} after {self._max_attempts} attempts",
                failed=len(pending),
                error_codes=dict(codes),
                records=pending,
            )


class FakeFirehose:
    """In-memory :class:`FirehosePort` for tests and the bench: keeps and counts what it gets.

    It enforces the limits AWS enforces (≤ 500 records and ≤ 4 MB per call, ≤ 1,000 KiB per
    record, ≤ 500 lines per record for deaggregation) by raising CurrentsDeliveryError, and fails
    the next ``fail_calls`` calls on purpose. ``keep=False`` only counts (for the bench).
    """

    def __init__(self, *, fail_calls: int = 0, keep: bool = True) -> None:
        self.fail_calls = fail_calls
        self.keep = keep
        self.calls = 0
        self.record_count = 0
        self.bytes = 0
        self.billed = 0
        self.records: list[bytes] = []

    def put_record_batch(self, records: Sequence[bytes]) -> None:
        """Accept one call's records, or raise CurrentsDeliveryError (limits, scripted failure)."""
        problem = self._check(records)
        if problem is None and self.fail_calls > 0:
            self.fail_calls -= 1
            problem = "scripted failure"
        if problem is not None:
            raise CurrentsDeliveryError(problem, failed=len(records), records=records)
        self.calls += 1
        self.record_count += len(records)
        sizes = [len(r) for r in records]
        self.bytes += sum(sizes)
        self.billed += billed_bytes(sizes)
        if self.keep:
            self.records.extend(records)

    @staticmethod
    def _check(records: Sequence[bytes]) -> str | None:
        if not records:
            return "a PutRecordBatch needs at least one record"
        if len(records) > MAX_RECORDS_PER_CALL:
            return f"{len(records)} records in one call (max {MAX_RECORDS_PER_CALL})"
        if sum(len(r) for r in records) > MAX_CALL_BYTES:
            return f"call of {sum(len(r) for r in records)} bytes (max {MAX_CALL_BYTES})"
        for record in records:
            if not record or len(record) > MAX_RECORD_BYTES:
                return f"record of {len(record)} bytes (1..{MAX_RECORD_BYTES})"
            lines = record.count(b"\n")
            if lines > MAX_EVENTS_PER_RECORD:
                return f"record of {lines} lines (max {MAX_EVENTS_PER_RECORD} for deaggregation)"
        return None

    def lines(self) -> list[bytes]:
        """Every JSON line received, in order, without its newline (what S3 would hold)."""
        return [line for record in self.records for line in record.split(b"\n") if line]

    def events(self) -> list[CurrentsEvent]:
        """Every event received, parsed back into its model."""
        return [parse_event(line) for line in self.lines()]
