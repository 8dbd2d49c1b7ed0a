"""The registry of every event type: :data:`EVENT_CLASSES`, :data:`EVENT_TYPES` and :data:`VIEW_NAMES`.

Importing it imports every per-channel event module (:func:`~engagekit.currents.events.parse_event`
does so on its first call).
"""

from __future__ import annotations

from engagekit.currents.events import behaviors, canvas, email, inbox, push, sms, webhook
from engagekit.currents.events.base import CurrentsEvent

EVENT_CLASSES: tuple[type[CurrentsEvent], ...] = (
    behaviors.CustomEvent,
    behaviors.Purchase,
    behaviors.SubscriptionGlobalStateChange,
    behaviors.SubscriptionGroupStateChange,
    behaviors.PushTokenStateChange,
    behaviors.ProfileUpdate,
    behaviors.UserDeleteRequest,
    behaviors.UserOrphan,
    canvas.CanvasEntry,
    canvas.CanvasExitPerformedEvent,
    canvas.CanvasExitMatchedAudience,
    canvas.CampaignConversion,
    canvas.CanvasConversion,
    email.EmailSend,
    email.EmailDelivery,
    email.EmailOpen,
    email.EmailClick,
    email.EmailBounce,
    email.EmailSoftBounce,
    email.EmailMarkAsSpam,
    email.EmailUnsubscribe,
    email.EmailAbort,
    push.PushSend,
    push.PushOpen,
    push.PushBounce,
    push.PushAbort,
    sms.SmsSend,
    sms.SmsDelivery,
    sms.SmsDeliveryFailure,
    sms.SmsRejection,
    sms.SmsAbort,
    sms.SmsInboundReceive,
    webhook.WebhookSend,
    webhook.WebhookFailure,
    webhook.WebhookAbort,
    inbox.ContentCardSend,
    inbox.ContentCardImpression,
    inbox.ContentCardClick,
    inbox.ContentCardDismiss,
    inbox.ContentCardAbort,
    inbox.InAppMessageImpression,
    inbox.InAppMessageClick,
    inbox.InAppMessageAbort,
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
