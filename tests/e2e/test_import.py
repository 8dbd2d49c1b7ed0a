"""``engagekit import users`` over real HTTP: typed attributes land on profiles, bad rows are
reported by row, and an interrupted import resumes where it stopped."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from engagekit.imports import import_users
from engagekit.imports.runner import ImportAborted
from engagekit.imports.track import ApiResponse, HttpTransport, RetryPolicy, TransportError
from typer.testing import CliRunner

from infra.local.runtime import LocalPlatform
from infra.manifest import MANIFEST
from tests.e2e.conftest import Http

ROUTES = {route.path for route, _ in MANIFEST.routes()}
pytestmark = pytest.mark.skipif(
    not {"/users/track", "/users/export/ids"} <= ROUTES,
    reason="/users/track and /users/export/ids are not both in infra/manifest.py yet (issue 3)",
)

USERS = """external_id,first_name,email,country,shoe_size,vip,member_since,height,tags,zip
imp-1,Ann,ann@example.com,GB,38,TRUE,2024-05-01,1.72,"[""gold"",""early""]",007
imp-2,Bob,bob@example.com,FR,44,false,2024-05-02T10:30:00Z,,,
,NoId,nobody@example.com,GB,40,TRUE,,,,
imp-3,Cy,cy@example.com,DE,41,FALSE,,1.80,,
"""


def export(http: Http, ids: list[str]) -> dict[str, dict[str, Any]]:
    body = {
        "external_ids": ids,
        "fields_to_export": ["external_id", "first_name", "email", "country", "custom_attributes"],
    }
    status, _, answer = http.call("POST", "/users/export/ids", body)
    assert status in (200, 201), answer
    return {u["external_id"]: u for u in answer["users"]}


def test_the_cli_imports_typed_attributes_and_reports_bad_rows(
    platform: LocalPlatform, http: Http, tmp_path: Path
) -> None:
    from engagekit.cli import app

    source = tmp_path / "users.csv"
    source.write_text(USERS, encoding="utf-8")
    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": platform.api_key or ""}
    result = CliRunner().invoke(app, ["import", "users", str(source)], env=env)
    assert result.exit_code == 0, result.output
    assert "3 imported, 1 errors" in result.output
    with (tmp_path / "users.csv.errors.csv").open(newline="") as handle:
        assert list(csv.DictReader(handle)) == [
            {"row": "3", "line": "4", "identifier": "", "error": "external_id is blank"}
        ]
    assert not (tmp_path / "users.csv.checkpoint.json").exists()
    users = export(http, ["imp-1", "imp-2", "imp-3"])
    assert users["imp-1"]["first_name"] == "Ann" and users["imp-1"]["country"] == "GB"
    assert users["imp-1"]["custom_attributes"] == {
        "shoe_size": 38,
        "vip": True,
        "member_since": "2024-05-01T00:00:00.000Z",
        "height": 1.72,
        "tags": ["gold", "early"],
        "zip": "007",
    }
    assert users["imp-2"]["custom_attributes"]["vip"] is False
    assert "height" not in users["imp-2"]["custom_attributes"]  # blank cells are not sent


class StopsAfter:
    """Forwards ``n`` requests to the real API, then behaves like a network that went away."""

    def __init__(self, inner: HttpTransport, n: int) -> None:
        self.inner, self.left = inner, n

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        if self.left <= 0:
            raise TransportError("network unreachable")
        self.left -= 1
        return self.inner.request(method, path, body)


def test_an_interrupted_import_resumes_from_its_checkpoint(
    platform: LocalPlatform, http: Http, tmp_path: Path
) -> None:
    from engagekit.cli import app

    source = tmp_path / "many.csv"
    rows = [f"res-{i},Name{i},{i}" for i in range(1, 11)]
    source.write_text("external_id,first_name,visits\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert platform.api_key
    real = HttpTransport(platform.api_url, platform.api_key)
    with pytest.raises(ImportAborted):
        import_users(source, StopsAfter(real, 2), batch_size=3, retry=RetryPolicy(attempts=1))
    real.close()
    checkpoint = json.loads((tmp_path / "many.csv.checkpoint.json").read_text())
    assert checkpoint["last_row"] == 6 and checkpoint["imported"] == 6
    assert set(export(http, [f"res-{i}" for i in range(1, 11)])) == {f"res-{i}" for i in range(1, 7)}
    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": platform.api_key}
    refused = CliRunner().invoke(app, ["import", "users", str(source)], env=env)
    assert refused.exit_code == 1 and "--resume" in refused.output
    result = CliRunner().invoke(
        app, ["import", "users", str(source), "--resume", "--batch-size", "3"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "resumed after row 6" in result.output
    users = export(http, [f"res-{i}" for i in range(1, 11)])
    assert len(users) == 10 and users["res-10"]["custom_attributes"] == {"visits": 10}
