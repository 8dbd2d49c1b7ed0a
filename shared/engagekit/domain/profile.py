"""The user profile: identities, attributes and the bounded aggregates segments and templates read.

This module is the contract between ingestion (``/users/*``), segments, personalization and the
channel senders. A profile is one DynamoDB item; everything here is bounded so the item stays far
below DynamoDB's 400 KB item limit (AWS DynamoDB quotas, "Item size"):

- per custom event and per product: count, first and last time, and counts per UTC calendar day
  for the last :data:`DAILY_WINDOW_DAYS` days only (Braze segment filters look back at most 30 days,
  braze-api.md §3);
- purchase totals: count, revenue, first and last time, daily counts and revenue for the same window;
- at most :data:`MAX_TRACKED_EVENT_NAMES` distinct event names and
  :data:`MAX_TRACKED_PRODUCTS` distinct products per profile (further names are counted in the
  totals but not tracked individually; the ingestion layer reports this).

All instants are aware UTC datetimes. Daily buckets are keyed by the UTC date ``YYYY-MM-DD``.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field

from engagekit.model import Model

DAILY_WINDOW_DAYS = 30
MAX_TRACKED_EVENT_NAMES = 250
MAX_TRACKED_PRODUCTS = 500

SubscriptionState = Literal["opted_in", "subscribed", "unsubscribed"]
GroupState = Literal["subscribed", "unsubscribed"]


class UserAlias(Model):
    """Braze's user alias: a (label, name) pair unique within the workspace."""

    model_config = ConfigDict(frozen=True)
    alias_name: str
    alias_label: str


class PushToken(Model):
    app_id: str
    token: str
    device_id: str | None = None


class Aggregate(Model):
    """Occurrences of one thing (an event name, a product): all-time and per UTC day (last 30 days)."""

    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    daily: dict[str, int] = Field(default_factory=dict)

    def add(self, at: datetime, n: int = 1) -> None:
        """Count ``n`` occurrences at instant ``at`` (aware)."""
        if at.tzinfo is not UTC:
            at = at.astimezone(UTC)
        self.count += n
        if self.first is None or at < self.first:
            self.first = at
        if self.last is None or at > self.last:
            self.last = at
        day = at.date().isoformat()
        self.daily[day] = self.daily.get(day, 0) + n

    def in_last_days(self, days: int, now: datetime) -> int:
        """Occurrences on the last ``days`` UTC calendar days, today included (``1 <= days <= 30``)."""
        return sum_window(self.daily, days, now)


class EventAggregate(Aggregate):
    """A custom event's aggregate; ``last_properties`` are the properties of the latest occurrence."""

    last_properties: dict[str, Any] = Field(default_factory=dict)


class ProductAggregate(Aggregate):
    """A product's purchases: ``count`` is purchase lines, ``quantity`` the units, ``revenue`` the money."""

    quantity: int = 0
    revenue: float = 0.0


class PurchaseTotals(Aggregate):
    """All purchases of a user: ``count`` purchase lines, ``revenue`` in the purchases' currency."""

    revenue: float = 0.0
    daily_revenue: dict[str, float] = Field(default_factory=dict)
    currency: str | None = None


class Profile(Model):
    """One user.

    ``user_id`` is engagekit's internal id, exposed as Braze's ``braze_id`` (24 lowercase hex).
    Standard attributes follow Braze's user attributes object (braze-api.md §1.1.1).
    ``custom_attributes`` hold JSON values as stored (times as ISO 8601 UTC strings).
    """

    user_id: str
    external_id: str | None = None
    user_aliases: list[UserAlias] = Field(default_factory=list)
    created_at: datetime

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    language: str | None = None
    time_zone: str | None = None
    dob: date | None = None
    gender: str | None = None
    home_city: str | None = None

    email_subscribe: SubscriptionState = "subscribed"
    push_subscribe: SubscriptionState = "subscribed"
    email_hard_bounced: bool = False
    email_spam: bool = False
    subscription_groups: dict[str, GroupState] = Field(default_factory=dict)
    push_tokens: list[PushToken] = Field(default_factory=list)

    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    events: dict[str, EventAggregate] = Field(default_factory=dict)
    products: dict[str, ProductAggregate] = Field(default_factory=dict)
    purchases: PurchaseTotals = Field(default_factory=PurchaseTotals)

    updated_at: datetime | None = Field(
        default=None, description="last write by the ingestion layer (UTC); orders profiles sharing an email"
    )
    last_coordinates: list[float] | None = Field(
        default=None, description="[longitude, latitude] from the current_location attribute"
    )
    deprecated_external_ids: list[str] = Field(
        default_factory=list,
        description="old external_ids kept by /users/external_ids/rename until /users/external_ids/remove",
    )

    version: int = 0

    @property
    def random_bucket(self) -> int:
        """Braze's random bucket number, 0..9999, stable for the user (braze-api.md §3)."""
        return random_bucket(self.user_id)

    def record_event(self, name: str, at: datetime, properties: dict[str, Any] | None = None) -> bool:
        """Fold one custom event into the aggregates. Returns False if ``name`` is past the
        tracked-name cap (:data:`MAX_TRACKED_EVENT_NAMES`) and was not tracked."""
        agg = self.events.get(name)
        if agg is None:
            if len(self.events) >= MAX_TRACKED_EVENT_NAMES:
                return False
            agg = self.events[name] = EventAggregate()
        is_latest = agg.last is None or at >= agg.last
        agg.add(at)
        if is_latest:
            agg.last_properties = dict(properties or {})
        return True

    def record_purchase(
        self, product_id: str, at: datetime, price: float, quantity: int = 1, currency: str | None = None
    ) -> bool:
        """Fold one purchase line (``quantity`` units at ``price`` each) into the aggregates.

        Braze counts a purchase object with quantity N as N purchases (braze-api.md §1.1.3); here
        ``count`` grows by ``quantity`` and revenue by ``price * quantity``. Returns False when the
        product is past :data:`MAX_TRACKED_PRODUCTS` (totals still count it). Raises ValueError,
        changing nothing, when a revenue total would stop being a finite number (JSON has no
        infinity: the stored profile could not be read back).
        """
        revenue = price * quantity
        totals = self.purchases
        day = (at if at.tzinfo is UTC else at.astimezone(UTC)).date().isoformat()
        agg = self.products.get(product_id)
        new_totals = (
            round(totals.revenue + revenue, 6),
            round(totals.daily_revenue.get(day, 0.0) + revenue, 6),
            round((agg.revenue if agg is not None else 0.0) + revenue, 6),
        )
        if not all(math.isfinite(t) for t in new_totals):
            raise ValueError("the purchase would make a revenue total not a finite number")
        totals.add(at, quantity)
        totals.revenue, totals.daily_revenue[day], product_revenue = new_totals
        if currency and totals.currency is None:
            totals.currency = currency
        if agg is None:
            if len(self.products) >= MAX_TRACKED_PRODUCTS:
                return False
            agg = self.products[product_id] = ProductAggregate()
        agg.add(at, quantity)
        agg.quantity += quantity
        agg.revenue = product_revenue
        return True

    def prune(self, now: datetime) -> None:
        """Drop daily buckets older than the window so the item stays bounded."""
        cutoff = (now.astimezone(UTC).date() - timedelta(days=DAILY_WINDOW_DAYS - 1)).isoformat()
        for agg in [*self.events.values(), *self.products.values(), self.purchases]:
            if agg.daily and min(agg.daily) < cutoff:  # rebuild only what holds expired days
                agg.daily = {d: n for d, n in agg.daily.items() if d >= cutoff}
        revenue = self.purchases.daily_revenue
        if revenue and min(revenue) < cutoff:
            self.purchases.daily_revenue = {d: v for d, v in revenue.items() if d >= cutoff}


def sum_window(daily: dict[str, int], days: int, now: datetime) -> int:
    """Sum daily buckets for the ``days`` UTC dates ending today (``1 <= days <= 30``)."""
    if not 1 <= days <= DAILY_WINDOW_DAYS:
        raise ValueError(f"a window is 1 to {DAILY_WINDOW_DAYS} days, got {days}")
    first = (now.astimezone(UTC).date() - timedelta(days=days - 1)).isoformat()
    today = now.astimezone(UTC).date().isoformat()
    return sum(n for d, n in daily.items() if first <= d <= today)


def random_bucket(user_id: str) -> int:
    """A stable number 0..9999 from the user id (SHA-256, first 8 bytes, mod 10,000)."""
    digest = hashlib.sha256(user_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000
