"""Online Retail invoice lines -> Braze ``/users/track`` objects (braze-api.md §1.1).

The mapping (documented in docs/import.md):

- ``CustomerID`` (``17850.0``) -> ``external_id`` ``"17850"``. A line without CustomerID belongs
  to an anonymous shopper identified by the user alias ``{"alias_label": "invoice", "alias_name":
  <InvoiceNo>}``: one anonymous user per invoice.
- ``Country`` -> the ``country`` attribute as ISO 3166-1 alpha-2 (:mod:`.countries`), in an
  attributes object sent the first time a user appears and again whenever their country changes.
  Anonymous users always get one (with ``"_update_existing_only": false``): events and purchases
  never create alias-only users (braze-api.md §1.1), and a request's attributes are processed before
  its events and purchases, so the attributes object travels in the same or an earlier request.
- A line with a positive ``Quantity`` -> a purchase: ``product_id`` = StockCode, ``price`` =
  UnitPrice (GBP), ``currency`` ``"GBP"``, ``quantity``, ``time`` = InvoiceDate read as
  Europe/London and sent as UTC, ``properties`` ``{"invoice_no", "description"}``. Braze caps
  ``quantity`` at 100 and counts quantity N as N purchases (braze-api.md §1.1.3), so a line of
  N > 100 units becomes ceil(N/100) purchases of at most 100 units: counts, units and revenue
  are unchanged.
- A cancellation line (``InvoiceNo`` starting with ``C``) -> the custom event ``order_cancelled``
  with ``properties`` ``{"invoice_no", "product_id", "quantity" (positive), "unit_price",
  "currency", "description"}``.
- Anything else (zero or negative quantity outside a cancellation: stock adjustments; negative
  prices: the ``A`` bad-debt adjustments) is skipped and counted.
- The data holds no contact points. With ``emails=True`` (``engagekit replay --emails``) a
  customer's first attributes object also sets ``email`` to :func:`synthetic_email`
  (``customer-<CustomerID>@example.com``; example.com is reserved for documentation by RFC 2606,
  so no real mailbox is ever addressed), which makes every customer reachable by email campaigns.
  Anonymous shoppers get none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from engagekit.clock import utc_iso
from engagekit.imports.track import ArrayName
from engagekit.replay.countries import country_code
from engagekit.replay.source import RetailLine, to_utc

ALIAS_LABEL = "invoice"
CANCEL_EVENT = "order_cancelled"
CURRENCY = "GBP"
MAX_QUANTITY = 100  # braze-api.md §1.1.3
EMAIL_DOMAIN = "example.com"  # RFC 2606: reserved for documentation, never a real mailbox


def synthetic_email(customer_id: str) -> str:
    """The address ``--emails`` gives customer ``customer_id`` (``"17850"`` ->
    ``"customer-17850@example.com"``)."""
    return f"customer-{customer_id}@{EMAIL_DOMAIN}"


LineKind = Literal["purchase", "cancellation", "skipped"]


@dataclass(frozen=True)
class MappedLine:
    """What one line became: objects in send order, its kind, and whether it introduced a user."""

    objects: list[tuple[ArrayName, dict[str, Any]]]
    kind: LineKind
    new_customer: bool = False
    new_anonymous: bool = False


@dataclass
class Mapper:
    """Maps lines in file order, remembering which users it has introduced (bounded by the number
    of customers and anonymous invoices, a few thousand for the full data set).

    ``shift`` is added to every InvoiceDate (local wall time) before the UTC conversion;
    ``emails`` adds :func:`synthetic_email` to each customer's first attributes object.
    """

    shift: timedelta = timedelta(0)
    emails: bool = False
    _countries: dict[str, str | None] = field(default_factory=dict)
    _anonymous: set[str] = field(default_factory=set)

    def identity(self, line: RetailLine) -> dict[str, Any]:
        """``{"external_id": ...}`` or ``{"user_alias": {...}}`` for the line's user."""
        if line.customer_id:
            return {"external_id": line.customer_id}
        return {"user_alias": {"alias_name": line.invoice, "alias_label": ALIAS_LABEL}}

    def time_of(self, line: RetailLine) -> str:
        """The line's instant as ISO 8601 UTC (``...Z``), shifted."""
        return utc_iso(to_utc(line.local_time + self.shift))

    def map(self, line: RetailLine) -> MappedLine:
        """The objects for ``line`` (see the module docstring); never raises."""
        if line.is_cancellation:
            kind: LineKind = "cancellation"
        elif line.quantity > 0 and line.unit_price >= 0:
            kind = "purchase"
        else:
            return MappedLine([], "skipped")
        objects: list[tuple[ArrayName, dict[str, Any]]] = []
        who = self.identity(line)
        country = country_code(line.country)
        new_customer = new_anonymous = False
        if line.customer_id:
            known = line.customer_id in self._countries
            if not known or (country is not None and self._countries[line.customer_id] != country):
                new_customer = not known
                self._countries[line.customer_id] = country
                attrs = {**who}
                if country is not None:
                    attrs["country"] = country
                if new_customer and self.emails:
                    attrs["email"] = synthetic_email(line.customer_id)
                if len(attrs) > 1:
                    objects.append(("attributes", attrs))
        elif line.invoice not in self._anonymous:
            self._anonymous.add(line.invoice)
            new_anonymous = True
            attrs = {**who, "_update_existing_only": False}
            if country is not None:
                attrs["country"] = country
            objects.append(("attributes", attrs))
        time = self.time_of(line)
        if kind == "cancellation":
            objects.append(
                (
                    "events",
                    {
                        **who,
                        "name": CANCEL_EVENT,
                        "time": time,
                        "properties": {
                            "invoice_no": line.invoice,
                            "product_id": line.stock_code,
                            "quantity": abs(line.quantity),
                            "unit_price": line.unit_price,
                            "currency": CURRENCY,
                            "description": line.description[:255],
                        },
                    },
                )
            )
        else:
            for units in split_quantity(line.quantity):
                objects.append(
                    (
                        "purchases",
                        {
                            **who,
                            "product_id": line.stock_code,
                            "currency": CURRENCY,
                            "price": line.unit_price,
                            "quantity": units,
                            "time": time,
                            "properties": {"invoice_no": line.invoice, "description": line.description[:255]},
                        },
                    )
                )
        return MappedLine(objects, kind, new_customer, new_anonymous)


def split_quantity(quantity: int, cap: int = MAX_QUANTITY) -> list[int]:
    """``quantity`` units as purchases of at most ``cap`` (braze-api.md §1.1.3): 250 -> [100, 100, 50]."""
    full, rest = divmod(quantity, cap)
    return [cap] * full + ([rest] if rest else [])
