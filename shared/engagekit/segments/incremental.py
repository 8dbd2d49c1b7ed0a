"""Incremental membership for one user: what the stream handler and the timer sweep call.

``refresh`` re-evaluates only the segments a change can affect (the dependency index), plus the
segments whose timers fell due, cascades to segments that reference a segment whose membership
changed, and returns the new memberships with the next timer of every segment it evaluated. The
storage layer persists exactly that: entered/exited rows and, per evaluated segment, the timer
(replace the user's timer for that segment; delete it when ``None``).

Invariant (checked by the property test): if every data change goes through ``refresh(changed=
changed_fields(old, new))`` and every timer through ``refresh(due={segment_id})`` at its instant,
``memberships`` always equals the brute-force ``evaluate`` of every segment.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

from engagekit.domain.profile import Profile
from engagekit.segments.base import EvalContext, FieldRef
from engagekit.segments.dependencies import DependencyIndex
from engagekit.segments.evaluate import evaluate_node
from engagekit.segments.timers import next_flip_in


@dataclass(frozen=True)
class Refresh:
    """The outcome of :func:`refresh` for one user.

    ``memberships``: every segment id the user is in afterwards; ``entered`` / ``exited``: the
    changes; ``evaluated``: the segments evaluated; ``timers``: for each evaluated segment, the
    instant (aware UTC) its answer next changes by itself, or ``None`` (no timer).
    """

    memberships: frozenset[str]
    entered: frozenset[str] = frozenset()
    exited: frozenset[str] = frozenset()
    evaluated: frozenset[str] = frozenset()
    timers: dict[str, datetime | None] = field(default_factory=dict)


def refresh(
    index: DependencyIndex,
    profile: Profile,
    now: datetime,
    *,
    memberships: AbstractSet[str],
    changed: Iterable[FieldRef] = (),
    due: Iterable[str] = (),
) -> Refresh:
    """Bring one user's memberships up to date after a change and/or due timers.

    ``memberships`` are the segment ids the user is in before the call; ``changed`` the fields a
    write touched (:func:`~engagekit.segments.dependencies.changed_fields`); ``due`` the segments
    whose timers fired. ``now`` is an aware instant. Segments are evaluated in dependency order;
    when one's membership changes, the segments referencing it are evaluated too. Unknown segment
    ids in ``due`` are ignored; memberships of segments not in ``index`` are kept as they are.
    Cost: ``O(affected segments)``, independent of the total number of segments.
    """
    members = set(memberships)
    pending = index.affected_segments(changed) | {sid for sid in due if sid in index}
    heap = [(index.rank(sid), sid) for sid in pending]
    heapq.heapify(heap)
    evaluated: set[str] = set()
    entered: set[str] = set()
    exited: set[str] = set()
    timers: dict[str, datetime | None] = {}
    ctx = EvalContext(profile, now, members.__contains__)
    while heap:
        _, sid = heapq.heappop(heap)
        if sid in evaluated:  # pushed twice by two referenced segments
            continue
        evaluated.add(sid)
        tree = index.filter(sid)
        member = evaluate_node(tree, ctx)
        if member != (sid in members):
            if member:
                members.add(sid)
                entered.add(sid)
            else:
                members.discard(sid)
                exited.add(sid)
            for dependent in index.dependents(sid):
                if dependent not in evaluated:
                    heapq.heappush(heap, (index.rank(dependent), dependent))
        timers[sid] = next_flip_in(tree, ctx, member)
    return Refresh(
        memberships=frozenset(members),
        entered=frozenset(entered),
        exited=frozenset(exited),
        evaluated=frozenset(evaluated),
        timers=timers,
    )
