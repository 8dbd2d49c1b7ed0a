"""When does a filter's answer change by itself? The instant a per-user timer must fire.

With no new data, a filter can only change when one of its leaves does: a relative-time comparison
reaches ``t ± X days``, a UTC-day window drops its oldest counted day (00:00 UTC), or the user's
local date changes the age or birthday answer (local midnight, daylight saving included). Each
leaf reports its own next change exactly (:meth:`engagekit.segments.base.Leaf.next_flip`); this
module combines them and skips leaf changes that do not change the whole tree.
"""

from __future__ import annotations

from datetime import datetime

from engagekit import clock
from engagekit.domain.profile import Profile
from engagekit.segments.base import EvalContext, Memberships
from engagekit.segments.evaluate import evaluate_node
from engagekit.segments.filters import AndNode, FilterNode, NotNode, OrNode

#: How many leaf changes :func:`next_flip` looks through for one that changes the whole tree.
MAX_REFINE_STEPS = 16


def next_flip(
    filter: FilterNode,
    profile: Profile,
    now: datetime | None = None,
    *,
    memberships: Memberships | None = None,
) -> datetime | None:
    """The earliest instant after ``now`` (aware UTC) at which ``evaluate(filter, profile, t)``
    differs from its value at ``now`` if no data changes; ``None`` when it never will.

    Exactness: the answer is constant on ``[now, t)`` and the new answer already holds at ``t``, so
    a timer at ``t`` followed by an evaluation at ``t`` is right. Other segments' memberships
    (``segment`` leaves) are taken as constant: their changes arrive through their own timers and
    the dependency index. If more than :data:`MAX_REFINE_STEPS` leaf changes pass without changing
    the tree, the last one is returned: an early timer is harmless (the re-evaluation finds no change
    and schedules the next one).

    Raises ``ValueError`` for a naive ``now``; see :func:`engagekit.segments.evaluate.evaluate`.
    """
    ctx = EvalContext(profile, clock.now() if now is None else now, memberships)
    return next_flip_in(filter, ctx, evaluate_node(filter, ctx))


def next_flip_in(filter: FilterNode, ctx: EvalContext, current: bool) -> datetime | None:
    """:func:`next_flip` in an existing context whose answer ``current`` is already known."""
    candidate: datetime | None = None
    for _ in range(MAX_REFINE_STEPS):
        candidate = node_next_flip(filter, ctx)
        if candidate is None:
            return None
        ctx = ctx.at(candidate)
        if evaluate_node(filter, ctx) != current:
            return candidate
    return candidate


def node_next_flip(node: FilterNode, ctx: EvalContext) -> datetime | None:
    """The earliest next change of any leaf under ``node`` (a lower bound for the node's change)."""
    if isinstance(node, AndNode | OrNode):
        flips = [f for f in (node_next_flip(c, ctx) for c in node.children) if f is not None]
        return min(flips) if flips else None
    if isinstance(node, NotNode):
        return node_next_flip(node.child, ctx)
    return node.next_flip(ctx)
