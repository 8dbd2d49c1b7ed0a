"""Event and purchase objects: validated into records, then folded into a profile's aggregates.

Rules (braze-api.md §1.1.2, §1.1.3, §9):

- event ``name`` required, 1..255 characters; ``time`` required in a Braze time format, a future
  time becomes now; ``properties`` an object whose names are 1..255 characters, not starting with
  ``$`` and not the reserved ``time``/``event_name``, string values ≤255 characters, at most
  100 KB serialized (50 KB for purchases);
- purchase ``product_id`` 1..255 characters, ``currency`` a three-letter ISO 4217 code,
  ``price`` a finite number, ``quantity`` an integer 1..100 (default 1) counted as that many
  purchases (revenue ``price * quantity``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json

from engagekit.domain.profile import Profile
from engagekit.profiles.changes import EventRecord, PurchaseRecord, UserChanges
from engagekit.profiles.errors import ItemError
from engagekit.profiles.limits import (
    MAX_EVENT_PROPERTIES_BYTES,
    MAX_LAST_PROPERTIES_BYTES,
    MAX_PURCHASE_PROPERTIES_BYTES,
    MAX_PURCHASE_QUANTITY,
    MAX_STRING_CHARS,
)
from engagekit.profiles.timeparse import parse_time
from engagekit.profiles.values import check_number, check_text, is_number, property_value

RESERVED_PROPERTY_NAMES = frozenset({"time", "event_name"})
"""Event property names Braze reserves (braze-api.md §1.1.2)."""
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _required_str(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    if value is None:
        raise ItemError(f"'{name}' is required")
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_STRING_CHARS:
        raise ItemError(f"'{name}' is not valid")
    check_text(value, name)
    return value


def _time(obj: Mapping[str, Any], now: datetime) -> datetime:
    value = obj.get("time")
    if value is None:
        raise ItemError("'time' is required")
    at = parse_time(value) if isinstance(value, str) else None
    if at is None:
        raise ItemError("'time' is not valid")
    if at < EPOCH:
        # Currents carries times as UTC epoch seconds from 0 (braze-api.md §6)
        raise ItemError("'time' must not be before 1970-01-01T00:00:00Z")
    return min(at, now)


def _app_id(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("app_id")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_STRING_CHARS:
        raise ItemError("'app_id' is not valid")
    check_text(value, "app_id")
    return value


def parse_properties(value: Any, max_bytes: int) -> tuple[dict[str, Any], str]:
    """Validated ``properties`` (``{}`` when absent) and their compact JSON; ItemError naming the
    rule broken."""
    if value is None:
        return {}, "{}"
    if not isinstance(value, dict):
        raise ItemError("'properties' must be an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not key or len(key) > MAX_STRING_CHARS or key.startswith("$"):
            raise ItemError(f"property name {key[:40]!r} must be 1 to 255 characters, not starting with '$'")
        check_text(key, "property name")
        if key in RESERVED_PROPERTY_NAMES:
            raise ItemError(f"property name '{key}' is reserved")
        out[key] = property_value(item, f"properties.{key}")
    raw = to_json(out)  # compact UTF-8 JSON, as Currents' properties string carries it
    if len(raw) > max_bytes:
        raise ItemError(f"'properties' is larger than {max_bytes // 1024} KB")
    return out, raw.decode()


def parse_event(obj: Mapping[str, Any], now: datetime) -> EventRecord:
    """An event object as an :class:`EventRecord`; ItemError when invalid. ``now`` aware UTC."""
    name = _required_str(obj, "name")
    at = _time(obj, now)
    props, text = parse_properties(obj.get("properties"), MAX_EVENT_PROPERTIES_BYTES)
    return EventRecord(name=name, at=at, properties=props, app_id=_app_id(obj), properties_json=text)


def parse_purchase(obj: Mapping[str, Any], now: datetime) -> PurchaseRecord:
    """A purchase object as a :class:`PurchaseRecord`; ItemError when invalid. ``now`` aware UTC."""
    product_id = _required_str(obj, "product_id")
    currency = obj.get("currency")
    if currency is None:
        raise ItemError("'currency' is required")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ItemError("'currency' is not valid")
    price = obj.get("price")
    if price is None:
        raise ItemError("'price' is required")
    if not is_number(price):
        raise ItemError("'price' is not valid")
    check_number(price, "price")
    try:
        price = float(price)  # an integer past float range (JSON allows any) is not a price
    except OverflowError:
        raise ItemError("'price' is not valid") from None
    quantity = obj.get("quantity", 1)
    if isinstance(quantity, float) and quantity.is_integer():
        quantity = int(quantity)
    if (
        not isinstance(quantity, int)
        or isinstance(quantity, bool)
        or not 1 <= quantity <= MAX_PURCHASE_QUANTITY
    ):
        raise ItemError(f"'quantity' must be an integer from 1 to {MAX_PURCHASE_QUANTITY}")
    if not math.isfinite(price * quantity):
        raise ItemError("'price' times 'quantity' is not a finite number")
    at = _time(obj, now)
    props, text = parse_properties(obj.get("properties"), MAX_PURCHASE_PROPERTIES_BYTES)
    return PurchaseRecord(
        product_id=product_id,
        currency=currency.upper(),
        price=price,
        quantity=quantity,
        at=at,
        properties=props,
        app_id=_app_id(obj),
        properties_json=text,
    )


def apply_event(profile: Profile, event: EventRecord, changes: UserChanges) -> None:
    """Fold ``event`` into ``profile.events`` (count, first/last, daily); record it in ``changes``.

    The latest occurrence's properties are kept when they are at most 1 KB serialized.
    """
    kept = event.properties if len(event.properties_json) <= MAX_LAST_PROPERTIES_BYTES else {}
    if not profile.record_event(event.name, event.at, kept):
        changes.untracked_events += 1
    changes.events.append(event)


def apply_purchase(profile: Profile, purchase: PurchaseRecord, changes: UserChanges) -> None:
    """Fold ``purchase`` into the product and total aggregates (quantity = that many purchases).

    Raises ItemError, with nothing applied, when the revenue totals would stop being finite numbers
    (:meth:`Profile.record_purchase`).
    """
    try:
        tracked = profile.record_purchase(
            purchase.product_id, purchase.at, purchase.price, purchase.quantity, purchase.currency
        )
    except ValueError as exc:
        raise ItemError("the purchase would make the user's revenue total not a finite number") from exc
    if not tracked:
        changes.untracked_products += 1
    changes.purchases.append(purchase)
