"""Identifiers of a user and the keys of the identity index (braze-api.md §1.1).

A user is addressed by exactly one of ``external_id``, ``user_alias`` (label + name),
``braze_id`` (engagekit's ``user_id``), ``email`` or ``phone``. Every identifier but ``braze_id``
has an item in the identities table, keyed by :func:`identity_key`:

- ``external_id#<id>`` and ``alias#<json [label, name]>`` belong to one user each (unique);
- ``email#<lowercased address>`` and ``phone#<digits, leading +>`` may be shared by several
  profiles (Braze lets profiles share an email, braze-api.md §1.1, §11.11).

So every identifier of a request resolves with one BatchGetItem on the identities table, then one
on the profiles table.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from engagekit.domain.profile import UserAlias

IdentityKind = Literal["external_id", "alias", "email", "phone"]
UNIQUE_KINDS: frozenset[str] = frozenset({"external_id", "alias"})

MAX_IDENTIFIER_CHARS = 320
"""Longest email or phone accepted (RFC 5321 caps an address at 254 characters)."""
MAX_IDENTIFIER_BYTES = 400
"""Longest external_id, braze_id, alias name or label, in UTF-8 bytes: an identities key
(``alias#["label","name"]``, quotes and backslashes escaped) stays under DynamoDB's 2,048-byte
partition-key limit (AWS DynamoDB quotas)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_identifier(value: object, name: str) -> str:
    """``value`` if it is a usable identifier: a non-blank string of at most
    :data:`MAX_IDENTIFIER_BYTES` UTF-8 bytes without control characters; ValueError naming ``name``
    otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{name}' must be a non-empty string")
    try:
        size = len(value.encode())
    except UnicodeEncodeError:
        raise ValueError(f"'{name}' contains an unpaired surrogate (not valid Unicode text)") from None
    if size > MAX_IDENTIFIER_BYTES:
        raise ValueError(f"'{name}' is longer than {MAX_IDENTIFIER_BYTES} bytes")
    if _CONTROL.search(value):
        raise ValueError(f"'{name}' contains control characters")
    return value


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_STRIP = re.compile(r"[\s().\-]")
_PHONE = re.compile(r"^\+?\d{4,20}$")


def new_user_id() -> str:
    """A fresh ``user_id`` (Braze's ``braze_id``): 24 lowercase hex characters, 96 random bits."""
    return secrets.token_hex(12)


def is_user_id(value: str) -> bool:
    """True when ``value`` has the shape of a ``user_id`` (24 lowercase hex characters)."""
    return len(value) == 24 and all(c in "0123456789abcdef" for c in value)


def normalize_email(value: str) -> str | None:
    """The identity form of an email address (trimmed, lowercased), or None if it is not one."""
    text = value.strip().lower()
    if not text or len(text) > MAX_IDENTIFIER_CHARS or not _EMAIL.match(text):
        return None
    return text


def normalize_phone(value: str) -> str | None:
    """The identity form of a phone number: digits with an optional leading ``+`` (E.164 advised).

    Spaces, dots, dashes and parentheses are dropped; anything else makes it not a phone number.
    """
    text = _PHONE_STRIP.sub("", value.strip())
    return text if _PHONE.match(text) else None


@dataclass(frozen=True)
class Identifier:
    """One way to address a user. ``value`` is already normalized (see the module doc)."""

    kind: Literal["external_id", "alias", "braze_id", "email", "phone"]
    value: str

    @property
    def key(self) -> str | None:
        """The identities-table key, or None for ``braze_id`` (the profile's own key)."""
        return None if self.kind == "braze_id" else f"{self.kind}#{self.value}"

    @property
    def unique(self) -> bool:
        """True when at most one user may hold this identifier."""
        return self.kind in UNIQUE_KINDS or self.kind == "braze_id"

    def describe(self) -> str:
        """A short human form for error messages, e.g. ``external_id 'u1'``."""
        if self.kind == "alias":
            label, name = json.loads(self.value)
            return f"user_alias {{alias_label: {label!r}, alias_name: {name!r}}}"
        return f"{self.kind} {self.value!r}"


def external_id(value: str) -> Identifier:
    return Identifier("external_id", value)


def alias(value: UserAlias) -> Identifier:
    return Identifier("alias", alias_value(value))


def alias_value(value: UserAlias) -> str:
    """The key part of an alias: JSON ``[label, name]`` (unambiguous whatever the characters)."""
    return json.dumps([value.alias_label, value.alias_name], ensure_ascii=False, separators=(",", ":"))


def braze_id(value: str) -> Identifier:
    return Identifier("braze_id", value)


def email(value: str) -> Identifier:
    """The email identifier; raises ValueError if ``value`` is not an email address."""
    normalized = normalize_email(value)
    if normalized is None:
        raise ValueError(f"{value!r} is not an email address")
    return Identifier("email", normalized)


def phone(value: str) -> Identifier:
    """The phone identifier; raises ValueError if ``value`` is not a phone number."""
    normalized = normalize_phone(value)
    if normalized is None:
        raise ValueError(f"{value!r} is not a phone number")
    return Identifier("phone", normalized)


def identity_key(kind: IdentityKind, value: str) -> str:
    """The identities-table key of an already normalized ``value`` of ``kind``."""
    return f"{kind}#{value}"
