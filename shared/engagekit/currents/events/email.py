"""Email message events (braze-api.md §6 table)."""

from __future__ import annotations

from typing import Literal

from engagekit.currents.events.base import _Abort, _DispatchedEvent
from engagekit.model import Model


class _Email(Model):
    email_address: str


class EmailSend(_Email, _DispatchedEvent):
    """``users.messages.email.Send``: handed to the email provider (SES)."""

    VIEW = "email_sends"
    event_type: Literal["users.messages.email.Send"] = "users.messages.email.Send"
    ip_pool: str | None = None
    message_extras: str | None = None
    from_domain: str | None = None


class EmailDelivery(_Email, _DispatchedEvent):
    """``users.messages.email.Delivery``: the receiving server accepted it."""

    VIEW = "email_deliveries"
    event_type: Literal["users.messages.email.Delivery"] = "users.messages.email.Delivery"
    sending_ip: str | None = None
    ip_pool: str | None = None
    esp: str | None = None
    from_domain: str | None = None


class EmailOpen(_Email, _DispatchedEvent):
    """``users.messages.email.Open``; ``machine_open`` is set for machine (privacy-proxy) opens."""

    VIEW = "email_opens"
    event_type: Literal["users.messages.email.Open"] = "users.messages.email.Open"
    user_agent: str | None = None
    ip_pool: str | None = None
    machine_open: str | None = None
    esp: str | None = None
    from_domain: str | None = None
    is_amp: bool | None = None
    device_class: str | None = None
    device_os: str | None = None
    device_model: str | None = None
    browser: str | None = None
    mailbox_provider: str | None = None


class EmailClick(_Email, _DispatchedEvent):
    """``users.messages.email.Click``: a tracked link was clicked."""

    VIEW = "email_clicks"
    event_type: Literal["users.messages.email.Click"] = "users.messages.email.Click"
    url: str | None = None
    user_agent: str | None = None
    ip_pool: str | None = None
    link_id: str | None = None
    link_alias: str | None = None
    esp: str | None = None
    from_domain: str | None = None
    is_amp: bool | None = None
    device_class: str | None = None
    device_os: str | None = None
    device_model: str | None = None
    browser: str | None = None
    mailbox_provider: str | None = None
    is_suspected_bot_click: bool | None = None
    suspected_bot_click_reason: list[str] | None = None


class EmailBounce(_Email, _DispatchedEvent):
    """``users.messages.email.Bounce``: a hard bounce (the address is marked invalid, §8)."""

    VIEW = "email_bounces"
    event_type: Literal["users.messages.email.Bounce"] = "users.messages.email.Bounce"
    sending_ip: str | None = None
    ip_pool: str | None = None
    bounce_reason: str | None = None
    esp: str | None = None
    from_domain: str | None = None
    is_drop: bool | None = None


class EmailSoftBounce(_Email, _DispatchedEvent):
    """``users.messages.email.SoftBounce``: a temporary failure (retried for 72 h, §8)."""

    VIEW = "email_soft_bounces"
    event_type: Literal["users.messages.email.SoftBounce"] = "users.messages.email.SoftBounce"
    sending_ip: str | None = None
    ip_pool: str | None = None
    bounce_reason: str | None = None
    esp: str | None = None
    from_domain: str | None = None


class EmailMarkAsSpam(_Email, _DispatchedEvent):
    """``users.messages.email.MarkAsSpam``: the recipient reported it as spam (a complaint)."""

    VIEW = "email_marks_as_spam"
    event_type: Literal["users.messages.email.MarkAsSpam"] = "users.messages.email.MarkAsSpam"
    user_agent: str | None = None
    ip_pool: str | None = None
    esp: str | None = None
    from_domain: str | None = None


class EmailUnsubscribe(_Email, _DispatchedEvent):
    """``users.messages.email.Unsubscribe``: the unsubscribe link of this message was used."""

    VIEW = "email_unsubscribes"
    event_type: Literal["users.messages.email.Unsubscribe"] = "users.messages.email.Unsubscribe"
    ip_pool: str | None = None


class EmailAbort(_Abort, _Email, _DispatchedEvent):
    """``users.messages.email.Abort``: the send was stopped before the provider call."""

    VIEW = "email_aborts"
    event_type: Literal["users.messages.email.Abort"] = "users.messages.email.Abort"
    canvas_step_message_variation_id: str | None = None
    device_id: str | None = None
    ip_pool: str | None = None
