"""``engagekit import users``: a CSV in Braze's attribute import format, through ``/users/track``.

Rows are parsed lazily (:mod:`engagekit.imports.csv_format`), 75 attribute objects go in one
request (braze-api.md §1.1), and after each acknowledged request the per-row error report gets
the request's failures and the checkpoint moves to the last settled row. ``resume=True`` continues
after the checkpoint's row; a completed import removes its checkpoint.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from engagekit.errors import EngagekitError, ValidationError
from engagekit.imports import checkpoint as cp
from engagekit.imports.csv_format import RowError, read_rows
from engagekit.imports.track import (
    MAX_OBJECTS_PER_ARRAY,
    TRACK_PATH,
    ApiCallError,
    ApiResponse,
    RetryPolicy,
    TrackBatch,
    Transport,
    failures_of,
    post_with_retry,
)

ERROR_COLUMNS = ("row", "line", "identifier", "error")


class ImportStateError(ValidationError):
    """The run cannot start as asked (a checkpoint exists without ``--resume``, or belongs to
    another file)."""


class ImportAborted(EngagekitError):
    """The API refused the key or the endpoint (401/403/404), or stopped answering; the checkpoint
    holds the last settled row, so the same command with ``--resume`` continues."""


@dataclass(frozen=True)
class ImportProgress:
    """After each request: rows settled so far (this run and resumed), imported, failed, requests;
    ``resumed_from`` is the row this run started after."""

    rows: int
    imported: int
    failed: int
    requests: int
    resumed_from: int


@dataclass(frozen=True)
class ImportSummary:
    """The outcome. ``resumed_from`` is the row the run started after (0 for a fresh run);
    ``elapsed_s`` is wall seconds of this run."""

    rows: int
    imported: int
    failed: int
    requests: int
    resumed_from: int
    errors_path: Path
    elapsed_s: float


def default_errors_path(source: Path) -> Path:
    """``users.csv`` -> ``users.csv.errors.csv`` next to it."""
    return source.with_name(source.name + ".errors.csv")


def import_users(
    source: Path,
    transport: Transport,
    *,
    resume: bool = False,
    restart: bool = False,
    checkpoint_path: Path | None = None,
    errors_path: Path | None = None,
    batch_size: int = MAX_OBJECTS_PER_ARRAY,
    retry: RetryPolicy | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportSummary:
    """Import ``source`` through ``transport``; returns the :class:`ImportSummary`.

    Raises :class:`engagekit.imports.ImportFormatError` for an unreadable file or header (nothing
    sent), :class:`ImportStateError` when a checkpoint exists and neither ``resume`` nor
    ``restart`` is set (or it belongs to another file), :class:`ImportAborted` when the API refuses
    the key or stops answering (resume later).
    """
    if not 1 <= batch_size <= MAX_OBJECTS_PER_ARRAY:
        raise ValidationError(f"batch size must be 1 to {MAX_OBJECTS_PER_ARRAY} (braze-api.md §1.1)")
    started = time.perf_counter()
    checkpoint_path = checkpoint_path or cp.default_path(source)
    errors_path = errors_path or default_errors_path(source)
    fingerprint = cp.fingerprint(source)
    previous = cp.load(checkpoint_path)
    if previous is not None and not resume and not restart:
        raise ImportStateError(
            f"an unfinished import of this file left {checkpoint_path} (row {previous.last_row}): "
            "pass --resume to continue it or --restart to start over"
        )
    if resume and previous is not None and previous.fingerprint != fingerprint:
        raise ImportStateError(
            f"{checkpoint_path} belongs to another version of the file (size or content changed): "
            "pass --restart to import it from the first row"
        )
    state = previous if (resume and previous is not None) else None
    start_after = state.last_row if state else 0
    counts = {
        "imported": state.imported if state else 0,
        "failed": state.failed if state else 0,
        "requests": state.requests if state else 0,
    }
    _, rows = read_rows(source)
    batch: TrackBatch[int] = TrackBatch(max_per_array=batch_size)
    pending_errors: list[RowError] = []
    identifiers: dict[int, tuple[int, str]] = {}
    last_read = start_after

    report = ErrorReport(errors_path, append=state is not None)
    try:

        def settle() -> None:
            if len(batch):
                resp = _post(transport, batch, retry)
                counts["requests"] += 1
                failed = {f.tag: f.message for f in failures_of(resp, batch)}
                for row in batch.tags["attributes"]:
                    line, ident = identifiers.pop(row)
                    if row in failed:
                        pending_errors.append(RowError(row, line, ident, failed[row]))
                    else:
                        counts["imported"] += 1
                batch.clear()
            for error in sorted(pending_errors, key=lambda e: e.row):
                report.write(error)
            counts["failed"] += len(pending_errors)
            pending_errors.clear()
            report.flush()
            cp.save(
                checkpoint_path,
                cp.Checkpoint(
                    source=str(source.resolve()),
                    fingerprint=fingerprint,
                    last_row=last_read,
                    imported=counts["imported"],
                    failed=counts["failed"],
                    requests=counts["requests"],
                    updated_at=cp.now_text(),
                ),
            )
            if on_progress:
                on_progress(
                    ImportProgress(
                        last_read, counts["imported"], counts["failed"], counts["requests"], start_after
                    )
                )

        for parsed in rows:
            if parsed.row <= start_after:
                continue
            last_read = parsed.row
            if isinstance(parsed, RowError):
                pending_errors.append(parsed)
                continue
            batch.add("attributes", parsed.attributes, parsed.row)
            identifiers[parsed.row] = (parsed.line, parsed.identifier)
            if batch.full:
                settle()
        settle()
    finally:
        report.close()
    checkpoint_path.unlink(missing_ok=True)
    return ImportSummary(
        rows=last_read,
        imported=counts["imported"],
        failed=counts["failed"],
        requests=counts["requests"],
        resumed_from=start_after,
        errors_path=errors_path,
        elapsed_s=time.perf_counter() - started,
    )


def _post(transport: Transport, batch: TrackBatch[int], retry: RetryPolicy | None) -> ApiResponse:
    try:
        resp = post_with_retry(transport, TRACK_PATH, batch.body(), retry)
    except (ApiCallError, EngagekitError) as exc:
        raise ImportAborted(f"{exc}; the checkpoint is kept: run again with --resume") from exc
    if resp.status in (401, 403, 404):
        raise ImportAborted(f"{TRACK_PATH} answered {resp.status}: {resp.message}")
    return resp


class ErrorReport:
    """The per-row error report: CSV ``row,line,identifier,error``; appended to when resuming."""

    def __init__(self, path: Path, append: bool) -> None:
        append = append and path.exists()
        self._handle: TextIO = path.open("a" if append else "w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        if not append:
            self._writer.writerow(ERROR_COLUMNS)

    def write(self, error: RowError) -> None:
        self._writer.writerow((error.row, error.line, error.identifier, error.message))

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()
