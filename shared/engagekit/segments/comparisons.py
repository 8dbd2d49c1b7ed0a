"""Typed comparisons of one stored value against a filter value, with Braze's NULL semantics.

Used by the ``custom_attribute``, ``standard_attribute`` and ``custom_event_property`` leaves. The
comparison names are those of Braze's Connected Audience object (braze-api.md §2.6), extended with
the dashboard operators of braze-api.md §3 ("Operators by type"):

========  ==============================================================================================
type      comparisons
========  ==============================================================================================
string    equals, not_equal, matches_regex, does_not_match_regex, is_any_of, is_none_of,
          contains_any_of, does_not_contain_any_of, exists, does_not_exist
number    equals, not_equal, greater_than, greater_than_or_equal_to, less_than,
          less_than_or_equal_to, exists, does_not_exist
boolean   equals, not_equal (alias does_not_equal), exists, does_not_exist
time      before, after, less_than_x_days_ago, greater_than_x_days_ago,
          less_than_x_days_in_the_future, greater_than_x_days_in_the_future, exists, does_not_exist
array     includes_value, does_not_include_value, includes_any_of, includes_none_of, includes_all_of,
          does_not_include_all_of, matches_regex, does_not_match_regex, has_a_value, is_empty,
          exists, does_not_exist
========  ==============================================================================================

NULL semantics (a missing key, JSON ``null``, or a value of another type all count as NULL):

- number ``equals 0``, ``less_than`` and ``less_than_or_equal_to`` include NULL (braze-api.md §3 and
  §11.10: "Exactly 0" and "Less Than" include users with NULL); other number comparisons exclude it;
- ``not_equal``, ``is_none_of``, ``does_not_contain_any_of``, ``does_not_include_value``,
  ``includes_none_of`` and ``does_not_include_all_of`` are the exact complements of their positive
  forms, so they include NULL;
- ``does_not_match_regex`` requires a value (braze-api.md §3: "requires a value present");
- ``exists`` is false for NULL, ``""`` and ``[]`` ("IS NOT BLANK"), ``does_not_exist`` is its
  complement; every other comparison is false for NULL.

Relative times count one day as 24 hours from the evaluation instant (braze-api.md §3). With ``t``
the stored instant and ``X`` the filter's days, the truth intervals are half-open so a timer at a
boundary is exact: ``less_than_x_days_ago`` ⇔ ``t <= now < t + X``; ``greater_than_x_days_ago`` ⇔
``now >= t + X``; ``less_than_x_days_in_the_future`` ⇔ ``t - X <= now < t``;
``greater_than_x_days_in_the_future`` ⇔ ``now < t - X``. ``before``/``after`` are strict.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, get_args

import regex

from engagekit.segments.base import InvalidFilterError

DataType = Literal["string", "number", "boolean", "time", "array"]
DATA_TYPES: tuple[DataType, ...] = get_args(DataType)

log = logging.getLogger(__name__)

MAX_REGEX_CHARS = 32_764  # braze-api.md §9 "Segment regex"
REGEX_TIMEOUT_SECONDS = 0.05
"""Wall-clock budget of one regex search against one string (engagekit's; Braze publishes none).
A search that runs out counts as "no match" (docs/segments.md "Regex safety")."""
MAX_LIST_VALUES = 256  # braze-api.md §9 '"is any of" ≤256 values'
MAX_RELATIVE_DAYS = 36_500

COMPARISONS: dict[DataType, tuple[str, ...]] = {
    "string": (
        "equals",
        "not_equal",
        "matches_regex",
        "does_not_match_regex",
        "is_any_of",
        "is_none_of",
        "contains_any_of",
        "does_not_contain_any_of",
        "exists",
        "does_not_exist",
    ),
    "number": (
        "equals",
        "not_equal",
        "greater_than",
        "greater_than_or_equal_to",
        "less_than",
        "less_than_or_equal_to",
        "exists",
        "does_not_exist",
    ),
    "boolean": ("equals", "not_equal", "exists", "does_not_exist"),
    "time": (
        "before",
        "after",
        "less_than_x_days_ago",
        "greater_than_x_days_ago",
        "less_than_x_days_in_the_future",
        "greater_than_x_days_in_the_future",
        "exists",
        "does_not_exist",
    ),
    "array": (
        "includes_value",
        "does_not_include_value",
        "includes_any_of",
        "includes_none_of",
        "includes_all_of",
        "does_not_include_all_of",
        "matches_regex",
        "does_not_match_regex",
        "has_a_value",
        "is_empty",
        "exists",
        "does_not_exist",
    ),
}
#: Other spellings accepted on input (Connected Audience spells the boolean one ``does_not_equal``).
ALIASES: dict[str, str] = {"does_not_equal": "not_equal"}
ALL_COMPARISONS: frozenset[str] = frozenset({c for ops in COMPARISONS.values() for c in ops} | set(ALIASES))
RELATIVE_TIME_COMPARISONS = frozenset(
    {
        "less_than_x_days_ago",
        "greater_than_x_days_ago",
        "less_than_x_days_in_the_future",
        "greater_than_x_days_in_the_future",
    }
)
_NO_VALUE = frozenset({"exists", "does_not_exist", "has_a_value", "is_empty"})


# -- value coercion: anything of another type is NULL --------------------------------------------


def as_string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_number(value: object) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def as_boolean(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def as_array(value: object) -> list[Any] | None:
    return list(value) if isinstance(value, list | tuple) else None


@lru_cache(maxsize=8192)
def _parse_instant_text(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def as_instant(value: object) -> datetime | None:
    """A stored time as an aware UTC datetime; ``None`` when it is not a time.

    Accepts datetimes and ISO 8601 strings (``2026-01-31``, ``2026-01-31T10:00:00Z``, offsets);
    a value without a zone is UTC (braze-api.md §1.1.1: "no TZ ⇒ midnight UTC").
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, str):
        return _parse_instant_text(value)
    return None


def _key(value: object) -> tuple[str, object]:
    """A hashable, type-strict identity for array elements (``1 == True`` must not match)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", float(value))
    if isinstance(value, str):
        return ("s", value)
    return ("o", repr(value))


def _blank(value: object) -> bool:
    return value is None or value == "" or value == []


# -- compiled tests ------------------------------------------------------------------------------

Predicate = Callable[[object, datetime], bool]
Flip = Callable[[object, datetime], datetime | None]
TimePredicate = Callable[[datetime, datetime], bool]
TimeFlip = Callable[[datetime, datetime], datetime | None]


def _never_flips(value: object, now: datetime) -> datetime | None:
    return None


@dataclass(frozen=True)
class ValueTest:
    """A compiled comparison: ``matches(value, now)`` and ``next_flip(value, now)``.

    ``value`` is the stored value (``None`` when absent); ``now`` an aware UTC datetime.
    ``next_flip`` returns the first instant after ``now`` at which ``matches`` changes with the same
    stored value (only relative-time comparisons ever change), or ``None``.
    """

    comparison: str
    data_type: DataType | None
    matches: Predicate = field(repr=False, compare=False)
    next_flip: Flip = field(default=_never_flips, repr=False, compare=False)

    @property
    def time_dependent(self) -> bool:
        return self.comparison in RELATIVE_TIME_COMPARISONS


def infer_data_type(comparison: str, value: object) -> DataType | None:
    """The data type a comparison implies: the only type that has it, or, for ``equals`` and
    ``not_equal``, the JSON type of ``value``; ``None`` for the type-agnostic ones (``exists``,
    ``does_not_exist``, ``matches_regex``, ``does_not_match_regex``)."""
    comparison = ALIASES.get(comparison, comparison)
    owners = [t for t, ops in COMPARISONS.items() if comparison in ops]
    if len(owners) == 1:
        return owners[0]
    if comparison in ("equals", "not_equal"):
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, str):
            return "string"
        if as_number(value) is not None:
            return "number"
        raise InvalidFilterError("value", f"{comparison} needs a string, number or boolean value")
    return None


def compile_test(
    comparison: str,
    value: object,
    data_type: DataType | None = None,
    *,
    allowed: Sequence[str] | None = None,
    nulls_as_zero: bool = True,
) -> ValueTest:
    """Validate and compile a comparison.

    ``data_type`` fixes the stored value's type; when ``None`` it is inferred
    (:func:`infer_data_type`). ``allowed`` restricts the comparisons (a leaf on a time field passes
    the time comparisons). ``nulls_as_zero`` applies Braze's number NULL rule (braze-api.md §11.10).

    Raises :class:`InvalidFilterError` with path ``comparison``, ``value`` or ``data_type``.
    """
    if comparison not in ALL_COMPARISONS or (allowed is not None and comparison not in allowed):
        choices = sorted(allowed if allowed is not None else ALL_COMPARISONS)
        raise InvalidFilterError(
            "comparison", f"unknown comparison {comparison!r} (expected one of: {', '.join(choices)})"
        )
    op = ALIASES.get(comparison, comparison)
    if data_type is not None:
        if op not in COMPARISONS[data_type]:
            raise InvalidFilterError(
                "comparison",
                f"comparison {comparison!r} does not apply to data_type {data_type!r} "
                f"(expected one of: {', '.join(COMPARISONS[data_type])})",
            )
        dtype: DataType | None = data_type
    else:
        dtype = infer_data_type(op, value)
    if op in _NO_VALUE:
        if value is not None:
            raise InvalidFilterError("value", f"{comparison} takes no value")
        return _compile_presence(op, dtype)
    if dtype is None:  # matches_regex / does_not_match_regex on a string or an array
        return _compile_regex(op, value, None)
    builder = _BUILDERS[dtype]
    return builder(op, value, nulls_as_zero)


def _compile_presence(op: str, dtype: DataType | None) -> ValueTest:
    present: Callable[[object], bool]
    if dtype is None:

        def present(v: object) -> bool:
            return not _blank(v)
    elif dtype == "string":

        def present(v: object) -> bool:
            return bool(as_string(v))
    elif dtype == "number":

        def present(v: object) -> bool:
            return as_number(v) is not None
    elif dtype == "boolean":

        def present(v: object) -> bool:
            return as_boolean(v) is not None
    elif dtype == "time":

        def present(v: object) -> bool:
            return as_instant(v) is not None
    else:

        def present(v: object) -> bool:
            return bool(as_array(v))

    if op in ("exists", "has_a_value"):
        return ValueTest(op, dtype, lambda v, now: present(v))
    return ValueTest(op, dtype, lambda v, now: not present(v))


def _compile_regex(op: str, value: object, dtype: DataType | None) -> ValueTest:
    """Compile a regex comparison with the ``regex`` package, searched under a time budget.

    Patterns over :data:`MAX_REGEX_CHARS` (braze-api.md §9) or that do not compile are refused at
    definition time (:class:`InvalidFilterError` on ``value``; the parser prefixes the node path, the
    API answers 400). At evaluation, one search of one string gets :data:`REGEX_TIMEOUT_SECONDS`
    (``regex``'s ``timeout=``, so a catastrophically backtracking pattern such as ``(a|aa)+$`` can not
    pin a CPU); a search that times out is "no match" (so ``does_not_match_regex`` is then true for a
    present value) and is logged once per compiled comparison, i.e. once per segment definition.
    """
    if not isinstance(value, str) or not value:
        raise InvalidFilterError("value", f"{op} needs a non-empty regular expression string")
    if len(value) > MAX_REGEX_CHARS:
        raise InvalidFilterError("value", f"regular expression longer than {MAX_REGEX_CHARS} characters")
    try:
        # braze-api.md §3: case-insensitive. VERSION0 is the re-compatible dialect.
        pattern = regex.compile(value, regex.IGNORECASE | regex.VERSION0)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise InvalidFilterError("value", f"invalid regular expression: {exc}") from exc
    timed_out = False

    def search(text: str) -> bool:
        nonlocal timed_out
        try:
            return pattern.search(text, timeout=REGEX_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            if not timed_out:
                timed_out = True
                log.warning(
                    "segment regex timed out; counted as no match",
                    extra={
                        "pattern": value[:200],
                        "timeout_seconds": REGEX_TIMEOUT_SECONDS,
                        "text_chars": len(text),
                    },
                )
            return False

    def texts(v: object) -> list[str] | None:
        if dtype != "array" and isinstance(v, str):
            return [v] if v else None
        if dtype != "string":
            items = as_array(v)
            if items:
                return [x for x in items if isinstance(x, str)]
        return None

    def matches(v: object, now: datetime) -> bool:
        found = texts(v)
        return bool(found) and any(search(t) for t in found or ())

    if op == "matches_regex":
        return ValueTest(op, dtype, matches)
    return ValueTest(op, dtype, lambda v, now: texts(v) is not None and not matches(v, now))


def _string_list(op: str, value: object, *, scalars: bool = False) -> list[Any]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidFilterError("value", f"{op} needs a non-empty array of values")
    if len(value) > MAX_LIST_VALUES:
        raise InvalidFilterError("value", f"{op} takes at most {MAX_LIST_VALUES} values")
    for i, item in enumerate(value):
        ok = isinstance(item, str) or (scalars and (isinstance(item, bool) or as_number(item) is not None))
        if not ok:
            kind = "a string, number or boolean" if scalars else "a string"
            raise InvalidFilterError(f"value[{i}]", f"expected {kind}, got {item!r}")
    return list(value)


def _compile_string(op: str, value: object, nulls_as_zero: bool) -> ValueTest:
    if op in ("matches_regex", "does_not_match_regex"):
        return _compile_regex(op, value, "string")
    if op in ("equals", "not_equal"):
        if not isinstance(value, str):
            raise InvalidFilterError("value", f"{op} on a string needs a string value")
        expected = value
        if op == "equals":
            return ValueTest(op, "string", lambda v, now: v == expected and isinstance(v, str))
        return ValueTest(op, "string", lambda v, now: not (v == expected and isinstance(v, str)))
    items = _string_list(op, value)
    if op in ("is_any_of", "is_none_of"):
        choices = frozenset(items)
        positive: Callable[[object], bool] = lambda v: isinstance(v, str) and v in choices  # noqa: E731
    else:  # contains_any_of / does_not_contain_any_of: case-sensitive substrings (braze-api.md §3)
        if any(not s for s in items):
            raise InvalidFilterError("value", f"{op} needs non-empty strings")
        needles = tuple(items)
        positive = lambda v: isinstance(v, str) and any(n in v for n in needles)  # noqa: E731
    if op in ("is_any_of", "contains_any_of"):
        return ValueTest(op, "string", lambda v, now: positive(v))
    return ValueTest(op, "string", lambda v, now: not positive(v))


def _number_value(op: str, value: object) -> float | int:
    number = as_number(value)
    if number is None or not math.isfinite(number):
        raise InvalidFilterError("value", f"{op} on a number needs a finite number value, got {value!r}")
    return number


def _compile_number(op: str, value: object, nulls_as_zero: bool) -> ValueTest:
    x = _number_value(op, value)
    base = "equals" if op == "not_equal" else op
    null_matches = nulls_as_zero and (
        base in ("less_than", "less_than_or_equal_to") or (base == "equals" and x == 0)
    )
    compare = NUMBER_OPERATORS[base]

    def positive(v: object) -> bool:
        n = as_number(v)
        return null_matches if n is None else compare(n, x)

    if op == "not_equal":
        return ValueTest(op, "number", lambda v, now: not positive(v))
    return ValueTest(op, "number", lambda v, now: positive(v))


def _compile_boolean(op: str, value: object, nulls_as_zero: bool) -> ValueTest:
    if not isinstance(value, bool):
        raise InvalidFilterError("value", f"{op} on a boolean needs true or false")
    expected = value
    if op == "equals":
        return ValueTest(op, "boolean", lambda v, now: as_boolean(v) is expected)
    # "does not equal true" is Braze's "false or not set" (braze-api.md §3 Boolean)
    return ValueTest(op, "boolean", lambda v, now: as_boolean(v) is not expected)


def parse_filter_instant(value: object) -> datetime:
    """A filter's ``before``/``after`` value as an aware UTC datetime (``InvalidFilterError`` on
    anything but an ISO 8601 date or date-time; no zone means UTC)."""
    instant = as_instant(value) if isinstance(value, str) else None
    if instant is None:
        raise InvalidFilterError("value", f"expected an ISO 8601 date or date-time, got {value!r}")
    return instant


def parse_days(op: str, value: object) -> timedelta:
    """A relative-time value (days, decimals allowed, 0 < days <= 36,500) as a timedelta of 24-hour
    days (braze-api.md §3: "1 day = 24 h from evaluation time")."""
    days = as_number(value)
    if days is None or not math.isfinite(days) or not 0 < days <= MAX_RELATIVE_DAYS:
        raise InvalidFilterError(
            "value", f"{op} needs a number of days > 0 and <= {MAX_RELATIVE_DAYS}, got {value!r}"
        )
    return timedelta(days=days)


def _static(t: datetime, now: datetime) -> datetime | None:
    return None


def time_test(op: str, value: object) -> tuple[TimePredicate, TimeFlip]:
    """The predicate ``(t, now) -> bool`` and flip ``(t, now) -> instant | None`` of a time
    comparison other than exists/does_not_exist, over a present instant ``t`` (aware UTC).

    Raises :class:`InvalidFilterError` (path ``value``) on a bad filter value.
    """
    if op in ("before", "after"):
        bound = parse_filter_instant(value)
        if op == "before":
            return (lambda t, now: t < bound), _static
        return (lambda t, now: t > bound), _static
    span = parse_days(op, value)
    if op == "less_than_x_days_ago":

        def pred(t: datetime, now: datetime) -> bool:
            return t <= now < t + span

        def flip(t: datetime, now: datetime) -> datetime | None:
            if now < t:
                return t
            return t + span if now < t + span else None

    elif op == "greater_than_x_days_ago":

        def pred(t: datetime, now: datetime) -> bool:
            return now >= t + span

        def flip(t: datetime, now: datetime) -> datetime | None:
            return t + span if now < t + span else None

    elif op == "less_than_x_days_in_the_future":

        def pred(t: datetime, now: datetime) -> bool:
            return t - span <= now < t

        def flip(t: datetime, now: datetime) -> datetime | None:
            if now < t - span:
                return t - span
            return t if now < t else None

    else:  # greater_than_x_days_in_the_future

        def pred(t: datetime, now: datetime) -> bool:
            return now < t - span

        def flip(t: datetime, now: datetime) -> datetime | None:
            return t - span if now < t - span else None

    return pred, flip


def _compile_time(op: str, value: object, nulls_as_zero: bool) -> ValueTest:
    pred, flip = time_test(op, value)

    def matches(v: object, now: datetime) -> bool:
        t = as_instant(v)
        return t is not None and pred(t, now)

    def next_flip(v: object, now: datetime) -> datetime | None:
        t = as_instant(v)
        return None if t is None else flip(t, now)

    return ValueTest(op, "time", matches, next_flip)


def _compile_array(op: str, value: object, nulls_as_zero: bool) -> ValueTest:
    if op in ("matches_regex", "does_not_match_regex"):
        return _compile_regex(op, value, "array")
    if op in ("includes_value", "does_not_include_value"):
        if not (isinstance(value, str | bool) or as_number(value) is not None):
            raise InvalidFilterError("value", f"{op} needs a string, number or boolean value")
        wanted = _key(value)

        def includes(v: object) -> bool:
            items = as_array(v)
            return items is not None and any(_key(x) == wanted for x in items)

        if op == "includes_value":
            return ValueTest(op, "array", lambda v, now: includes(v))
        return ValueTest(op, "array", lambda v, now: not includes(v))
    keys = frozenset(_key(x) for x in _string_list(op, value, scalars=True))

    def held(v: object) -> frozenset[tuple[str, object]]:
        items = as_array(v)
        return frozenset(_key(x) for x in items) if items else frozenset()

    if op == "includes_any_of":
        return ValueTest(op, "array", lambda v, now: not keys.isdisjoint(held(v)))
    if op == "includes_none_of":
        return ValueTest(op, "array", lambda v, now: keys.isdisjoint(held(v)))
    if op == "includes_all_of":
        return ValueTest(op, "array", lambda v, now: keys <= held(v))
    return ValueTest(op, "array", lambda v, now: not keys <= held(v))  # does_not_include_all_of


_BUILDERS: dict[DataType, Callable[[str, object, bool], ValueTest]] = {
    "string": _compile_string,
    "number": _compile_number,
    "boolean": _compile_boolean,
    "time": _compile_time,
    "array": _compile_array,
}

NUMBER_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "equals": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
    "greater_than": lambda a, b: a > b,
    "greater_than_or_equal_to": lambda a, b: a >= b,
    "less_than": lambda a, b: a < b,
    "less_than_or_equal_to": lambda a, b: a <= b,
}
