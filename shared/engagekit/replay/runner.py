"""The Online Retail replay: invoice lines -> ``/users/track`` requests, 75 objects per array.

Lines are read, mapped (:mod:`.mapping`) and packed in file order; a request goes out as soon as
one array is full (braze-api.md §1.1), so a user's attributes object is never sent after their
events or purchases. Refused objects are counted as errors, with the API's reasons kept.
"""

from __future__ import annotations

import queue
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from engagekit import clock
from engagekit.errors import EngagekitError, ValidationError
from engagekit.imports.track import (
    MAX_OBJECTS_PER_ARRAY,
    TRACK_PATH,
    ApiCallError,
    RetryPolicy,
    TrackBatch,
    Transport,
    TransportError,
    failures_of,
    post_with_retry,
)
from engagekit.replay.mapping import Mapper
from engagekit.replay.source import parse_line


class ReplayAborted(EngagekitError):
    """The API refused the key (401/403), has no ``/users/track`` (404), or stopped answering."""


@dataclass(frozen=True)
class ReplayProgress:
    """After each request: lines read, requests sent, objects refused so far."""

    rows: int
    requests: int
    errors: int


@dataclass
class ReplaySummary:
    """What was sent. ``customers``/``anonymous`` count distinct users introduced; ``purchases`` and
    ``events`` count objects sent (a line of over 100 units is several purchases); ``units`` is the
    sum of the purchases' quantities, the number of purchases Braze counts (braze-api.md §1.1.3) and
    of ``users.behaviors.Purchase`` events Currents exports; ``errors`` counts
    objects the API refused plus unreadable lines, with up to 10 distinct reasons in
    ``error_reasons``; ``shift_days`` is the applied time shift; ``elapsed_s`` wall seconds."""

    rows: int = 0
    requests: int = 0
    customers: int = 0
    anonymous: int = 0
    purchases: int = 0
    units: int = 0
    events: int = 0
    attributes: int = 0
    skipped: int = 0
    errors: int = 0
    shift_days: int = 0
    elapsed_s: float = 0.0
    error_reasons: Counter[str] = field(default_factory=Counter)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "requests": self.requests,
            "customers": self.customers,
            "anonymous": self.anonymous,
            "purchases": self.purchases,
            "units": self.units,
            "events": self.events,
            "attributes": self.attributes,
            "skipped": self.skipped,
            "errors": self.errors,
            "shift_days": self.shift_days,
            "elapsed_s": round(self.elapsed_s, 3),
            "rows_per_s": round(self.rows_per_s, 1),
            "requests_per_s": round(self.requests_per_s, 2),
            "error_reasons": dict(self.error_reasons.most_common(10)),
        }


def platform_now(transport: Transport) -> datetime:
    """The platform's clock, from ``GET /health`` (``time``); this process's clock when that fails."""
    try:
        resp = transport.request("GET", "/health")
        if resp.status == 200 and isinstance(resp.body, dict) and isinstance(resp.body.get("time"), str):
            return datetime.fromisoformat(resp.body["time"].replace("Z", "+00:00"))
    except (TransportError, ValueError):
        pass
    return clock.now()


def shift_to(last_day: date, today: date) -> timedelta:
    """Whole days that move ``last_day`` onto ``today`` (times of day are kept; an instant that
    lands after now is clamped to now by the server, braze-api.md §1.1.2)."""
    return timedelta(days=(today - last_day).days)


def lane_of(line_key: str, lanes: int) -> int:
    """The worker lane of a user: stable (CRC-32 of the user key), so one user's objects are always
    sent in order by one worker."""
    return zlib.crc32(line_key.encode()) % lanes if lanes > 1 else 0


class _Sender:
    """Posts batches and folds the answers into the summary (thread-safe)."""

    def __init__(
        self,
        summary: ReplaySummary,
        retry: RetryPolicy | None,
        on_progress: Callable[[ReplayProgress], None] | None,
    ) -> None:
        self.summary = summary
        self.retry = retry
        self.on_progress = on_progress
        self.lock = threading.Lock()

    def send(self, transport: Transport, batch: TrackBatch[int]) -> None:
        s = self.summary
        try:
            resp = post_with_retry(transport, TRACK_PATH, batch.body(), self.retry)
        except (ApiCallError, TransportError) as exc:
            raise ReplayAborted(f"{exc} after {s.rows:,} lines") from exc
        if resp.status in (401, 403, 404):
            raise ReplayAborted(f"{TRACK_PATH} answered {resp.status}: {resp.message}")
        with self.lock:
            s.requests += 1
            s.attributes += batch.count("attributes")
            s.events += batch.count("events")
            s.purchases += batch.count("purchases")
            for failure in failures_of(resp, batch):
                s.errors += 1
                reason = f"{failure.array}: {failure.message}"
                if len(s.error_reasons) < 10 or reason in s.error_reasons:
                    s.error_reasons[reason] += 1
            progress = ReplayProgress(s.rows, s.requests, s.errors)
        if self.on_progress:
            self.on_progress(progress)


class _Lanes:
    """One worker thread per transport, each fed batches through a short queue (memory stays flat:
    at most two waiting batches per lane). The first failure stops every lane."""

    def __init__(self, sender: _Sender, transports: Sequence[Transport]) -> None:
        self.sender = sender
        self.queues: list[queue.Queue[TrackBatch[int] | None]] = [queue.Queue(maxsize=2) for _ in transports]
        self.failure: BaseException | None = None
        self.threads = [
            threading.Thread(target=self._work, args=(t, q), name=f"replay-{i}", daemon=True)
            for i, (t, q) in enumerate(zip(transports, self.queues, strict=True))
        ]
        for thread in self.threads:
            thread.start()

    def _work(self, transport: Transport, inbox: queue.Queue[TrackBatch[int] | None]) -> None:
        while (batch := inbox.get()) is not None:
            if self.failure is not None:
                continue
            try:
                self.sender.send(transport, batch)
            except BaseException as exc:  # handed to the main thread, re-raised there
                self.failure = self.failure or exc

    def submit(self, lane: int, batch: TrackBatch[int]) -> None:
        self.check()
        self.queues[lane].put(batch)

    def check(self) -> None:
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        for inbox in self.queues:
            inbox.put(None)
        for thread in self.threads:
            thread.join()
        self.check()


def replay(
    records: Iterable[tuple[int, dict[str, str]]],
    transport: Transport | Sequence[Transport],
    *,
    shift: timedelta = timedelta(0),
    batch_size: int = MAX_OBJECTS_PER_ARRAY,
    retry: RetryPolicy | None = None,
    on_progress: Callable[[ReplayProgress], None] | None = None,
    emails: bool = False,
) -> ReplaySummary:
    """Send ``records`` (``(line number, CSV record)``, e.g. from :func:`.source.read_records`).

    ``transport`` may be a sequence: one worker per transport sends concurrently, each user's
    objects always through the same worker (:func:`lane_of`), so per-user order is kept.
    ``emails`` gives every customer a synthetic address (:func:`.mapping.synthetic_email`).
    Returns the :class:`ReplaySummary`. Raises :class:`ReplayAborted` on 401/403/404 or when the API
    stops answering after the retries (``retry``), and ``ValidationError`` for a batch size over 75.
    """
    if not 1 <= batch_size <= MAX_OBJECTS_PER_ARRAY:
        raise ValidationError(f"batch size must be 1 to {MAX_OBJECTS_PER_ARRAY} (braze-api.md §1.1)")
    transports = list(transport) if isinstance(transport, Sequence) else [transport]
    if not transports:
        raise ValidationError("replay needs at least one transport")
    started = time.perf_counter()
    summary = ReplaySummary(shift_days=shift.days)
    mapper = Mapper(shift=shift, emails=emails)
    sender = _Sender(summary, retry, on_progress)
    lanes = _Lanes(sender, transports) if len(transports) > 1 else None
    batches: list[TrackBatch[int]] = [TrackBatch(max_per_array=batch_size) for _ in transports]

    def flush(lane: int) -> None:
        batch = batches[lane]
        if not len(batch):
            return
        batches[lane] = TrackBatch(max_per_array=batch_size)
        if lanes is None:
            sender.send(transports[0], batch)
        else:
            lanes.submit(lane, batch)

    try:
        for line_no, record in records:
            summary.rows += 1
            try:
                line = parse_line(record)
            except ValidationError as exc:
                with sender.lock:
                    summary.errors += 1
                    summary.error_reasons[f"line {line_no}: {exc}"[:120]] += 1
                continue
            mapped = mapper.map(line)
            if mapped.kind == "skipped":
                summary.skipped += 1
            summary.customers += mapped.new_customer
            summary.anonymous += mapped.new_anonymous
            lane = lane_of(line.customer_id or f"invoice:{line.invoice}", len(transports))
            for array, obj in mapped.objects:
                if array == "purchases":
                    summary.units += obj["quantity"]
                if not batches[lane].has_room(array):
                    flush(lane)
                batches[lane].add(array, obj, line_no)
        for lane in range(len(transports)):
            flush(lane)
    finally:
        if lanes is not None:
            lanes.close()
    summary.elapsed_s = time.perf_counter() - started
    return summary
