"""The Online Retail replay: invoice lines -> ``/users/track`` requests, 75 objects per array.

Lines are read, mapped (:mod:`.mapping`) and packed in file order; a request goes out as soon as
one array is full (braze-api.md §1.1), so a user's attributes object is never sent after their
events or purchases. Refused objects are counted as errors, with the API's reasons kept.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
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
    ``events`` count objects sent (a line of over 100 units is several purchases); ``errors`` counts
    objects the API refused plus unreadable lines, with up to 10 distinct reasons in
    ``error_reasons``; ``shift_days`` is the applied time shift; ``elapsed_s`` wall seconds."""

    rows: int = 0
    requests: int = 0
    customers: int = 0
    anonymous: int = 0
    purchases: int = 0
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


def replay(
    records: Iterable[tuple[int, dict[str, str]]],
    transport: Transport,
    *,
    shift: timedelta = timedelta(0),
    batch_size: int = MAX_OBJECTS_PER_ARRAY,
    retry: RetryPolicy | None = None,
    on_progress: Callable[[ReplayProgress], None] | None = None,
) -> ReplaySummary:
    """Send ``records`` (``(line number, CSV record)``, e.g. from :func:`.source.read_records`).

    Returns the :class:`ReplaySummary`. Raises :class:`ReplayAborted` on 401/403/404 or when the API
    stops answering after the retries (``retry``), and ``ValidationError`` for a batch size over 75.
    """
    if not 1 <= batch_size <= MAX_OBJECTS_PER_ARRAY:
        raise ValidationError(f"batch size must be 1 to {MAX_OBJECTS_PER_ARRAY} (braze-api.md §1.1)")
    started = time.perf_counter()
    summary = ReplaySummary(shift_days=shift.days)
    mapper = Mapper(shift=shift)
    batch: TrackBatch[int] = TrackBatch(max_per_array=batch_size)

    def flush() -> None:
        if not len(batch):
            return
        try:
            resp = post_with_retry(transport, TRACK_PATH, batch.body(), retry)
        except (ApiCallError, TransportError) as exc:
            raise ReplayAborted(f"{exc} after {summary.rows:,} lines") from exc
        if resp.status in (401, 403, 404):
            raise ReplayAborted(f"{TRACK_PATH} answered {resp.status}: {resp.message}")
        summary.requests += 1
        summary.attributes += batch.count("attributes")
        summary.events += batch.count("events")
        summary.purchases += batch.count("purchases")
        for failure in failures_of(resp, batch):
            summary.errors += 1
            if len(summary.error_reasons) < 10 or failure.message in summary.error_reasons:
                summary.error_reasons[f"{failure.array}: {failure.message}"] += 1
        batch.clear()
        if on_progress:
            on_progress(ReplayProgress(summary.rows, summary.requests, summary.errors))

    for line_no, record in records:
        summary.rows += 1
        try:
            line = parse_line(record)
        except ValidationError as exc:
            summary.errors += 1
            summary.error_reasons[f"line {line_no}: {exc}"[:120]] += 1
            continue
        mapped = mapper.map(line)
        if mapped.kind == "skipped":
            summary.skipped += 1
        summary.customers += mapped.new_customer
        summary.anonymous += mapped.new_anonymous
        for array, obj in mapped.objects:
            if not batch.has_room(array):
                flush()
            batch.add(array, obj, line_no)
    flush()
    summary.elapsed_s = time.perf_counter() - started
    return summary
