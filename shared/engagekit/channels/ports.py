"""The provider ports every channel sender calls, and what a provider call can return.

A call returns exactly one of:

- :class:`Accepted` — the provider took the message (``provider_id``: its message id);
- :class:`Transient` — it did not, and trying again later may work (throttling, 5XX, timeouts of
  idempotent calls, connection refused): the recipient goes back to ``retry``;
- :class:`Rejected` — it did not and never will (invalid address, 4XX, disabled endpoint), or the
  outcome is unknown for a non-idempotent provider (``unknown=True``): terminal ``failed``.

Adapters never raise for a provider's answer; they raise only for programming or configuration
errors. Fakes in :mod:`engagekit.channels.fakes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Accepted:
    provider_id: str = ""


@dataclass(frozen=True)
class Transient:
    reason: str
    status: int | None = None


@dataclass(frozen=True)
class Rejected:
    reason: str
    status: int | None = None
    unknown: bool = False


ProviderResult = Accepted | Transient | Rejected


@dataclass(frozen=True)
class EmailRequest:
    """One email to one address. ``tags`` (SES message tags) carry the send's ids back in the
    configuration set's events: ``dispatch_id``, ``step``, ``user_id``, ``campaign_id``, ``send_id``."""

    sender: str
    to: str
    subject: str
    html: str
    text: str | None = None
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


class EmailProvider(Protocol):
    """SES v2 in the cloud and locally (moto records the mail)."""

    def send(self, email: EmailRequest) -> ProviderResult: ...


@dataclass(frozen=True)
class SmsRequest:
    to: str
    body: str
    subscription_group_id: str | None = None


class SmsProvider(Protocol):
    """SNS SMS (End User Messaging) in the cloud and locally (moto records it)."""

    def send(self, sms: SmsRequest) -> ProviderResult: ...


@dataclass(frozen=True)
class WebhookRequest:
    """One HTTP request; ``idempotency_key`` is sent as ``Idempotency-Key`` on every attempt."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: str | None
    idempotency_key: str


class WebhookProvider(Protocol):
    """HTTPS webhooks (real HTTP everywhere; a loopback server in tests)."""

    def send(self, request: WebhookRequest) -> ProviderResult: ...


Platform = Literal["ios", "android", "web", "other"]


@dataclass(frozen=True)
class PushRequest:
    app_id: str
    token: str
    alert: str
    title: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


class PushProvider(Protocol):
    """Push through SNS platform endpoints (cloud and local: moto records endpoint messages)."""

    def platform(self, app_id: str) -> Platform | None:
        """The platform of an app's platform application, or None when the app has none."""
        ...

    def send(self, push: PushRequest) -> ProviderResult: ...


@dataclass(frozen=True)
class InboxItem:
    """A content card or in-app message in a user's inbox; ``card_id`` is stable per send."""

    user_id: str
    card_id: str
    channel: Literal["content_card", "in_app"]
    payload: Mapping[str, Any]
    created_at: datetime
    expires_at: datetime
    campaign_id: str | None = None
    dispatch_id: str | None = None
    send_id: str | None = None


class Inbox(Protocol):
    """Per-user inbox of content cards and in-app messages (DynamoDB ``inbox`` table)."""

    def put(self, item: InboxItem) -> ProviderResult:
        """Store ``item`` (a keyed put: repeating it changes nothing)."""
        ...

    def list(self, user_id: str, now: datetime, channel: str | None = None) -> Sequence[InboxItem]:
        """The user's unexpired items, newest first."""
        ...
