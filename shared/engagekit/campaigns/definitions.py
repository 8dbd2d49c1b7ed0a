"""Campaign and frequency-capping definitions: what marketers PUT and ``engagekit apply`` manages.

A campaign (``PUT /campaigns/{campaign_id}``) holds one message per channel, every text field a
Liquid template (braze-api.md §5), plus the sending rules Braze attaches to a campaign
(braze-api.md §4 "Rate limiting & frequency capping", §8 subscription states):

- ``segment_id``: the target segment (``broadcast`` sends go to it; API recipients must be in it);
- ``rate_limit_per_minute``: delivery speed, 10 to 500,000 messages per minute per channel;
- ``frequency_capping``: whether the global rules apply to (and count) this campaign's sends;
- ``quiet_hours``: a local-time window with a fallback, ``hold`` (send when it ends) or ``abort``;
- ``reeligibility``: off by default (a user receives the campaign once), else after N seconds
  (at most 720 days);
- ``subscription_requirement``: ``subscribed`` (subscribed or opted in, the default), ``opted_in``
  or ``all`` (transactional; unsubscribed users too).

A global frequency-capping rule (``PUT /frequency_caps/{id}``) limits sends per user: N sends of a
channel (or ``any``), optionally of campaigns with a tag, per window of minutes, days (calendar days
in the user's time zone) or weeks (rolling 7 days); windows up to 30 days; at most 10 rules
(braze-api.md §4, §9).

The channel message models double as the ``messages`` objects of ``/messages/send``
(braze-api.md §2.3): unknown keys (``should_inline_css``, ``message_variation_id``...) are accepted
and ignored so Braze clients work unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from engagekit.model import Model

Channel = Literal["email", "sms", "webhook", "push", "content_card", "in_app"]
"""A delivery channel; each has its own queue and sender (in-app and content cards share one)."""

StepName = Literal[
    "email", "sms", "webhook", "push", "apple_push", "android_push", "content_card", "in_app_message"
]
"""A message key of a campaign or of ``/messages/send``; it is the ``step`` of the send ledger key."""

CHANNEL_OF_STEP: dict[str, Channel] = {
    "email": "email",
    "sms": "sms",
    "webhook": "webhook",
    "push": "push",
    "apple_push": "push",
    "android_push": "push",
    "content_card": "content_card",
    "in_app_message": "in_app",
}

SubscriptionRequirement = Literal["subscribed", "opted_in", "all"]

MIN_RATE_PER_MINUTE = 10
MAX_RATE_PER_MINUTE = 500_000
"""Delivery-speed limit bounds, messages per minute (braze-api.md §4, §9)."""
MAX_REELIGIBILITY_S = 720 * 86_400
"""Campaign re-eligibility is at most 720 days (braze-api.md §4, §9)."""
MAX_CAP_WINDOW_S = 30 * 86_400
"""A frequency-capping window is at most 30 days (braze-api.md §4)."""
MAX_CAP_RULES = 10
"""At most 10 frequency-capping rules per workspace (braze-api.md §4)."""
APPLE_PUSH_MAX_BYTES = 1_912
ANDROID_PUSH_MAX_BYTES = 4_000
"""Push payload limits (braze-api.md §0 errors, §9)."""
MAX_CARD_TTL_S = 30 * 86_400
"""A content card lives at most 30 days in the inbox (engagekit choice, Braze's default expiry)."""
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
"""Campaign and rule ids: letters, digits, ``_ . : -``; at most 128 characters."""

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ADDRESS = re.compile(r"<?([^<>\s@]+@[^<>\s@]+)>?\s*$")


class _Message(Model):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    def templates(self) -> Iterator[tuple[str, str]]:
        """Every ``(field path, Liquid source)`` of the message that is rendered per recipient."""
        return iter(())


class EmailMessage(_Message):
    """An email (braze-api.md §2.3 email object). ``from`` is ``"Display Name <a@b.c>"`` or ``a@b.c``.

    ``body`` (HTML) is required unless ``email_template_id`` names a stored template;
    ``reply_to`` ``"NO_REPLY_TO"`` means none. ``subscription_group_id`` additionally requires the
    user to be subscribed to that email group (braze-api.md §8).
    """

    app_id: str | None = None
    from_: str = Field(alias="from", min_length=3, max_length=320)
    reply_to: str | None = None
    subject: str = Field(default="", max_length=2_000)
    body: str | None = None
    plaintext_body: str | None = None
    preheader: str | None = None
    email_template_id: str | None = None
    subscription_group_id: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("from_")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _ADDRESS.search(value.strip()):
            raise ValueError("must be an address, optionally with a display name: 'Shop <news@shop.com>'")
        return value

    @model_validator(mode="after")
    def _body(self) -> EmailMessage:
        if not self.body and not self.email_template_id:
            raise ValueError("an email needs a 'body' or an 'email_template_id'")
        return self

    @property
    def from_address(self) -> str:
        """The bare sender address of ``from``."""
        match = _ADDRESS.search(self.from_.strip())
        return match.group(1) if match else self.from_

    def templates(self) -> Iterator[tuple[str, str]]:
        for name in ("subject", "body", "plaintext_body", "preheader"):
            value = getattr(self, name)
            if value:
                yield name, value


class SmsMessage(_Message):
    """An SMS (braze-api.md §2.3 sms object): the user must be subscribed to the group (§8)."""

    subscription_group_id: str = Field(min_length=1)
    body: str = Field(min_length=1, max_length=1_600)
    app_id: str | None = None

    def templates(self) -> Iterator[tuple[str, str]]:
        yield "body", self.body


class WebhookMessage(_Message):
    """A webhook (braze-api.md §2.3 webhook object): ``url``, ``body`` and header values are Liquid."""

    url: str = Field(min_length=8, max_length=2_048)
    request_method: Literal["POST", "PUT", "DELETE", "GET"] = "POST"
    request_headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.lower().startswith(("https://", "http://")) and not value.startswith("{{"):
            raise ValueError("must be an http(s) URL")
        return value

    def templates(self) -> Iterator[tuple[str, str]]:
        yield "url", self.url
        if self.body:
            yield "body", self.body
        for name, value in self.request_headers.items():
            yield f"request_headers.{name}", value


class PushMessage(_Message):
    """A push notification (braze-api.md §2.3 apple_push / android_push): ``alert`` and ``title``
    are Liquid; ``extra`` values too. ``app_ids`` restricts it to those apps' tokens."""

    alert: str = Field(min_length=1)
    title: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)
    app_ids: list[str] | None = None

    def templates(self) -> Iterator[tuple[str, str]]:
        yield "alert", self.alert
        if self.title:
            yield "title", self.title
        for name, value in self.extra.items():
            yield f"extra.{name}", value


class ContentCardMessage(_Message):
    """A content card (Braze's content_card object): put in the user's inbox, read by
    ``GET /content_cards/sync``. ``time_to_live`` seconds (at most 30 days)."""

    type: Literal["CLASSIC", "CAPTIONED_IMAGE", "BANNER"] = "CLASSIC"
    title: str | None = None
    description: str = Field(min_length=1)
    image_url: str | None = None
    url: str | None = None
    pinned: bool = False
    time_to_live: int = Field(default=MAX_CARD_TTL_S, ge=60, le=MAX_CARD_TTL_S)
    extra: dict[str, str] = Field(default_factory=dict)

    def templates(self) -> Iterator[tuple[str, str]]:
        for name in ("title", "description", "image_url", "url"):
            value = getattr(self, name)
            if value:
                yield name, value
        for name, value in self.extra.items():
            yield f"extra.{name}", value


class InAppMessage(_Message):
    """An in-app message: ``message`` (and ``header``, button texts in ``extra``) shown by the SDK
    at the next session; kept in the inbox ``time_to_live`` seconds."""

    type: Literal["SLIDEUP", "MODAL", "FULL", "HTML"] = "SLIDEUP"
    message: str = Field(min_length=1)
    header: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)
    time_to_live: int = Field(default=MAX_CARD_TTL_S, ge=60, le=MAX_CARD_TTL_S)

    @model_validator(mode="after")
    def _slideup(self) -> InAppMessage:
        # "Slideup Message Length Exceeded" (>140 chars), braze-api.md §0; checked on the source.
        if self.type == "SLIDEUP" and "{" not in self.message and len(self.message) > 140:
            raise ValueError("Slideup Message Length Exceeded: a slideup message is at most 140 characters")
        return self

    def templates(self) -> Iterator[tuple[str, str]]:
        yield "message", self.message
        if self.header:
            yield "header", self.header
        for name, value in self.extra.items():
            yield f"extra.{name}", value


ChannelMessage = EmailMessage | SmsMessage | WebhookMessage | PushMessage | ContentCardMessage | InAppMessage


class Messages(Model):
    """One message per channel; at least one. ``push`` is engagekit's cross-platform push;
    ``apple_push`` / ``android_push`` are Braze's per-platform objects (tokens of that platform)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailMessage | None = None
    sms: SmsMessage | None = None
    webhook: WebhookMessage | None = None
    push: PushMessage | None = None
    apple_push: PushMessage | None = None
    android_push: PushMessage | None = None
    content_card: ContentCardMessage | None = None
    in_app_message: InAppMessage | None = None

    @model_validator(mode="after")
    def _one(self) -> Messages:
        if not any(getattr(self, name) is not None for name in CHANNEL_OF_STEP):
            raise ValueError("No message to send: give at least one channel's message")
        return self

    def steps(self) -> list[tuple[str, ChannelMessage]]:
        """``(step name, message)`` of every channel present, in a fixed order."""
        return [(name, msg) for name in CHANNEL_OF_STEP if (msg := getattr(self, name)) is not None]


class QuietHours(Model):
    """Local-time window (user's zone) in which nothing is sent; ``start``/``end`` are ``HH:MM``.

    A window with ``start`` after ``end`` spans midnight (``22:00``-``08:00``). ``fallback``:
    ``hold`` sends when the window ends, ``abort`` drops the message (braze-api.md §4 "Quiet Hours").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str
    fallback: Literal["hold", "abort"] = "hold"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("must be HH:MM (24-hour)")
        return value

    @model_validator(mode="after")
    def _nonempty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours need different start and end times")
        return self


class Reeligibility(Model):
    """Whether a user may receive the campaign again, and after how many seconds (braze-api.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    after_s: int = Field(default=0, ge=0, le=MAX_REELIGIBILITY_S)


class CampaignDefinition(Model):
    """A campaign as PUT (module docstring). Immutable; ``tags`` feed tag-based frequency caps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=255)
    description: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    segment_id: str | None = None
    messages: Messages
    rate_limit_per_minute: int | None = Field(default=None, ge=MIN_RATE_PER_MINUTE, le=MAX_RATE_PER_MINUTE)
    frequency_capping: bool = True
    quiet_hours: QuietHours | None = None
    reeligibility: Reeligibility = Field(default_factory=Reeligibility)
    subscription_requirement: SubscriptionRequirement = "subscribed"
    archived: bool = False


class CapWindow(Model):
    """``amount`` ``unit``s: minutes (rolling), days (calendar days in the user's zone, today
    included), weeks (rolling 7-day periods); at most 30 days (braze-api.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int = Field(ge=1)
    unit: Literal["minutes", "days", "weeks"]

    @model_validator(mode="after")
    def _max(self) -> CapWindow:
        seconds = self.amount * {"minutes": 60, "days": 86_400, "weeks": 7 * 86_400}[self.unit]
        if seconds > MAX_CAP_WINDOW_S:
            raise ValueError("a frequency-capping window is at most 30 days")
        return self


class FrequencyCapRule(Model):
    """At most ``limit`` sends of ``channel`` (``any``: every capped channel) per ``window``,
    counting only campaigns tagged ``tag`` when given (braze-api.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Literal["any", "email", "sms", "push", "webhook"]
    tag: str | None = None
    limit: int = Field(ge=1, le=1_000)
    window: CapWindow
    enabled: bool = True


CAPPED_CHANNELS: frozenset[Channel] = frozenset({"email", "sms", "push", "webhook"})
"""Channels frequency caps apply to; in-app messages and content cards never count (§4)."""


def strip_server_fields(body: dict[str, Any], ident: str) -> dict[str, Any]:
    """The definition part of a PUT body: drops ``kind`` (``engagekit apply`` files), ``id`` (must
    match the path) and the server fields a GET adds, so a GET body can be PUT back unchanged.

    Raises ValueError when ``id`` is present and differs from ``ident``.
    """
    if "id" in body and body["id"] != ident:
        raise ValueError(f"'id' in the body ({body['id']!r}) differs from the path ({ident!r})")
    return {k: v for k, v in body.items() if k not in {"id", "kind", "created_at", "updated_at", "version"}}
