"""Online Retail lines -> Braze /users/track objects (docs/import.md), on small inline CSVs."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engagekit.errors import ValidationError
from engagekit.replay.countries import country_code
from engagekit.replay.mapping import Mapper, split_quantity
from engagekit.replay.source import (
    DataNotFoundError,
    RetailLine,
    locate,
    parse_line,
    read_records,
    scan,
    to_utc,
)

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def line(text: str) -> RetailLine:
    (record,) = csv.DictReader(io.StringIO(HEADER + text + "\n"))
    return parse_line(record)


def test_a_line_parses_with_the_customer_id_without_its_float_suffix() -> None:
    parsed = line(
        "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom"
    )
    assert parsed == RetailLine(
        "536365",
        "85123A",
        "WHITE HANGING HEART T-LIGHT HOLDER",
        6,
        datetime(2010, 12, 1, 8, 26),
        2.55,
        "17850",
        "United Kingdom",
    )
    assert line("536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom").customer_id is None


@pytest.mark.parametrize(
    "text",
    [
        "536365,85123A,X,six,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536365,85123A,X,6,01/12/2010 08:26,2.55,17850.0,United Kingdom",
        "536365,85123A,X,6,2010-12-01 08:26:00,cheap,17850.0,United Kingdom",
    ],
    ids=["quantity", "date", "price"],
)
def test_unreadable_lines_are_validation_errors(text: str) -> None:
    with pytest.raises(ValidationError):
        line(text)


@dataclass
class TimeCase:
    local: datetime
    utc: str


@pytest.mark.parametrize(
    "case",
    [
        TimeCase(datetime(2010, 12, 1, 8, 26), "2010-12-01T08:26:00+00:00"),  # GMT in winter
        TimeCase(datetime(2011, 6, 15, 9, 0), "2011-06-15T08:00:00+00:00"),  # BST in summer
        TimeCase(datetime(2011, 3, 27, 2, 30), "2011-03-27T01:30:00+00:00"),  # the skipped hour reads as BST
        TimeCase(datetime(2011, 10, 30, 1, 30), "2011-10-30T00:30:00+00:00"),  # ambiguous: first (BST)
    ],
    ids=lambda c: c.local.isoformat(),
)
def test_invoice_dates_are_uk_local_time_converted_to_utc(case: TimeCase) -> None:
    assert to_utc(case.local).isoformat() == case.utc


@dataclass
class CountryCase:
    name: str
    code: str | None


@pytest.mark.parametrize(
    "case",
    [
        CountryCase("United Kingdom", "GB"),
        CountryCase("EIRE", "IE"),
        CountryCase("RSA", "ZA"),
        CountryCase("USA", "US"),
        CountryCase("Channel Islands", None),
        CountryCase("European Community", None),
        CountryCase("Unspecified", None),
        CountryCase("Atlantis", None),
        CountryCase("GB", "GB"),
    ],
    ids=lambda c: c.name,
)
def test_countries_map_to_iso_alpha2_or_nothing(case: CountryCase) -> None:
    assert country_code(case.name) == case.code


def test_the_data_sets_38_countries_are_all_known() -> None:
    from engagekit.replay.countries import COUNTRY_CODES

    data_set = {
        "Australia", "Austria", "Bahrain", "Belgium", "Brazil", "Canada", "Channel Islands", "Cyprus",
        "Czech Republic", "Denmark", "EIRE", "European Community", "Finland", "France", "Germany",
        "Greece", "Hong Kong", "Iceland", "Israel", "Italy", "Japan", "Lebanon", "Lithuania", "Malta",
        "Netherlands", "Norway", "Poland", "Portugal", "RSA", "Saudi Arabia", "Singapore", "Spain",
        "Sweden", "Switzerland", "USA", "United Arab Emirates", "United Kingdom", "Unspecified",
    }  # fmt: skip
    assert len(data_set) == 38 and data_set <= set(COUNTRY_CODES)


def test_a_customers_first_line_sets_country_then_only_purchases_follow() -> None:
    mapper = Mapper()
    first = mapper.map(line("536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom"))
    second = mapper.map(line("536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom"))
    assert first.new_customer and not second.new_customer
    assert first.objects == [
        ("attributes", {"external_id": "17850", "country": "GB"}),
        (
            "purchases",
            {
                "external_id": "17850",
                "product_id": "85123A",
                "currency": "GBP",
                "price": 2.55,
                "quantity": 6,
                "time": "2010-12-01T08:26:00.000Z",
                "properties": {"invoice_no": "536365", "description": "HEART"},
            },
        ),
    ]
    assert [a for a, _ in second.objects] == ["purchases"]


def test_a_country_change_sends_the_new_country_and_unmappable_ones_send_none() -> None:
    mapper = Mapper()
    mapper.map(line("1,A,X,1,2010-12-01 08:00:00,1,12345.0,France"))
    moved = mapper.map(line("2,A,X,1,2010-12-02 08:00:00,1,12345.0,Germany"))
    vague = mapper.map(line("3,A,X,1,2010-12-03 08:00:00,1,12345.0,Unspecified"))
    assert moved.objects[0] == ("attributes", {"external_id": "12345", "country": "DE"})
    assert [a for a, _ in vague.objects] == ["purchases"]
    islander = mapper.map(line("4,A,X,1,2010-12-03 08:00:00,1,99999.0,Channel Islands"))
    assert islander.new_customer and [a for a, _ in islander.objects] == ["purchases"]


def test_anonymous_lines_create_one_alias_user_per_invoice() -> None:
    mapper = Mapper()
    first = mapper.map(line("536414,22139,RETROSPOT TEA SET,56,2010-12-01 11:52:00,0,,United Kingdom"))
    again = mapper.map(line("536414,21756,BATH BUILDING BLOCK,2,2010-12-01 11:52:00,5.95,,United Kingdom"))
    alias = {"alias_name": "536414", "alias_label": "invoice"}
    assert first.new_anonymous and not again.new_anonymous
    assert first.objects[0] == (
        "attributes",
        {"user_alias": alias, "_update_existing_only": False, "country": "GB"},
    )
    assert first.objects[1][1]["user_alias"] == alias and first.objects[1][1]["price"] == 0.0
    assert [a for a, _ in again.objects] == ["purchases"]


def test_cancellations_become_order_cancelled_events() -> None:
    mapped = Mapper().map(line("C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom"))
    assert mapped.kind == "cancellation"
    assert mapped.objects[1] == (
        "events",
        {
            "external_id": "14527",
            "name": "order_cancelled",
            "time": "2010-12-01T09:41:00.000Z",
            "properties": {
                "invoice_no": "C536379",
                "product_id": "D",
                "quantity": 1,
                "unit_price": 27.5,
                "currency": "GBP",
                "description": "Discount",
            },
        },
    )


@pytest.mark.parametrize(
    "text",
    [
        "536589,21777,damaged,-10,2010-12-01 16:50:00,0,,United Kingdom",
        "A563185,B,Adjust bad debt,1,2011-08-12 14:50:00,-11062.06,,United Kingdom",
        "536590,21777,zero,0,2010-12-01 16:50:00,1,12345.0,United Kingdom",
    ],
    ids=["stock adjustment", "bad debt", "zero quantity"],
)
def test_adjustment_lines_are_skipped(text: str) -> None:
    mapped = Mapper().map(line(text))
    assert (mapped.kind, mapped.objects) == ("skipped", [])


@pytest.mark.parametrize(
    ("quantity", "parts"),
    [(1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50]), (80995, [100] * 809 + [95])],
)
def test_quantities_over_100_split_into_braze_sized_purchases(quantity: int, parts: list[int]) -> None:
    assert split_quantity(quantity) == parts
    assert sum(parts) == quantity


def test_a_large_line_keeps_units_and_revenue_across_its_purchases() -> None:
    mapped = Mapper().map(line("536370,22728,ALARM CLOCK,250,2010-12-01 08:45:00,3.75,12583.0,France"))
    purchases: list[dict[str, Any]] = [o for a, o in mapped.objects if a == "purchases"]
    assert [p["quantity"] for p in purchases] == [100, 100, 50]
    assert sum(p["quantity"] * p["price"] for p in purchases) == pytest.approx(937.5)


def test_shift_moves_local_days_before_the_utc_conversion() -> None:
    mapper = Mapper(shift=timedelta(days=190))  # 2010-12-01 08:26 GMT -> 2011-06-09 08:26 BST
    assert mapper.time_of(line("1,A,X,1,2010-12-01 08:26:00,1,1.0,France")) == "2011-06-09T07:26:00.000Z"


def test_locate_names_the_missing_path_and_the_override(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as missing:
        locate(tmp_path, full=True)
    assert str(tmp_path / "online-retail" / "online-retail.csv.gz") in str(missing.value)
    assert "ENGAGEKIT_DATA_DIR" in str(missing.value)
    (tmp_path / "online-retail").mkdir()
    (tmp_path / "online-retail" / "sample-2010-12-01-to-03.csv").write_text(HEADER)
    assert locate(tmp_path).name == "sample-2010-12-01-to-03.csv"


def test_records_filter_by_local_day_and_scan_finds_the_last_day(tmp_path: Path) -> None:
    path = tmp_path / "mini.csv"
    path.write_text(
        HEADER
        + "1,A,X,1,2010-12-01 08:00:00,1,1.0,France\n"
        + "2,A,X,1,2010-12-02 23:30:00,1,1.0,France\n"
        + "3,A,X,1,2010-12-03 00:10:00,1,1.0,France\n"
    )
    assert [n for n, _ in read_records(path, date(2010, 12, 2), date(2010, 12, 2))] == [3]
    assert scan(path) == (3, date(2010, 12, 3))
    assert scan(path, None, date(2010, 12, 2)) == (2, date(2010, 12, 2))


def test_records_refuse_a_file_without_the_online_retail_columns(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationError, match="Online Retail columns"):
        list(read_records(path))
