"""Segments end to end on the local runtime over real HTTP (time scale 1): membership within a
second of /users/track, a 7-day purchase window that drops by itself when the clock passes its
boundary, and ``engagekit apply`` of examples/segments (idempotent, ``--dry-run``)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from engagekit.cli import app
from typer.testing import CliRunner

from infra.local.runtime import LocalPlatform
from tests.e2e.conftest import Http

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "segments"


def eventually(check: Callable[[], bool], timeout_s: float, every_s: float = 0.02) -> float:
    """Wall seconds until ``check()`` held; fails after ``timeout_s``."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout_s, f"not true within {timeout_s} s"
        time.sleep(every_s)
    return time.monotonic() - start


def member_ids(http: Http, segment_id: str) -> set[str]:
    status, _, out = http.call("GET", f"/segments/{segment_id}/users?limit=1000")
    assert status == 200, out
    return {u["external_id"] for u in out["users"]}


def put_live(http: Http, segment_id: str, filter: dict[str, Any]) -> None:
    status, _, out = http.call("PUT", f"/segments/{segment_id}", {"name": segment_id, "filter": filter})
    assert status in (200, 201), out
    eventually(lambda: http.call("GET", f"/segments/{segment_id}")[2]["state"] == "live", 10)


def test_membership_is_visible_within_a_second_of_track(http: Http) -> None:
    # given a live segment
    put_live(
        http,
        "e2e-pro",
        {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}},
    )
    # when a matching user is tracked
    status, _, out = http.call(
        "POST", "/users/track", {"attributes": [{"external_id": "e2e-u1", "plan": "pro"}]}
    )
    assert status == 201, out
    # then GET /segments/{id}/users lists it within 1 s
    elapsed = eventually(lambda: "e2e-u1" in member_ids(http, "e2e-pro"), 1.0)
    assert elapsed < 1.0


def test_a_purchased_in_the_last_7_days_membership_drops_when_the_clock_passes(
    http: Http, platform: LocalPlatform
) -> None:
    # given a 7-day purchase window and a buyer
    put_live(http, "e2e-week", {"last_purchase": {"comparison": "less_than_x_days_ago", "value": 7}})
    bought = platform.clock.now().isoformat().replace("+00:00", "Z")
    body = {
        "purchases": [
            {"external_id": "e2e-b", "product_id": "p", "currency": "USD", "price": 3, "time": bought}
        ]
    }
    assert http.call("POST", "/users/track", body)[0] == 201
    eventually(lambda: "e2e-b" in member_ids(http, "e2e-week"), 2.0)
    # when the platform clock is driven 6 days on, the user stays
    platform.clock.advance(timedelta(days=6).total_seconds())  # type: ignore[attr-defined]
    time.sleep(0.3)
    assert "e2e-b" in member_ids(http, "e2e-week")
    # when it passes the 7-day boundary, the sweep (every 60 s of platform time) drops the user
    platform.clock.advance(timedelta(days=1, minutes=2).total_seconds())  # type: ignore[attr-defined]
    eventually(lambda: "e2e-b" not in member_ids(http, "e2e-week"), 5.0)


def _apply(platform: LocalPlatform, folder: Path, *options: str) -> Any:
    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": platform.api_key or ""}
    return CliRunner().invoke(app, ["apply", str(folder), *options], env=env)


def test_apply_examples_is_idempotent_and_dry_run_changes_nothing(
    http: Http, platform: LocalPlatform, tmp_path: Path
) -> None:
    files = sorted(EXAMPLES.glob("*.json"))
    assert len(files) >= 2
    # when the examples are applied, then every definition is created
    first = _apply(platform, EXAMPLES)
    assert first.exit_code == 0, first.output
    assert f"{len(files)} definitions: {len(files)} changed, 0 unchanged, 0 failed" in first.output
    for path in files:
        wanted = json.loads(path.read_text())
        status, _, got = http.call("GET", f"/segments/{wanted['id']}")
        assert status == 200 and (got["name"], got["filter"]) == (wanted["name"], wanted["filter"])
    # when applied again, then nothing changes
    second = _apply(platform, EXAMPLES)
    assert second.exit_code == 0, second.output
    assert f"{len(files)} definitions: 0 changed, {len(files)} unchanged, 0 failed" in second.output
    # when one file is edited and applied with --dry-run, then the diff is printed and nothing is PUT
    folder = tmp_path / "segments"
    shutil.copytree(EXAMPLES, folder)
    edited = json.loads((folder / files[0].name).read_text())
    edited["name"] = "Renamed by a dry run"
    (folder / files[0].name).write_text(json.dumps(edited))
    dry = _apply(platform, folder, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Renamed by a dry run" in dry.output and "1 would change" in dry.output
    assert http.call("GET", f"/segments/{edited['id']}")[2]["name"] != "Renamed by a dry run"
