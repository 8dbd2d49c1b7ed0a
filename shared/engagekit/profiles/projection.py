"""The profile -> JSON user object of Braze's exports: ``/users/export/ids`` and ``/users/export/segment``.

:func:`export_user` is the one projection both exports use (braze-api.md §1.6, §1.7). Times are ISO
8601 UTC with milliseconds (``2026-03-01T12:00:00.000Z``); ``custom_events`` and ``purchases``
list ``{name, first, last, count}`` for names whose last occurrence is in the last 90 days
(``first`` and ``count`` all-time, as Braze documents); absent values are left out.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from engagekit.domain.profile import Aggregate, Profile
from engagekit.profiles.timeparse import iso

EXPORT_WINDOW_DAYS = 90
"""Exports list events and purchases whose last occurrence is within 90 days (braze-api.md §1.6)."""

EXPORTABLE_FIELDS: tuple[str, ...] = (
    "apps",
    "attributed_campaign",
    "attributed_source",
    "attributed_adgroup",
    "attributed_ad",
    "braze_id",
    "campaigns_received",
    "canvases_received",
    "cards_clicked",
    "country",
    "created_at",
    "custom_attributes",
    "custom_events",
    "devices",
    "dob",
    "email",
    "email_subscribe",
    "external_id",
    "first_name",
    "gender",
    "home_city",
    "language",
    "last_coordinates",
    "last_name",
    "phone",
    "purchases",
    "push_subscribe",
    "push_tokens",
    "random_bucket",
    "subscription_groups",
    "time_zone",
    "total_revenue",
    "uninstalled_at",
    "user_aliases",
)
"""Field names accepted in ``fields_to_export`` (braze-api.md §1.6, plus ``subscription_groups``)."""

_EMPTY_LIST_FIELDS = frozenset(
    {"apps", "campaigns_received", "canvases_received", "cards_clicked", "devices"}
)


def _aggregates(items: dict[str, Any], now: datetime, key: str = "name") -> list[dict[str, Any]]:
    cutoff = now - timedelta(days=EXPORT_WINDOW_DAYS)
    out: list[dict[str, Any]] = []
    for name, agg in sorted(items.items()):
        assert isinstance(agg, Aggregate)
        if agg.last is None or agg.last < cutoff:
            continue
        out.append(
            {
                key: name,
                "first": iso(agg.first) if agg.first else None,
                "last": iso(agg.last),
                "count": agg.count,
            }
        )
    return out


def export_user(profile: Profile, fields: Collection[str] | None, now: datetime) -> dict[str, Any]:
    """``profile`` as Braze's exported user object, limited to ``fields`` (None: every field).

    ``now`` (aware UTC) anchors the 90-day window. Unknown names in ``fields`` are ignored here
    (the request models refuse them).
    """
    wanted = set(EXPORTABLE_FIELDS if fields is None else fields)
    out: dict[str, Any] = {}

    def put(name: str, value: Any) -> None:
        if name in wanted and value is not None:
            out[name] = value

    put("created_at", iso(profile.created_at))
    put("external_id", profile.external_id)
    put("user_aliases", [a.model_dump() for a in profile.user_aliases])
    put("braze_id", profile.user_id)
    put("first_name", profile.first_name)
    put("last_name", profile.last_name)
    put("email", profile.email)
    put("dob", profile.dob.isoformat() if profile.dob else None)
    put("home_city", profile.home_city)
    put("country", profile.country)
    put("phone", profile.phone)
    put("language", profile.language)
    put("time_zone", profile.time_zone)
    put("gender", profile.gender)
    put("last_coordinates", profile.last_coordinates)
    put("random_bucket", profile.random_bucket)
    put("total_revenue", round(profile.purchases.revenue, 2))
    put("email_subscribe", profile.email_subscribe)
    put("push_subscribe", profile.push_subscribe)
    put(
        "subscription_groups", [{"id": g, "state": s} for g, s in sorted(profile.subscription_groups.items())]
    )
    put("custom_attributes", dict(profile.custom_attributes))
    put("custom_events", _aggregates(dict(profile.events), now))
    put("purchases", _aggregates(dict(profile.products), now))
    put(
        "push_tokens",
        [{"app": t.app_id, "token": t.token, "device_id": t.device_id} for t in profile.push_tokens],
    )
    for name in _EMPTY_LIST_FIELDS:
        put(name, [])
    return out
