"""``engagekit replay --emails``: every customer gets ``customer-<id>@example.com`` once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.imports.track import ApiResponse
from engagekit.replay import replay, synthetic_email
from engagekit.replay.mapping import Mapper
from engagekit.replay.source import RetailLine, parse_line

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def line(text: str) -> RetailLine:
    (record,) = csv.DictReader(io.StringIO(HEADER + text + "\n"))
    return parse_line(record)


def attributes(mapper: Mapper, text: str) -> list[dict[str, Any]]:
    return [obj for array, obj in mapper.map(line(text)).objects if array == "attributes"]


def test_the_address_is_the_customer_id_at_the_reserved_documentation_domain() -> None:
    assert synthetic_email("17850") == "customer-17850@example.com"


@dataclass
class Case:
    name: str
    lines: list[str]
    want: list[list[dict[str, Any]]]  # attributes objects per line


CASES = [
    Case(
        "first line sets country and email, later lines nothing",
        [
            "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
            "536366,71053,LANTERN,6,2010-12-01 08:28:00,3.39,17850.0,United Kingdom",
        ],
        [[{"external_id": "17850", "country": "GB", "email": "customer-17850@example.com"}], []],
    ),
    Case(
        "a customer without a mappable country still gets an email",
        ["1,A,X,1,2010-12-01 08:00:00,1,99999.0,Unspecified"],
        [[{"external_id": "99999", "email": "customer-99999@example.com"}]],
    ),
    Case(
        "a country change sends the country only",
        [
            "1,A,X,1,2010-12-01 08:00:00,1,12345.0,France",
            "2,A,X,1,2010-12-02 08:00:00,1,12345.0,Germany",
        ],
        [
            [{"external_id": "12345", "country": "FR", "email": "customer-12345@example.com"}],
            [{"external_id": "12345", "country": "DE"}],
        ],
    ),
    Case(
        "a customer whose first line is a cancellation gets it too",
        ["C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom"],
        [[{"external_id": "14527", "country": "GB", "email": "customer-14527@example.com"}]],
    ),
    Case(
        "anonymous shoppers get none",
        ["536414,22139,TEA SET,56,2010-12-01 11:52:00,0,,United Kingdom"],
        [
            [
                {
                    "user_alias": {"alias_name": "536414", "alias_label": "invoice"},
                    "_update_existing_only": False,
                    "country": "GB",
                }
            ]
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_emails_option_adds_the_address_to_a_customers_first_attributes(case: Case) -> None:
    mapper = Mapper(emails=True)
    assert [attributes(mapper, text) for text in case.lines] == case.want


def test_without_the_option_no_email_is_sent() -> None:
    mapper = Mapper()
    assert attributes(mapper, "1,A,X,1,2010-12-01 08:00:00,1,12345.0,France") == [
        {"external_id": "12345", "country": "FR"}
    ]


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        self.bodies.append(body)
        return ApiResponse(201, {}, {"message": "success"})


def test_replay_passes_the_option_to_the_mapping() -> None:
    records = [
        (2, dict(zip(HEADER.strip().split(","), text.split(","), strict=True)))
        for text in ["536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom"]
    ]
    sink = Recorder()
    summary = replay(records, sink, emails=True)
    assert summary.attributes == 1
    assert sink.bodies[0]["attributes"][0]["email"] == "customer-17850@example.com"


def test_the_summary_counts_purchase_units_as_braze_counts_purchases() -> None:
    # a line of 250 units is three purchase objects (100 + 100 + 50) and 250 Braze purchases
    texts = [
        "536365,85123A,HEART,250,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",
        "536366,71053,LANTERN,6,2010-12-01 08:28:00,3.39,17850.0,United Kingdom",
        "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom",
    ]
    names = HEADER.strip().split(",")
    records = [(i + 2, dict(zip(names, t.split(","), strict=True))) for i, t in enumerate(texts)]
    summary = replay(records, Recorder())
    assert (summary.purchases, summary.units, summary.events) == (4, 256, 1)
    assert summary.as_dict()["units"] == 256
