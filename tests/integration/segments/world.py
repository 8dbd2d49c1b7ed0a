"""The segment workers over in-memory fakes: a profile store whose writes feed the updater as the
profiles stream would, plus a brute-force oracle of every user's memberships."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engagekit import clock
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.domain.profile import Profile
from engagekit.profiles.store import InMemoryProfileStore
from engagekit.segments import evaluate, topological_order
from engagekit.segments.jobs import Job, JobRunner
from engagekit.segments.membership import InMemoryMemberships
from engagekit.segments.profile_source import StoreProfileSource
from engagekit.segments.store import InMemoryDefinitions, StoredSegment
from engagekit.segments.timer_store import InMemoryTimers
from engagekit.segments.updater import DefinitionCache, MembershipUpdater
from engagekit.users.service import UsersService
from engagekit.users.track import track


class StreamingStore(InMemoryProfileStore):
    """An in-memory profile store that queues ``(old, new)`` images like a NEW_AND_OLD_IMAGES stream."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple[Profile | None, Profile | None]] = []

    def save_profile(self, profile: Profile) -> None:
        old = self.get_profiles([profile.user_id]).get(profile.user_id)
        super().save_profile(profile)
        self.changes.append((old, self.get_profiles([profile.user_id])[profile.user_id]))

    def delete_profile(self, user_id: str) -> bool:
        old = self.get_profiles([user_id]).get(user_id)
        gone = super().delete_profile(user_id)
        if gone:
            self.changes.append((old, None))
        return gone


@dataclass
class NoJobs:
    started: list[Job] = field(default_factory=list)

    def start(self, job: Job) -> str:
        self.started.append(job)
        return f"job-{len(self.started)}"


class World:
    """Fakes wired as the functions wire the real stores."""

    def __init__(self) -> None:
        self.store = StreamingStore()
        self.users = UsersService(self.store, FirehoseExporter(FakeFirehose()))
        self.definitions = InMemoryDefinitions()
        self.memberships = InMemoryMemberships()
        self.timers = InMemoryTimers()
        self.cache = DefinitionCache(self.definitions)
        self.updater = MembershipUpdater(
            self.cache, self.memberships, self.timers, StoreProfileSource(self.store)
        )
        self.runner = JobRunner(self.updater, self.definitions)

    def define(self, segment_id: str, filter: dict[str, Any], generation: int = 1) -> None:
        """Store a live definition directly (no API) and refresh the cache."""
        now = clock.now()
        current = self.definitions.get(segment_id)
        self.definitions.save(
            StoredSegment(segment_id, segment_id, filter, "live", generation, now, now),
            expected_generation=current.generation if current else 0,
        )
        self.cache.check(force=True)

    def track(self, body: dict[str, Any]) -> None:
        """``/users/track`` then deliver the stream records to the updater."""
        track(body, self.users)
        self.drain()

    def drain(self) -> None:
        while self.store.changes:
            old, new = self.store.changes.pop(0)
            self.updater.apply_change(old, new, clock.now())

    def user_id(self, external_id: str) -> str:
        for profile in self.store.scan_profiles():
            if profile.external_id == external_id:
                return profile.user_id
        raise KeyError(external_id)

    def members(self, segment_id: str) -> set[str]:
        """External ids of the stored members."""
        ids = set(self.memberships.iter_members(segment_id))
        return {p.external_id or p.user_id for p in self.store.scan_profiles() if p.user_id in ids}

    def expected(self, now: datetime | None = None) -> dict[str, set[str]]:
        """Brute force: every segment evaluated for every profile at ``now``, in reference order."""
        at = now or clock.now()
        filters = {s.segment_id: s.definition().filter for s in self.definitions.all()}
        out: dict[str, set[str]] = {sid: set() for sid in filters}
        for profile in self.store.scan_profiles():
            mine: set[str] = set()
            for sid in topological_order(filters):
                if evaluate(filters[sid], profile, at, memberships=mine):
                    mine.add(sid)
                    out[sid].add(profile.external_id or profile.user_id)
        return out

    def actual(self) -> dict[str, set[str]]:
        return {s.segment_id: self.members(s.segment_id) for s in self.definitions.all()}
