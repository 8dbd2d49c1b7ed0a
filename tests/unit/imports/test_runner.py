"""``import_users``: batching rows, the per-row error report, and the resumable checkpoint."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from engagekit import clock
from engagekit.imports import ImportStateError, import_users
from engagekit.imports.checkpoint import default_path
from engagekit.imports.runner import ImportAborted, ImportProgress, default_errors_path
from engagekit.imports.track import ApiResponse, RetryPolicy

from tests.unit.imports.fakes import FakeTrack, down, ok

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def manual() -> Iterator[clock.ManualClock]:
    manual = clock.ManualClock(START)
    previous = clock.set_clock(manual)
    yield manual
    clock.set_clock(previous)


def write_users(path: Path, n: int, bad_rows: frozenset[int] = frozenset()) -> Path:
    """``n`` data rows; rows in ``bad_rows`` (1-based) have a blank external_id."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "first_name", "visits"])
        for row in range(1, n + 1):
            writer.writerow(["" if row in bad_rows else f"u{row}", f"Name{row}", row])
    return path


def report(path: Path) -> list[dict[str, str]]:
    with default_errors_path(path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ids(body: dict[str, Any]) -> list[str]:
    return [a["external_id"] for a in body["attributes"]]


def test_rows_go_75_per_request_as_typed_attribute_objects(tmp_path: Path) -> None:
    source = write_users(tmp_path / "users.csv", 160)
    fake = FakeTrack()
    progress: list[ImportProgress] = []
    summary = import_users(source, fake, on_progress=progress.append)
    assert [len(b["attributes"]) for b in fake.bodies] == [75, 75, 10]
    assert fake.requests[0][:2] == ("POST", "/users/track")
    assert fake.bodies[0]["attributes"][0] == {"external_id": "u1", "first_name": "Name1", "visits": 1}
    assert (summary.rows, summary.imported, summary.failed, summary.requests) == (160, 160, 0, 3)
    assert [p.rows for p in progress] == [75, 150, 160]
    assert report(source) == []
    assert not default_path(source).exists()


def test_parse_errors_and_refused_items_land_in_the_report_by_row(tmp_path: Path) -> None:
    source = write_users(tmp_path / "users.csv", 5, bad_rows=frozenset({2}))

    def answer(body: dict[str, Any]) -> ApiResponse:
        # the API refuses the third object it is sent (row 4: row 2 never left)
        errors = [{"type": "'visits' is not valid", "input_array": "attributes", "index": 2}]
        return ApiResponse(201, {}, {"message": "success", "errors": errors})

    summary = import_users(source, FakeTrack(default=answer))
    assert (summary.imported, summary.failed) == (3, 2)
    assert report(source) == [
        {"row": "2", "line": "3", "identifier": "", "error": "external_id is blank"},
        {"row": "4", "line": "5", "identifier": "u4", "error": "'visits' is not valid"},
    ]


def test_a_cell_of_5000_digits_is_a_row_error_in_the_report(tmp_path: Path) -> None:
    source = tmp_path / "users.csv"
    source.write_text(f"external_id,score\nu1,1\nu2,{'1' * 5000}\nu3,3\n", encoding="utf-8")
    fake = FakeTrack()
    summary = import_users(source, fake)
    assert (summary.rows, summary.imported, summary.failed) == (3, 2, 1)
    assert [ids(b) for b in fake.bodies] == [["u1", "u3"]]
    assert report(source) == [
        {
            "row": "2",
            "line": "3",
            "identifier": "u2",
            "error": "score: a number of 5000 digits is too long to import",
        }
    ]


def test_an_interrupted_import_resumes_after_the_last_acknowledged_row(tmp_path: Path) -> None:
    source = write_users(tmp_path / "users.csv", 200, bad_rows=frozenset({10, 190}))
    # given the API answers twice, then stops answering
    flaky = FakeTrack(ok, ok, default=lambda body: down())
    with pytest.raises(ImportAborted, match="--resume"):
        import_users(source, flaky, retry=RetryPolicy(attempts=2))
    saved = json.loads(default_path(source).read_text())
    assert saved["last_row"] == 151 and saved["imported"] == 150 and saved["failed"] == 1
    assert report(source) == [{"row": "10", "line": "11", "identifier": "", "error": "external_id is blank"}]
    # when the same import runs again with resume
    fake = FakeTrack()
    summary = import_users(source, fake, resume=True)
    # then it sends only the rows after the checkpoint, and the report is appended to
    assert ids(fake.bodies[0])[0] == "u152"
    assert sum(len(b["attributes"]) for b in fake.bodies) == 48
    assert (summary.resumed_from, summary.rows, summary.imported, summary.failed) == (151, 200, 198, 2)
    assert [r["row"] for r in report(source)] == ["10", "190"]
    assert not default_path(source).exists()


def test_a_leftover_checkpoint_needs_resume_or_restart(tmp_path: Path) -> None:
    source = write_users(tmp_path / "users.csv", 3)
    default_path(source).write_text(
        json.dumps(
            {
                "source": str(source),
                "fingerprint": "x",
                "last_row": 1,
                "imported": 1,
                "failed": 0,
                "requests": 1,
                "updated_at": "2026-03-01T12:00:00.000Z",
            }
        )
    )
    with pytest.raises(ImportStateError, match="--resume"):
        import_users(source, FakeTrack())
    with pytest.raises(ImportStateError, match="another version"):
        import_users(source, FakeTrack(), resume=True)
    fake = FakeTrack()
    assert import_users(source, fake, restart=True).imported == 3
    assert ids(fake.bodies[0]) == ["u1", "u2", "u3"]


def test_a_refused_key_aborts_at_once(tmp_path: Path) -> None:
    source = write_users(tmp_path / "users.csv", 3)
    fake = FakeTrack(ApiResponse(401, {}, {"message": "Unauthorized: unknown or revoked API key"}))
    with pytest.raises(ImportAborted, match="401"):
        import_users(source, fake)
    assert len(fake.requests) == 1


def test_batch_size_is_bounded_by_brazes_75(tmp_path: Path) -> None:
    from engagekit.errors import ValidationError

    source = write_users(tmp_path / "users.csv", 3)
    with pytest.raises(ValidationError):
        import_users(source, FakeTrack(), batch_size=76)
    fake = FakeTrack()
    import_users(source, fake, batch_size=2)
    assert [len(b["attributes"]) for b in fake.bodies] == [2, 1]
