"""The Online Retail replay over real HTTP, checked against aggregates computed from the CSV.

The platform's clock starts on 2010-12-04 (the day after the 3-day sample), so the sample lies in
``/users/export/ids``'s 90-day window (braze-api.md §1.6) without shifting, and exported first/last
times can be compared exactly. Skips while ``/users/track`` is not in the manifest, or without
``../shared/data``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from engagekit.clock import ScaledClock
from engagekit.imports.track import HttpTransport
from engagekit.replay import ReplaySummary, expected_customers, read_records, replay
from engagekit.replay.expected import CustomerTotals
from typer.testing import CliRunner

from infra.local.runtime import LocalPlatform
from infra.manifest import MANIFEST
from tests.e2e.conftest import Http

ROUTES = {route.path for route, _ in MANIFEST.routes()}
pytestmark = pytest.mark.skipif(
    "/users/track" not in ROUTES, reason="/users/track is not in infra/manifest.py yet (issue 3)"
)
needs_export = pytest.mark.skipif(
    "/users/export/ids" not in ROUTES, reason="/users/export/ids is not in infra/manifest.py yet (issue 3)"
)
DAY_AFTER_SAMPLE = datetime(2010, 12, 4, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def retail_platform() -> Iterator[LocalPlatform]:
    clock = ScaledClock(1.0, start=DAY_AFTER_SAMPLE)
    with LocalPlatform(clock=clock, api_port=0, aws_port=0) as running:
        yield running


@pytest.fixture(scope="module")
def http(retail_platform: LocalPlatform) -> Http:
    assert retail_platform.api_key
    return Http(retail_platform.api_url, retail_platform.api_key)


@pytest.fixture(scope="module")
def sample_path() -> Path:
    from tests.conftest import DATA_DIR

    path = DATA_DIR / "online-retail" / "sample-2010-12-01-to-03.csv"
    if not path.exists():
        pytest.skip(f"Online Retail sample not found at {path} (set ENGAGEKIT_DATA_DIR)")
    return path


@pytest.fixture(scope="module")
def replayed(retail_platform: LocalPlatform, sample_path: Path) -> ReplaySummary:
    assert retail_platform.api_key
    transport = HttpTransport(retail_platform.api_url, retail_platform.api_key)
    try:
        return replay(read_records(sample_path), transport)
    finally:
        transport.close()


@pytest.fixture(scope="module")
def expected(sample_path: Path) -> dict[str, CustomerTotals]:
    return expected_customers(sample_path)


def test_the_3_day_sample_replays_without_errors(
    replayed: ReplaySummary, expected: dict[str, CustomerTotals]
) -> None:
    assert replayed.errors == 0, replayed.error_reasons
    assert replayed.rows == 7419
    assert replayed.customers == len(expected)
    assert replayed.events == 84  # the sample's cancellation lines
    assert replayed.requests >= replayed.purchases / 75


def pick(expected: dict[str, CustomerTotals]) -> list[str]:
    """A few customers: the top two by revenue, one outside the UK, one who cancelled, the last one."""
    by_revenue = sorted(expected.values(), key=lambda c: (-c.revenue, c.external_id))
    chosen = [c.external_id for c in by_revenue[:2]]
    chosen.append(next(c.external_id for c in by_revenue if c.country not in (None, "GB")))
    chosen.append(next(c.external_id for c in by_revenue if c.cancellations and c.purchase_count))
    chosen.append(max(expected))
    return sorted(set(chosen))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@needs_export
def test_export_returns_the_purchase_aggregates_computed_from_the_csv(
    http: Http, replayed: ReplaySummary, expected: dict[str, CustomerTotals]
) -> None:
    ids = pick(expected)
    body = {
        "external_ids": ids,
        "fields_to_export": ["external_id", "country", "purchases", "total_revenue", "custom_events"],
    }
    status, _, answer = http.call("POST", "/users/export/ids", body)
    assert status == 201 or status == 200, answer
    users: dict[str, dict[str, Any]] = {u["external_id"]: u for u in answer["users"]}
    assert set(users) == set(ids)
    for cid in ids:
        want, got = expected[cid], users[cid]
        assert got.get("country") == want.country, cid
        assert got["total_revenue"] == pytest.approx(want.revenue, abs=0.01), cid
        purchases = {p["name"]: p for p in got.get("purchases", [])}
        assert set(purchases) == set(want.products), cid
        for code, product in want.products.items():
            assert purchases[code]["count"] == product.count, (cid, code)
            assert at(purchases[code]["first"]) == product.first, (cid, code)
            assert at(purchases[code]["last"]) == product.last, (cid, code)
        cancelled = {e["name"]: e for e in got.get("custom_events", [])}.get("order_cancelled")
        assert (cancelled["count"] if cancelled else 0) == want.cancellations, cid


@needs_export
def test_anonymous_shoppers_are_alias_only_users(
    http: Http, replayed: ReplaySummary, sample_path: Path
) -> None:
    invoice = next(
        r["InvoiceNo"] for _, r in read_records(sample_path) if not r["CustomerID"] and int(r["Quantity"]) > 0
    )
    body = {
        "user_aliases": [{"alias_name": invoice, "alias_label": "invoice"}],
        "fields_to_export": ["external_id", "user_aliases", "purchases", "country"],
    }
    status, _, answer = http.call("POST", "/users/export/ids", body)
    assert status in (200, 201), answer
    (user,) = answer["users"]
    assert "external_id" not in user
    assert {"alias_name": invoice, "alias_label": "invoice"} in user["user_aliases"]
    assert user["purchases"] and user.get("country") == "GB"


def test_the_cli_replays_a_file_shifted_to_today(
    retail_platform: LocalPlatform, tmp_path: Path, http: Http
) -> None:
    from engagekit.cli import app

    source = tmp_path / "two-days.csv"
    source.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "900001,CLI1,CLI TEST A,2,2010-11-01 07:00:00,1.50,99001.0,Norway\n"
        "900002,CLI2,CLI TEST B,1,2010-11-02 00:01:00,4.00,99001.0,Norway\n"
    )
    env = {"ENGAGEKIT_API_URL": retail_platform.api_url, "ENGAGEKIT_API_KEY": retail_platform.api_key or ""}
    result = CliRunner().invoke(app, ["replay", "--file", str(source), "--shift-to-today", "--json"], env=env)
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["rows"], summary["purchases"], summary["errors"]) == (2, 2, 0)
    today = retail_platform.clock.now().date()
    assert summary["shift_days"] == (today - datetime(2010, 11, 2).date()).days
    if "/users/export/ids" in ROUTES:
        body = {"external_ids": ["99001"], "fields_to_export": ["purchases", "country"]}
        (user,) = http.call("POST", "/users/export/ids", body)[2]["users"]
        last = {p["name"]: at(p["last"]) for p in user["purchases"]}
        assert last["CLI2"].date() == today and user["country"] == "NO"


def test_the_cli_explains_missing_data(tmp_path: Path) -> None:
    from engagekit.cli import app

    env = {"ENGAGEKIT_DATA_DIR": str(tmp_path), "ENGAGEKIT_API_KEY": "unused-key-unused-key-unused"}
    result = CliRunner().invoke(app, ["replay"], env=env)
    assert result.exit_code == 2
    assert "Online Retail data not found" in result.output and "ENGAGEKIT_DATA_DIR" in result.output
