"""Validation of JSON values: custom attribute values, nested objects and event properties.

Rules (braze-api.md §1.1.1, §1.1.2, §9): strings at most 255 characters; numbers finite; keys of
nested objects non-empty, at most 255 characters, without ``.``, spaces or a leading ``$``; times
inside objects written ``{"$time": "..."}`` and stored as ISO 8601 UTC strings; nested objects and
arrays of objects at most 100 KB serialized. Violations raise :class:`ItemError` naming the path.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

from pydantic_core import to_json

from engagekit.profiles.errors import ItemError
from engagekit.profiles.limits import MAX_NESTING_DEPTH, MAX_STRING_CHARS
from engagekit.profiles.timeparse import in_braze_range, iso, parse_time

Scalar = str | int | float | bool


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON, written as the profile stores it (pydantic-core's
    serializer: ``1e15`` takes 18 bytes as ``1000000000000000.0``); how the size limits are measured."""
    return len(to_json(value))


def check_number(value: float, where: str) -> None:
    """Raise ItemError for NaN or an infinity (Python's json accepts them; JSON does not)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ItemError(f"'{where}' must be a finite number")


def check_string(value: str, where: str, max_chars: int = MAX_STRING_CHARS) -> None:
    """Raise ItemError for a string longer than ``max_chars`` (255, braze-api.md §9) or one that is
    not Unicode text (a lone surrogate, which JSON's ``\\ud800`` escapes can carry and UTF-8 cannot
    store, RFC 8259 §8.2)."""
    if len(value) > max_chars:
        raise ItemError(f"'{where}' is longer than {max_chars} characters")
    check_text(value, where)


def check_text(value: str, where: str) -> None:
    """Raise ItemError when ``value`` holds a lone surrogate (not encodable as UTF-8)."""
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise ItemError(f"'{where}' contains an unpaired surrogate (not valid Unicode text)") from exc


def is_number(value: Any) -> TypeGuard[int | float]:
    """True for int and float but not bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def nested_time(value: Any, where: str) -> str:
    """The stored form of ``{"$time": value}``; ItemError if not a Braze time within years 0..3000."""
    at = parse_time(value) if isinstance(value, str) else None
    if at is None or not in_braze_range(at):
        raise ItemError(f"'{where}' has an invalid $time value")
    return iso(at)


def check_nested_key(key: Any, where: str) -> str:
    """A nested object's key, or ItemError (braze-api.md §1.1.1: no '.', '$' prefix or spaces)."""
    if not isinstance(key, str) or not key or len(key) > MAX_STRING_CHARS:
        raise ItemError(f"'{where}' has a key that is empty or longer than {MAX_STRING_CHARS} characters")
    if "." in key or key.startswith("$") or " " in key:
        raise ItemError(f"'{where}' has key {key[:40]!r}: keys may not contain '.', spaces or start with '$'")
    check_text(key, where)
    return key


def nested_value(value: Any, where: str, *, allow_null: bool, depth: int = 0) -> Any:
    """``value`` as stored inside a nested custom attribute (times converted), or ItemError.

    ``allow_null`` lets ``null`` through (it deletes a key when objects are merged).
    """
    if depth > MAX_NESTING_DEPTH:
        raise ItemError(f"'{where}' is nested deeper than {MAX_NESTING_DEPTH} levels")
    if value is None:
        if not allow_null:
            raise ItemError(f"'{where}' contains null (set _merge_objects to delete nested keys)")
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        check_number(value, where)
        return value
    if isinstance(value, str):
        check_string(value, where)
        return value
    if isinstance(value, list):
        return [nested_value(v, where, allow_null=False, depth=depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$time"}:
            return nested_time(value["$time"], where)
        return {
            check_nested_key(k, where): nested_value(
                v, f"{where}.{k}", allow_null=allow_null, depth=depth + 1
            )
            for k, v in value.items()
        }
    raise ItemError(f"'{where}' has a value of an unsupported type")


def property_value(value: Any, where: str, depth: int = 0) -> Any:
    """An event or purchase property value, or ItemError (braze-api.md §1.1.2).

    Numbers, booleans, null, strings (≤255), arrays and objects; time strings are kept as sent.
    """
    if depth > MAX_NESTING_DEPTH:
        raise ItemError(f"'{where}' is nested deeper than {MAX_NESTING_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        check_number(value, where)
        return value
    if isinstance(value, str):
        check_string(value, where)
        return value
    if isinstance(value, list):
        return [property_value(v, where, depth + 1) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str) or not k or len(k) > MAX_STRING_CHARS:
                raise ItemError(
                    f"'{where}' has a key that is empty or longer than {MAX_STRING_CHARS} characters"
                )
            check_text(k, where)
            out[k] = property_value(v, f"{where}.{k}", depth + 1)
        return out
    raise ItemError(f"'{where}' has a value of an unsupported type")


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` deep-merged with ``update`` (a new dict): objects merge key by key, ``None`` deletes a
    key, anything else replaces (braze-api.md §1.1.1, ``_merge_objects``)."""
    merged = dict(base)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = strip_nulls(value)
    return merged


def strip_nulls(value: Any) -> Any:
    """``value`` without null object members (a merged-in new key holds no deletions)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    return value
