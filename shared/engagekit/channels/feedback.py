"""SES events back into profiles and Currents (the ``ses_feedback`` queue consumer).

Emails go out with the SES configuration set whose event destination publishes to an SNS topic
subscribed by the ``ses_feedback`` queue (SES v2 event publishing; the body is the SNS envelope,
or the raw SES event with raw message delivery). The send's ids travel as SES message tags
(``dispatch_id``, ``step``, ``user_id``, ``campaign_id``, ``send_id``).

=================  =========================================  ==========================================
SES ``eventType``  Currents event (braze-api.md §6)            profile (braze-api.md §8)
=================  =========================================  ==========================================
Delivery           users.messages.email.Delivery
Bounce, Permanent  users.messages.email.Bounce                 address marked hard bounced (no more
                                                              sends until it changes)
Bounce, other      users.messages.email.SoftBounce
Complaint          users.messages.email.MarkAsSpam             address and profiles marked spam (only
                                                              transactional email afterwards)
Open               users.messages.email.Open
Click              users.messages.email.Click
Subscription       users.messages.email.Unsubscribe            global email state ``unsubscribed``
Send, Reject, ...  (none: engagekit exports its own Send)
=================  =========================================  ==========================================

Event ids are UUID 5 of the SES message id, the event type, the recipient and the event's
timestamp, so SNS/SQS redelivery exports the same events again and readers dedupe them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engagekit import clock
from engagekit.currents import events as ev
from engagekit.currents.events import CurrentsEvent, MessageIds, UserIds
from engagekit.domain.profile import Profile
from engagekit.profiles import identity as ids
from engagekit.profiles.changes import UserChanges
from engagekit.profiles.writer import save_with_retry
from engagekit.users.models import EmailStatusRequest
from engagekit.users.service import UsersService
from engagekit.users.subscriptions import email_status, record_hard_bounce

logger = logging.getLogger(__name__)
_NS = uuid.UUID("0c7b6d0e-5f7d-4d5c-9b8a-2f4e3c1d0a99")
ESP = "amazon_ses"


def ses_event(body: str) -> dict[str, Any] | None:
    """The SES event in a queue message body (SNS envelope or raw), or None if it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict) and data.get("Type") == "Notification" and isinstance(data.get("Message"), str):
        try:
            data = json.loads(data["Message"])
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    kind = data.get("eventType") or data.get("notificationType")
    return data if isinstance(kind, str) and isinstance(data.get("mail"), dict) else None


def _tag(mail: Mapping[str, Any], name: str) -> str | None:
    values = (mail.get("tags") or {}).get(name)
    return str(values[0]) if isinstance(values, list) and values else None


def _time(text: str | None) -> datetime:
    if text:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return clock.now()


def _id(mail: Mapping[str, Any], kind: str, address: str, at: str) -> str:
    return str(uuid.uuid5(_NS, f"{mail.get('messageId')}|{kind}|{address}|{at}"))


def _mark_spam(users: UsersService, address: str) -> None:
    ident = ids.email(address)
    now = clock.now()
    users.store.set_address_state(ident.key or "", at=now, spam=True)

    def mutate(p: Profile) -> UserChanges:
        changes = UserChanges()
        if not p.email_spam:
            p.email_spam = True
            changes.touched = True
        return changes

    record = users.store.get_identities([ident.key or ""]).get(ident.key or "")
    for profile in users.store.get_profiles(record.user_ids if record else []).values():
        save_with_retry(users.store, profile.user_id, mutate, now=now, current=profile)


def handle(event: Mapping[str, Any], users: UsersService) -> list[CurrentsEvent]:
    """Apply one SES event to profiles and return its Currents events (module docstring).

    Events of mail engagekit did not send (no ``dispatch_id``/``user_id`` tags) only update the
    address state. Raises ValueError for an invalid address in the event.
    """
    kind = str(event.get("eventType") or event.get("notificationType"))
    mail: Mapping[str, Any] = event["mail"]
    user_id = _tag(mail, "user_id")
    ids_ = MessageIds(
        campaign_id=_tag(mail, "campaign_id"),
        dispatch_id=_tag(mail, "dispatch_id"),
        send_id=_tag(mail, "send_id"),
    )
    profile = users.store.get_profiles([user_id], consistent=False).get(user_id) if user_id else None
    user = UserIds.of(profile) if profile else (UserIds(user_id) if user_id else None)
    source = str(mail.get("source", ""))
    from_domain = source.rpartition("@")[2].rstrip(">") or None
    out: list[CurrentsEvent] = []

    def emit(cls: type[ev.M], address: str, at: str, **fields: Any) -> None:
        if user is not None:
            out.append(
                ev.message_event(
                    cls,
                    user,
                    ids_,
                    time=_time(at),
                    id=_id(mail, kind, address, at),
                    email_address=address,
                    **fields,
                )
            )

    if kind == "Delivery":
        delivery = event.get("delivery") or {}
        for address in delivery.get("recipients") or mail.get("destination") or []:
            emit(ev.EmailDelivery, address, delivery.get("timestamp", ""), esp=ESP, from_domain=from_domain)
    elif kind == "Bounce":
        bounce = event.get("bounce") or {}
        hard = bounce.get("bounceType") == "Permanent"
        for recipient in bounce.get("bouncedRecipients") or []:
            address = str(recipient.get("emailAddress", ""))
            reason = recipient.get("diagnosticCode") or bounce.get("bounceSubType")
            at = bounce.get("timestamp", "")
            if hard:
                record_hard_bounce(users, address)
                emit(ev.EmailBounce, address, at, bounce_reason=reason, esp=ESP, from_domain=from_domain)
            else:
                emit(ev.EmailSoftBounce, address, at, bounce_reason=reason, esp=ESP, from_domain=from_domain)
    elif kind == "Complaint":
        complaint = event.get("complaint") or {}
        for recipient in complaint.get("complainedRecipients") or []:
            address = str(recipient.get("emailAddress", ""))
            _mark_spam(users, address)
            emit(
                ev.EmailMarkAsSpam,
                address,
                complaint.get("timestamp", ""),
                user_agent=complaint.get("userAgent"),
                esp=ESP,
                from_domain=from_domain,
            )
    elif kind in ("Open", "Click"):
        detail = event.get(kind.lower()) or {}
        for address in mail.get("destination") or []:
            if kind == "Open":
                emit(
                    ev.EmailOpen,
                    address,
                    detail.get("timestamp", ""),
                    user_agent=detail.get("userAgent"),
                    esp=ESP,
                )
            else:
                emit(
                    ev.EmailClick,
                    address,
                    detail.get("timestamp", ""),
                    url=detail.get("link"),
                    user_agent=detail.get("userAgent"),
                    esp=ESP,
                )
    elif kind == "Subscription":
        detail = event.get("subscription") or {}
        for address in mail.get("destination") or []:
            email_status(EmailStatusRequest(email=address, subscription_state="unsubscribed"), users)
            emit(ev.EmailUnsubscribe, address, detail.get("timestamp", ""))
    else:
        logger.debug("SES %s event ignored", kind)
    return out


def process_body(body: str, users: UsersService) -> int:
    """Handle one queue message; returns the number of Currents events exported.

    A body that is not an SES event is ignored (logged). Raises on storage or Firehose errors (the
    message is redelivered; handling is idempotent).
    """
    event = ses_event(body)
    if event is None:
        logger.warning("ses_feedback: not an SES event, ignored")
        return 0
    out = handle(event, users)
    users.emit(out)
    return len(out)
