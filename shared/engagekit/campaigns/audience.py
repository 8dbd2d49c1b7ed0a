"""Audience resolution: which users a send reaches, walked in independent units (the Map's items).

An audience is one of (braze-api.md §2.1, §2.3, §2.6):

- **recipients**: up to 50 explicit users, resolved by the API (no units: enqueued at once);
- **segment**: the members of a segment, read from the ``memberships`` table one shard per unit
  (:data:`engagekit.segments.membership.SHARDS` units, eventually consistent Queries); with a
  Connected Audience ``filter`` as well, each member's profile is read (BatchGetItem, 100 a
  request) and the filter evaluated;
- **filter** (Connected Audience without a segment) or **all** users: a DynamoDB *parallel Scan* of
  the ``profiles`` table, one scan segment per unit, evaluating the filter on every profile. This
  reads the whole table once per send (its cost grows with the user base, not the audience); use a
  segment for audiences that are sent to often.

Units are named ``seg-003`` / ``scan-003``; each unit's enqueued count is stored in the ledger
(idempotently), and the dispatch's target is their sum.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Protocol

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from engagekit.campaigns.plan import Audience
from engagekit.domain.profile import Profile
from engagekit.dynamo import bind
from engagekit.profiles.store import ProfileStore, decode_profile
from engagekit.segments import evaluate, parse_filter
from engagekit.segments.filters import FilterNode
from engagekit.segments.membership import SHARDS, MembershipRepo

SCAN_SEGMENTS = SHARDS
"""Parallel-scan segments for filter-only audiences (one Map item each)."""
PROFILE_BATCH = 100
"""Profiles read per BatchGetItem when a segment audience also has a filter (DynamoDB maximum)."""


@dataclass(frozen=True)
class Unit:
    """One independent slice of an audience: a membership shard or a scan segment."""

    name: str
    index: int
    total: int


def units_for(audience: Audience) -> list[Unit]:
    """The units of ``audience`` (empty for explicit recipients)."""
    if audience.kind == "recipients":
        return []
    prefix = "seg" if audience.kind == "segment" else "scan"
    total = SHARDS if audience.kind == "segment" else SCAN_SEGMENTS
    return [Unit(f"{prefix}-{i:03d}", i, total) for i in range(total)]


def unit_by_name(audience: Audience, name: str) -> Unit:
    """The unit called ``name``; raises KeyError for an unknown name."""
    for unit in units_for(audience):
        if unit.name == name:
            return unit
    raise KeyError(name)


class ProfileScanner(Protocol):
    """A parallel scan of every profile: segment ``index`` of ``total``."""

    def scan(self, index: int, total: int) -> Iterator[Profile]: ...


class _ProfileRow(Model):
    """Read-only projection of a ``profiles`` item (the fields :func:`decode_profile` needs)."""

    class Meta:
        table_name = "profiles"

    user_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(null=True)
    doc = UnicodeAttribute(null=True)
    docz = BinaryAttribute(null=True, legacy_encoding=False)


class DynamoProfileScanner:
    """:class:`ProfileScanner` as a DynamoDB parallel Scan of the ``profiles`` table."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._m = bind(_ProfileRow, table_name, host)

    def scan(self, index: int, total: int) -> Iterator[Profile]:
        for item in self._m.scan(segment=index, total_segments=total):
            yield decode_profile(item.doc, item.docz, int(item.version or 0))


class InMemoryProfileScanner:
    """:class:`ProfileScanner` over a :class:`ProfileStore` fake: a user falls in segment
    ``crc32(user_id) % total``."""

    def __init__(self, store: ProfileStore) -> None:
        self._store = store

    def scan(self, index: int, total: int) -> Iterator[Profile]:
        for profile in self._store.scan_profiles():
            if zlib.crc32(profile.user_id.encode()) % total == index:
                yield profile


def compile_filter(audience: Audience) -> FilterNode | None:
    """The parsed Connected Audience filter of ``audience`` (ValidationError if invalid)."""
    return parse_filter(audience.filter, path="audience") if audience.filter is not None else None


def matcher(node: FilterNode | None, memberships: MembershipRepo, now: datetime) -> Callable[[Profile], bool]:
    """A predicate evaluating ``node`` at ``now`` (segment leaves answered by ``memberships``)."""
    if node is None:
        return lambda profile: True

    def matches(profile: Profile) -> bool:
        return evaluate(
            node, profile, now, memberships=lambda seg: memberships.is_member(seg, profile.user_id)
        )

    return matches


def unit_members(
    audience: Audience,
    unit: Unit,
    *,
    memberships: MembershipRepo,
    profiles: ProfileStore,
    scanner: ProfileScanner,
    now: datetime,
) -> Iterator[str]:
    """The user ids of ``unit`` that belong to ``audience`` (module docstring), each once."""
    matches = matcher(compile_filter(audience), memberships, now)
    if audience.kind == "segment":
        members = memberships.iter_members(audience.segment_id or "", shards=[unit.index])
        if audience.filter is None:
            yield from members
            return
        while chunk := list(islice(members, PROFILE_BATCH)):
            found = profiles.get_profiles(chunk, consistent=False)
            for user_id in chunk:
                profile = found.get(user_id)
                if profile is not None and matches(profile):
                    yield user_id
        return
    for profile in scanner.scan(unit.index, unit.total):
        if matches(profile):
            yield profile.user_id
