"""``engagekit query``: arguments, --schema, output formats and error lines (no platform, no network).

Running SQL against a platform is covered end to end in tests/e2e/test_currents_export.py.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from engagekit.cli import app
from engagekit.cli.query import OutputFormat, default_cache_dir, one_line, print_rows
from engagekit.currents import events as ev
from engagekit.currents.query import view_columns
from typer.testing import CliRunner


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["query", *args])
    return result.exit_code, result.stdout, result.stderr


# --- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(), ("SELECT 1", "--schema")], ids=["neither", "both"])
def test_sql_or_schema_exactly_one(args: tuple[str, ...]) -> None:
    code, out, err = invoke(*args)
    assert (code, out) == (2, "")
    assert err == "error: give SQL to run, or --schema (not both)\n"


# --- --schema --------------------------------------------------------------------------------
def test_schema_as_csv_lists_every_view_column_and_type() -> None:
    code, out, _ = invoke("--schema", "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["view", "event_type", "column", "type"]
    expected = [
        [cls.VIEW, event_type, name, kind]
        for event_type, cls in ev.EVENT_TYPES.items()
        for name, kind in view_columns(cls)
    ]
    assert sorted(rows[1:]) == sorted(expected)


def test_schema_as_json_has_one_entry_per_view() -> None:
    code, out, _ = invoke("--schema", "-f", "json")
    assert code == 0
    views = {v["view"]: v for v in json.loads(out)}
    assert set(views) == set(ev.VIEW_NAMES.values())
    assert views["purchases"]["event_type"] == "users.behaviors.Purchase"
    assert {"name": "price", "type": "DOUBLE"} in views["purchases"]["columns"]


def test_schema_as_table_names_each_view_with_its_columns() -> None:
    code, out, _ = invoke("--schema")
    assert code == 0
    for view in ("custom_events", "email_sends", "in_app_message_aborts"):
        assert view in out
    assert "price DOUBLE" in out


# --- results ---------------------------------------------------------------------------------
COLUMNS = ["name", "n", "missing", "reasons", "at", "amount", "name"]
ROWS = [
    ("a,b", 3, None, ["bot", "ua"], datetime(2026, 3, 1, 12, tzinfo=UTC), Decimal("1.50"), "x"),
    ("[red]", 0, None, [], datetime(2026, 3, 1, 13, tzinfo=UTC), Decimal("0"), "y"),
]


def printed(fmt: OutputFormat, capsys: pytest.CaptureFixture[str], rows: list[tuple[Any, ...]] = ROWS) -> str:
    print_rows(COLUMNS, rows, fmt)
    return capsys.readouterr().out


def test_json_is_an_array_of_objects_with_plain_values(capsys: pytest.CaptureFixture[str]) -> None:
    got = json.loads(printed(OutputFormat.json, capsys))
    assert got[0] == {
        "name": "a,b",
        "n": 3,
        "missing": None,
        "reasons": ["bot", "ua"],
        "at": "2026-03-01T12:00:00+00:00",
        "amount": 1.5,
        "name_2": "x",  # a repeated column name is suffixed, not lost
    }


def test_csv_has_a_header_empty_nulls_and_json_lists(capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.reader(io.StringIO(printed(OutputFormat.csv, capsys))))
    assert rows == [
        COLUMNS,
        ["a,b", "3", "", '["bot", "ua"]', "2026-03-01T12:00:00+00:00", "1.50", "x"],
        ["[red]", "0", "", "[]", "2026-03-01T13:00:00+00:00", "0", "y"],
    ]


def test_table_shows_every_value_null_and_a_row_count(capsys: pytest.CaptureFixture[str]) -> None:
    out = printed(OutputFormat.table, capsys)
    assert "NULL" in out and "[red]" in out and "2026-03-01T12:00:00+00:00" in out
    assert "…" not in out  # never elided, however narrow the terminal
    assert out.rstrip().endswith("2 rows")


def test_an_empty_result_prints_its_header(capsys: pytest.CaptureFixture[str]) -> None:
    assert printed(OutputFormat.csv, capsys, rows=[]) == ",".join(COLUMNS) + "\n"
    assert json.loads(printed(OutputFormat.json, capsys, rows=[])) == []
    assert printed(OutputFormat.table, capsys, rows=[]).rstrip().endswith("0 rows")


# --- errors and the synced folder ------------------------------------------------------------
@dataclass
class LineCase:
    name: str
    message: str
    expected: str


LINE_CASES = [
    LineCase(
        "parser error with context and caret",
        'Parser Error: syntax error at or near "FRM"\n\nLINE 1: SELECT * FRM x\n                  ^',
        'Parser Error: syntax error at or near "FRM"',
    ),
    LineCase(
        "catalog error with a suggestion",
        'Catalog Error: Table with name custom_eventz does not exist!\nDid you mean "custom_events"?',
        'Catalog Error: Table with name custom_eventz does not exist! Did you mean "custom_events"?',
    ),
    LineCase(
        "already one line", "cannot sync s3://lake/currents/: boom", "cannot sync s3://lake/currents/: boom"
    ),
]


@pytest.mark.parametrize("case", LINE_CASES, ids=lambda c: c.name)
def test_errors_are_one_line(case: LineCase) -> None:
    assert one_line(case.message) == case.expected


def test_each_local_platform_has_its_own_synced_folder() -> None:
    a = default_cache_dir("http://127.0.0.1:5000", "lake")
    b = default_cache_dir("http://127.0.0.1:5001/", "lake")
    assert a != b
    assert a.parts[-3:] == ("engagekit-currents", "127.0.0.1-5000", "lake")
    assert isinstance(a, Path)


def test_empty_sql_is_a_one_line_error_not_a_traceback() -> None:
    from engagekit.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["query", "  "])
    assert result.exit_code == 2 and "the SQL is empty" in result.output
