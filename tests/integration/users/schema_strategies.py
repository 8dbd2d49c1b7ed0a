"""Hypothesis strategies from the JSON Schemas of docs/openapi.json, with mutations.

:func:`from_schema` draws values that follow a schema (the subset pydantic emits: ``$ref``,
``anyOf``, ``enum``/``const``, objects, arrays, strings, numbers, booleans, null), and with
``mutate=True`` sometimes replaces any value with arbitrary JSON, drops required keys or adds
unknown ones, so both valid and invalid requests are generated. Sizes are kept small so thousands
of requests fit in the test's time budget; arrays sometimes exceed their ``maxItems``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2026-03-01T10:00:00Z", "12/1/2021", "x" * 300, "", "$time", "a.b"])
)
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def from_schema(
    schema: dict[str, Any], defs: dict[str, Any], *, mutate: bool, depth: int = 0
) -> st.SearchStrategy[Any]:
    """A strategy for ``schema`` (``defs`` resolves ``#/components/schemas/X`` refs)."""
    exact = _exact(schema, defs, mutate=mutate, depth=depth)
    if not mutate:
        return exact
    return st.one_of(exact, exact, exact, exact, ANY_JSON)


def _exact(
    schema: dict[str, Any], defs: dict[str, Any], *, mutate: bool, depth: int
) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return st.deferred(lambda: from_schema(defs[name], defs, mutate=mutate, depth=depth + 1))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs, mutate=mutate, depth=depth) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _object(schema, defs, mutate=mutate, depth=depth)
    if kind == "array":
        items = from_schema(schema.get("items", {}), defs, mutate=mutate, depth=depth + 1)
        cap = min(schema.get("maxItems", 4), 4)
        small = st.lists(items, min_size=min(schema.get("minItems", 0), cap), max_size=cap)
        if mutate and "maxItems" in schema:
            return small | st.lists(
                st.just({}), min_size=schema["maxItems"] + 1, max_size=schema["maxItems"] + 1
            )
        return small
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 16), 16)
        return st.text(min_size=min(low, high), max_size=high) | st.sampled_from(
            ["2026-03-01T10:00:00Z", "a@b.co", "+15555550100", "USD", "2026-03-01"]
        )
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum", -5), max_value=schema.get("maximum", 200))
    if kind == "number":
        return st.floats(min_value=schema.get("minimum"), max_value=schema.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return ANY_JSON


def _object(
    schema: dict[str, Any], defs: dict[str, Any], *, mutate: bool, depth: int
) -> st.SearchStrategy[Any]:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    if depth > 6:
        return st.just({})
    fields = {name: from_schema(spec, defs, mutate=mutate, depth=depth + 1) for name, spec in props.items()}
    optional = [n for n in props if n not in required]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in props:
            if name in required and not (mutate and draw(st.integers(0, 9)) == 0):
                out[name] = draw(fields[name])
        chosen = draw(st.lists(st.sampled_from(optional), max_size=3, unique=True)) if optional else []
        for name in chosen:
            out[name] = draw(fields[name])
        if schema.get("additionalProperties", True) is not False or mutate:
            extra = draw(st.dictionaries(st.text(min_size=1, max_size=6), ANY_JSON, max_size=2))
            out.update({k: v for k, v in extra.items() if k not in out})
        return out

    return build()
