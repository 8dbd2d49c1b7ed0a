"""Push notification message events (braze-api.md §6 table; Abort from CE)."""

from __future__ import annotations

from typing import Literal

from engagekit.currents.events.base import _Abort, _Device, _DispatchedEvent


class PushSend(_DispatchedEvent):
    """``users.messages.pushnotification.Send``: handed to the push provider for one device."""

    VIEW = "push_sends"
    event_type: Literal["users.messages.pushnotification.Send"] = "users.messages.pushnotification.Send"
    app_id: str
    platform: str
    device_id: str | None = None
    ad_id: str | None = None
    ad_id_type: str | None = None
    ad_tracking_enabled: bool | None = None
    message_extras: str | None = None
    push_token: str | None = None
    locale_key: str | None = None


class PushOpen(_Device, _DispatchedEvent):
    """``users.messages.pushnotification.Open``: the notification (or a button) was opened."""

    VIEW = "push_opens"
    event_type: Literal["users.messages.pushnotification.Open"] = "users.messages.pushnotification.Open"
    canvas_step_message_variation_id: str | None = None
    button_action_type: str | None = None
    button_string: str | None = None


class PushBounce(_DispatchedEvent):
    """``users.messages.pushnotification.Bounce``: the provider refused the token."""

    VIEW = "push_bounces"
    event_type: Literal["users.messages.pushnotification.Bounce"] = "users.messages.pushnotification.Bounce"
    app_id: str | None = None
    platform: str | None = None
    device_id: str | None = None
    ad_id: str | None = None
    ad_id_type: str | None = None
    ad_tracking_enabled: bool | None = None
    push_token: str | None = None


class PushAbort(_Abort, _DispatchedEvent):
    """``users.messages.pushnotification.Abort`` (CE ``users/messages/pushnotification/Abort.json``)."""

    VIEW = "push_aborts"
    event_type: Literal["users.messages.pushnotification.Abort"] = "users.messages.pushnotification.Abort"
    app_id: str | None = None
    platform: str | None = None
    device_id: str | None = None
