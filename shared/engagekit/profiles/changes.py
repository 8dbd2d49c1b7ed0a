"""What one request changed on one user: the input of the Currents events and the identity index.

The apply functions of :mod:`engagekit.profiles.attributes` and :mod:`engagekit.profiles.behaviors`
fill a :class:`UserChanges`; :mod:`engagekit.profiles.exports` turns it into Currents events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engagekit.domain.profile import PushToken


@dataclass(frozen=True)
class EventRecord:
    """One custom event occurrence (braze-api.md §1.1.2); ``at`` aware UTC, clamped to now."""

    name: str
    at: datetime
    properties: dict[str, Any]
    app_id: str | None = None
    properties_json: str = "{}"
    """``properties`` as compact JSON (computed once: size checks and the Currents event use it)."""


@dataclass(frozen=True)
class PurchaseRecord:
    """One purchase object (braze-api.md §1.1.3): ``quantity`` units at unit ``price`` in ``currency``."""

    product_id: str
    currency: str
    price: float
    quantity: int
    at: datetime
    properties: dict[str, Any]
    app_id: str | None = None
    properties_json: str = "{}"


@dataclass
class UserChanges:
    """Changes to one profile. ``standard``/``custom`` map a changed attribute to its new value
    (``None`` = removed); the subscription fields hold the new states; identity fields old -> new."""

    standard: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    email_subscribe: str | None = None
    push_subscribe: str | None = None
    groups: dict[str, str] = field(default_factory=dict)
    push_tokens_added: list[PushToken] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    purchases: list[PurchaseRecord] = field(default_factory=list)
    untracked_events: int = 0
    untracked_products: int = 0
    created: bool = False
    touched: bool = False
    """Something without its own field changed (aliases, aggregates merged): write the profile."""

    @property
    def attributes_changed(self) -> bool:
        return bool(self.standard or self.custom)

    @property
    def anything(self) -> bool:
        """True when the profile must be written."""
        return bool(
            self.created
            or self.touched
            or self.standard
            or self.custom
            or self.email_subscribe
            or self.push_subscribe
            or self.groups
            or self.push_tokens_added
            or self.events
            or self.purchases
        )
