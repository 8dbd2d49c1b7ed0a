"""Brute-force evaluation of a filter tree against one profile at one instant.

This is the single source of truth for membership: incremental membership (the dependency index
plus timers) must always agree with it, which the property test in tests/unit/segments checks.
"""

from __future__ import annotations

from datetime import datetime

from engagekit import clock
from engagekit.domain.profile import Profile
from engagekit.segments.base import EvalContext, Memberships
from engagekit.segments.filters import AndNode, FilterNode, NotNode, OrNode

__all__ = ["EvalContext", "evaluate", "evaluate_node"]


def evaluate(
    filter: FilterNode,
    profile: Profile,
    now: datetime | None = None,
    *,
    memberships: Memberships | None = None,
) -> bool:
    """Whether ``profile`` matches ``filter`` at ``now``.

    ``now`` is an aware datetime (any zone; default ``engagekit.clock.now()``). ``memberships``
    answers ``segment`` leaves: a callable ``segment_id -> bool`` or a set of segment ids the user is
    in. Semantics (NULL rules, UTC day windows, the user's zone for calendar rules): braze-api.md §3,
    §2.6 and docs/segments.md.

    Raises ``ValueError`` for a naive ``now`` and
    :class:`~engagekit.segments.base.UnresolvedMembershipError` when a ``segment`` leaf is reached
    without ``memberships``.
    """
    ctx = EvalContext(profile, clock.now() if now is None else now, memberships)
    return evaluate_node(filter, ctx)


def evaluate_node(node: FilterNode, ctx: EvalContext) -> bool:
    """Evaluate ``node`` in an existing context (AND/OR short-circuit left to right)."""
    if isinstance(node, AndNode):
        return all(evaluate_node(child, ctx) for child in node.children)
    if isinstance(node, OrNode):
        return any(evaluate_node(child, ctx) for child in node.children)
    if isinstance(node, NotNode):
        return not evaluate_node(node.child, ctx)
    return node.evaluate(ctx)
