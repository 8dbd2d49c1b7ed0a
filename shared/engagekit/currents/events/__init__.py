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

Layout: the package is split so that a Lambda cold start creates only the event classes it uses
(creating a pydantic model class costs about a millisecond even with deferred schemas, and most
functions emit the events of one channel). :mod:`.base` (imported with the package) holds
:class:`CurrentsEvent`, the shared field groups, :class:`UserIds`, :class:`MessageIds`, the generic
builders and :func:`parse_event`; the event classes live in :mod:`.behaviors` (with
:func:`custom_event`, :func:`purchases`, :func:`user_delete_request`), :mod:`.canvas` (canvas
entries, exits and conversions), :mod:`.email`, :mod:`.push`, :mod:`.sms`, :mod:`.webhook` and
:mod:`.inbox` (content cards and in-app messages); :mod:`.registry` holds :data:`EVENT_CLASSES`,
:data:`EVENT_TYPES` and :data:`VIEW_NAMES` and imports them all (:func:`parse_event` imports it on
its first call). Every name stays importable from this package (``from engagekit.currents.events
import SmsSend``, ``events.SmsSend``): the module ``__getattr__`` (PEP 562) imports a name's
submodule on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engagekit import lazy
from engagekit.currents.events.base import (
    ABORT_TYPES,
    CurrentsEvent,
    E,
    M,
    MessageIds,
    U,
    UserIds,
    epoch_seconds,
    json_string,
    message_event,
    new_event_id,
    parse_event,
    user_event,
)

if TYPE_CHECKING:
    from engagekit.currents.events.behaviors import (
        CustomEvent,
        ProfileUpdate,
        Purchase,
        PushTokenStateChange,
        SubscriptionGlobalStateChange,
        SubscriptionGroupStateChange,
        UserDeleteRequest,
        UserOrphan,
        custom_event,
        purchases,
        user_delete_request,
    )
    from engagekit.currents.events.canvas import (
        CampaignConversion,
        CanvasConversion,
        CanvasEntry,
        CanvasExitMatchedAudience,
        CanvasExitPerformedEvent,
    )
    from engagekit.currents.events.email import (
        EmailAbort,
        EmailBounce,
        EmailClick,
        EmailDelivery,
        EmailMarkAsSpam,
        EmailOpen,
        EmailSend,
        EmailSoftBounce,
        EmailUnsubscribe,
    )
    from engagekit.currents.events.inbox import (
        ContentCardAbort,
        ContentCardClick,
        ContentCardDismiss,
        ContentCardImpression,
        ContentCardSend,
        InAppMessageAbort,
        InAppMessageClick,
        InAppMessageImpression,
    )
    from engagekit.currents.events.push import (
        PushAbort,
        PushBounce,
        PushOpen,
        PushSend,
    )
    from engagekit.currents.events.registry import (
        EVENT_CLASSES,
        EVENT_TYPES,
        VIEW_NAMES,
    )
    from engagekit.currents.events.sms import (
        SmsAbort,
        SmsDelivery,
        SmsDeliveryFailure,
        SmsInboundReceive,
        SmsRejection,
        SmsSend,
    )
    from engagekit.currents.events.webhook import (
        WebhookAbort,
        WebhookFailure,
        WebhookSend,
    )

__all__ = [
    "ABORT_TYPES",
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "VIEW_NAMES",
    "CampaignConversion",
    "CanvasConversion",
    "CanvasEntry",
    "CanvasExitMatchedAudience",
    "CanvasExitPerformedEvent",
    "ContentCardAbort",
    "ContentCardClick",
    "ContentCardDismiss",
    "ContentCardImpression",
    "ContentCardSend",
    "CurrentsEvent",
    "CustomEvent",
    "E",
    "EmailAbort",
    "EmailBounce",
    "EmailClick",
    "EmailDelivery",
    "EmailMarkAsSpam",
    "EmailOpen",
    "EmailSend",
    "EmailSoftBounce",
    "EmailUnsubscribe",
    "InAppMessageAbort",
    "InAppMessageClick",
    "InAppMessageImpression",
    "M",
    "MessageIds",
    "ProfileUpdate",
    "Purchase",
    "PushAbort",
    "PushBounce",
    "PushOpen",
    "PushSend",
    "PushTokenStateChange",
    "SmsAbort",
    "SmsDelivery",
    "SmsDeliveryFailure",
    "SmsInboundReceive",
    "SmsRejection",
    "SmsSend",
    "SubscriptionGlobalStateChange",
    "SubscriptionGroupStateChange",
    "U",
    "UserDeleteRequest",
    "UserIds",
    "UserOrphan",
    "WebhookAbort",
    "WebhookFailure",
    "WebhookSend",
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

if not TYPE_CHECKING:  # type checkers see the imports above; at run time names load on first use
    __getattr__, __dir__ = lazy.exports(
        __name__,
        {
            "CustomEvent": "engagekit.currents.events.behaviors",
            "Purchase": "engagekit.currents.events.behaviors",
            "SubscriptionGlobalStateChange": "engagekit.currents.events.behaviors",
            "SubscriptionGroupStateChange": "engagekit.currents.events.behaviors",
            "PushTokenStateChange": "engagekit.currents.events.behaviors",
            "ProfileUpdate": "engagekit.currents.events.behaviors",
            "UserDeleteRequest": "engagekit.currents.events.behaviors",
            "UserOrphan": "engagekit.currents.events.behaviors",
            "custom_event": "engagekit.currents.events.behaviors",
            "purchases": "engagekit.currents.events.behaviors",
            "user_delete_request": "engagekit.currents.events.behaviors",
            "CanvasEntry": "engagekit.currents.events.canvas",
            "CanvasExitPerformedEvent": "engagekit.currents.events.canvas",
            "CanvasExitMatchedAudience": "engagekit.currents.events.canvas",
            "CampaignConversion": "engagekit.currents.events.canvas",
            "CanvasConversion": "engagekit.currents.events.canvas",
            "EmailSend": "engagekit.currents.events.email",
            "EmailDelivery": "engagekit.currents.events.email",
            "EmailOpen": "engagekit.currents.events.email",
            "EmailClick": "engagekit.currents.events.email",
            "EmailBounce": "engagekit.currents.events.email",
            "EmailSoftBounce": "engagekit.currents.events.email",
            "EmailMarkAsSpam": "engagekit.currents.events.email",
            "EmailUnsubscribe": "engagekit.currents.events.email",
            "EmailAbort": "engagekit.currents.events.email",
            "PushSend": "engagekit.currents.events.push",
            "PushOpen": "engagekit.currents.events.push",
            "PushBounce": "engagekit.currents.events.push",
            "PushAbort": "engagekit.currents.events.push",
            "SmsSend": "engagekit.currents.events.sms",
            "SmsDelivery": "engagekit.currents.events.sms",
            "SmsDeliveryFailure": "engagekit.currents.events.sms",
            "SmsRejection": "engagekit.currents.events.sms",
            "SmsAbort": "engagekit.currents.events.sms",
            "SmsInboundReceive": "engagekit.currents.events.sms",
            "WebhookSend": "engagekit.currents.events.webhook",
            "WebhookFailure": "engagekit.currents.events.webhook",
            "WebhookAbort": "engagekit.currents.events.webhook",
            "ContentCardSend": "engagekit.currents.events.inbox",
            "ContentCardImpression": "engagekit.currents.events.inbox",
            "ContentCardClick": "engagekit.currents.events.inbox",
            "ContentCardDismiss": "engagekit.currents.events.inbox",
            "ContentCardAbort": "engagekit.currents.events.inbox",
            "InAppMessageImpression": "engagekit.currents.events.inbox",
            "InAppMessageClick": "engagekit.currents.events.inbox",
            "InAppMessageAbort": "engagekit.currents.events.inbox",
            "EVENT_CLASSES": "engagekit.currents.events.registry",
            "EVENT_TYPES": "engagekit.currents.events.registry",
            "VIEW_NAMES": "engagekit.currents.events.registry",
        },
    )
