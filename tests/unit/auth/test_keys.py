"""API keys (braze-api.md §0): stored as SHA-256 hashes, compared in constant time, scoped by permission."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from engagekit.auth import ALL_PERMISSIONS, ApiKey, KeyStore, hash_secret
from engagekit.errors import ValidationError

CREATED = datetime(2026, 3, 1, tzinfo=UTC)


def test_hash_is_the_sha256_hex_digest_of_the_secret() -> None:
    secret = "ek_" + "x" * 43
    assert hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert len(hash_secret(secret)) == 64


def test_hash_is_deterministic_and_distinguishes_secrets() -> None:
    assert hash_secret("ek_same-secret-for-both-calls") == hash_secret("ek_same-secret-for-both-calls")
    assert hash_secret("ek_secret-one-xxxxxxxxxxxxxx") != hash_secret("ek_secret-two-xxxxxxxxxxxxxx")


def test_hash_never_contains_the_secret() -> None:
    secret = "ek_abcdefabcdefabcdefabcdef"
    assert secret not in hash_secret(secret) and secret[3:] not in hash_secret(secret)


@dataclass
class AllowCase:
    name: str
    permissions: frozenset[str]
    revoked: bool
    asked: str
    allowed: bool


@pytest.mark.parametrize(
    "case",
    [
        AllowCase("exact permission", frozenset({"users.track"}), False, "users.track", True),
        AllowCase("other permission", frozenset({"users.track"}), False, "users.delete", False),
        AllowCase("prefix is not a permission", frozenset({"users"}), False, "users.track", False),
        AllowCase("wildcard", frozenset({ALL_PERMISSIONS}), False, "campaigns.trigger.send", True),
        AllowCase("revoked key allows nothing", frozenset({ALL_PERMISSIONS}), True, "users.track", False),
        AllowCase("empty permissions", frozenset(), False, "users.track", False),
    ],
    ids=lambda c: c.name,
)
def test_key_allows_only_its_permissions(case: AllowCase) -> None:
    key = ApiKey("0123456789ab", "k", case.permissions, CREATED, CREATED if case.revoked else None)
    assert key.allows(case.asked) is case.allowed


@dataclass
class CreateCase:
    name: str
    key_name: str
    permissions: set[str]
    secret: str | None
    message: str


@pytest.mark.parametrize(
    "case",
    [
        CreateCase("blank name", "  ", {"users.track"}, None, "name"),
        CreateCase("no permissions", "ci", set(), None, "permission"),
        CreateCase("short imported secret", "ci", {"users.track"}, "ek_short", "24 characters"),
    ],
    ids=lambda c: c.name,
)
def test_create_rejects_bad_keys_before_writing(case: CreateCase) -> None:
    # No table exists and no socket may open: the validation happens before any write.
    store = KeyStore("no_such_table")
    with pytest.raises(ValidationError, match=case.message):
        store.create(case.key_name, case.permissions, secret=case.secret)
