"""Where the Online Retail data is, and reading it line by line (memory stays flat).

The data lives outside the project, in ``../shared/data/online-retail/`` next to the checkout
(``ENGAGEKIT_DATA_DIR`` or ``--data-dir`` point elsewhere). Columns:
``InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country`` with
``InvoiceDate`` in UK local time without zone and ``CustomerID`` written as a float (``17850.0``).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from engagekit._project import ROOT
from engagekit.errors import EngagekitError, ValidationError

SAMPLE_FILE = "sample-2010-12-01-to-03.csv"
FULL_FILE = "online-retail.csv.gz"
COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
UK = ZoneInfo("Europe/London")


class DataNotFoundError(EngagekitError):
    """The Online Retail files are not where they were looked for; the message says where and how
    to point elsewhere."""


@dataclass(frozen=True, slots=True)
class RetailLine:
    """One invoice line. ``local_time`` is naive UK local time as in the file; ``customer_id`` is
    the CustomerID without its ``.0`` (``None`` for anonymous shoppers); ``unit_price`` in GBP."""

    invoice: str
    stock_code: str
    description: str
    quantity: int
    local_time: datetime
    unit_price: float
    customer_id: str | None
    country: str

    @property
    def is_cancellation(self) -> bool:
        return self.invoice.startswith("C")


def default_data_dir() -> Path:
    """``../shared/data`` relative to the project checkout."""
    return ROOT.parent / "shared" / "data"


def locate(data_dir: Path | None = None, *, full: bool = False) -> Path:
    """The sample (default) or the full ``.csv.gz`` under ``<data_dir>/online-retail/``.

    Raises :class:`DataNotFoundError` naming the path looked at.
    """
    base = (data_dir or default_data_dir()) / "online-retail"
    path = base / (FULL_FILE if full else SAMPLE_FILE)
    if not path.is_file():
        raise DataNotFoundError(
            f"Online Retail data not found at {path}: the replay reads ../shared/data/online-retail/ next "
            "to the project checkout; set ENGAGEKIT_DATA_DIR (or --data-dir) to the folder holding "
            "online-retail/, or pass --file"
        )
    return path


def to_utc(local_time: datetime) -> datetime:
    """UK local wall time (naive) -> aware UTC (GMT in winter, BST in summer; an ambiguous hour at
    the October change is read as its first, BST, occurrence)."""
    return local_time.replace(tzinfo=UK).astimezone(UTC)


def parse_line(row: dict[str, str]) -> RetailLine:
    """A CSV record -> :class:`RetailLine`. Raises :class:`ValidationError` naming the bad field."""
    try:
        customer = row["CustomerID"].strip()
        if customer.endswith(".0"):
            customer = customer[:-2]
        return RetailLine(
            invoice=row["InvoiceNo"].strip(),
            stock_code=row["StockCode"].strip(),
            description=(row["Description"] or "").strip(),
            quantity=int(row["Quantity"]),
            local_time=datetime.strptime(row["InvoiceDate"].strip(), "%Y-%m-%d %H:%M:%S"),
            unit_price=float(row["UnitPrice"]),
            customer_id=customer or None,
            country=(row["Country"] or "").strip(),
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(f"unreadable invoice line: {exc}") from exc


def _open(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_records(
    path: Path, date_from: date | None = None, date_to: date | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, record)`` for each line whose local InvoiceDate falls in [from, to] (inclusive,
    either open). Raises :class:`ValidationError` when the header is not the Online Retail one."""
    low = date_from.isoformat() if date_from else ""
    high = date_to.isoformat() if date_to else "9999"
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValidationError(f"{path.name} does not have the Online Retail columns {', '.join(COLUMNS)}")
        for record in reader:
            day = (record.get("InvoiceDate") or "")[:10]
            if low <= day <= high:
                yield reader.line_num, record


def scan(path: Path, date_from: date | None = None, date_to: date | None = None) -> tuple[int, date | None]:
    """Lines in range and the last local date among them (one fast pass, for progress and shifting)."""
    count, last = 0, ""
    for _, record in read_records(path, date_from, date_to):
        count += 1
        last = max(last, record["InvoiceDate"][:10])
    return count, (date.fromisoformat(last) if last else None)
