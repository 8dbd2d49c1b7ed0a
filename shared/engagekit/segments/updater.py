"""Keeping memberships current: the one code path behind the stream handler, the timer sweep and
the backfill, all built on :func:`engagekit.segments.refresh`.

- :meth:`MembershipUpdater.apply_change`: one profile write (the stream's old and new image);
- :meth:`MembershipUpdater.sweep`: the timers due now (the scheduled sweep);
- :meth:`MembershipUpdater.backfill_page`: one page of one parallel-scan part for one segment;
- :meth:`MembershipUpdater.drop_page`: removes the members of a deleted segment, a page at a time.

**Retries are safe.** Every step re-evaluates a set of segments that depends only on the input
(the changed fields or the due segments) *closed under "references"*: the segments whose filters
read membership of an evaluated segment are always evaluated too, flip or not. So a step that
crashed half-way and runs again evaluates the same segments, finds the memberships it already
wrote, writes the rest, and recomputes every timer. Memberships are written first, timers last:
a timer that fell due stays due until its segment's new membership is stored.

Writes are only the differences: membership rows for segments entered or exited (one
transaction each, :mod:`engagekit.segments.membership`), timers whose instant changed (one
BatchGetItem to read them, BatchWriteItem to write them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from engagekit.domain.profile import Profile
from engagekit.segments.base import SegmentCycleError
from engagekit.segments.dependencies import DependencyIndex, changed_fields
from engagekit.segments.filters import FilterNode
from engagekit.segments.incremental import Refresh, refresh
from engagekit.segments.membership import MembershipRepo
from engagekit.segments.profile_source import ProfileSource
from engagekit.segments.store import DefinitionRepo
from engagekit.segments.timer_store import TimerRepo

log = logging.getLogger(__name__)


class DefinitionCache:
    """The container's :class:`DependencyIndex`, rebuilt only when the definitions version moves.

    :meth:`check` costs one GetItem (the version item) and is skipped when the last check is less
    than ``check_every_s`` wall seconds old; the stream handler checks once per batch.
    Segments being deleted are left out. Should stored definitions ever form a cycle (two
    concurrent PUTs), the segments on the cycle are left out and an error is logged.
    Thread-safe (the local runtime runs several functions' lanes in one process).
    """

    def __init__(
        self,
        repo: DefinitionRepo,
        check_every_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repo = repo
        self.check_every_s = check_every_s
        self._monotonic = monotonic
        self._checked: float | None = None
        self._version: str | None = None
        self._index: DependencyIndex | None = None
        self._generations: dict[str, int] = {}
        self._lock = threading.RLock()
        self.loads = 0

    def check(self, force: bool = False) -> DependencyIndex:
        """Re-read the version (unless checked recently) and reload the definitions if it moved."""
        with self._lock:
            return self._check(force)

    def _check(self, force: bool) -> DependencyIndex:
        now = self._monotonic()
        fresh = self._checked is not None and now - self._checked < self.check_every_s
        if self._index is None or force or not fresh:
            version = self.repo.version()
            self._checked = now
            if self._index is None or force or version != self._version:
                self._load()
                self._version = version
        assert self._index is not None
        return self._index

    def index(self) -> DependencyIndex:
        """The cached index (loaded on first use)."""
        return self._index if self._index is not None else self.check()

    def generation(self, segment_id: str) -> int | None:
        """The generation of ``segment_id`` in the cached index (None: not indexed)."""
        with self._lock:
            self.index()
            return self._generations.get(segment_id)

    def _load(self) -> None:
        stored = [s for s in self.repo.all() if s.state != "deleting"]
        filters: dict[str, FilterNode] = {s.segment_id: s.definition().filter for s in stored}
        while True:
            try:
                self._index = DependencyIndex(filters)
                break
            except SegmentCycleError as exc:
                log.error("segment definitions form a cycle; left out: %s", exc.cycle)
                for sid in exc.cycle:
                    filters.pop(sid, None)
        self._generations = {s.segment_id: s.generation for s in stored if s.segment_id in filters}
        self.loads += 1


def with_dependents(index: DependencyIndex, seeds: Iterable[str]) -> set[str]:
    """``seeds`` (those indexed) plus, transitively, every segment that references one of them."""
    out: set[str] = set()
    stack = [s for s in seeds if s in index]
    while stack:
        sid = stack.pop()
        if sid in out:
            continue
        out.add(sid)
        stack.extend(d for d in index.dependents(sid) if d not in out)
    return out


@dataclass
class Outcome:
    """What one call changed: users evaluated, memberships entered/exited (``(user, segment)``),
    timer items written."""

    users: int = 0
    entered: list[tuple[str, str]] = field(default_factory=list)
    exited: list[tuple[str, str]] = field(default_factory=list)
    timers_written: int = 0

    def add(self, other: Outcome) -> None:
        self.users += other.users
        self.entered += other.entered
        self.exited += other.exited
        self.timers_written += other.timers_written


@dataclass
class SweepOutcome(Outcome):
    """:meth:`MembershipUpdater.sweep`: ``fired`` due timers read; ``more``: the limit was hit."""

    fired: int = 0
    more: bool = False


@dataclass(frozen=True)
class Page:
    """A backfill/drop page: what it did and the cursor to continue from (None: part done)."""

    outcome: Outcome
    cursor: str | None
    done: bool


class MembershipUpdater:
    """Applies profile changes, due timers and backfills to the memberships and timers stores."""

    def __init__(
        self,
        definitions: DefinitionCache,
        memberships: MembershipRepo,
        timers: TimerRepo,
        profiles: ProfileSource,
    ) -> None:
        self.definitions = definitions
        self.memberships = memberships
        self.timers = timers
        self.profiles = profiles

    # --- the stream ----------------------------------------------------------------------------
    def apply_change(self, old: Profile | None, new: Profile | None, now: datetime) -> Outcome:
        """One profile write: ``old``/``new`` images (None: created/deleted), ``now`` aware UTC.

        A deletion removes the user's memberships and timers. Otherwise only the segments reading
        a changed field (and those referencing them) are evaluated; when none does, nothing is
        read or written. Raises store exceptions (the record is then retried).
        """
        if new is None:
            if old is None:
                return Outcome()
            left = self.memberships.remove_user(old.user_id)
            deleted = self.timers.delete_user(old.user_id)
            return Outcome(users=1, exited=[(old.user_id, s) for s in sorted(left)], timers_written=deleted)
        index = self.definitions.index()
        changed = changed_fields(old, new)
        seeds = index.affected_segments(changed)
        if not seeds:
            return Outcome()
        members = self.memberships.user_segments(new.user_id)
        result = refresh(index, new, now, memberships=members, due=with_dependents(index, seeds))
        return self._persist([(new.user_id, result)])

    # --- timers --------------------------------------------------------------------------------
    def sweep(self, now: datetime, limit: int = 1000) -> SweepOutcome:
        """Fire up to ``limit`` timers due at ``now``: re-evaluate each (user, segment) from the
        current profile (consistent read) and store the new membership and next timer.

        Timers of deleted segments or profiles are deleted. ``more`` says whether the limit was hit
        (call again). Cost: one GSI Query per timer shard, one BatchGetItem per 100 users.
        """
        index = self.definitions.check()
        due = self.timers.due(now, limit)
        out = SweepOutcome(fired=len(due), more=len(due) >= limit)
        if not due:
            return out
        by_user: dict[str, set[str]] = defaultdict(set)
        for timer in due:
            by_user[timer.user_id].add(timer.segment_id)
        profiles = self.profiles.get(by_user)
        members = self.memberships.user_segments_many(u for u in by_user if u in profiles)
        stale: list[tuple[str, str, datetime | None]] = []
        results: list[tuple[str, Refresh]] = []
        for user_id, segments in sorted(by_user.items()):
            profile = profiles.get(user_id)
            if profile is None:
                stale += [(user_id, s, None) for s in segments]
                continue
            stale += [(user_id, s, None) for s in segments if s not in index]
            seeds = with_dependents(index, segments)
            if seeds:
                results.append(
                    (user_id, refresh(index, profile, now, memberships=members[user_id], due=seeds))
                )
        out.add(self._persist(results))
        if stale:
            out.timers_written += self.timers.write(stale)
        return out

    # --- backfill ------------------------------------------------------------------------------
    def backfill_page(
        self,
        segment_id: str,
        generation: int,
        now: datetime,
        *,
        part: int,
        parts: int,
        cursor: str | None,
        limit: int,
    ) -> Page:
        """Evaluate ``segment_id`` (and the segments referencing it) for one page of profiles of
        parallel-scan ``part`` of ``parts``. A job for a superseded generation does nothing."""
        index = self.definitions.check()
        if self.definitions.generation(segment_id) != generation:
            index = self.definitions.check(force=True)
            if self.definitions.generation(segment_id) != generation:
                return Page(Outcome(), None, True)
        profiles, next_cursor = self.profiles.scan_page(part, parts, cursor, limit)
        members = self.memberships.user_segments_many(p.user_id for p in profiles)
        seeds = with_dependents(index, [segment_id])
        results = [
            (p.user_id, refresh(index, p, now, memberships=members[p.user_id], due=seeds)) for p in profiles
        ]
        outcome = self._persist(results)
        return Page(outcome, next_cursor, next_cursor is None)

    def drop_page(self, segment_id: str, shard: int, limit: int) -> Page:
        """Remove up to ``limit`` members of a deleted segment from member shard ``shard`` (and
        their timers for it). ``done`` when the shard is empty."""
        users, _ = self.memberships.page_members(segment_id, limit=limit, shard=shard)
        outcome = Outcome(users=len(users))
        for user_id in users:
            if self.memberships.remove(segment_id, user_id):
                outcome.exited.append((user_id, segment_id))
        if users:
            outcome.timers_written = self.timers.write((u, segment_id, None) for u in users)
        return Page(outcome, None, len(users) < limit)

    # --- writing -------------------------------------------------------------------------------
    def _persist(self, results: list[tuple[str, Refresh]]) -> Outcome:
        """Store memberships (dependents first), then the timers that changed."""
        out = Outcome(users=len(results))
        index = self.definitions.index()

        def rank(sid: str) -> int:
            return index.rank(sid) if sid in index else -1

        for user_id, result in results:
            for sid in sorted(result.entered | result.exited, key=rank, reverse=True):
                if sid in result.entered:
                    self.memberships.add(sid, user_id)
                    out.entered.append((user_id, sid))
                else:
                    self.memberships.remove(sid, user_id)
                    out.exited.append((user_id, sid))
        keys = [(user_id, sid) for user_id, result in results for sid in result.evaluated]
        if keys:
            current = self.timers.get_many(keys)
            changes = [
                (user_id, sid, due)
                for user_id, result in results
                for sid, due in result.timers.items()
                if current.get((user_id, sid)) != due
            ]
            if changes:
                out.timers_written = self.timers.write(changes)
        return out
