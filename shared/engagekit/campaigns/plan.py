"""What one send is: the dispatch plan (a snapshot taken when the send starts) and the queue messages.

A :class:`DispatchPlan` freezes everything the senders need — the messages, the campaign's rules,
the trigger properties, the audience — when the dispatch is created, so editing a campaign during a
send never mixes versions. It is stored once per dispatch in the send ledger (zlib JSON) and cached
per sender container.

A :class:`SendBatch` is one SQS message: one dispatch, one step (channel message), up to
:data:`RECIPIENTS_PER_MESSAGE` recipients, each with its own trigger properties when the API gave
any. Its ``key`` is a content hash: two dispatchers (or a restarted one) that enqueue the same
recipients produce the same key, and the ledger dedupes the rest.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from engagekit.campaigns.definitions import (
    CHANNEL_OF_STEP,
    Channel,
    ChannelMessage,
    Messages,
    QuietHours,
    Reeligibility,
    SubscriptionRequirement,
)
from engagekit.errors import ValidationError
from engagekit.model import Model

RECIPIENTS_PER_MESSAGE = 250
"""Recipients per SQS message: 250 ids are about 8 KB, so ten messages (one SendMessageBatch, the
SQS maximum) carry 2,500 recipients and the send costs well under 2 SQS requests per 1,000."""
MAX_MESSAGE_BYTES = 240 * 1024
"""A message body stays under SQS's 256 KiB (the classic limit; engagekit designs for it even
where 1 MiB is accepted) with room for attributes; per-recipient trigger properties (≤ 50 KB each,
braze-api.md §2.1) make messages split by size before count."""
MAX_BATCH_BYTES = 240 * 1024
"""One SendMessageBatch carries at most 256 KiB in all (SQS quota); same margin."""
MAX_PLAN_BYTES = 350 * 1024
"""The compressed plan must fit a DynamoDB item (400 KB, AWS quotas) with the ledger's fields."""

QUEUE_OF_CHANNEL: dict[Channel, str] = {
    "email": "send_email",
    "sms": "send_sms",
    "webhook": "send_webhook",
    "push": "send_push",
    "content_card": "send_in_app",
    "in_app": "send_in_app",
}
"""The manifest queue (and sender function) of each channel."""


class Audience(Model):
    """Who a dispatch targets: explicit user ids, a segment, a Connected Audience filter, or all."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["recipients", "segment", "filter", "all"]
    segment_id: str | None = None
    filter: dict[str, Any] | None = Field(default=None, description="Connected Audience JSON (§2.6)")


class DispatchPlan(Model):
    """The snapshot of one send (module docstring). Instants are aware UTC.

    ``local_time`` is set for ``in_local_time`` schedules: the naive local wall time (ISO,
    ``2026-03-08T09:00:00``) each user receives the message at in their own zone.
    """

    model_config = ConfigDict(frozen=True)

    dispatch_id: str
    created_at: datetime
    source: Literal["campaign", "messages"]
    campaign_id: str | None = None
    campaign_name: str | None = None
    send_id: str | None = None
    schedule_id: str | None = None
    tags: tuple[str, ...] = ()
    messages: Messages
    trigger_properties: dict[str, Any] = Field(default_factory=dict)
    subscription_requirement: SubscriptionRequirement = "subscribed"
    frequency_capping: bool = True
    override_frequency_capping: bool = False
    quiet_hours: QuietHours | None = None
    rate_limit_per_minute: int | None = None
    reeligibility: Reeligibility | None = None
    local_time: str | None = None
    audience: Audience

    def steps(self) -> list[str]:
        """The step names (channel message keys) of this send, in a fixed order."""
        return [name for name, _ in self.messages.steps()]

    def message(self, step: str) -> ChannelMessage:
        """The message of ``step``; KeyError if the plan has no such step."""
        msg = getattr(self.messages, step, None)
        if msg is None:
            raise KeyError(step)
        return msg  # type: ignore[no-any-return]

    def channel(self, step: str) -> Channel:
        return CHANNEL_OF_STEP[step]

    @property
    def counts_toward_caps(self) -> bool:
        """Whether this send's deliveries count toward (and obey) global frequency caps (§4)."""
        return self.frequency_capping and not self.override_frequency_capping

    def encode(self) -> bytes:
        """zlib-compressed JSON; raises ValidationError past :data:`MAX_PLAN_BYTES`."""
        data = zlib.compress(self.model_dump_json(by_alias=True).encode(), 6)
        if len(data) > MAX_PLAN_BYTES:
            raise ValidationError(
                f"the messages of this send are too large ({len(data)} bytes compressed, "
                f"max {MAX_PLAN_BYTES})"
            )
        return data

    @classmethod
    def decode(cls, data: bytes) -> DispatchPlan:
        return cls.model_validate_json(zlib.decompress(data))


Recipient = tuple[str, dict[str, Any] | None]
"""``(user_id, per-recipient trigger properties or None)``."""


@dataclass(frozen=True)
class SendBatch:
    """One queue message: ``recipients`` of ``step`` of ``dispatch_id``; ``key`` identifies it.

    ``render_attempts`` counts Connected Content ``:retry`` renders per user (braze-api.md §5.4).
    """

    dispatch_id: str
    step: str
    key: str
    recipients: tuple[Recipient, ...]
    render_attempts: dict[str, int] = field(default_factory=dict)

    def encode(self) -> str:
        body: dict[str, Any] = {
            "v": 1,
            "d": self.dispatch_id,
            "s": self.step,
            "k": self.key,
            "r": [[uid, tp] if tp else [uid] for uid, tp in self.recipients],
        }
        if self.render_attempts:
            body["ra"] = self.render_attempts
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)

    @classmethod
    def decode(cls, text: str) -> SendBatch:
        """Parse a message body; raises ValueError for anything that is not one."""
        body = json.loads(text)
        if not isinstance(body, dict) or body.get("v") != 1:
            raise ValueError("not a send batch message")
        recipients = tuple((str(r[0]), r[1] if len(r) > 1 else None) for r in body["r"])
        return cls(str(body["d"]), str(body["s"]), str(body["k"]), recipients, dict(body.get("ra") or {}))


def batch_key(dispatch_id: str, step: str, user_ids: Iterable[str], salt: str = "") -> str:
    """The content key of a batch: SHA-256 of dispatch, step, salt and the user ids (20 hex digits)."""
    digest = hashlib.sha256(f"{dispatch_id}|{step}|{salt}|".encode())
    for uid in user_ids:
        digest.update(uid.encode() + b"\n")
    return digest.hexdigest()[:20]


def pack(
    dispatch_id: str,
    step: str,
    recipients: Sequence[Recipient],
    *,
    per_message: int = RECIPIENTS_PER_MESSAGE,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Iterator[SendBatch]:
    """Split ``recipients`` into batches of at most ``per_message`` recipients and ``max_bytes``.

    Raises ValidationError if one recipient alone does not fit (trigger properties too large).
    """
    chunk: list[Recipient] = []
    size = 200

    def flush() -> SendBatch:
        ids = [uid for uid, _ in chunk]
        return SendBatch(dispatch_id, step, batch_key(dispatch_id, step, ids), tuple(chunk))

    for recipient in recipients:
        cost = len(json.dumps(recipient, separators=(",", ":"), default=str).encode()) + 1
        if cost + 200 > max_bytes:
            raise ValidationError(f"the trigger properties of recipient {recipient[0]} are too large")
        if chunk and (len(chunk) >= per_message or size + cost > max_bytes):
            yield flush()
            chunk, size = [], 200
        chunk.append(recipient)
        size += cost
    if chunk:
        yield flush()
