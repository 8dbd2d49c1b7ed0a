"""SDK-style inbox reads: ``GET /content_cards/sync`` and ``GET /in_app_messages/sync``.

Braze's SDKs fetch content cards and in-app messages from SDK endpoints; engagekit serves the
inbox over two REST reads addressed by ``external_id`` (or ``braze_id``), newest first, expired
items left out. A user that does not exist has an empty inbox.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from engagekit import clock
from engagekit.channels.ports import Inbox, InboxItem
from engagekit.model import Model
from engagekit.profiles import identity as ids
from engagekit.profiles.store import ProfileStore


class SyncQuery(Model):
    """Query string of a sync: exactly one of ``external_id`` and ``braze_id``."""

    model_config = ConfigDict(extra="ignore")
    external_id: str | None = Field(default=None, min_length=1, max_length=400)
    braze_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one(self) -> SyncQuery:
        if (self.external_id is None) == (self.braze_id is None):
            raise ValueError("give exactly one of 'external_id' and 'braze_id'")
        return self


def _user_id(query: SyncQuery, store: ProfileStore) -> str | None:
    if query.braze_id is not None:
        return query.braze_id
    ident = ids.external_id(query.external_id or "")
    record = store.get_identities([ident.key or ""]).get(ident.key or "")
    return sorted(record.user_ids)[0] if record and record.user_ids else None


def _card(item: InboxItem) -> dict[str, Any]:
    payload = dict(item.payload)
    extras = payload.pop("extra", {})
    return {
        "id": item.card_id,
        **payload,
        "extras": extras,
        "created": int(item.created_at.timestamp()),
        "expires_at": int(item.expires_at.timestamp()),
        "campaign_id": item.campaign_id,
        "dispatch_id": item.dispatch_id,
    }


def sync(
    query: SyncQuery, store: ProfileStore, inbox: Inbox, channel: Literal["content_card", "in_app"]
) -> dict[str, Any]:
    """The user's unexpired cards (or in-app messages), newest first:
    ``{"cards"|"in_app_messages": [...], "last_full_sync_at": epoch s, "message": "success"}``."""
    now = clock.now()
    user_id = _user_id(query, store)
    items = inbox.list(user_id, now, channel) if user_id else []
    key = "cards" if channel == "content_card" else "in_app_messages"
    return {key: [_card(i) for i in items], "last_full_sync_at": int(now.timestamp()), "message": "success"}
