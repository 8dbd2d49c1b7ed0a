"""The Currents events one user's changes produce (braze-api.md §6), built with engagekit.currents.

- each custom event -> ``users.behaviors.CustomEvent``;
- each purchase object -> ``quantity`` ``users.behaviors.Purchase`` events (one unit each);
- changed standard/custom attributes -> one ``users.profile.Update`` per user and request, with
  only the changed fields (``custom_attributes`` JSON-encoded);
- email/push global state -> ``users.behaviors.subscription.GlobalStateChange``;
- subscription group state -> ``users.behaviors.subscriptiongroup.StateChange``;
- push token added -> ``users.behaviors.pushnotification.TokenStateChange``.

The three events of nearly every request (custom events, purchases, profile updates: about one
per object) are written straight to their JSON lines (:class:`EventLine`) from fields the parsers
have already validated; the rarer ones are built and validated by their models. Both produce the
same lines (tests/unit/profiles/test_behavior_events.py parses them back with the models).
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

from pydantic_core import to_json

from engagekit.currents.events import (
    PushTokenStateChange,
    SubscriptionGlobalStateChange,
    SubscriptionGroupStateChange,
    UserIds,
    json_string,
    user_event,
)
from engagekit.currents.exporter import EventLine, Exportable
from engagekit.domain.profile import Profile
from engagekit.profiles.changes import UserChanges

UPDATE_SOURCE = "REST API"
CUSTOM_EVENT = "users.behaviors.CustomEvent"
PURCHASE = "users.behaviors.Purchase"
PROFILE_UPDATE = "users.profile.Update"
_STATUS = {"subscribed": "Subscribed", "unsubscribed": "Unsubscribed", "opted_in": "Opted In"}
_PROFILE_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email_address",
    "phone": "phone_number",
    "gender": "gender",
    "dob": "dob",
    "time_zone": "timezone",
    "home_city": "home_city",
    "country": "country",
    "language": "language",
}


def status_name(state: str) -> str:
    """Braze's Currents spelling of a subscription state (``opted_in`` -> ``Opted In``)."""
    return _STATUS.get(state, state)


def events_for(profile: Profile, changes: UserChanges, now: datetime) -> list[Exportable]:
    """Every Currents event for ``changes`` made to ``profile`` at ``now`` (aware UTC)."""
    user = UserIds.of(profile)
    out: list[Exportable] = []
    if changes.attributes_changed:
        out.append(profile_update(user, changes, now))
    for channel in ("email", "push"):
        state = changes.email_subscribe if channel == "email" else changes.push_subscribe
        if state:
            out.append(
                user_event(
                    SubscriptionGlobalStateChange,
                    user,
                    time=now,
                    subscription_status=status_name(state),
                    channel=channel,
                    email_address=profile.email if channel == "email" else None,
                    state_change_source=UPDATE_SOURCE,
                )
            )
    for group_id, state in changes.groups.items():
        out.append(group_change(user, group_id, state, now, email=profile.email, phone=profile.phone))
    for token in changes.push_tokens_added:
        out.append(
            user_event(
                PushTokenStateChange,
                user,
                time=now,
                app_id=token.app_id,
                push_token=token.token,
                push_token_device_id=token.device_id,
                push_token_state_change_type="add",
                push_token_created_at=int(now.timestamp()),
            )
        )
    out.extend(behaviors(user, changes))
    return out


def _line(event_type: str, fields: dict[str, Any]) -> EventLine:
    """``fields`` (``event_type`` first, nulls dropped) as one Currents JSON line."""
    return EventLine(event_type, to_json({k: v for k, v in fields.items() if v is not None}) + b"\n")


def behaviors(user: UserIds, changes: UserChanges) -> list[Exportable]:
    """The ``CustomEvent`` and ``Purchase`` events of ``changes`` (one Purchase per unit bought).

    Lines are written from fields the parsers validated (name, product id and currency at most 255
    characters, finite price, properties JSON computed once at parse time), in the shape of the
    :class:`~engagekit.currents.events.CustomEvent` and ``Purchase`` models, nulls left out; ids
    are random UUIDs (version 4), as :func:`engagekit.currents.events.new_event_id` makes them,
    drawn in one batch.
    """
    total = len(changes.events) + sum(p.quantity for p in changes.purchases)
    ids = iter(event_ids(total))
    who: dict[str, Any] = {"user_id": user.user_id}
    if user.external_user_id is not None:
        who["external_user_id"] = user.external_user_id
    out: list[Exportable] = []
    for event in changes.events:
        fields = {"event_type": CUSTOM_EVENT, "id": next(ids), "time": int(event.at.timestamp()), **who}
        if event.app_id is not None:
            fields["app_id"] = event.app_id
        if user.timezone is not None:
            fields["timezone"] = user.timezone
        fields["name"] = event.name
        fields["properties"] = event.properties_json
        out.append(EventLine(CUSTOM_EVENT, to_json(fields) + b"\n"))
    for purchase in changes.purchases:
        fields = {"event_type": PURCHASE, "id": "", "time": int(purchase.at.timestamp()), **who}
        if purchase.app_id is not None:
            fields["app_id"] = purchase.app_id
        fields["product_id"] = purchase.product_id
        fields["price"] = purchase.price
        fields["currency"] = purchase.currency
        fields["properties"] = purchase.properties_json
        for _ in range(purchase.quantity):
            fields["id"] = next(ids)
            out.append(EventLine(PURCHASE, to_json(fields) + b"\n"))
    return out


_VARIANT = "89ab89ab89ab89ab"  # RFC 4122 variant: the top two bits of the clock_seq byte are 10


def event_ids(n: int) -> list[str]:
    """``n`` random version-4 UUID strings (RFC 4122 §4.4) from one ``os.urandom`` call."""
    h = os.urandom(16 * n).hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-4{h[i + 13 : i + 16]}-"
        f"{_VARIANT[int(h[i + 16], 16)]}{h[i + 17 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def group_change(
    user: UserIds, group_id: str, state: str, now: datetime, *, email: str | None, phone: str | None
) -> SubscriptionGroupStateChange:
    """One ``users.behaviors.subscriptiongroup.StateChange`` from the REST API."""
    return user_event(
        SubscriptionGroupStateChange,
        user,
        time=now,
        subscription_group_id=group_id,
        subscription_status=status_name(state),
        email_address=email,
        phone_number=phone,
        state_change_source=UPDATE_SOURCE,
    )


def profile_update(user: UserIds, changes: UserChanges, now: datetime) -> EventLine:
    """The ``users.profile.Update`` listing only the changed fields (shape of ``ProfileUpdate``)."""
    fields: dict[str, Any] = {
        "event_type": PROFILE_UPDATE,
        "id": event_ids(1)[0],
        "time": int(now.timestamp()),
        "user_id": user.user_id,
        "external_user_id": user.external_user_id,
        "timezone": user.timezone,
        "time_ms": int(now.timestamp() * 1000),
        "update_source": UPDATE_SOURCE,
    }
    for name, value in changes.standard.items():
        target = _PROFILE_FIELDS.get(name)
        if target is not None and value is not None:
            fields[target] = value.isoformat() if isinstance(value, date | datetime) else str(value)
    if changes.custom:
        fields["custom_attributes"] = json_string(changes.custom)
    return _line(PROFILE_UPDATE, fields)
