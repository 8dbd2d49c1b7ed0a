"""Segments: the filter language, its evaluator, the dependency index and the time-flip timers.

Pure and storage-free; the memberships table, the stream handler and the HTTP endpoints build on
this API. The reference for marketers is docs/segments.md.

- :func:`parse_filter` / :func:`parse_segment_definition` / :func:`dump_filter`: JSON <-> typed tree;
- :func:`evaluate`: brute-force truth of a filter for one profile at one instant;
- :func:`fields`, :class:`DependencyIndex`, :func:`changed_fields`: which segments a change affects;
- :func:`next_flip`: when a filter's answer next changes by itself (per-user timers);
- :func:`refresh`: all of the above for one user and one change or due timer;
- :func:`register_leaf_kind`: the extension point for new leaf kinds.
"""

from engagekit.segments.base import (
    PROFILE,
    PURCHASES,
    EvalContext,
    FieldRef,
    InvalidFilterError,
    Leaf,
    Memberships,
    SegmentCycleError,
    UnresolvedMembershipError,
    leaf_kinds,
    register_leaf_kind,
    unregister_leaf_kind,
)
from engagekit.segments.dependencies import (
    DependencyIndex,
    changed_fields,
    check_acyclic,
    fields,
    find_cycle,
    topological_order,
    unknown_references,
)
from engagekit.segments.evaluate import evaluate
from engagekit.segments.filters import (
    AndNode,
    FilterNode,
    NotNode,
    OrNode,
    SegmentDefinition,
    dump_filter,
    iter_leaves,
    parse_filter,
    parse_segment_definition,
    segment_refs,
)
from engagekit.segments.incremental import Refresh, refresh
from engagekit.segments.timers import next_flip

__all__ = [
    "PROFILE",
    "PURCHASES",
    "AndNode",
    "DependencyIndex",
    "EvalContext",
    "FieldRef",
    "FilterNode",
    "InvalidFilterError",
    "Leaf",
    "Memberships",
    "NotNode",
    "OrNode",
    "Refresh",
    "SegmentCycleError",
    "SegmentDefinition",
    "UnresolvedMembershipError",
    "changed_fields",
    "check_acyclic",
    "dump_filter",
    "evaluate",
    "fields",
    "find_cycle",
    "iter_leaves",
    "leaf_kinds",
    "next_flip",
    "parse_filter",
    "parse_segment_definition",
    "refresh",
    "register_leaf_kind",
    "segment_refs",
    "topological_order",
    "unknown_references",
    "unregister_leaf_kind",
]
