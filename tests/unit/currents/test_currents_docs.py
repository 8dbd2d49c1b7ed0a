"""docs/currents.md lists every view with its event type and columns, and its SQL examples run."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from engagekit.currents import events as ev
from engagekit.currents.query import run_query, view_columns

DOC = Path(__file__).resolve().parents[3] / "docs" / "currents.md"
COMMON = {"event_type", "id", "time", "user_id", "external_user_id"}
MESSAGE = {
    "timezone",
    "app_group_id",
    "campaign_id",
    "campaign_name",
    "message_variation_id",
    "message_variation_name",
    "canvas_id",
    "canvas_name",
    "canvas_variation_id",
    "canvas_variation_name",
    "canvas_step_id",
    "canvas_step_name",
    "send_id",
    "dispatch_id",
}
DEVICE = {"app_id", "platform", "os_version", "device_model", "device_id", "ad_id", "ad_id_type"}
GROUPS = {
    "**M**": MESSAGE,
    "**M** without `dispatch_id`": MESSAGE - {"dispatch_id"},
    "**D**": DEVICE | {"ad_tracking_enabled"},
}
ROW = re.compile(r"^\| `(?P<view>\w+)` \| `(?P<type>[\w.]+)` \| (?P<columns>.*) \|$", re.M)


def documented_rows() -> dict[str, tuple[str, set[str]]]:
    """view -> (event type, columns besides the common ones), from the doc's tables."""
    rows = {}
    for match in ROW.finditer(DOC.read_text()):
        columns: set[str] = set()
        for part in (p.strip() for p in match["columns"].split(", ")):
            named = GROUPS.get(part)
            columns |= named if named is not None else {re.findall(r"`(\w+)`", part)[0]}
        rows[match["view"]] = (match["type"], columns)
    return rows


def test_the_doc_lists_every_view_with_its_event_type() -> None:
    rows = documented_rows()
    assert {view: t for view, (t, _) in rows.items()} == {c.VIEW: t for t, c in ev.EVENT_TYPES.items()}


@pytest.mark.parametrize("cls", ev.EVENT_CLASSES, ids=lambda c: c.VIEW)
def test_the_doc_lists_exactly_the_columns_of_each_view(cls: type[ev.CurrentsEvent]) -> None:
    _, columns = documented_rows()[cls.VIEW]
    assert columns == {name for name, _ in view_columns(cls)[:-1]} - COMMON


def test_every_sql_example_in_the_doc_runs_on_duckdb(tmp_path: Path) -> None:
    user = ev.UserIds("a" * 24, "user-42", "UTC")
    send = ev.MessageIds(campaign_id="c", campaign_name="Spring", dispatch_id="d")
    events = [
        ev.custom_event(user, "trial_started", {"plan": "pro"}, time=1_767_225_600),
        *ev.purchases(user, "sku-1", 2.5, "EUR", time=1_767_225_601),
        ev.message_event(ev.EmailSend, user, send, time=1_767_225_602, email_address="a@b.io"),
        ev.message_event(ev.EmailDelivery, user, send, time=1_767_225_603, email_address="a@b.io"),
        ev.user_event(
            ev.SubscriptionGlobalStateChange, user, time=1_767_225_604, subscription_status="Opted In"
        ),
    ]
    for event in events:
        folder = tmp_path / "currents" / f"event_type={event.event_type}" / "date=2026-01-01-00"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{event.id}.gz").write_bytes(gzip.compress(event.to_line()))
    examples = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)

    assert len(examples) >= 6
    for sql in examples:
        run_query(sql, tmp_path)  # raises CurrentsQueryError on any DuckDB error
