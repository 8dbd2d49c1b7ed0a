"""Behaviour and user-lifecycle events: custom events, purchases, subscription and push-token state
changes, profile updates, deletions and orphans (braze-api.md §6), with their builders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from engagekit.currents.errors import CurrentsSchemaError
from engagekit.currents.events.base import (
    CurrentsEvent,
    UserIds,
    _Device,
    _UserEvent,
    _validate,
    epoch_seconds,
    json_string,
    user_event,
)


class CustomEvent(_Device, _UserEvent):
    """``users.behaviors.CustomEvent``: one custom event (braze-api.md §6, §1.1.2)."""

    VIEW = "custom_events"
    event_type: Literal["users.behaviors.CustomEvent"] = "users.behaviors.CustomEvent"
    timezone: str | None = None
    app_group_id: str | None = None
    name: str
    properties: str = Field(default="{}", description="the event properties, JSON-encoded")


class Purchase(_Device, _UserEvent):
    """``users.behaviors.Purchase``: one unit purchased (braze-api.md §6, §1.1.3). No ``timezone``."""

    VIEW = "purchases"
    event_type: Literal["users.behaviors.Purchase"] = "users.behaviors.Purchase"
    app_group_id: str | None = None
    product_id: str
    price: float
    currency: str
    properties: str = Field(default="{}", description="the purchase properties, JSON-encoded")


class SubscriptionGlobalStateChange(_UserEvent):
    """``users.behaviors.subscription.GlobalStateChange``: email or push global state (§6, §8).

    ``subscription_status`` is ``Subscribed``, ``Unsubscribed`` or ``Opted In`` (Braze's spelling);
    ``channel`` is ``email`` or ``push``; ``state_change_source`` e.g. ``REST API``, ``SDK``.
    """

    VIEW = "subscription_global_state_changes"
    event_type: Literal["users.behaviors.subscription.GlobalStateChange"] = (
        "users.behaviors.subscription.GlobalStateChange"
    )
    timezone: str | None = None
    app_group_id: str | None = None
    app_id: str | None = None
    email_address: str | None = None
    state_change_source: str | None = None
    subscription_status: str
    channel: str | None = None
    channel_identifier: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    message_variation_id: str | None = None
    canvas_id: str | None = None
    canvas_name: str | None = None
    canvas_variation_id: str | None = None
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    send_id: str | None = None


class SubscriptionGroupStateChange(_UserEvent):
    """``users.behaviors.subscriptiongroup.StateChange``: one group's state (§6, §8).

    ``subscription_status`` is ``Subscribed`` or ``Unsubscribed``; ``channel`` ``email`` or ``sms``.
    """

    VIEW = "subscription_group_state_changes"
    event_type: Literal["users.behaviors.subscriptiongroup.StateChange"] = (
        "users.behaviors.subscriptiongroup.StateChange"
    )
    timezone: str | None = None
    app_group_id: str | None = None
    app_id: str | None = None
    email_address: str | None = None
    phone_number: str | None = None
    subscription_group_id: str
    subscription_status: str
    channel: str | None = None
    channel_identifier: str | None = None
    state_change_source: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    message_variation_id: str | None = None
    message_variation_name: str | None = None
    canvas_id: str | None = None
    canvas_name: str | None = None
    canvas_variation_id: str | None = None
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    send_id: str | None = None
    dispatch_id: str | None = None


class PushTokenStateChange(_UserEvent):
    """``users.behaviors.pushnotification.TokenStateChange``: a push token added, updated or removed.

    Fields from CE ``users/behaviors/pushnotification/TokenStateChange.json``;
    ``push_token_state_change_type`` is ``add``, ``update`` or ``remove``; ``*_at`` are epoch seconds.
    """

    VIEW = "push_token_state_changes"
    event_type: Literal["users.behaviors.pushnotification.TokenStateChange"] = (
        "users.behaviors.pushnotification.TokenStateChange"
    )
    app_group_id: str | None = None
    app_id: str | None = None
    platform: str | None = None
    push_token: str | None = None
    push_token_state_change_type: str
    push_token_created_at: int | None = None
    push_token_updated_at: int | None = None
    push_token_device_id: str | None = None
    push_token_foreground_push_disabled: bool | None = None
    push_token_provisionally_opted_in: bool | None = None
    ios_push_token_apns_gateway: int | None = None
    web_push_token_public_key: str | None = None
    web_push_token_user_auth: str | None = None
    web_push_token_vapid_public_key: str | None = None


class ProfileUpdate(_UserEvent):
    """``users.profile.Update``: standard or custom attributes changed (braze-api.md §6).

    ``update_source`` e.g. ``REST API``; ``time_ms`` is epoch milliseconds; ``custom_attributes`` holds
    only the changed custom attributes, JSON-encoded; ``dob`` is ``YYYY-MM-DD``.
    """

    VIEW = "profile_updates"
    event_type: Literal["users.profile.Update"] = "users.profile.Update"
    app_group_id: str | None = None
    app_id: str | None = None
    time_ms: int
    update_source: str
    archived: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    gender: str | None = None
    phone_number: str | None = None
    dob: str | None = None
    timezone: str | None = None
    home_city: str | None = None
    country: str | None = None
    language: str | None = None
    custom_attributes: str | None = None


class UserDeleteRequest(CurrentsEvent):
    """``users.UserDeleteRequest``: a profile was deleted (braze-api.md §6, §1.4, §8).

    Only ``id``, ``user_id``, ``app_group_id``, ``time``, as in Braze: no external id survives.
    """

    VIEW = "user_delete_requests"
    event_type: Literal["users.UserDeleteRequest"] = "users.UserDeleteRequest"
    user_id: str
    app_group_id: str | None = None


class UserOrphan(_UserEvent):
    """``users.UserOrphan``: a profile merged into ``orphaned_by_id`` (CE ``users/UserOrphan.json``)."""

    VIEW = "user_orphans"
    event_type: Literal["users.UserOrphan"] = "users.UserOrphan"
    app_group_id: str | None = None
    app_id: str | None = None
    device_id: str | None = None
    orphaned_by_id: str


# --------------------------------------------------------------------------------------------
# Builders


def custom_event(
    user: UserIds,
    name: str,
    properties: Mapping[str, Any] | None = None,
    *,
    time: datetime | float | None = None,
    app_id: str | None = None,
    **fields: Any,
) -> CustomEvent:
    """One ``users.behaviors.CustomEvent`` (braze-api.md §1.1.2, §6).

    ``properties`` is JSON-encoded into the ``properties`` string; ``time`` defaults to now.
    Raises CurrentsSchemaError.
    """
    return user_event(
        CustomEvent, user, time=time, name=name, properties=json_string(properties), app_id=app_id, **fields
    )


def purchases(
    user: UserIds,
    product_id: str,
    price: float,
    currency: str,
    *,
    quantity: int = 1,
    properties: Mapping[str, Any] | None = None,
    time: datetime | float | None = None,
    app_id: str | None = None,
) -> list[Purchase]:
    """``quantity`` ``users.behaviors.Purchase`` events of one unit each, each with its own ``id``.

    Braze "treats a quantity X as X separate purchases with quantity 1" (braze-api.md §1.1.3).
    ``price`` is the unit price in ``currency`` (ISO 4217). Raises CurrentsSchemaError for
    ``quantity`` outside 1..100 or invalid fields.
    """
    if not 1 <= quantity <= 100:
        raise CurrentsSchemaError("purchase quantity must be 1 to 100 (braze-api.md §1.1.3)")
    at = epoch_seconds(time)
    props = json_string(properties)
    return [
        user_event(
            Purchase,
            user,
            time=at,
            product_id=product_id,
            price=price,
            currency=currency,
            properties=props,
            app_id=app_id,
        )
        for _ in range(quantity)
    ]


def user_delete_request(
    user_id: str, *, time: datetime | float | None = None, app_group_id: str | None = None
) -> UserDeleteRequest:
    """The ``users.UserDeleteRequest`` emitted when ``/users/delete`` removes a profile (§1.4, §8)."""
    return _validate(
        UserDeleteRequest, {"user_id": user_id, "time": epoch_seconds(time), "app_group_id": app_group_id}
    )
