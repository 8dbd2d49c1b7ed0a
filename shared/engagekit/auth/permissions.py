"""Every API permission a key can hold: Braze's REST API permission names (braze-api.md §0) for
the endpoints engagekit implements, plus engagekit's own for its extensions. ``*`` grants all.

A key created with a name not listed here is refused, so a typo (``users.trak``) is caught when
the key is made rather than showing up later as 403s. A test checks that every permission a
route requires is listed.
"""

from __future__ import annotations

BRAZE_PERMISSIONS = frozenset(
    {
        "users.track", "users.track.sync", "users.identify", "users.alias.new", "users.alias.update",
        "users.merge", "users.delete", "users.external_ids.rename", "users.external_ids.remove",
        "users.export.ids", "users.export.segment",
        "subscription.status.set", "subscription.groups.get",
        "email.status", "email.unsubscribe", "email.hard_bounces",
        "segments.list", "segments.details",
        "campaigns.trigger.send", "campaigns.trigger.schedule.create", "campaigns.trigger.schedule.update",
        "campaigns.trigger.schedule.delete", "campaigns.details",
        "messages.send", "messages.schedule.create", "messages.schedule.update", "messages.schedule.delete",
        "sends.id.create", "sends.data_series",
        "content_blocks.info", "content_blocks.update",
        "templates.info", "templates.update",
    }
)  # fmt: skip

ENGAGEKIT_PERMISSIONS = frozenset(
    {
        "segments.write", "segments.users",
        "campaigns.update", "frequency_caps.update", "frequency_caps.details",
        "templates.render",
        "connected_content.credentials.update", "connected_content.credentials.info",
        "connected_content.credentials.delete",
        "content_cards.sync",
    }
)  # fmt: skip

KNOWN_PERMISSIONS = BRAZE_PERMISSIONS | ENGAGEKIT_PERMISSIONS


def unknown_permissions(permissions: set[str]) -> list[str]:
    """The names in ``permissions`` that are neither ``*`` nor a known permission, sorted."""
    return sorted(p for p in permissions if p != "*" and p not in KNOWN_PERMISSIONS)
