"""The filter language: one parser for segment definitions and the messaging API's ``audience``.

A filter is a JSON tree in the style of Braze's Connected Audience object (braze-api.md §2.6)::

    {"AND": [<filter>, ...]}      every child matches
    {"OR":  [<filter>, ...]}      at least one child matches
    {"NOT": <filter>}             the child does not match (an engagekit extension)
    {"<kind>": {<fields>}}        a leaf, e.g. {"custom_attribute": {"custom_attribute_name": "plan",
                                                 "comparison": "equals", "value": "pro"}}

The result is a tree of typed, frozen pydantic models: :class:`AndNode`, :class:`OrNode`,
:class:`NotNode` and :class:`~engagekit.segments.base.Leaf` subclasses. It is a discriminated union
whose discriminator is the node's single JSON key; the leaf half of the union is open — the
registry in :mod:`engagekit.segments.base` maps keys to models, so a later issue adds leaf kinds with
:func:`~engagekit.segments.base.register_leaf_kind` without touching this parser. The built-in kinds
live in :mod:`engagekit.segments.leaves`.

Invalid input raises :class:`~engagekit.segments.base.InvalidFilterError` (an
``engagekit.errors.ValidationError``, HTTP 400) whose message starts with the JSON path of the bad
node, e.g. ``filter.AND[2].custom_attribute.comparison: unknown comparison 'equal' (...)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import ConfigDict

from engagekit.model import Model
from engagekit.segments import leaves
from engagekit.segments.base import InvalidFilterError, Leaf, leaf_kind, leaf_kinds

MAX_DEPTH = 16
MAX_NODES = 500
MAX_NAME_CHARS = 255


class AndNode(Model):
    """``{"AND": [...]}``: true when every child is (at least one child)."""

    model_config = ConfigDict(frozen=True)
    children: tuple[FilterNode, ...]


class OrNode(Model):
    """``{"OR": [...]}``: true when any child is (at least one child)."""

    model_config = ConfigDict(frozen=True)
    children: tuple[FilterNode, ...]


class NotNode(Model):
    """``{"NOT": {...}}``: true when the child is false."""

    model_config = ConfigDict(frozen=True)
    child: FilterNode


FilterNode = AndNode | OrNode | NotNode | Leaf
AndNode.model_rebuild()
OrNode.model_rebuild()
NotNode.model_rebuild()


def parse_filter(data: object, *, path: str = "filter") -> FilterNode:
    """Parse a JSON filter (already decoded: dicts, lists, scalars) into a typed tree.

    ``path`` names the root in error messages (``"filter"`` for a segment definition,
    ``"audience"`` for the messaging API). Limits: nesting depth :data:`MAX_DEPTH`, at most
    :data:`MAX_NODES` nodes. Raises :class:`InvalidFilterError` naming the first bad node.
    """
    return _Parser().parse(data, path, 0)


class _Parser:
    def __init__(self) -> None:
        self.nodes = 0

    def parse(self, data: object, path: str, depth: int) -> FilterNode:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InvalidFilterError(path, f"a filter has at most {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise InvalidFilterError(path, f"filters nest at most {MAX_DEPTH} levels deep")
        if not isinstance(data, Mapping) or len(data) != 1:
            got = f"keys {', '.join(map(repr, data))}" if isinstance(data, Mapping) else _json_type(data)
            raise InvalidFilterError(
                path, f"expected an object with exactly one key (AND, OR, NOT or a filter kind), got {got}"
            )
        ((key, body),) = data.items()
        if key in ("AND", "OR"):
            here = f"{path}.{key}"
            if not isinstance(body, list) or not body:
                raise InvalidFilterError(here, "expected a non-empty array of filters")
            children = tuple(self.parse(child, f"{here}[{i}]", depth + 1) for i, child in enumerate(body))
            return AndNode(children=children) if key == "AND" else OrNode(children=children)
        if key == "NOT":
            return NotNode(child=self.parse(body, f"{path}.NOT", depth + 1))
        return _parse_leaf(str(key), body, path)


def _parse_leaf(key: str, body: object, path: str) -> Leaf:
    model = leaf_kind(key)
    if model is None:
        known = ", ".join(["AND", "OR", "NOT", *sorted(leaf_kinds())])
        raise InvalidFilterError(path, f"unknown filter {key!r} (expected one of: {known})")
    here = f"{path}.{key}"
    if not isinstance(body, Mapping):
        raise InvalidFilterError(here, f"expected an object, got {_json_type(body)}")
    try:
        return model.model_validate(body)
    except InvalidFilterError as exc:
        raise InvalidFilterError(_join(here, exc.path), exc.problem) from exc
    except pydantic.ValidationError as exc:
        problems = [(_join(here, _loc(e["loc"])), _message(e)) for e in exc.errors()]
        first_path, first_problem = problems[0]
        raise InvalidFilterError(
            first_path, first_problem, errors=[{"path": p, "message": m} for p, m in problems]
        ) from exc


def _join(base: str, rel: str) -> str:
    if not rel:
        return base
    return base + rel if rel.startswith("[") else f"{base}.{rel}"


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "required field missing"
    if kind == "extra_forbidden":
        return "unknown field"
    msg = str(error.get("msg", "invalid"))
    return msg[:1].lower() + msg[1:]


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def dump_filter(node: FilterNode) -> dict[str, Any]:
    """The JSON form of a parsed filter (``parse_filter(dump_filter(f)) == f``); unset optional
    fields are omitted."""
    if isinstance(node, AndNode):
        return {"AND": [dump_filter(c) for c in node.children]}
    if isinstance(node, OrNode):
        return {"OR": [dump_filter(c) for c in node.children]}
    if isinstance(node, NotNode):
        return {"NOT": dump_filter(node.child)}
    return {node.kind: node.model_dump(mode="json", exclude_none=True)}


def iter_leaves(node: FilterNode) -> Iterator[Leaf]:
    """Every leaf of the tree, depth first, left to right."""
    if isinstance(node, AndNode | OrNode):
        for child in node.children:
            yield from iter_leaves(child)
    elif isinstance(node, NotNode):
        yield from iter_leaves(node.child)
    else:
        yield node


def segment_refs(node: FilterNode) -> frozenset[str]:
    """Ids of the segments a filter reads through ``segment`` leaves."""
    return frozenset(leaf.segment_id for leaf in iter_leaves(node) if isinstance(leaf, leaves.SegmentFilter))


_SEGMENT_ID = re.compile(leaves.SEGMENT_ID_PATTERN)


@dataclass(frozen=True)
class SegmentDefinition:
    """A parsed segment: ``segment_id``, display ``name`` and ``filter`` tree."""

    segment_id: str
    name: str
    filter: FilterNode

    def to_json(self) -> dict[str, Any]:
        """``{"name": ..., "filter": {...}}``, the body of ``PUT /segments/{segment_id}``."""
        return {"name": self.name, "filter": dump_filter(self.filter)}


def parse_segment_definition(segment_id: str, data: object) -> SegmentDefinition:
    """Validate the body of ``PUT /segments/{segment_id}``: ``{"name": str, "filter": {...}}``.

    ``segment_id`` must match :data:`~engagekit.segments.leaves.SEGMENT_ID_PATTERN`; ``name`` is 1-255
    characters; a filter may not reference its own segment. Cycles through other segments need the
    whole set of definitions: :func:`engagekit.segments.dependencies.check_acyclic`.
    Raises :class:`InvalidFilterError` (path ``segment_id``, ``name``, ``filter...`` or the unknown key).
    """
    if not isinstance(segment_id, str) or not _SEGMENT_ID.match(segment_id):
        raise InvalidFilterError(
            "segment_id",
            "expected 1-128 letters, digits, '_', '.', ':' or '-' starting with a letter or digit",
        )
    if not isinstance(data, Mapping):
        raise InvalidFilterError("", f"a segment definition is an object, got {_json_type(data)}")
    for key in data:
        if key not in ("name", "filter"):
            raise InvalidFilterError(str(key), "unknown field (expected name and filter)")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        raise InvalidFilterError(
            "name", f"expected a non-empty string of at most {MAX_NAME_CHARS} characters"
        )
    if "filter" not in data:
        raise InvalidFilterError("filter", "required field missing")
    tree = parse_filter(data["filter"], path="filter")
    if segment_id in segment_refs(tree):
        raise InvalidFilterError("filter", f"segment {segment_id!r} cannot reference itself")
    return SegmentDefinition(segment_id=segment_id, name=name, filter=tree)
