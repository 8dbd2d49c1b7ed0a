"""Every event engagekit exports, in the shape of Braze Currents (braze-api.md §6).

One pydantic model per Currents event type, with Currents' field names and types: ``id`` (a uuid4
string, the dedupe key: delivery is at least once), ``time`` (int, UTC epoch **seconds**),
``user_id`` (Braze's ``braze_id``: engagekit's internal profile id) and ``external_user_id``
(the ``external_id``), and the campaign / canvas / dispatch / send ids where Braze has them.

Where the fields come from: the Avro schemas quoted in braze-api.md §6 (Currents v10) when the
table there lists the type; otherwise the flattened ``properties`` + ``user`` objects of the
official samples (``Appboy/currents-examples``, ``sample-data/Custom HTTP/users/...``, cited as CE
in §0). Deliberate differences, all documented in docs/currents.md:

- every record carries ``event_type`` (Braze puts it only in the S3 path): Firehose's dynamic
  partitioning reads it with the JQ query ``.event_type``;
- ``properties`` (custom events, purchases) and ``custom_attributes`` (profile updates) are
  JSON-encoded strings, as in Currents (braze-api.md §11.13);
- ``time`` is a JSON integer (no 2038 overflow as with Avro ``int``, braze-api.md §11.12);
- the ``*_api_id`` duplicates of Braze's Canvas exit events are left out: engagekit has one id per
  campaign, canvas, variation and step.

Builders (:func:`custom_event`, :func:`purchases`, :func:`message_event`, :func:`user_event`,
:func:`user_delete_request`) fill ``id`` and ``time`` (from :func:`engagekit.clock.now` unless
given) and raise :class:`~engagekit.currents.errors.CurrentsSchemaError` for a field the event type
does not have or a value of the wrong type.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Literal, TypeVar

import pydantic
from pydantic import ConfigDict, Field

from engagekit import clock
from engagekit.currents.errors import CurrentsSchemaError
from engagekit.domain.profile import Profile
from engagekit.model import Model

__all__ = [
    "ABORT_TYPES",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "VIEW_NAMES",
    "CurrentsEvent",
    "MessageIds",
    "UserIds",
    "custom_event",
    "epoch_seconds",
    "json_string",
    "message_event",
    "new_event_id",
    "parse_event",
    "purchases",
    "user_delete_request",
    "user_event",
]

ABORT_TYPES: tuple[str, ...] = (
    "liquid_abort_message",  # Braze: {% abort_message %} in the template (braze-api.md §5.3)
    "connected_content_error",  # connected_content failed and the template aborted (§5.4)
    "render_error",  # the template could not be rendered
    "not_subscribed",  # subscription state or group forbids the send (§8)
    "invalid_address",  # hard-bounced / missing email, phone or push token (§8)
    "frequency_capped",  # a frequency-capping rule stopped it (§9)
    "quiet_hours",  # the user's local quiet hours
    "rate_limited",  # the campaign's delivery rate limit expired it (§9: abort after 72 h)
    "user_deleted",  # the profile was deleted before the send (§8, deletion)
)
"""``abort_type`` values engagekit senders use. Braze documents only ``liquid_abort_message``."""


def new_event_id() -> str:
    """A fresh event id: a random UUID (version 4) as its 36-character string."""
    return str(uuid.uuid4())


class CurrentsEvent(Model):
    """Base of every exported event: ``event_type``, ``id`` and ``time`` (UTC epoch seconds).

    ``VIEW`` is the name of the DuckDB view (and Athena table) that holds this event type.
    Instances are immutable; unknown fields are refused (``extra="forbid"``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    VIEW: ClassVar[str] = ""

    event_type: str
    id: str = Field(default_factory=new_event_id)
    time: int = Field(ge=0, description="UTC epoch seconds")

    def to_line(self) -> bytes:
        """The event as one newline-terminated compact JSON line (UTF-8), null fields omitted.

        Readers treat a missing key as null, so omitting nulls changes no query result and keeps
        Firehose records small (AWS bills ingestion per 5 KB, see :mod:`engagekit.currents.exporter`).
        """
        return self.model_dump_json(exclude_none=True).encode() + b"\n"


# --------------------------------------------------------------------------------------------
# Shared field groups


class _UserEvent(CurrentsEvent):
    user_id: str = Field(description="Braze's braze_id: engagekit's internal profile id")
    external_user_id: str | None = Field(default=None, description="the profile's external_id")


class _Device(Model):
    """Device fields of events an app or SDK reports (Currents v10)."""

    app_id: str | None = None
    platform: str | None = None
    os_version: str | None = None
    device_model: str | None = None
    device_id: str | None = None
    ad_id: str | None = None
    ad_id_type: str | None = None
    ad_tracking_enabled: bool | None = None


class _MessageEvent(_UserEvent):
    """Braze's message-event envelope M without ``dispatch_id`` (braze-api.md §6)."""

    timezone: str | None = None
    app_group_id: str | None = None
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


class _DispatchedEvent(_MessageEvent):
    """The full envelope M: in-app messages have no ``dispatch_id`` (braze-api.md §2.7), others do."""

    dispatch_id: str | None = None


class _Abort(Model):
    abort_type: str | None = Field(default=None, description=f"one of {', '.join(ABORT_TYPES)}")
    abort_log: str | None = None


class _Email(Model):
    email_address: str


# --------------------------------------------------------------------------------------------
# Behaviours and user lifecycle


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


class CanvasEntry(_UserEvent):
    """``users.canvas.Entry``: a user entered a canvas (journey) (braze-api.md §6)."""

    VIEW = "canvas_entries"
    event_type: Literal["users.canvas.Entry"] = "users.canvas.Entry"
    timezone: str | None = None
    app_group_id: str | None = None
    canvas_id: str
    canvas_name: str | None = None
    canvas_variation_id: str
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    in_control_group: bool = False


class _CanvasExit(_UserEvent):
    app_group_id: str | None = None
    canvas_id: str
    canvas_name: str | None = None
    canvas_variation_id: str
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None


class CanvasExitPerformedEvent(_CanvasExit):
    """``users.canvas.exit.PerformedEvent``: left a canvas by an exit event (§6, §4)."""

    VIEW = "canvas_exits_performed_event"
    event_type: Literal["users.canvas.exit.PerformedEvent"] = "users.canvas.exit.PerformedEvent"


class CanvasExitMatchedAudience(_CanvasExit):
    """``users.canvas.exit.MatchedAudience``: left a canvas by matching exit criteria (§6, §4)."""

    VIEW = "canvas_exits_matched_audience"
    event_type: Literal["users.canvas.exit.MatchedAudience"] = "users.canvas.exit.MatchedAudience"


class CampaignConversion(_UserEvent):
    """``users.campaigns.Conversion``: a conversion event after a campaign (braze-api.md §6)."""

    VIEW = "campaign_conversions"
    event_type: Literal["users.campaigns.Conversion"] = "users.campaigns.Conversion"
    timezone: str | None = None
    app_group_id: str | None = None
    app_id: str | None = None
    campaign_id: str
    campaign_name: str | None = None
    message_variation_id: str | None = None
    message_variation_name: str | None = None
    send_id: str | None = None
    conversion_behavior_index: int | None = None
    conversion_behavior: str | None = None


class CanvasConversion(_UserEvent):
    """``users.canvas.Conversion``: a conversion after a canvas (CE ``users/canvas/Conversion.json``)."""

    VIEW = "canvas_conversions"
    event_type: Literal["users.canvas.Conversion"] = "users.canvas.Conversion"
    timezone: str | None = None
    app_group_id: str | None = None
    app_id: str | None = None
    device_id: str | None = None
    canvas_id: str
    canvas_name: str | None = None
    canvas_variation_id: str | None = None
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    conversion_behavior_index: int | None = None
    conversion_behavior: str | None = None


# --------------------------------------------------------------------------------------------
# Email (braze-api.md §6 table)


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


# --------------------------------------------------------------------------------------------
# Push (braze-api.md §6 table; Abort from CE)


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


# --------------------------------------------------------------------------------------------
# SMS (braze-api.md §6 table; Rejection, Abort, InboundReceive from CE)


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


# --------------------------------------------------------------------------------------------
# Webhook (braze-api.md §6 table; Abort, Failure from CE)


class WebhookSend(_DispatchedEvent):
    """``users.messages.webhook.Send``: the webhook request was made."""

    VIEW = "webhook_sends"
    event_type: Literal["users.messages.webhook.Send"] = "users.messages.webhook.Send"
    message_extras: str | None = None


class WebhookFailure(_DispatchedEvent):
    """``users.messages.webhook.Failure``: the endpoint failed; ``is_terminal`` when no retry follows.

    ``webhook_duration`` is milliseconds; ``content_length`` bytes of the response.
    """

    VIEW = "webhook_failures"
    event_type: Literal["users.messages.webhook.Failure"] = "users.messages.webhook.Failure"
    endpoint_url: str | None = None
    host: str | None = None
    url_path: str | None = None
    http_status_code: int | None = None
    content_length: int | None = None
    raw_response: str | None = None
    retry_count: int | None = None
    is_terminal: bool | None = None
    webhook_duration: int | None = None
    webhook_failure_source: str | None = None


class WebhookAbort(_Abort, _DispatchedEvent):
    """``users.messages.webhook.Abort``: the send was stopped before the request."""

    VIEW = "webhook_aborts"
    event_type: Literal["users.messages.webhook.Abort"] = "users.messages.webhook.Abort"


# --------------------------------------------------------------------------------------------
# Content cards (CE users/messages/contentcard/*.json)


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


# --------------------------------------------------------------------------------------------
# Registry

EVENT_CLASSES: tuple[type[CurrentsEvent], ...] = (
    CustomEvent,
    Purchase,
    SubscriptionGlobalStateChange,
    SubscriptionGroupStateChange,
    PushTokenStateChange,
    ProfileUpdate,
    UserDeleteRequest,
    UserOrphan,
    CanvasEntry,
    CanvasExitPerformedEvent,
    CanvasExitMatchedAudience,
    CampaignConversion,
    CanvasConversion,
    EmailSend,
    EmailDelivery,
    EmailOpen,
    EmailClick,
    EmailBounce,
    EmailSoftBounce,
    EmailMarkAsSpam,
    EmailUnsubscribe,
    EmailAbort,
    PushSend,
    PushOpen,
    PushBounce,
    PushAbort,
    SmsSend,
    SmsDelivery,
    SmsDeliveryFailure,
    SmsRejection,
    SmsAbort,
    SmsInboundReceive,
    WebhookSend,
    WebhookFailure,
    WebhookAbort,
    ContentCardSend,
    ContentCardImpression,
    ContentCardClick,
    ContentCardDismiss,
    ContentCardAbort,
    InAppMessageImpression,
    InAppMessageClick,
    InAppMessageAbort,
)
"""Every exported event class, behaviours first, then messages by channel."""


def _event_type_of(cls: type[CurrentsEvent]) -> str:
    default = cls.model_fields["event_type"].default
    if not isinstance(default, str):  # pragma: no cover - guarded by the schema test
        raise TypeError(f"{cls.__name__} has no event_type default")
    return default


EVENT_TYPES: dict[str, type[CurrentsEvent]] = {_event_type_of(c): c for c in EVENT_CLASSES}
"""Currents event type (``users.behaviors.CustomEvent``) -> its model class."""

VIEW_NAMES: dict[str, str] = {t: c.VIEW for t, c in EVENT_TYPES.items()}
"""Currents event type -> the DuckDB view / Athena table that holds it (docs/currents.md)."""


def parse_event(data: str | bytes | Mapping[str, Any]) -> CurrentsEvent:
    """Validate one exported record (a JSON line or a dict) back into its event model.

    Raises :class:`CurrentsSchemaError` for invalid JSON, an unknown ``event_type`` or a record
    that does not fit the type's schema.
    """
    try:
        record = json.loads(data) if isinstance(data, str | bytes) else dict(data)
    except ValueError as exc:
        raise CurrentsSchemaError(f"not a JSON record: {exc}") from exc
    if not isinstance(record, dict):
        raise CurrentsSchemaError("a Currents record is a JSON object")
    cls = EVENT_TYPES.get(str(record.get("event_type")))
    if cls is None:
        raise CurrentsSchemaError(f"unknown Currents event_type {record.get('event_type')!r}")
    return _validate(cls, record)


# --------------------------------------------------------------------------------------------
# Builders

E = TypeVar("E", bound=CurrentsEvent)
M = TypeVar("M", bound=_MessageEvent)
U = TypeVar("U", bound=_UserEvent)


@dataclass(frozen=True)
class UserIds:
    """Who an event is about: ``user_id`` (braze_id), ``external_user_id``, the IANA ``timezone``."""

    user_id: str
    external_user_id: str | None = None
    timezone: str | None = None

    @classmethod
    def of(cls, profile: Profile) -> UserIds:
        """The identifiers of ``profile`` (its ``user_id``, ``external_id`` and ``time_zone``)."""
        return cls(profile.user_id, profile.external_id, profile.time_zone)


@dataclass(frozen=True)
class MessageIds:
    """Which send a message event belongs to: campaign or canvas (step, variation), dispatch, send.

    ``dispatch_id`` is shared by the recipients of one send (braze-api.md §2.7); ``send_id`` is the
    tracking id of ``/sends/id/create`` or of the campaign send.
    """

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
    dispatch_id: str | None = None
    send_id: str | None = None
    app_group_id: str | None = None

    def fields_for(self, cls: type[CurrentsEvent]) -> dict[str, str]:
        """The non-null ids that ``cls`` has a field for (in-app events have no ``dispatch_id``)."""
        names = cls.model_fields
        return {k: v for k, v in self.__dict__.items() if v is not None and k in names}


def epoch_seconds(at: datetime | float | None = None) -> int:
    """``at`` (aware datetime or epoch seconds; ``None`` = the clock's now) as whole UTC epoch seconds.

    A naive datetime raises :class:`CurrentsSchemaError` (instants are UTC-aware everywhere).
    """
    if at is None:
        return int(clock.now_epoch())
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise CurrentsSchemaError("event time must be timezone-aware (UTC)")
        return int(at.timestamp())
    return int(at)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return clock.utc_iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_string(value: Mapping[str, Any] | None) -> str:
    """``value`` as compact JSON text (Currents' ``properties`` encoding, braze-api.md §6, §11.13).

    Datetimes become ISO 8601 UTC strings. Raises :class:`CurrentsSchemaError` for values JSON
    cannot hold.
    """
    try:
        return json.dumps(dict(value or {}), separators=(",", ":"), ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise CurrentsSchemaError(f"properties are not JSON-serializable: {exc}") from exc


def _validate(cls: type[E], fields: Mapping[str, Any]) -> E:
    try:
        return cls.model_validate(fields)
    except pydantic.ValidationError as exc:
        raise CurrentsSchemaError(f"{cls.__name__}: {exc.errors(include_url=False)}") from exc


def _user_fields(cls: type[CurrentsEvent], user: UserIds) -> dict[str, Any]:
    fields: dict[str, Any] = {"user_id": user.user_id, "external_user_id": user.external_user_id}
    if user.timezone is not None and "timezone" in cls.model_fields:
        fields["timezone"] = user.timezone
    return fields


def user_event(cls: type[U], user: UserIds, *, time: datetime | float | None = None, **fields: Any) -> U:
    """Any user event (behaviour, canvas, subscription, profile update) of class ``cls``.

    ``fields`` are the type's own fields; ``time`` defaults to now. Raises CurrentsSchemaError.
    Example: ``user_event(SubscriptionGroupStateChange, user, subscription_group_id="g",
    subscription_status="Unsubscribed", channel="email")``.
    """
    return _validate(cls, {**_user_fields(cls, user), "time": epoch_seconds(time), **fields})


def message_event(
    cls: type[M], user: UserIds, message: MessageIds, *, time: datetime | float | None = None, **fields: Any
) -> M:
    """A message event of class ``cls`` (e.g. :class:`EmailSend`) for ``user`` in the send ``message``.

    ``fields`` are the type's own fields (``email_address=...``, ``abort_type=...``); ``time``
    defaults to now. Raises CurrentsSchemaError.
    """
    merged = {**_user_fields(cls, user), **message.fields_for(cls), "time": epoch_seconds(time), **fields}
    return _validate(cls, merged)


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
