"""The per-user inbox of content cards and in-app messages (table ``inbox``).

Table ``inbox``: hash ``user_id``, range ``card_id`` (``<dispatch_id>:<step>``: one card per send
and user, so storing it again is a no-op), TTL ``expires_at`` (the card's ``time_to_live``). The
SDK-style endpoints ``GET /content_cards/sync`` and ``GET /in_app_messages/sync`` read it with one
Query per user; expired items are filtered (TTL deletion lags up to a few days).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from engagekit.channels.ports import Accepted, InboxItem, ProviderResult, Transient
from engagekit.dynamo import bind

MAX_ITEMS = 100
"""Items a sync returns at most (newest first)."""


class InboxRow(Model):
    """Persistence shape of an inbox item; stays inside this module."""

    class Meta:
        table_name = "inbox"

    user_id = UnicodeAttribute(hash_key=True)
    card_id = UnicodeAttribute(range_key=True)
    channel = UnicodeAttribute()
    payload = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()
    campaign_id = UnicodeAttribute(null=True)
    dispatch_id = UnicodeAttribute(null=True)
    send_id = UnicodeAttribute(null=True)


def _item(row: InboxRow) -> InboxItem:
    return InboxItem(
        user_id=row.user_id,
        card_id=row.card_id,
        channel=row.channel,  # type: ignore[arg-type]
        payload=json.loads(row.payload),
        created_at=datetime.fromtimestamp(float(row.created_at), UTC),
        expires_at=datetime.fromtimestamp(float(row.expires_at), UTC),
        campaign_id=row.campaign_id,
        dispatch_id=row.dispatch_id,
        send_id=row.send_id,
    )


class DynamoInbox:
    """:class:`~engagekit.channels.ports.Inbox` on the ``inbox`` table (``INBOX_TABLE``)."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._m = bind(InboxRow, table_name, host)

    def put(self, item: InboxItem) -> ProviderResult:
        from pynamodb.exceptions import PutError

        try:
            self._m(
                item.user_id,
                item.card_id,
                channel=item.channel,
                payload=json.dumps(dict(item.payload), ensure_ascii=False),
                created_at=item.created_at.timestamp(),
                expires_at=int(item.expires_at.timestamp()),
                campaign_id=item.campaign_id,
                dispatch_id=item.dispatch_id,
                send_id=item.send_id,
            ).save()
        except PutError as exc:
            return Transient(f"inbox write failed: {exc.cause_response_code}")
        return Accepted(item.card_id)

    def list(self, user_id: str, now: datetime, channel: str | None = None) -> Sequence[InboxItem]:
        items = [_item(row) for row in self._m.query(user_id)]
        return _visible(items, now, channel)


def _visible(items: list[InboxItem], now: datetime, channel: str | None) -> list[InboxItem]:
    kept = [i for i in items if i.expires_at > now and (channel is None or i.channel == channel)]
    return sorted(kept, key=lambda i: (i.created_at, i.card_id), reverse=True)[:MAX_ITEMS]


class InMemoryInbox:
    """A dict-backed inbox for tests and the bench; ``puts`` counts writes."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], InboxItem] = {}
        self.puts = 0
        self._lock = threading.Lock()

    def put(self, item: InboxItem) -> ProviderResult:
        with self._lock:
            self.puts += 1
            self.items[(item.user_id, item.card_id)] = item
        return Accepted(item.card_id)

    def list(self, user_id: str, now: datetime, channel: str | None = None) -> Sequence[InboxItem]:
        with self._lock:
            items = [i for (u, _), i in self.items.items() if u == user_id]
        return _visible(items, now, channel)
