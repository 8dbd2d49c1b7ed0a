"""What differs per channel: who can receive it, what is rendered, how it is delivered, which
Currents events say so (braze-api.md §6, §8).

==============  ==========================  ==================  ======================================
channel         reachable when              provider            Currents events
==============  ==========================  ==================  ======================================
email           an address, not hard        SES v2              email.Send / Abort / Bounce (drop)
                bounced, subscription (§8)
sms             a phone, subscribed to the  SNS SMS             sms.Send / Abort / Rejection
                message's group (§8)
webhook         always                      HTTPS               webhook.Send / Abort / Failure
push            push subscription, a token  SNS endpoints       pushnotification.Send (per token) /
                for the app (and platform)                      Abort / Bounce
content_card    always                      inbox (DynamoDB)    contentcard.Send / Abort
in_app          always                      inbox (DynamoDB)    inappmessage.Abort (Braze has no Send)
==============  ==========================  ==================  ======================================

Event ids are deterministic (UUID 5 of the ledger key, the event kind and an attempt or token), so a
message processed again re-exports the *same* events and Currents readers dedupe them by ``id``
(delivery is at least once, braze-api.md §6).
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from engagekit.campaigns.definitions import (
    Channel,
    ChannelMessage,
    ContentCardMessage,
    EmailMessage,
    InAppMessage,
    PushMessage,
    SmsMessage,
    WebhookMessage,
)
from engagekit.campaigns.ledger import Entry, RecipientKey
from engagekit.campaigns.plan import DispatchPlan
from engagekit.channels.ports import (
    Accepted,
    EmailProvider,
    EmailRequest,
    Inbox,
    InboxItem,
    ProviderResult,
    PushProvider,
    PushRequest,
    Rejected,
    SmsProvider,
    SmsRequest,
    Transient,
    WebhookProvider,
    WebhookRequest,
)
from engagekit.currents import events as ev
from engagekit.currents.events import CurrentsEvent, MessageIds, UserIds
from engagekit.domain.profile import Profile
from engagekit.liquid import Aborted, Rendered, Renderer, RenderRequest, RenderResult, StoredTemplate

_NS = uuid.UUID("5d6f1c2e-9a51-4c1b-8d0e-3f3a2b1c0e77")


def event_id(key: RecipientKey, kind: str, extra: str = "") -> str:
    """A deterministic Currents event id for ``kind`` of the send ``key`` (module docstring)."""
    return str(uuid.uuid5(_NS, f"{key.id}|{kind}|{extra}"))


ABORT_TYPE_OF_KIND = {
    "abort_message": "liquid_abort_message",
    "connected_content": "connected_content_error",
}


def abort_type_of(result: Aborted) -> str:
    """Braze's ``abort_type`` for a render abort (braze-api.md §5.3)."""
    return ABORT_TYPE_OF_KIND.get(result.kind, "render_error")


@dataclass(frozen=True)
class Refusal:
    """Why a user cannot receive this channel's message: ``abort_type`` and a log line."""

    abort_type: str
    reason: str


@dataclass(frozen=True)
class SendContext:
    """One recipient of one send, as the adapter sees it."""

    key: RecipientKey
    plan: DispatchPlan
    user: UserIds
    ids: MessageIds
    now: datetime
    attempt: int = 1


@dataclass(frozen=True)
class Delivery:
    """The provider's answer for one recipient: ``sent``, ``failed`` (terminal) or ``retry``.

    ``address`` is what the ledger keeps to rebuild events (push: the JSON list of tokens reached).
    """

    outcome: Literal["sent", "failed", "retry"]
    provider_id: str | None = None
    reason: str | None = None
    address: str | None = None
    unknown: bool = False


def message_ids(plan: DispatchPlan) -> MessageIds:
    return MessageIds(
        campaign_id=plan.campaign_id,
        campaign_name=plan.campaign_name,
        dispatch_id=plan.dispatch_id,
        send_id=plan.send_id,
    )


@dataclass
class Prepared:
    """A rendered message for one recipient: ``fields`` by template path, and message extras."""

    address: str | None
    fields: dict[str, str]
    extras: dict[str, str] = field(default_factory=dict)


def render_fields(
    renderer: Renderer,
    templates: Iterable[tuple[str, str | StoredTemplate]],
    profile: Profile,
    request: RenderRequest,
) -> dict[str, str] | RenderResult:
    """Render every ``(path, template)``; the first non-:class:`Rendered` result stops and is returned.

    Message extras of all fields are merged under the key ``"__extras__"`` (JSON).
    """
    out: dict[str, str] = {}
    extras: dict[str, str] = {}
    for path, template in templates:
        result = renderer.render(template, profile, request)
        if not isinstance(result, Rendered):
            return result
        out[path] = result.text
        extras.update(result.message_extras)
    if extras:
        out["__extras__"] = json.dumps(extras, sort_keys=True)
    return out


class ChannelAdapter(ABC):
    """The per-channel half of a sender (module docstring)."""

    channel: ClassVar[Channel]
    retry_safe: ClassVar[bool] = False
    """Whether a recipient left in ``calling`` by a dead sender may be sent again (idempotent provider)."""

    @abstractmethod
    def check(
        self, profile: Profile, plan: DispatchPlan, step: str, message: ChannelMessage
    ) -> str | Refusal:
        """The address to send to, or why this user cannot receive the message."""

    def templates(
        self, message: ChannelMessage, renderer: Renderer
    ) -> list[tuple[str, str | StoredTemplate]] | Refusal:
        """What to render: ``(path, source)`` pairs (default: the message's Liquid fields)."""
        return list(message.templates())

    @abstractmethod
    def deliver(self, ctx: SendContext, message: ChannelMessage, prepared: Prepared) -> Delivery:
        """Call the provider for one recipient."""

    @abstractmethod
    def sent_events(self, ctx: SendContext, entry: Entry) -> list[CurrentsEvent]:
        """Events of a ``sent`` outcome (``entry`` has the address and provider id)."""

    @abstractmethod
    def abort_event(self, ctx: SendContext, entry: Entry) -> CurrentsEvent | None:
        """The event of an ``aborted``/``capped`` outcome (None if the channel has none)."""

    def failure_events(self, ctx: SendContext, entry: Entry, terminal: bool) -> list[CurrentsEvent]:
        """Events of a provider failure (``terminal``: no retry follows)."""
        return []

    # helpers
    def _event(self, cls: type[ev.M], ctx: SendContext, kind: str, extra: str = "", **fields: Any) -> ev.M:
        return ev.message_event(
            cls, ctx.user, ctx.ids, time=ctx.now, id=event_id(ctx.key, kind, extra), **fields
        )


def _simple(result: ProviderResult, address: str | None) -> Delivery:
    if isinstance(result, Accepted):
        return Delivery("sent", provider_id=result.provider_id, address=address)
    if isinstance(result, Transient):
        return Delivery("retry", reason=result.reason, address=address)
    return Delivery("failed", reason=result.reason, address=address, unknown=result.unknown)


def email_refusal(profile: Profile, requirement: str, group: str | None) -> Refusal | None:
    """Whether ``profile`` may get email under ``requirement`` (braze-api.md §8)."""
    if not profile.email:
        return Refusal("invalid_address", "the user has no email address")
    if profile.email_hard_bounced:
        return Refusal("invalid_address", "the email address hard bounced")
    if requirement == "all":
        return None
    if profile.email_spam:
        return Refusal("not_subscribed", "the user marked an email as spam (only transactional sends)")
    state = profile.email_subscribe
    if state == "unsubscribed" or (requirement == "opted_in" and state != "opted_in"):
        return Refusal("not_subscribed", f"email subscription state is {state}, the send needs {requirement}")
    if group and profile.subscription_groups.get(group) != "subscribed":
        return Refusal("not_subscribed", f"not subscribed to email subscription group {group}")
    return None


class EmailAdapter(ChannelAdapter):
    channel = "email"

    def __init__(self, provider: EmailProvider) -> None:
        self.provider = provider

    def check(
        self, profile: Profile, plan: DispatchPlan, step: str, message: ChannelMessage
    ) -> str | Refusal:
        assert isinstance(message, EmailMessage)
        refusal = email_refusal(profile, plan.subscription_requirement, message.subscription_group_id)
        return refusal if refusal is not None else str(profile.email)

    def templates(
        self, message: ChannelMessage, renderer: Renderer
    ) -> list[tuple[str, str | StoredTemplate]] | Refusal:
        assert isinstance(message, EmailMessage)
        out: list[tuple[str, str | StoredTemplate]] = list(message.templates())
        if message.email_template_id and not message.body:
            stored = renderer.store.get_template(message.email_template_id)
            if stored is None:
                return Refusal("render_error", f"email template {message.email_template_id!r} does not exist")
            out.append(("body", stored))
        return out

    def deliver(self, ctx: SendContext, message: ChannelMessage, prepared: Prepared) -> Delivery:
        assert isinstance(message, EmailMessage)
        tags = {"dispatch_id": ctx.key.dispatch_id, "step": ctx.key.step, "user_id": ctx.key.user_id}
        if ctx.plan.campaign_id:
            tags["campaign_id"] = ctx.plan.campaign_id
        if ctx.plan.send_id:
            tags["send_id"] = ctx.plan.send_id
        reply_to = None if message.reply_to in (None, "NO_REPLY_TO") else message.reply_to
        request = EmailRequest(
            sender=message.from_,
            to=prepared.address or "",
            subject=prepared.fields.get("subject", ""),
            html=prepared.fields.get("body", ""),
            text=prepared.fields.get("plaintext_body"),
            reply_to=reply_to,
            headers=message.headers,
            tags={k: _tag_value(v) for k, v in tags.items()},
        )
        return _simple(self.provider.send(request), prepared.address)

    def sent_events(self, ctx: SendContext, entry: Entry) -> list[CurrentsEvent]:
        plan_msg = ctx.plan.message(ctx.key.step)
        domain = plan_msg.from_address.rpartition("@")[2] if isinstance(plan_msg, EmailMessage) else None
        return [self._event(ev.EmailSend, ctx, "send", email_address=entry.address or "", from_domain=domain)]

    def abort_event(self, ctx: SendContext, entry: Entry) -> CurrentsEvent | None:
        return self._event(
            ev.EmailAbort,
            ctx,
            "abort",
            email_address=entry.address or "",
            abort_type=entry.abort_type,
            abort_log=entry.reason,
        )

    def failure_events(self, ctx: SendContext, entry: Entry, terminal: bool) -> list[CurrentsEvent]:
        if not terminal:
            return []
        return [
            self._event(
                ev.EmailBounce,
                ctx,
                "drop",
                email_address=entry.address or "",
                bounce_reason=entry.reason,
                is_drop=True,
            )
        ]


def _tag_value(value: str) -> str:
    """SES tag values allow only ``[A-Za-z0-9_.@-]`` (SES API reference, MessageTag)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_.@-") else "_" for c in value)[:256]


class SmsAdapter(ChannelAdapter):
    channel = "sms"

    def __init__(self, provider: SmsProvider) -> None:
        self.provider = provider

    def check(
        self, profile: Profile, plan: DispatchPlan, step: str, message: ChannelMessage
    ) -> str | Refusal:
        assert isinstance(message, SmsMessage)
        if not profile.phone:
            return Refusal("invalid_address", "the user has no phone number")
        if profile.subscription_groups.get(message.subscription_group_id) != "subscribed":
            return Refusal(
                "not_subscribed", f"not subscribed to SMS subscription group {message.subscription_group_id}"
            )
        return profile.phone

    def deliver(self, ctx: SendContext, message: ChannelMessage, prepared: Prepared) -> Delivery:
        assert isinstance(message, SmsMessage)
        request = SmsRequest(prepared.address or "", prepared.fields["body"], message.subscription_group_id)
        return _simple(self.provider.send(request), prepared.address)

    def _group(self, ctx: SendContext) -> str | None:
        msg = ctx.plan.message(ctx.key.step)
        return msg.subscription_group_id if isinstance(msg, SmsMessage) else None

    def sent_events(self, ctx: SendContext, entry: Entry) -> list[CurrentsEvent]:
        return [
            self._event(
                ev.SmsSend, ctx, "send", to_phone_number=entry.address, subscription_group_id=self._group(ctx)
            )
        ]

    def abort_event(self, ctx: SendContext, entry: Entry) -> CurrentsEvent | None:
        return self._event(
            ev.SmsAbort,
            ctx,
            "abort",
            subscription_group_id=self._group(ctx),
            abort_type=entry.abort_type,
            abort_log=entry.reason,
        )

    def failure_events(self, ctx: SendContext, entry: Entry, terminal: bool) -> list[CurrentsEvent]:
        if not terminal:
            return []
        return [
            self._event(
                ev.SmsRejection,
                ctx,
                "rejection",
                to_phone_number=entry.address,
                subscription_group_id=self._group(ctx),
                error=entry.reason,
            )
        ]


class WebhookAdapter(ChannelAdapter):
    channel = "webhook"
    retry_safe = True

    def __init__(self, provider: WebhookProvider) -> None:
        self.provider = provider

    def check(
        self, profile: Profile, plan: DispatchPlan, step: str, message: ChannelMessage
    ) -> str | Refusal:
        return ""

    def deliver(self, ctx: SendContext, message: ChannelMessage, prepared: Prepared) -> Delivery:
        assert isinstance(message, WebhookMessage)
        headers = {
            path.removeprefix("request_headers."): value
            for path, value in prepared.fields.items()
            if path.startswith("request_headers.")
        }
        request = WebhookRequest(
            method=message.request_method,
            url=prepared.fields["url"].strip(),
            headers=headers,
            body=prepared.fields.get("body"),
            idempotency_key=ctx.key.id,
        )
        result = self.provider.send(request)
        return _simple(result, request.url)

    def sent_events(self, ctx: SendContext, entry: Entry) -> list[CurrentsEvent]:
        return [self._event(ev.WebhookSend, ctx, "send")]

    def abort_event(self, ctx: SendContext, entry: Entry) -> CurrentsEvent | None:
        return self._event(ev.WebhookAbort, ctx, "abort", abort_type=entry.abort_type, abort_log=entry.reason)

    def failure_events(self, ctx: SendContext, entry: Entry, terminal: bool) -> list[CurrentsEvent]:
        status = None
        reason = entry.reason or ""
        if reason.startswith("HTTP ") and reason[5:8].isdigit():
            status = int(reason[5:8])
        return [
            self._event(
                ev.WebhookFailure,
                ctx,
                "failure",
                str(ctx.attempt),
                endpoint_url=entry.address,
                http_status_code=status,
                raw_response=reason[:1000],
                retry_count=ctx.attempt - 1,
                is_terminal=terminal,
                webhook_failure_source="engagekit",
            )
        ]


PUSH_PLATFORM_OF_STEP = {"apple_push": "ios", "android_push": "android"}


class PushAdapter(ChannelAdapter):
    channel = "push"

    def __init__(self, provider: PushProvider) -> None:
        self.provider = provider

    def _tokens(self, profile: Profile, step: str, message: PushMessage) -> list[tuple[str, str, str]]:
        wanted = PUSH_PLATFORM_OF_STEP.get(step)
        out: list[tuple[str, str, str]] = []
        for token in profile.push_tokens:
            if message.app_ids is not None and token.app_id not in message.app_ids:
                continue
            platform = self.provider.platform(token.app_id)
            if platform is None or (wanted is not None and platform != wanted):
                continue
            out.append((token.app_id, token.token, platform))
        return out

    def check(
        self, profile: Profile, plan: DispatchPlan, step: str, message: ChannelMessage
    ) -> str | Refusal:
        assert isinstance(message, PushMessage)
        requirement = plan.subscription_requirement
        state = profile.push_subscribe
        if requirement != "all" and (
            state == "unsubscribed" or (requirement == "opted_in" and state != "opted_in")
        ):
            return Refusal(
                "not_subscribed", f"push subscription state is {state}, the send needs {requirement}"
            )
        tokens = self._tokens(profile, step, message)
        if not tokens:
            return Refusal("invalid_address", "the user has no push token for this app and platform")
        return json.dumps(tokens)

    def deliver(self, ctx: SendContext, message: ChannelMessage, prepared: Prepared) -> Delivery:
        assert isinstance(message, PushMessage)
        tokens = [tuple(t) for t in json.loads(prepared.address or "[]")]
        extra = {
            path.removeprefix("extra."): value
            for path, value in prepared.fields.items()
            if path.startswith("extra.")
        }
        accepted: list[list[str]] = []
        transient: list[str] = []
        rejected: list[str] = []
        for app_id, token, platform in tokens:
            result = self.provider.send(
                PushRequest(app_id, token, prepared.fields["alert"], prepared.fields.get("title"), extra)
            )
            if isinstance(result, Accepted):
                accepted.append([app_id, token, platform, result.provider_id])
            elif isinstance(result, Transient):
                transient.append(result.reason)
            else:
                rejected.append(result.reason)
        if accepted:
            return Delivery("sent", provider_id=accepted[0][3], address=json.dumps(accepted))
        if transient:
            return Delivery("retry", reason=transient[0], address=prepared.address)
        return Delivery(
            "failed", reason=rejected[0] if rejected else "no token accepted", address=prepared.address
        )

    def sent_events(self, ctx: SendContext, entry: Entry) -> list[CurrentsEvent]:
        return [
            self._event(ev.PushSend, ctx, "send", token, app_id=app_id, platform=platform, push_token=token)
            for app_id, token, platform, *_ in json.loads(entry.address or "[]")
        ]

    def abort_event(self, ctx: SendContext, entry: Entry) -> CurrentsEvent | None:
        return self._event(ev.PushAbort, ctx, "abort", abort_type=entry.abort_type, abort_log=entry.reason)

    def failure_events(self, ctx: SendContext, entry: Entry, terminal: bool) -> list[CurrentsEvent]:
        if not terminal:
            return []
        return [
            self._event(
                ev.PushBounce, ctx, "bounce", token, app_id=app_id, platform=platform, push_token=token
            )
            for app_id, token, platform, *_ in json.loads(entry.address or "[]")
        ]


class InboxAdapter(ChannelAdapter):
    """Content cards and in-app messages: a keyed put in the user's inbox (retry-safe)."""

    retry_safe = True

    def __init__(self, inbox: Inbox, channel: Literal["content_card", "in_app"]) -> None:
        self.inbox = inbox
        self._channel: Literal["content_card", "in_app"] = channel

    @property
    def channel(self) -> Channel:  # type: ignore[override]
        return self._channel

    def check(
        self, profile: Profile, plan: DispatchPlan, step: str, message: ChannelMessage
    ) -> str | Refusal:
        return ""

    def deliver(self, ctx: SendContext, message: ChannelMessage, prepared: Prepared) -> Delivery:
        assert isinstance(message, ContentCardMessage | InAppMessage)
        payload: dict[str, Any] = {"type": message.type}
        extra: dict[str, str] = {}
        for path, value in prepared.fields.items():
            if path.startswith("extra."):
                extra[path.removeprefix("extra.")] = value
            elif path != "__extras__":
                payload[path] = value
        payload["extra"] = extra
        if isinstance(message, ContentCardMessage):
            payload["pinned"] = message.pinned
        item = InboxItem(
            user_id=ctx.key.user_id,
            card_id=card_id(ctx.key),
            channel=self._channel,
            payload=payload,
            created_at=ctx.now,
            expires_at=ctx.now + timedelta(seconds=message.time_to_live),
            campaign_id=ctx.plan.campaign_id,
            dispatch_id=ctx.plan.dispatch_id,
            send_id=ctx.plan.send_id,
        )
        result = self.inbox.put(item)
        if isinstance(result, Rejected):
            return Delivery("failed", reason=result.reason)
        return _simple(result, item.card_id)

    def sent_events(self, ctx: SendContext, entry: Entry) -> list[CurrentsEvent]:
        if self._channel == "in_app":
            return []
        return [self._event(ev.ContentCardSend, ctx, "send", content_card_id=card_id(ctx.key))]

    def abort_event(self, ctx: SendContext, entry: Entry) -> CurrentsEvent | None:
        if self._channel == "in_app":
            return self._event(
                ev.InAppMessageAbort,
                ctx,
                "abort",
                card_id=card_id(ctx.key),
                abort_type=entry.abort_type,
                abort_log=entry.reason,
            )
        return self._event(
            ev.ContentCardAbort, ctx, "abort", abort_type=entry.abort_type, abort_log=entry.reason
        )


def card_id(key: RecipientKey) -> str:
    """The inbox id of a send: ``<dispatch_id>:<step>`` (unique per user's inbox)."""
    return f"{key.dispatch_id}:{key.step}"


def adapters_by_channel(items: Iterable[ChannelAdapter]) -> Mapping[str, ChannelAdapter]:
    return {a.channel: a for a in items}
