"""User attributes objects: parsed into operations, then applied to a :class:`Profile`.

Parsing (:func:`parse_attributes`) checks everything that does not depend on the stored profile
and raises :class:`ItemError` for the first problem, so a bad object is rejected whole, never half
applied. Applying (:func:`apply_attributes`) computes every new value first and commits them
together; it raises ItemError only for limits that depend on the stored value (a nested object that
would pass 100 KB, an ``inc`` whose result is not finite), again before anything is committed.

Semantics (braze-api.md §1.1.1, §8):

- standard attributes: strings; ``country`` mapped to ISO-3166 alpha-2 (unmappable -> null);
  ``time_zone`` IANA or Rails (invalid -> not set); ``dob`` ``YYYY-MM-DD``; ``gender`` M/F/O/N/P;
  ``email_subscribe``/``push_subscribe``; ``subscription_groups``; ``push_tokens``;
  ``current_location``; ``marked_email_as_spam_at``. Changing ``email`` takes the new address's
  recorded state (``/email/status``, bounces) or resets the state to ``subscribed``.
- custom attributes: ``null`` deletes; strings (≤255; strings in a Braze time format are stored as
  times); numbers; booleans; arrays (deduplicated, capped at ``Limits.array_max_length``, oldest
  dropped); ``{"inc": n}``; ``{"add": [...], "remove": [...]}``; objects (replace, or deep merge
  with ``_merge_objects: true``); arrays of objects with ``$add``/``$remove``/``$update``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from engagekit.domain.profile import Profile, PushToken
from engagekit.profiles.changes import UserChanges
from engagekit.profiles.errors import ItemError
from engagekit.profiles.geo import country_code, time_zone_name
from engagekit.profiles.identity import MAX_IDENTIFIER_CHARS, normalize_email, normalize_phone
from engagekit.profiles.limits import (
    MAX_NESTED_BYTES,
    MAX_PUSH_TOKENS,
    MAX_STRING_CHARS,
    MAX_SUBSCRIPTION_GROUPS,
    Limits,
)
from engagekit.profiles.timeparse import in_braze_range, iso, parse_time
from engagekit.profiles.values import (
    check_number,
    check_string,
    check_text,
    deep_merge,
    is_number,
    json_size,
    nested_time,
    nested_value,
)

CONTROL_KEYS = frozenset(
    {"external_id", "user_alias", "braze_id", "_update_existing_only", "push_token_import", "_merge_objects"}
)
"""Keys of an attributes object that are not attributes."""

IGNORED_STANDARD = frozenset(
    {
        "date_of_first_session",
        "date_of_last_session",
        "email_open_tracking_disabled",
        "email_click_tracking_disabled",
        "facebook",
        "twitter",
        "alias_name",
        "alias_label",
        "image_url",
        "app_id",
    }
)
"""Standard fields Braze documents that engagekit accepts and does not keep (docs/users-api.md)."""

_NOT_ATTRIBUTES = CONTROL_KEYS | IGNORED_STANDARD

SUBSCRIPTION_STATES = ("opted_in", "subscribed", "unsubscribed")
GROUP_STATES = ("subscribed", "unsubscribed")
_GENDERS = {
    "m": "M", "male": "M", "f": "F", "female": "F", "o": "O", "other": "O",
    "n": "N", "not_applicable": "N", "p": "P", "prefer_not_to_say": "P",
}  # fmt: skip
_LANGUAGE = re.compile(r"^([A-Za-z]{2})(?:[-_][A-Za-z0-9]{2,8})?$")
_SIMPLE_ARRAY_KEYS = frozenset({"add", "remove"})
_OBJECT_ARRAY_KEYS = frozenset({"$add", "$remove", "$update"})


class CustomOp(NamedTuple):
    """One custom attribute operation: ``kind`` set|delete|inc|array|object|objects.

    A named tuple: one is made per custom attribute of every request, and tuples are the cheapest
    immutable record CPython builds.
    """

    name: str
    kind: str
    value: Any = None
    add: tuple[Any, ...] = ()
    remove: tuple[Any, ...] = ()
    update: tuple[tuple[str, Any, dict[str, Any]], ...] = ()


@dataclass
class ParsedAttributes:
    """An attributes object's operations: standard ``(field, value)`` pairs and custom ops."""

    standard: list[tuple[str, Any]] = field(default_factory=list)
    custom: list[CustomOp] = field(default_factory=list)
    merge_objects: bool = False


# --------------------------------------------------------------------------------------------
# Parsing


def _optional_str(name: str, value: Any, max_chars: int = MAX_STRING_CHARS) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ItemError(f"'{name}' must be a string or null")
    check_string(value, name, max_chars)
    return value


def parse_standard(name: str, value: Any) -> Any:
    """The normalized value of standard attribute ``name``; ItemError when invalid.

    Returns the sentinel :data:`NOT_SET` for values Braze ignores (an invalid ``time_zone``).
    """
    if name in ("first_name", "last_name", "home_city"):
        return _optional_str(name, value)
    if name == "email":
        text = _optional_str(name, value, MAX_IDENTIFIER_CHARS)
        if text is not None and normalize_email(text) is None:
            raise ItemError("'email' is not a valid email address")
        return text.strip() if text is not None else None
    if name == "phone":
        text = _optional_str(name, value, MAX_IDENTIFIER_CHARS)
        if text is not None and normalize_phone(text) is None:
            raise ItemError("'phone' is not a valid phone number")
        return text.strip() if text is not None else None
    if name == "country":
        text = _optional_str(name, value)
        return country_code(text) if text is not None else None
    if name == "language":
        text = _optional_str(name, value)
        if text is None:
            return None
        match = _LANGUAGE.match(text.strip())
        if not match:
            raise ItemError("'language' must be an ISO-639-1 code such as 'en'")
        return match.group(1).lower()
    if name == "time_zone":
        text = _optional_str(name, value)
        if text is None:
            return None
        zone = time_zone_name(text)
        return zone if zone is not None else NOT_SET
    if name == "dob":
        text = _optional_str(name, value)
        if text is None:
            return None
        try:
            return date.fromisoformat(text.strip()[:10]) if len(text.strip()) == 10 else _bad_dob()
        except ValueError:
            return _bad_dob()
    if name == "gender":
        if value is None:
            return None
        if not isinstance(value, str) or value.strip().lower() not in _GENDERS:
            raise ItemError("'gender' must be one of M, F, O, N, P or null")
        return _GENDERS[value.strip().lower()]
    if name in ("email_subscribe", "push_subscribe"):
        if value not in SUBSCRIPTION_STATES:
            raise ItemError(f"'{name}' must be one of {', '.join(SUBSCRIPTION_STATES)}")
        return value
    if name == "subscription_groups":
        return _parse_groups(value)
    if name == "push_tokens":
        return _parse_push_tokens(value)
    if name == "current_location":
        return _parse_location(value)
    if name == "marked_email_as_spam_at":
        if value is None:
            return None
        at = parse_time(value) if isinstance(value, str) else None
        if at is None:
            raise ItemError("'marked_email_as_spam_at' is not a valid time")
        return at
    raise KeyError(name)  # pragma: no cover - STANDARD_FIELDS and this function agree


def _bad_dob() -> date:
    raise ItemError("'dob' must be a date 'YYYY-MM-DD'")


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Any = _NotSet()

STANDARD_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "home_city",
        "email",
        "phone",
        "country",
        "language",
        "time_zone",
        "dob",
        "gender",
        "email_subscribe",
        "push_subscribe",
        "subscription_groups",
        "push_tokens",
        "current_location",
        "marked_email_as_spam_at",
    }
)


def _parse_groups(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list) or len(value) > MAX_SUBSCRIPTION_GROUPS:
        raise ItemError(
            f"'subscription_groups' must be an array of at most {MAX_SUBSCRIPTION_GROUPS} objects"
        )
    out: list[tuple[str, str]] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise ItemError("'subscription_groups' entries must be objects")
        group_id = entry.get("subscription_group_id")
        state = entry.get("subscription_state")
        if not isinstance(group_id, str) or not group_id or len(group_id) > MAX_STRING_CHARS:
            raise ItemError("'subscription_groups' entries need a 'subscription_group_id' string")
        if state not in GROUP_STATES:
            raise ItemError("'subscription_state' must be 'subscribed' or 'unsubscribed'")
        check_text(group_id, "subscription_group_id")
        out.append((group_id, state))
    return out


def _parse_push_tokens(value: Any) -> list[PushToken]:
    if not isinstance(value, list) or len(value) > MAX_PUSH_TOKENS:
        raise ItemError(f"'push_tokens' must be an array of at most {MAX_PUSH_TOKENS} objects")
    out: list[PushToken] = []
    for entry in value:
        if not isinstance(entry, dict):
            raise ItemError("'push_tokens' entries must be objects")
        app_id, token, device_id = entry.get("app_id"), entry.get("token"), entry.get("device_id")
        if not isinstance(app_id, str) or not app_id or len(app_id) > MAX_STRING_CHARS:
            raise ItemError("'push_tokens' entries need an 'app_id' string")
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise ItemError("'push_tokens' entries need a 'token' string of at most 4096 characters")
        if device_id is not None and (not isinstance(device_id, str) or len(device_id) > MAX_STRING_CHARS):
            raise ItemError("'device_id' must be a string")
        for field_name, text in (("app_id", app_id), ("token", token), ("device_id", device_id or "")):
            check_text(text, f"push_tokens.{field_name}")
        out.append(PushToken(app_id=app_id, token=token, device_id=device_id or str(uuid.uuid4())))
    return out


def _parse_location(value: Any) -> list[float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ItemError("'current_location' must be an object {longitude, latitude}")
    lon, lat = value.get("longitude"), value.get("latitude")
    if not (is_number(lon) and is_number(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ItemError("'current_location' needs numeric longitude (-180..180) and latitude (-90..90)")
    return [float(lon), float(lat)]


def check_custom_name(name: str) -> None:
    """Raise ItemError for an empty custom attribute name, one over 255 chars, starting with '$' or
    holding a lone surrogate."""
    if not name or len(name) > MAX_STRING_CHARS or name.startswith("$"):
        raise ItemError(
            f"custom attribute name {name[:40]!r} must be 1 to 255 characters, not starting with '$'"
        )
    check_text(name, "custom attribute name")


def parse_custom(
    name: str, value: Any, limits: Limits, merge_objects: bool, *, check_size: bool = True
) -> CustomOp:
    """The operation of custom attribute ``name`` := ``value``; ItemError when invalid.

    ``check_size=False`` skips the 100 KB check of nested values (callers pass it when the whole
    request body is smaller than that, so no value in it can be larger).
    """
    check_custom_name(name)
    if value is None:
        return CustomOp(name, "delete")
    if isinstance(value, bool):
        return CustomOp(name, "set", value)
    if isinstance(value, int | float):
        check_number(value, name)
        return CustomOp(name, "set", value)
    if isinstance(value, str):
        at = parse_time(value)
        if at is not None and in_braze_range(at):
            return CustomOp(name, "set", iso(at))
        check_string(value, name)
        return CustomOp(name, "set", value)
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            objects = [nested_value(v, name, allow_null=False) for v in value]
            if check_size:
                _check_nested_size(name, objects)
            return CustomOp(name, "set", objects)
        return CustomOp(name, "set", _cap(_dedupe(_array_elements(name, value)), limits))
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"inc"}:
            step = value["inc"]
            if not is_number(step):
                raise ItemError(f"'{name}': 'inc' needs a number")
            check_number(step, name)
            return CustomOp(name, "inc", step)
        if keys and keys <= _SIMPLE_ARRAY_KEYS:
            add = _array_elements(name, value.get("add", []))
            remove = _array_elements(name, value.get("remove", []))
            return CustomOp(name, "array", add=tuple(add), remove=tuple(remove))
        if keys and keys <= _OBJECT_ARRAY_KEYS:
            return _parse_object_array_ops(name, value)
        if keys == {"$time"}:
            return CustomOp(name, "set", nested_time(value["$time"], name))
        obj = nested_value(value, name, allow_null=merge_objects)
        if check_size:
            _check_nested_size(name, obj)
        return CustomOp(name, "object", obj)
    raise ItemError(f"'{name}' has a value of an unsupported type")


def _array_elements(name: str, values: Any) -> list[Any]:
    if not isinstance(values, list):
        raise ItemError(f"'{name}': 'add' and 'remove' take arrays")
    out: list[Any] = []
    for v in values:
        if isinstance(v, bool) or v is None:
            out.append(v)
        elif isinstance(v, int | float):
            check_number(v, name)
            out.append(v)
        elif isinstance(v, str):
            check_string(v, name)
            out.append(v)
        else:
            raise ItemError(f"'{name}': array elements must be strings, numbers or booleans")
    return out


def _identifier_pair(name: str, entry: Any, op: str) -> tuple[str, Any]:
    if not isinstance(entry, dict):
        raise ItemError(f"'{name}': '{op}' entries must be objects")
    key, ident = entry.get("$identifier_key"), entry.get("$identifier_value")
    if not isinstance(key, str) or not key or "$identifier_value" not in entry:
        raise ItemError(f"'{name}': '{op}' entries need '$identifier_key' and '$identifier_value'")
    if isinstance(ident, dict | list):
        raise ItemError(f"'{name}': '$identifier_value' must be a string, number or boolean")
    return key, ident


def _parse_object_array_ops(name: str, value: dict[str, Any]) -> CustomOp:
    add = value.get("$add", [])
    remove = value.get("$remove", [])
    update = value.get("$update", [])
    if not all(isinstance(v, list) for v in (add, remove, update)):
        raise ItemError(f"'{name}': '$add', '$remove' and '$update' take arrays")
    added = []
    for entry in add:
        if not isinstance(entry, dict):
            raise ItemError(f"'{name}': '$add' takes an array of objects")
        added.append(nested_value(entry, name, allow_null=False))
    removed = [_identifier_pair(name, entry, "$remove") for entry in remove]
    updated = []
    for entry in update:
        key, ident = _identifier_pair(name, entry, "$update")
        new_object = entry.get("$new_object")
        if not isinstance(new_object, dict):
            raise ItemError(f"'{name}': '$update' entries need a '$new_object' object")
        updated.append((key, ident, nested_value(new_object, name, allow_null=True)))
    return CustomOp(name, "objects", add=tuple(added), remove=tuple(removed), update=tuple(updated))


def _check_nested_size(name: str, value: Any) -> None:
    if json_size(value) > MAX_NESTED_BYTES:
        raise ItemError(f"'{name}' is larger than {MAX_NESTED_BYTES // 1024} KB")


def _dedupe(values: list[Any]) -> list[Any]:
    """Unique values, first occurrence kept (Braze: ['a','a','b'] -> ['a','b'])."""
    seen: list[Any] = []
    for v in values:
        if not any(_same(v, s) for s in seen):
            seen.append(v)
    return seen


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _cap(values: list[Any], limits: Limits) -> list[Any]:
    """The newest ``array_max_length`` values: the oldest are dropped (braze-api.md §1.1.1)."""
    overflow = len(values) - limits.array_max_length
    return values[overflow:] if overflow > 0 else values


def parse_attributes(
    obj: Mapping[str, Any], limits: Limits, *, identified_by: str, check_size: bool = True
) -> ParsedAttributes:
    """The operations of attributes object ``obj`` (identifier keys skipped); ItemError if invalid.

    ``identified_by`` is the identifier kind of ``obj``: when it is ``email`` or ``phone`` that key
    identifies the user and is also set on a new profile.
    """
    merge = obj.get("_merge_objects", False)
    if not isinstance(merge, bool):
        raise ItemError("'_merge_objects' must be a boolean")
    parsed = ParsedAttributes(merge_objects=merge)
    standard, custom = parsed.standard, parsed.custom
    for name, value in obj.items():
        if name in _NOT_ATTRIBUTES:
            continue
        if name in STANDARD_FIELDS:
            normalized = parse_standard(name, value)
            if normalized is not NOT_SET:
                standard.append((name, normalized))
        else:
            custom.append(parse_custom(name, value, limits, merge, check_size=check_size))
    if len(standard) > 1 and ("email" in obj or "phone" in obj):
        # email and phone first: a new address resets the email state, which email_subscribe may set
        standard.sort(key=lambda pair: pair[0] not in ("email", "phone"))
    return parsed


# --------------------------------------------------------------------------------------------
# Applying


@dataclass(frozen=True)
class AddressState:
    """What is recorded about an email address itself (identities table): its state, bounce, spam."""

    subscription_state: str | None = None
    hard_bounced: bool = False
    spam: bool = False


def _new_custom_value(profile: Profile, op: CustomOp, limits: Limits, merge: bool) -> Any:
    old = profile.custom_attributes.get(op.name)
    if op.kind == "set":
        return op.value
    if op.kind == "inc":
        base = old if is_number(old) else 0
        try:
            total = base + op.value
        except OverflowError:  # a huge int plus a float
            total = math.inf
        if isinstance(total, float) and not math.isfinite(total):
            # docs/users-api.md: infinities are refused; the attribute keeps its value
            raise ItemError(f"'{op.name}': the increment's result is not a finite number")
        if (
            isinstance(total, float)
            and total.is_integer()
            and isinstance(base, int)
            and isinstance(op.value, int)
        ):
            return int(total)
        return total
    if op.kind == "array":
        current = list(old) if isinstance(old, list) else []
        if op.remove:
            current = [v for v in current if not any(_same(v, r) for r in op.remove)]
        for v in op.add:
            current = [c for c in current if not _same(c, v)]
            current.append(v)
        return _cap(current, limits)
    if op.kind == "object":
        if merge and isinstance(old, dict):
            merged = deep_merge(old, op.value)
            _check_nested_size(op.name, merged)
            return merged
        return deep_merge({}, op.value)
    if op.kind == "objects":
        items: list[Any] = [v for v in old if isinstance(v, dict)] if isinstance(old, list) else []
        for key, ident in op.remove:
            items = [o for o in items if not (key in o and _same(o[key], ident))]
        for key, ident, new_object in op.update:
            items = [
                (deep_merge(o, new_object) if merge else deep_merge({}, new_object))
                if key in o and _same(o[key], ident)
                else o
                for o in items
            ]
        items.extend(op.add)
        _check_nested_size(op.name, items)
        return items
    raise ValueError(op.kind)  # pragma: no cover


def apply_attributes(
    profile: Profile,
    parsed: ParsedAttributes,
    changes: UserChanges,
    limits: Limits,
    addresses: Mapping[str, AddressState],
) -> None:
    """Apply one parsed attributes object to ``profile``, recording what changed in ``changes``.

    ``addresses`` maps a normalized email address to its recorded :class:`AddressState`.
    All new values are computed before any is set; raises ItemError (nothing applied) when a
    merged nested value would pass 100 KB or an ``{"inc": n}`` result is not finite (docs/users-api.md:
    infinities are refused).
    """
    custom_updates: list[tuple[str, Any, bool]] = []
    for op in parsed.custom:
        if op.kind == "delete":
            custom_updates.append((op.name, None, True))
        else:
            custom_updates.append(
                (op.name, _new_custom_value(profile, op, limits, parsed.merge_objects), False)
            )
    for name, value in parsed.standard:
        _apply_standard(profile, name, value, changes, addresses)
    attrs = profile.custom_attributes
    for name, value, delete in custom_updates:
        if delete:
            if name in attrs:
                del attrs[name]
                changes.custom[name] = None
        elif name not in attrs or not _same(attrs[name], value):
            attrs[name] = value
            changes.custom[name] = value


def _set_field(profile: Profile, name: str, value: Any, changes: UserChanges) -> None:
    if getattr(profile, name) != value:
        setattr(profile, name, value)
        changes.standard[name] = value


def _apply_standard(
    profile: Profile, name: str, value: Any, changes: UserChanges, addresses: Mapping[str, AddressState]
) -> None:
    if name == "email":
        old = normalize_email(profile.email) if profile.email else None
        new = normalize_email(value) if value else None
        _set_field(profile, "email", value, changes)
        if new != old:
            state = addresses.get(new or "", AddressState())
            _set_subscription(profile, "email_subscribe", state.subscription_state or "subscribed", changes)
            profile.email_hard_bounced = state.hard_bounced
            profile.email_spam = state.spam
    elif name in ("email_subscribe", "push_subscribe"):
        _set_subscription(profile, name, value, changes)
    elif name == "subscription_groups":
        for group_id, state in value:
            if profile.subscription_groups.get(group_id) != state:
                profile.subscription_groups[group_id] = state
                changes.groups[group_id] = state
    elif name == "push_tokens":
        for token in value:
            kept = [t for t in profile.push_tokens if t.token != token.token]
            profile.push_tokens = [*kept, token][-MAX_PUSH_TOKENS:]
            changes.push_tokens_added.append(token)
    elif name == "current_location":
        if profile.last_coordinates != value:
            profile.last_coordinates = value
            changes.standard["last_coordinates"] = value
    elif name == "marked_email_as_spam_at":
        profile.email_spam = value is not None
    else:
        _set_field(profile, name, value, changes)


def _set_subscription(profile: Profile, name: str, value: str, changes: UserChanges) -> None:
    if getattr(profile, name) != value:
        setattr(profile, name, value)
        setattr(changes, name, value)
