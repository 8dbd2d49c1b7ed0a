"""Which segments must be re-evaluated when a profile changes: the dependency index.

- :func:`fields` lists the profile fields a filter reads (:class:`~engagekit.segments.base.FieldRef`);
- :class:`DependencyIndex` maps each field to the segments that read it, so a profile change that
  touched ``changed_fields(old, new)`` re-evaluates only ``index.affected_segments(changed)``: the
  cost follows the rate of change, not the number of segments (ARCHITECTURE.md "Classify");
- :func:`find_cycle` / :func:`check_acyclic` reject segment definitions that reference each other in
  a loop (braze-api.md §3, Segment Membership: "can't be nested again — cycle prevention").

Time-driven changes are not in the index: :func:`engagekit.segments.timers.next_flip` covers them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from engagekit.domain.profile import Profile
from engagekit.segments.base import PROFILE, PURCHASES, FieldRef, SegmentCycleError, standard
from engagekit.segments.filters import FilterNode, SegmentDefinition, iter_leaves, segment_refs

#: Profile fields compared as a whole by :func:`changed_fields` and reported as
#: ``standard_attribute``: every field of ``Profile`` except the per-key maps below and ``version``.
_PER_KEY_FIELDS = frozenset(
    {"custom_attributes", "events", "products", "purchases", "subscription_groups", "version"}
)
STANDARD_FIELDS: tuple[str, ...] = tuple(n for n in Profile.model_fields if n not in _PER_KEY_FIELDS)

Definitions = Mapping[str, FilterNode] | Mapping[str, SegmentDefinition]


def fields(filter: FilterNode) -> frozenset[FieldRef]:
    """Every profile field the filter reads (the union of its leaves' ``fields()``)."""
    out: set[FieldRef] = set()
    for leaf in iter_leaves(filter):
        out |= leaf.fields()
    return frozenset(out)


def _filters(definitions: Definitions) -> dict[str, FilterNode]:
    return {sid: (d.filter if isinstance(d, SegmentDefinition) else d) for sid, d in definitions.items()}


def find_cycle(definitions: Definitions) -> list[str] | None:
    """A loop of ``segment`` references among ``definitions`` (segment id -> filter or definition),
    as ids with the first repeated at the end (``["a", "b", "a"]``), or ``None``. References to ids
    not in ``definitions`` are ignored (see :func:`unknown_references`)."""
    graph = {sid: sorted(segment_refs(f) & definitions.keys()) for sid, f in _filters(definitions).items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(sid: str) -> list[str] | None:
        state[sid] = 1
        path.append(sid)
        for ref in graph[sid]:
            if state.get(ref) == 1:
                return [*path[path.index(ref) :], ref]
            if ref not in state:
                found = visit(ref)
                if found:
                    return found
        path.pop()
        state[sid] = 2
        return None

    for sid in sorted(graph):
        if sid not in state:
            found = visit(sid)
            if found:
                return found
    return None


def check_acyclic(definitions: Definitions) -> None:
    """Raise :class:`~engagekit.segments.base.SegmentCycleError` (a ``ValidationError``, HTTP 400)
    when :func:`find_cycle` finds a loop. Call it with the stored definitions plus the one being saved."""
    cycle = find_cycle(definitions)
    if cycle:
        raise SegmentCycleError(cycle)


def unknown_references(definitions: Definitions) -> dict[str, frozenset[str]]:
    """Segment ids referenced by each definition that are not themselves in ``definitions``
    (empty dict when all resolve). Such references evaluate as "not a member"."""
    out: dict[str, frozenset[str]] = {}
    for sid, f in _filters(definitions).items():
        missing = segment_refs(f) - definitions.keys()
        if missing:
            out[sid] = frozenset(missing)
    return out


def topological_order(definitions: Definitions) -> list[str]:
    """Segment ids ordered so that every segment comes after the segments it references (ties by id).
    Raises :class:`~engagekit.segments.base.SegmentCycleError` on a loop."""
    check_acyclic(definitions)
    filters = _filters(definitions)
    order: list[str] = []
    placed: set[str] = set()

    def place(sid: str) -> None:
        if sid in placed:
            return
        placed.add(sid)
        for ref in sorted(segment_refs(filters[sid]) & filters.keys()):
            place(ref)
        order.append(sid)

    for sid in sorted(filters):
        place(sid)
    return order


class DependencyIndex:
    """Field -> segments that read it, over one set of segment definitions (immutable).

    Build it once per set of definitions (``O(total filter size)``); lookups cost
    ``O(changed fields + affected segments)`` whatever the number of segments.
    Raises :class:`~engagekit.segments.base.SegmentCycleError` when definitions form a loop.
    """

    def __init__(self, definitions: Definitions) -> None:
        self._filters = _filters(definitions)
        order = topological_order(definitions)
        self._rank = {sid: i for i, sid in enumerate(order)}
        readers: dict[FieldRef, set[str]] = defaultdict(set)
        self._fields: dict[str, frozenset[FieldRef]] = {}
        for sid, tree in self._filters.items():
            self._fields[sid] = fields(tree)
            for ref in self._fields[sid]:
                readers[ref].add(sid)
        self._readers = {ref: frozenset(sids) for ref, sids in readers.items()}
        self._all = frozenset(self._filters)

    @property
    def segment_ids(self) -> frozenset[str]:
        """Every indexed segment id."""
        return self._all

    def __contains__(self, segment_id: object) -> bool:
        return segment_id in self._filters

    def __len__(self) -> int:
        return len(self._filters)

    def filter(self, segment_id: str) -> FilterNode:
        """The filter of ``segment_id`` (``KeyError`` when unknown)."""
        return self._filters[segment_id]

    def fields_of(self, segment_id: str) -> frozenset[FieldRef]:
        """The fields ``segment_id`` reads (``KeyError`` when unknown)."""
        return self._fields[segment_id]

    def readers(self, field: FieldRef) -> frozenset[str]:
        """The segments whose filter reads ``field``."""
        return self._readers.get(field, frozenset())

    def dependents(self, segment_id: str) -> frozenset[str]:
        """The segments whose filter references membership of ``segment_id``."""
        return self.readers(FieldRef("segment", segment_id))

    def rank(self, segment_id: str) -> int:
        """Position in :func:`topological_order`: a segment ranks after every segment it references."""
        return self._rank[segment_id]

    def affected_segments(self, changed_fields: Iterable[FieldRef]) -> set[str]:
        """The segments that read any of ``changed_fields``; every segment when :data:`PROFILE` is
        among them (a created or deleted profile). Segments that only reference a changed segment's
        membership are included only if ``FieldRef("segment", id)`` is passed: membership changes
        cascade through :func:`engagekit.segments.incremental.refresh`."""
        out: set[str] = set()
        for ref in changed_fields:
            if ref == PROFILE:
                return set(self._all)
            out |= self._readers.get(ref, frozenset())
        return out


def changed_fields(old: Profile | None, new: Profile | None) -> set[FieldRef]:
    """The fields that differ between two versions of one profile (the stream's old and new image).

    ``{PROFILE}`` when either side is ``None`` (created or deleted: every segment is affected).
    Values are compared type-strictly (``1``, ``1.0`` and ``true`` differ). Cost is proportional to
    the profile's size, independent of the number of segments.
    """
    if old is None or new is None:
        return {PROFILE}
    changed: set[FieldRef] = set()
    for name in STANDARD_FIELDS:
        if not _same(getattr(old, name), getattr(new, name)):
            changed.add(standard(name))
    for key in old.custom_attributes.keys() | new.custom_attributes.keys():
        if not _same(old.custom_attributes.get(key, _MISSING), new.custom_attributes.get(key, _MISSING)):
            changed.add(FieldRef("custom_attribute", key))
    for name in old.events.keys() | new.events.keys():
        before, after = old.events.get(name), new.events.get(name)
        if before is None or after is None:
            if before is not after:
                changed.add(FieldRef("event", name))
        elif before != after or not _same(before.last_properties, after.last_properties):
            changed.add(FieldRef("event", name))
    for product in old.products.keys() | new.products.keys():
        if old.products.get(product) != new.products.get(product):
            changed.add(FieldRef("product", product))
    if old.purchases != new.purchases:
        changed.add(PURCHASES)
    for group in old.subscription_groups.keys() | new.subscription_groups.keys():
        if old.subscription_groups.get(group) != new.subscription_groups.get(group):
            changed.add(FieldRef("subscription_group", group))
    return changed


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """Equality that also requires equal types, recursively (``1``, ``1.0`` and ``True`` differ)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
