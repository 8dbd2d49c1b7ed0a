"""What every filter leaf is built on: field references, the evaluation context, the leaf registry.

A *leaf kind* is a frozen pydantic model registered under the JSON key that introduces it
(``{"custom_attribute": {...}}`` is the kind ``custom_attribute``). Each leaf answers three
questions, and those three methods are the whole extension point (a later issue adds
message-engagement filters by writing one model and calling :func:`register_leaf_kind`):

- :meth:`Leaf.evaluate`: is the filter true for this profile at this instant?
- :meth:`Leaf.fields`: which profile fields does it read? (feeds the dependency index)
- :meth:`Leaf.next_flip`: the first instant after ``now`` at which its answer changes with no new
  data, or ``None`` (feeds the per-user timers).

Leaves raise :class:`InvalidFilterError` with a path *relative to the leaf body* (``"value"``,
``"comparison"``); the parser in :mod:`engagekit.segments.filters` prefixes the node's JSON path.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cached_property
from types import MappingProxyType
from typing import ClassVar, Literal, TypeVar

from pydantic import ConfigDict

from engagekit.domain.profile import Profile
from engagekit.errors import EngagekitError, ValidationError
from engagekit.model import Model
from engagekit.segments import calendar

FieldKind = Literal[
    "profile",
    "standard_attribute",
    "custom_attribute",
    "event",
    "product",
    "purchases",
    "subscription_group",
    "segment",
]

#: Something that answers "is this user in segment ``segment_id``?": a callable or a set of ids.
Memberships = Callable[[str], bool] | AbstractSet[str]


@dataclass(frozen=True, slots=True, order=True)
class FieldRef:
    """One thing on a profile that a filter can read.

    ``kind`` says what it is, ``name`` which one: ``FieldRef("custom_attribute", "plan")``,
    ``FieldRef("event", "played")``, ``FieldRef("product", "sku-1")``,
    ``FieldRef("standard_attribute", "dob")``, ``FieldRef("subscription_group", "<id>")``,
    ``FieldRef("segment", "<segment_id>")`` (membership of another segment),
    ``FieldRef("purchases")`` (purchase totals) and :data:`PROFILE` (the profile as a whole: it was
    created or deleted, so every segment is affected).
    """

    kind: FieldKind
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


PROFILE = FieldRef("profile")
PURCHASES = FieldRef("purchases")


def standard(name: str) -> FieldRef:
    """The :class:`FieldRef` of a standard profile attribute (a field of ``Profile``)."""
    return FieldRef("standard_attribute", name)


class InvalidFilterError(ValidationError):
    """A filter or segment definition breaks a rule (HTTP 400).

    ``path`` is the JSON path of the offending node, e.g.
    ``filter.AND[2].custom_attribute.comparison``; ``problem`` says what is wrong. The message is
    ``"<path>: <problem>"``; ``errors`` lists every problem found as ``{"path", "message"}``.
    """

    def __init__(self, path: str, problem: str, *, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(
            f"{path}: {problem}" if path else problem,
            errors=errors or [{"path": path, "message": problem}],
        )
        self.path = path
        self.problem = problem


class SegmentCycleError(ValidationError):
    """Segment definitions reference each other in a loop (``cycle`` lists the ids, first repeated)."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(
            "segment membership filters form a cycle: " + " -> ".join(cycle),
            errors=[{"path": "filter", "message": "cycle", "cycle": list(cycle)}],
        )
        self.cycle = cycle


class UnresolvedMembershipError(EngagekitError):
    """A ``segment`` filter was evaluated without a way to look up other segments' memberships."""


class EvalContext:
    """Everything a leaf may look at: the profile, the instant, and other segments' memberships.

    ``now`` is converted to UTC and must be timezone-aware (``ValueError`` otherwise). The user's
    zone (``profile.time_zone``, UTC when absent or not a valid IANA name) and local date are
    computed once and cached. Use :meth:`at` for the same profile at another instant.
    """

    def __init__(self, profile: Profile, now: datetime, memberships: Memberships | None = None) -> None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be a timezone-aware datetime")
        self.profile = profile
        self.now = now.astimezone(UTC)
        self.memberships = memberships

    def at(self, instant: datetime) -> EvalContext:
        """The same profile and memberships at ``instant`` (aware)."""
        ctx = EvalContext(self.profile, instant, self.memberships)
        if "zone" in self.__dict__:
            ctx.__dict__["zone"] = self.__dict__["zone"]
        return ctx

    @cached_property
    def zone(self) -> tzinfo:
        """The user's IANA zone, UTC when unset or unknown (braze-api.md §1.1.1 ``time_zone``)."""
        return calendar.user_zone(self.profile.time_zone)

    @cached_property
    def local_today(self) -> date:
        """The user's calendar date at ``now`` in :attr:`zone`."""
        return calendar.local_date(self.now, self.zone)

    def is_member(self, segment_id: str) -> bool:
        """Whether the user is in ``segment_id``; raises :class:`UnresolvedMembershipError` when the
        context was built without ``memberships``."""
        if self.memberships is None:
            raise UnresolvedMembershipError(
                f"the filter reads membership of segment {segment_id!r} but no memberships were given"
            )
        if callable(self.memberships):
            return bool(self.memberships(segment_id))
        return segment_id in self.memberships


class Leaf(Model):
    """Base of every leaf kind. Subclasses set ``kind`` and implement the three methods.

    Models are frozen, strict (JSON types are not coerced: ``"7"`` is not ``7``) and forbid unknown
    keys. Validators raise :class:`InvalidFilterError` with a path relative to the leaf body.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    kind: ClassVar[str] = ""

    @abstractmethod
    def evaluate(self, ctx: EvalContext) -> bool:
        """True when the profile matches at ``ctx.now``."""

    @abstractmethod
    def fields(self) -> frozenset[FieldRef]:
        """The profile fields this leaf reads (a change to any other field cannot change its answer)."""

    def next_flip(self, ctx: EvalContext) -> datetime | None:
        """The earliest instant ``t > ctx.now`` (UTC) at which :meth:`evaluate` at ``t`` differs from
        its answer at ``ctx.now`` when no data changes; ``None`` when that never happens.

        Exactness contract: the answer is constant on ``[ctx.now, t)`` and the new answer already holds
        at ``t`` itself, so a timer set to ``t`` followed by an evaluation at ``t`` is correct. The
        default suits leaves that do not depend on the passage of time.
        """
        return None


L = TypeVar("L", bound=type[Leaf])

_LEAF_KINDS: dict[str, type[Leaf]] = {}
_RESERVED = frozenset({"AND", "OR", "NOT"})


def register_leaf_kind(cls: L) -> L:
    """Register a leaf model under ``cls.kind`` (usable as a class decorator); returns ``cls``.

    Raises ``ValueError`` when the kind is empty, reserved (``AND``/``OR``/``NOT``) or already taken
    by another class.
    """
    kind = cls.kind
    if not kind or kind in _RESERVED:
        raise ValueError(f"invalid leaf kind {kind!r}")
    existing = _LEAF_KINDS.get(kind)
    if existing is not None and existing is not cls:
        raise ValueError(f"leaf kind {kind!r} is already registered by {existing.__name__}")
    _LEAF_KINDS[kind] = cls
    return cls


def unregister_leaf_kind(kind: str) -> None:
    """Remove a registered leaf kind (for tests of extensions); unknown kinds are ignored."""
    _LEAF_KINDS.pop(kind, None)


def leaf_kinds() -> Mapping[str, type[Leaf]]:
    """The registered leaf kinds, by JSON key (a read-only view)."""
    return MappingProxyType(_LEAF_KINDS)


def leaf_kind(kind: str) -> type[Leaf] | None:
    """The model registered for ``kind``, or ``None``."""
    return _LEAF_KINDS.get(kind)
