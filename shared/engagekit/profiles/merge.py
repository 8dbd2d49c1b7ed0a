"""Merging one profile into another: ``/users/identify`` and ``/users/merge`` (braze-api.md §1.2, §1.5).

Braze's rules: fields found only on the merged profile are copied (names, email, gender, dob, phone,
time zone, home city, country, language, custom attributes); attributes already on the kept profile
win; custom event and purchase counts are summed with first = min and last = max; purchase totals
are summed; push tokens, aliases (one per label) and subscription groups the kept profile lacks are
carried over.
"""

from __future__ import annotations

from engagekit.domain.profile import (
    MAX_TRACKED_EVENT_NAMES,
    MAX_TRACKED_PRODUCTS,
    Aggregate,
    Profile,
)
from engagekit.profiles.changes import UserChanges

COPIED_IF_ABSENT = (
    "first_name",
    "last_name",
    "email",
    "gender",
    "dob",
    "phone",
    "time_zone",
    "home_city",
    "country",
    "language",
    "last_coordinates",
)


def _merge_aggregate(into: Aggregate, other: Aggregate) -> None:
    into.count += other.count
    if other.first is not None and (into.first is None or other.first < into.first):
        into.first = other.first
    if other.last is not None and (into.last is None or other.last > into.last):
        into.last = other.last
    for day, n in other.daily.items():
        into.daily[day] = into.daily.get(day, 0) + n


def merge_into(keep: Profile, merged: Profile) -> UserChanges:
    """Fold ``merged`` into ``keep`` (mutated) by Braze's rules; returns the changes to ``keep``.

    ``merged`` is left as it was; the caller deletes it and moves its identities.
    """
    changes = UserChanges()
    for name in COPIED_IF_ABSENT:
        if getattr(keep, name) is None and getattr(merged, name) is not None:
            setattr(keep, name, getattr(merged, name))
            changes.standard[name] = getattr(merged, name)
    for key, value in merged.custom_attributes.items():
        if key not in keep.custom_attributes:
            keep.custom_attributes[key] = value
            changes.custom[key] = value
    for name, agg in merged.events.items():
        mine = keep.events.get(name)
        if mine is None:
            if len(keep.events) >= MAX_TRACKED_EVENT_NAMES:
                continue
            keep.events[name] = agg.model_copy(deep=True)
        else:
            is_latest = agg.last is not None and (mine.last is None or agg.last > mine.last)
            _merge_aggregate(mine, agg)
            if is_latest:
                mine.last_properties = dict(agg.last_properties)
        changes.touched = True  # aggregates changed: the profile must be written
    for product_id, product in merged.products.items():
        have = keep.products.get(product_id)
        if have is None:
            if len(keep.products) >= MAX_TRACKED_PRODUCTS:
                continue
            keep.products[product_id] = product.model_copy(deep=True)
        else:
            _merge_aggregate(have, product)
            have.quantity += product.quantity
            have.revenue = round(have.revenue + product.revenue, 6)
        changes.touched = True
    totals, other = keep.purchases, merged.purchases
    if other.count:
        _merge_aggregate(totals, other)
        totals.revenue = round(totals.revenue + other.revenue, 6)
        for day, value in other.daily_revenue.items():
            totals.daily_revenue[day] = round(totals.daily_revenue.get(day, 0.0) + value, 6)
        totals.currency = totals.currency or other.currency
        changes.touched = True
    labels = {a.alias_label for a in keep.user_aliases}
    for alias in merged.user_aliases:
        if alias.alias_label not in labels:
            keep.user_aliases.append(alias)
            labels.add(alias.alias_label)
            changes.touched = True
    tokens = {t.token for t in keep.push_tokens}
    for token in merged.push_tokens:
        if token.token not in tokens:
            keep.push_tokens.append(token)
            changes.touched = True
    for group, state in merged.subscription_groups.items():
        if group not in keep.subscription_groups:
            keep.subscription_groups[group] = state
            changes.groups[group] = state
    if keep.created_at > merged.created_at:
        keep.created_at = merged.created_at
    return changes
