"""Read-modify-write of one profile with optimistic concurrency: one PutItem when nothing races.

:func:`save_with_retry` applies a mutation to the profile it was given, writes it conditioned on
the version read, and on a :class:`VersionConflict` re-reads the profile (strongly consistent) and
applies the same mutation again, so concurrent writers lose nothing (the mutation must be a pure
function of the profile it gets, which every use case's is).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engagekit.domain.profile import Profile
from engagekit.errors import ConflictError
from engagekit.profiles.changes import UserChanges
from engagekit.profiles.store import ProfileStore, VersionConflict

MAX_WRITE_ATTEMPTS = 10
"""Attempts per profile before giving up with a 409 (each lost race costs one read and one write)."""

Mutation = Callable[[Profile], UserChanges]


def save_with_retry(
    store: ProfileStore,
    user_id: str,
    mutate: Mutation,
    *,
    now: datetime,
    current: Profile | None,
    create: Callable[[], Profile] | None = None,
) -> tuple[Profile, UserChanges] | None:
    """Apply ``mutate`` to ``user_id``'s profile and save it; returns the saved profile and changes.

    ``current`` is the profile as already read (None: absent). When the profile is absent,
    ``create`` makes a new one (version 0, written only if still absent); without ``create`` the
    result is None. Nothing is written when ``mutate`` reports no change. ``now`` (aware UTC)
    stamps ``updated_at`` and prunes day buckets. Raises :class:`ConflictError` after
    :data:`MAX_WRITE_ATTEMPTS` lost races, and whatever ``mutate`` raises (nothing written then).
    """
    profile = current
    for _ in range(MAX_WRITE_ATTEMPTS):
        if profile is None:
            if create is None:
                return None
            profile = create()
        changes = mutate(profile)
        if not changes.anything:
            return profile, changes
        profile.updated_at = now
        profile.prune(now)
        try:
            store.save_profile(profile)
        except VersionConflict:
            profile = store.get_profiles([user_id], consistent=True).get(user_id)
            continue
        return profile, changes
    raise ConflictError(f"profile {user_id} is being updated concurrently; retry the request")
