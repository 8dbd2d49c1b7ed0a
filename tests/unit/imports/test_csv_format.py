"""Braze's CSV attribute import format: header rules, type inference and row parsing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engagekit.imports.csv_format import (
    CellValueError,
    ImportFormatError,
    ParsedRow,
    RowError,
    count_rows,
    infer_value,
    parse_header,
    parse_row,
    read_rows,
)


@dataclass
class InferCase:
    raw: str
    expected: Any


@pytest.mark.parametrize(
    "case",
    [
        InferCase("", None),
        InferCase("   ", None),
        InferCase("hello", "hello"),
        InferCase("TRUE", True),
        InferCase("false", False),
        InferCase("False", False),
        InferCase("42", 42),
        InferCase("-7", -7),
        InferCase("0", 0),
        InferCase("3.25", 3.25),
        InferCase("-0.5", -0.5),
        InferCase(".5", 0.5),
        InferCase("007", "007"),
        InferCase("1,000", "1,000"),
        InferCase("1 000", "1 000"),
        InferCase("1e5", "1e5"),
        InferCase("'123'", "123"),
        InferCase('"TRUE"', "TRUE"),
        InferCase("2019-11-20", "2019-11-20T00:00:00.000Z"),
        InferCase("2019-11-20T18:38:57", "2019-11-20T18:38:57.000Z"),
        InferCase("2019-11-20T18:38:57Z", "2019-11-20T18:38:57.000Z"),
        InferCase("2019-11-20T18:38:57+01:00", "2019-11-20T17:38:57.000Z"),
        InferCase("2019-11-20 18:38:57", "2019-11-20T18:38:57.000Z"),
        InferCase("2019-11-20T18:38:57.250Z", "2019-11-20T18:38:57.250Z"),
        InferCase("2019-13-40", "2019-13-40"),
        InferCase("3001-01-01", "3001-01-01"),
        InferCase("12/1/2021", "12/1/2021"),
        InferCase('["a","b"]', ["a", "b"]),
        InferCase("[1, 2.5, true]", [1, 2.5, True]),
        InferCase("[]", []),
        InferCase('[{"a": 1}]', '[{"a": 1}]'),
        InferCase("[draft]", "[draft]"),
        InferCase('{"a": 1}', '{"a": 1}'),
    ],
    ids=lambda c: repr(c.raw),
)
def test_infer_value_follows_brazes_csv_types(case: InferCase) -> None:
    assert infer_value(case.raw) == case.expected


@pytest.mark.parametrize(
    "case",
    [
        InferCase("9" * 5000, "a number of 5000 digits is too long"),
        InferCase("-" + "9" * 5000, "a number of 5000 digits is too long"),
        InferCase("9" * 400 + ".5", "out of the finite number range"),
        InferCase("[" + "9" * 400 + ".5]", "an array holds a number out of the finite number range"),
    ],
    ids=lambda c: f"{len(c.raw)} chars {c.raw[:1]!r}",
)
def test_infer_value_refuses_numbers_that_cannot_be_values(case: InferCase) -> None:
    with pytest.raises(CellValueError, match=case.expected):
        infer_value(case.raw)


@dataclass
class HeaderCase:
    name: str
    header: list[str]
    message: str


@pytest.mark.parametrize(
    "case",
    [
        HeaderCase("no identifier", ["first_name", "email"], "identifier column"),
        HeaderCase("lone alias name", ["user_alias_name", "email"], "both user_alias_name"),
        HeaderCase("mixed kinds", ["external_id", "user_alias_name", "user_alias_label"], "one kind"),
        HeaderCase("external and braze ids", ["external_id", "braze_id"], "one kind"),
        HeaderCase("duplicate", ["external_id", "email", "email"], "duplicate columns"),
        HeaderCase("empty name", ["external_id", ""], "no name"),
        HeaderCase("push tokens", ["external_id", "push_tokens"], "not supported"),
        HeaderCase("state without group", ["external_id", "subscription_state"], "subscription_group_id"),
        HeaderCase("dollar name", ["external_id", "$price"], "not starting with"),
        HeaderCase("empty header", [], "no header"),
    ],
    ids=lambda c: c.name,
)
def test_header_problems_are_refused_before_anything_is_sent(case: HeaderCase) -> None:
    with pytest.raises(ImportFormatError, match=case.message):
        parse_header(case.header)


@dataclass
class RowCase:
    name: str
    header: list[str]
    cells: list[str]
    expected: dict[str, Any] | str


@pytest.mark.parametrize(
    "case",
    [
        RowCase(
            "standard fields stay strings, custom are typed, blanks are not sent",
            ["external_id", "first_name", "phone", "dob", "shoe_size", "vip", "note"],
            ["u1", "Ann", "+442071838750", "1980-12-21", "42", "TRUE", ""],
            {
                "external_id": "u1",
                "first_name": "Ann",
                "phone": "+442071838750",
                "dob": "1980-12-21",
                "shoe_size": 42,
                "vip": True,
            },
        ),
        RowCase(
            "alias rows create alias-only users",
            ["user_alias_name", "user_alias_label", "last_name"],
            ["182736485", "my_alt_identifier", "Smith"],
            {
                "user_alias": {"alias_name": "182736485", "alias_label": "my_alt_identifier"},
                "_update_existing_only": False,
                "last_name": "Smith",
            },
        ),
        RowCase(
            "braze_id rows only update",
            ["braze_id", "home_city"],
            ["5e3f0000aaaa", "London"],
            {"braze_id": "5e3f0000aaaa", "_update_existing_only": True, "home_city": "London"},
        ),
        RowCase(
            "subscription group columns",
            ["external_id", "subscription_group_id", "subscription_state"],
            ["u2", "6ff593d7", "unsubscribed"],
            {
                "external_id": "u2",
                "subscription_groups": [
                    {"subscription_group_id": "6ff593d7", "subscription_state": "unsubscribed"}
                ],
            },
        ),
        RowCase(
            "standard booleans",
            ["external_id", "email_click_tracking_disabled"],
            ["u3", "true"],
            {"external_id": "u3", "email_click_tracking_disabled": True},
        ),
        RowCase("too few cells", ["external_id", "email"], ["u4"], "malformed row: 1 cells"),
        RowCase("too many cells", ["external_id"], ["u5", "x"], "malformed row: 2 cells"),
        RowCase("blank external id", ["external_id", "email"], ["", "a@b.c"], "external_id is blank"),
        RowCase("blank alias label", ["user_alias_name", "user_alias_label"], ["n", " "], "both required"),
        RowCase(
            "bad standard boolean",
            ["external_id", "email_open_tracking_disabled"],
            ["u6", "yes"],
            "TRUE or FALSE",
        ),
        RowCase(
            "number past the digit limit",
            ["external_id", "score"],
            ["u8", "7" * 5000],
            "score: a number of 5000 digits is too long to import",
        ),
        RowCase(
            "bad subscription state",
            ["external_id", "subscription_group_id", "subscription_state"],
            ["u7", "g", "maybe"],
            "subscribed or unsubscribed",
        ),
    ],
    ids=lambda c: c.name,
)
def test_rows_become_attribute_objects_or_row_errors(case: RowCase) -> None:
    out = parse_row(parse_header(case.header), case.cells, row=3, line=4)
    if isinstance(case.expected, str):
        assert isinstance(out, RowError) and case.expected in out.message
        assert (out.row, out.line) == (3, 4)
    else:
        assert isinstance(out, ParsedRow) and out.attributes == case.expected


def test_read_rows_numbers_rows_skips_blank_lines_and_strips_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text('\ufeffexternal_id,note\nu1,"two\nlines"\n\nu2,x\n,blank id\n', encoding="utf-8")
    schema, rows = read_rows(path)
    out = list(rows)
    assert schema.identifier == "external_id"
    assert [(r.row, r.line, type(r).__name__) for r in out] == [
        (1, 3, "ParsedRow"),
        (2, 5, "ParsedRow"),
        (3, 6, "RowError"),
    ]
    assert isinstance(out[0], ParsedRow) and out[0].attributes["note"] == "two\nlines"
    assert count_rows(path) == 3


def test_read_rows_refuses_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="empty"):
        read_rows(path)


def test_read_rows_names_the_line_of_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"external_id,city\n" + b"u1,ok\n" * 3 + "u9,Montr\xe9al\n".encode("latin-1"))
    _, rows = read_rows(path)
    with pytest.raises(ImportFormatError, match="UTF-8"):
        list(rows)
