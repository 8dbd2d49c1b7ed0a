"""SMS message events (braze-api.md §6 table; Rejection, Abort, InboundReceive from CE)."""

from __future__ import annotations

from typing import Literal

from engagekit.currents.events.base import _Abort, _DispatchedEvent, _MessageEvent
from engagekit.model import Model


class _Sms(Model):
    subscription_group_id: str | None = None


class SmsSend(_Sms, _DispatchedEvent):
    """``users.messages.sms.Send``: handed to the SMS provider; ``category`` e.g. ``opt-in``."""

    VIEW = "sms_sends"
    event_type: Literal["users.messages.sms.Send"] = "users.messages.sms.Send"
    to_phone_number: str | None = None
    category: str | None = None
    message_extras: str | None = None


class SmsDelivery(_Sms, _DispatchedEvent):
    """``users.messages.sms.Delivery``: the carrier reported delivery."""

    VIEW = "sms_deliveries"
    event_type: Literal["users.messages.sms.Delivery"] = "users.messages.sms.Delivery"
    to_phone_number: str | None = None
    from_phone_number: str | None = None
    is_sms_fallback: bool | None = None


class SmsDeliveryFailure(_Sms, _DispatchedEvent):
    """``users.messages.sms.DeliveryFailure``: the carrier reported failure."""

    VIEW = "sms_delivery_failures"
    event_type: Literal["users.messages.sms.DeliveryFailure"] = "users.messages.sms.DeliveryFailure"
    to_phone_number: str | None = None
    error: str | None = None
    provider_error_code: str | None = None
    is_sms_fallback: bool | None = None


class SmsRejection(_Sms, _DispatchedEvent):
    """``users.messages.sms.Rejection``: the provider refused it before the carrier."""

    VIEW = "sms_rejections"
    event_type: Literal["users.messages.sms.Rejection"] = "users.messages.sms.Rejection"
    to_phone_number: str | None = None
    from_phone_number: str | None = None
    error: str | None = None
    provider_error_code: str | None = None


class SmsAbort(_Abort, _Sms, _DispatchedEvent):
    """``users.messages.sms.Abort``: the send was stopped before the provider call."""

    VIEW = "sms_aborts"
    event_type: Literal["users.messages.sms.Abort"] = "users.messages.sms.Abort"


class SmsInboundReceive(_Sms, _MessageEvent):
    """``users.messages.sms.InboundReceive``: a reply; ``action`` e.g. ``Subscribed`` for a keyword."""

    VIEW = "sms_inbound_receives"
    event_type: Literal["users.messages.sms.InboundReceive"] = "users.messages.sms.InboundReceive"
    action: str | None = None
    inbound_phone_number: str | None = None
    user_phone_number: str | None = None
    message_body: str | None = None
    media_urls: list[str] | None = None
