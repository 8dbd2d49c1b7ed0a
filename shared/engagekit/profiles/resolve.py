"""Identity resolution: which profile an identifier names, with Braze's tie-breaking rules.

:func:`load` reads every identity and profile a request needs in two BatchGetItem requests (one
per table). :func:`find` then answers per identifier:

- ``braze_id``: the profile with that ``user_id``;
- ``external_id``/``user_alias``: the single holder of the identity;
- ``email``/``phone`` without a prioritization (``/users/track``): the most recently updated
  profile that has an external_id, else the most recently updated one (braze-api.md §1.1);
- with a ``prioritization`` (``identify``, ``delete``, ``merge``): :func:`pick` (§1.2, §1.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engagekit.domain.profile import Profile
from engagekit.profiles.identity import Identifier
from engagekit.profiles.store import IdentityRecord, ProfileStore

PRIORITIES = ("identified", "unidentified", "most_recently_updated", "least_recently_updated")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Ambiguous(Exception):
    """More than one profile matches and the prioritization does not decide (no action is taken)."""


@dataclass
class Resolution:
    """What :func:`load` read: identity records by key and profiles by ``user_id``."""

    identities: dict[str, IdentityRecord] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)

    def holders(self, ident: Identifier) -> list[str]:
        """The ``user_id``s recorded for ``ident`` (profile or not), sorted."""
        if ident.kind == "braze_id":
            return [ident.value]
        record = self.identities.get(ident.key or "")
        return sorted(record.user_ids) if record else []

    def candidates(self, ident: Identifier) -> list[Profile]:
        """The existing profiles ``ident`` names."""
        return [self.profiles[u] for u in self.holders(ident) if u in self.profiles]


def load(
    store: ProfileStore, identifiers: Iterable[Identifier], extra_keys: Iterable[str] = ()
) -> Resolution:
    """Read the identities of ``identifiers`` (+ ``extra_keys``), then every profile they name.

    Two requests at most (more only past 100 keys per table: BatchGetItem's page size).
    """
    idents = list(identifiers)
    keys = {i.key for i in idents if i.key} | set(extra_keys)
    records = store.get_identities(keys) if keys else {}
    user_ids = {i.value for i in idents if i.kind == "braze_id"}
    for record in records.values():
        user_ids |= record.user_ids
    profiles = store.get_profiles(user_ids) if user_ids else {}
    return Resolution(records, profiles)


def _updated(p: Profile) -> datetime:
    return p.updated_at or p.created_at or _EPOCH


def find(resolution: Resolution, ident: Identifier) -> Profile | None:
    """The profile ``ident`` names for ``/users/track`` (see the module doc), or None."""
    candidates = resolution.candidates(ident)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    identified = [p for p in candidates if p.external_id] or candidates
    return max(identified, key=lambda p: (_updated(p), p.user_id))


def pick(candidates: Sequence[Profile], prioritization: Sequence[str]) -> Profile | None:
    """The one profile chosen by Braze's ``prioritization`` (braze-api.md §1.2, §1.4).

    ``identified``/``unidentified`` filter (profiles with/without external_id);
    ``most_recently_updated``/``least_recently_updated`` order. Returns None when nothing
    matches; raises :class:`Ambiguous` when several remain and no ordering decides.
    """
    pool = list(candidates)
    for rule in prioritization:
        if rule == "identified":
            pool = [p for p in pool if p.external_id]
        elif rule == "unidentified":
            pool = [p for p in pool if not p.external_id]
        elif rule in ("most_recently_updated", "least_recently_updated") and len(pool) > 1:
            ordered = sorted(pool, key=lambda p: (_updated(p), p.user_id))
            return ordered[-1] if rule == "most_recently_updated" else ordered[0]
    if len(pool) > 1:
        raise Ambiguous(f"{len(pool)} profiles match")
    return pool[0] if pool else None
