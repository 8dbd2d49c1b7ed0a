"""Content card and in-app message events (CE ``users/messages/contentcard/*.json``,
``inappmessage/*.json``).

In-app messages have no ``dispatch_id`` (braze-api.md §2.7, §6 "M minus dispatch_id").
"""

from __future__ import annotations

from typing import Literal

from engagekit.currents.events.base import _Abort, _Device, _DispatchedEvent, _MessageEvent


class ContentCardSend(_DispatchedEvent):
    """``users.messages.contentcard.Send``: a card was put in the user's inbox."""

    VIEW = "content_card_sends"
    event_type: Literal["users.messages.contentcard.Send"] = "users.messages.contentcard.Send"
    content_card_id: str
    device_id: str | None = None
    message_extras: str | None = None


class ContentCardImpression(_Device, _DispatchedEvent):
    """``users.messages.contentcard.Impression``: a card was shown; ``is_unique`` on the first view."""

    VIEW = "content_card_impressions"
    event_type: Literal["users.messages.contentcard.Impression"] = "users.messages.contentcard.Impression"
    content_card_id: str
    is_unique: bool | None = None


class ContentCardClick(_Device, _DispatchedEvent):
    """``users.messages.contentcard.Click``."""

    VIEW = "content_card_clicks"
    event_type: Literal["users.messages.contentcard.Click"] = "users.messages.contentcard.Click"
    content_card_id: str


class ContentCardDismiss(_Device, _DispatchedEvent):
    """``users.messages.contentcard.Dismiss``: the user dismissed the card."""

    VIEW = "content_card_dismissals"
    event_type: Literal["users.messages.contentcard.Dismiss"] = "users.messages.contentcard.Dismiss"
    content_card_id: str


class ContentCardAbort(_Abort, _DispatchedEvent):
    """``users.messages.contentcard.Abort``: the card was not created."""

    VIEW = "content_card_aborts"
    event_type: Literal["users.messages.contentcard.Abort"] = "users.messages.contentcard.Abort"
    device_id: str | None = None


# --------------------------------------------------------------------------------------------
# In-app messages: no dispatch_id (braze-api.md §2.7, §6 "M minus dispatch_id"; CE inappmessage/*.json)


class InAppMessageImpression(_Device, _MessageEvent):
    """``users.messages.inappmessage.Impression``; ``card_id`` identifies the message."""

    VIEW = "in_app_message_impressions"
    event_type: Literal["users.messages.inappmessage.Impression"] = "users.messages.inappmessage.Impression"
    card_id: str | None = None
    message_extras: str | None = None
    locale_key: str | None = None


class InAppMessageClick(_Device, _MessageEvent):
    """``users.messages.inappmessage.Click``; ``button_id`` when a button was clicked."""

    VIEW = "in_app_message_clicks"
    event_type: Literal["users.messages.inappmessage.Click"] = "users.messages.inappmessage.Click"
    card_id: str | None = None
    button_id: str | None = None


class InAppMessageAbort(_Abort, _Device, _MessageEvent):
    """``users.messages.inappmessage.Abort``: the message was not shown."""

    VIEW = "in_app_message_aborts"
    event_type: Literal["users.messages.inappmessage.Abort"] = "users.messages.inappmessage.Abort"
    card_id: str | None = None
