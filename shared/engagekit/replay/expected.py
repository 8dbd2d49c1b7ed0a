"""Per-customer purchase aggregates computed straight from the Online Retail CSV: the oracle.

Independent of the replay's code path (its own CSV reading and arithmetic), so tests can compare
what the platform stored (``/users/export/ids``, segment sizes, template output) with what the
data says. The rules are the replay's documented mapping (docs/import.md): purchases are lines
with a positive Quantity outside cancellation invoices (``C...``) and with a non-negative price;
Braze counts quantity N as N purchases (braze-api.md §1.1.3), so ``count`` is units; revenue is
price x quantity in GBP; times are InvoiceDate read as Europe/London, shifted by ``shift_days``,
in UTC (instants in the future of the platform are clamped to "now" by the server, not here).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engagekit.replay.countries import country_code

_LONDON = ZoneInfo("Europe/London")


@dataclass
class ProductTotals:
    """One product of one customer: ``count`` units bought (= Braze purchases), ``lines`` invoice
    lines, ``revenue`` GBP, ``first``/``last`` aware UTC."""

    count: int = 0
    lines: int = 0
    revenue: float = 0.0
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class CustomerTotals:
    """One customer (``external_id`` = CustomerID without ``.0``).

    ``purchase_count`` units over all products, ``revenue`` GBP (rounded to pennies),
    ``first_purchase``/``last_purchase`` aware UTC, ``products`` by StockCode, ``cancellations``
    cancelled lines (one ``order_cancelled`` event each) with the latest one's time, invoice and
    StockCode (the event's ``last_properties`` on the profile), ``country`` the last mappable ISO
    code.
    """

    external_id: str
    country: str | None = None
    purchase_count: int = 0
    revenue: float = 0.0
    first_purchase: datetime | None = None
    last_purchase: datetime | None = None
    cancellations: int = 0
    last_cancellation: datetime | None = None
    last_cancelled_invoice: str | None = None
    last_cancelled_product: str | None = None
    products: dict[str, ProductTotals] = field(default_factory=dict)

    def top_products(self, n: int = 3) -> list[str]:
        """StockCodes by units bought, then revenue, then code (deterministic ties)."""
        ranked = sorted(self.products.items(), key=lambda kv: (-kv[1].count, -kv[1].revenue, kv[0]))
        return [code for code, _ in ranked[:n]]


def expected_customers(
    path: Path,
    *,
    shift_days: int = 0,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, CustomerTotals]:
    """``{external_id: CustomerTotals}`` for every customer with a line in [date_from, date_to]
    (local InvoiceDate, inclusive) of ``path`` (``.csv`` or ``.csv.gz``)."""
    return _totals(path, shift_days, date_from, date_to, anonymous=False)


def expected_anonymous(
    path: Path,
    *,
    shift_days: int = 0,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, CustomerTotals]:
    """``{InvoiceNo: CustomerTotals}`` for the anonymous shoppers (lines without CustomerID): one
    alias-only user per invoice (alias label ``invoice``, docs/import.md), same arithmetic as
    :func:`expected_customers`; ``external_id`` holds the invoice number."""
    return _totals(path, shift_days, date_from, date_to, anonymous=True)


def _totals(
    path: Path, shift_days: int, date_from: date | None, date_to: date | None, *, anonymous: bool
) -> dict[str, CustomerTotals]:
    opener = gzip.open if path.suffix == ".gz" else open
    out: dict[str, CustomerTotals] = {}
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle):
            local = datetime.strptime(rec["InvoiceDate"], "%Y-%m-%d %H:%M:%S")
            if (date_from and local.date() < date_from) or (date_to and local.date() > date_to):
                continue
            raw_id = rec["CustomerID"].strip()
            if bool(raw_id) == anonymous:
                continue
            qty, price = int(rec["Quantity"]), float(rec["UnitPrice"])
            cancelled = rec["InvoiceNo"].startswith("C")
            if not cancelled and (qty <= 0 or price < 0):
                continue  # stock adjustments and bad-debt lines are not sent
            key = rec["InvoiceNo"] if anonymous else str(int(float(raw_id)))
            when = (local + timedelta(days=shift_days)).replace(tzinfo=_LONDON).astimezone(UTC)
            cust = out.setdefault(key, CustomerTotals(key))
            code = country_code(rec["Country"])
            if code is not None:
                cust.country = code
            if cancelled:
                cust.cancellations += 1
                if cust.last_cancellation is None or when >= cust.last_cancellation:
                    # the profile keeps the properties of the latest occurrence; ties: file order
                    cust.last_cancellation = when
                    cust.last_cancelled_invoice = rec["InvoiceNo"]
                    cust.last_cancelled_product = rec["StockCode"].strip()
                continue
            cust.purchase_count += qty
            cust.revenue = round(cust.revenue + qty * price, 2)
            cust.first_purchase = min(filter(None, (cust.first_purchase, when)))
            cust.last_purchase = max(filter(None, (cust.last_purchase, when)))
            prod = cust.products.setdefault(rec["StockCode"].strip(), ProductTotals())
            prod.count += qty
            prod.lines += 1
            prod.revenue = round(prod.revenue + qty * price, 2)
            prod.first = min(filter(None, (prod.first, when)))
            prod.last = max(filter(None, (prod.last, when)))
    return out
