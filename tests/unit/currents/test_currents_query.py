"""DuckDB views over exported Currents files in a local folder (no network)."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from engagekit.currents import events as ev
from engagekit.currents.errors import CurrentsQueryError
from engagekit.currents.query import (
    PARTITION_COLUMN,
    athena_columns,
    connect,
    run_query,
    schema,
    view_columns,
)

USER = ev.UserIds("5f1e2d3c4b5a69788796a5b4", "ext-1", "Europe/Paris")
SEND = ev.MessageIds(campaign_id="camp-1", dispatch_id="disp-1", send_id="send-1")


def write_object(root: Path, events: Sequence[ev.CurrentsEvent], hour: str, name: str) -> Path:
    """Write ``events`` the way the delivery stream does: one gzip NDJSON object per type and hour."""
    by_type: dict[str, list[bytes]] = {}
    for event in events:
        by_type.setdefault(event.event_type, []).append(event.to_line())
    path = root
    for event_type, lines in by_type.items():
        folder = root / "currents" / f"event_type={event_type}" / f"date={hour}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"currents-1-{hour}-{name}.gz"
        path.write_bytes(gzip.compress(b"".join(lines)))
    return path


def test_every_event_type_has_a_view_even_without_data(tmp_path: Path) -> None:
    _, rows = run_query("SELECT count(*) FROM email_sends", tmp_path)

    assert rows == [(0,)]
    described = schema(tmp_path)
    assert set(described) == set(ev.VIEW_NAMES.values())
    assert described["email_sends"] == view_columns(ev.EmailSend)


def test_a_view_deduplicates_events_delivered_twice(tmp_path: Path) -> None:
    events = [ev.custom_event(USER, "played", {"level": i}, time=1_767_225_600 + i) for i in range(5)]
    write_object(tmp_path, events, "2026-01-01-00", "a")
    write_object(tmp_path, events[:3], "2026-01-01-01", "retry")  # a retried record, next hour

    _, rows = run_query("SELECT count(*), count(DISTINCT id) FROM custom_events", tmp_path)

    assert rows == [(5, 5)]


def test_views_expose_currents_fields_with_their_types_and_the_hour_partition(tmp_path: Path) -> None:
    event = ev.custom_event(USER, "played", {"level": 7}, time=1_767_225_600)
    write_object(tmp_path, [event], "2026-01-01-00", "a")

    columns, rows = run_query(
        "SELECT id, time, user_id, external_user_id, timezone, name, properties->>'level', date "
        "FROM custom_events",
        tmp_path,
    )

    assert columns[-1] == PARTITION_COLUMN
    assert rows == [
        (event.id, 1_767_225_600, USER.user_id, "ext-1", "Europe/Paris", "played", "7", "2026-01-01-00")
    ]


def test_missing_optional_keys_read_as_null(tmp_path: Path) -> None:
    send = ev.message_event(ev.EmailSend, USER, SEND, time=10, email_address="a@example.com")
    write_object(tmp_path, [send], "2026-01-01-00", "a")

    _, rows = run_query("SELECT dispatch_id, ip_pool, from_domain FROM email_sends", tmp_path)

    assert rows == [("disp-1", None, None)]


def test_list_fields_are_duckdb_lists(tmp_path: Path) -> None:
    click = ev.message_event(
        ev.EmailClick, USER, SEND, time=10, email_address="a@b.c", suspected_bot_click_reason=["ua", "ip"]
    )
    write_object(tmp_path, [click], "2026-01-01-00", "a")

    _, rows = run_query("SELECT suspected_bot_click_reason FROM email_clicks", tmp_path)

    assert rows == [(["ua", "ip"],)]


def test_a_send_and_its_delivery_join_by_dispatch_and_user(tmp_path: Path) -> None:
    sends = [
        ev.message_event(ev.EmailSend, ev.UserIds(f"user{i:020d}"), SEND, time=10, email_address=f"{i}@x.io")
        for i in range(4)
    ]
    delivered = [
        ev.message_event(
            ev.EmailDelivery, ev.UserIds(s.user_id), SEND, time=20, email_address=s.email_address
        )
        for s in sends[:3]
    ]
    write_object(tmp_path, [*sends, *delivered], "2026-01-01-00", "a")

    _, rows = run_query(
        "SELECT count(*) AS sent, count(d.id) AS delivered FROM email_sends s "
        "LEFT JOIN email_deliveries d USING (dispatch_id, user_id)",
        tmp_path,
    )

    assert rows == [(4, 3)]


@dataclass
class RootCase:
    name: str
    pick: str


@pytest.mark.parametrize(
    "case",
    [RootCase("bucket-mirror", "."), RootCase("currents-folder", "currents")],
    ids=lambda c: c.name,
)
def test_source_is_the_bucket_mirror_or_the_currents_folder(tmp_path: Path, case: RootCase) -> None:
    write_object(tmp_path, [ev.user_delete_request("u" * 24, time=1)], "2026-01-01-00", "a")

    _, rows = run_query("SELECT count(*) FROM user_delete_requests", tmp_path / case.pick)

    assert rows == [(1,)]


def test_files_outside_the_layout_are_ignored(tmp_path: Path) -> None:
    write_object(tmp_path, [ev.custom_event(USER, "e", time=1)], "2026-01-01-00", "a")
    stray = tmp_path / "currents" / "event_type=users.behaviors.CustomEvent" / "date=2026-01-01-00"
    (stray / "upload.gz.part").write_bytes(b"half")

    _, rows = run_query("SELECT count(*) FROM custom_events", tmp_path)

    assert rows == [(1,)]


def test_bad_sql_raises_a_query_error_with_duckdbs_message(tmp_path: Path) -> None:
    with pytest.raises(CurrentsQueryError, match="no_such_view"):
        run_query("SELECT * FROM no_such_view", tmp_path)


def test_declared_schema_needs_no_source() -> None:
    declared = schema()
    assert declared["purchases"][:3] == [("event_type", "VARCHAR"), ("id", "VARCHAR"), ("time", "BIGINT")]
    assert ("price", "DOUBLE") in declared["purchases"]
    assert ("in_control_group", "BOOLEAN") in declared["canvas_entries"]
    assert all(cols[-1] == (PARTITION_COLUMN, "VARCHAR") for cols in declared.values())


def test_connect_returns_a_connection_with_every_view(tmp_path: Path) -> None:
    connection = connect(tmp_path, threads=1)
    try:
        views = {
            r[0]
            for r in connection.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
    finally:
        connection.close()
    assert views == set(ev.VIEW_NAMES.values())


def test_athena_columns_mirror_the_views_in_hive_types() -> None:
    columns = dict(athena_columns(ev.EmailClick))

    assert columns["time"] == "bigint"
    assert columns["suspected_bot_click_reason"] == "array<string>"
    assert columns["is_amp"] == "boolean" and columns["email_address"] == "string"
    assert list(columns) == [name for name, _ in view_columns(ev.EmailClick)[:-1]]
    assert dict(athena_columns(ev.Purchase))["price"] == "double"
