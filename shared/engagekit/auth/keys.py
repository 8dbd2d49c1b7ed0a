"""API key issue, lookup and revocation.

A key is ``ek_`` + 43 URL-safe characters (256 random bits from :mod:`secrets`). Only its SHA-256
hex digest is stored (hash key of the ``api_keys`` table); the secret is returned once by
:meth:`KeyStore.create`. A lookup hashes the presented secret, reads the item by hash and compares
digests with :func:`hmac.compare_digest`. Permissions are Braze's REST API permission names
(braze-api.md §0, e.g. ``users.track``, ``campaigns.trigger.send``); ``*`` grants every one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from engagekit import clock
from engagekit.auth.permissions import unknown_permissions
from engagekit.dynamo import bind
from engagekit.errors import NotFoundError, ValidationError

KEY_PREFIX = "ek_"
ALL_PERMISSIONS = "*"


def hash_secret(secret: str) -> str:
    """SHA-256 hex digest of a key's secret: what is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key, never with its secret. ``key_id`` is the first 12 hex chars of the hash."""

    key_id: str
    name: str
    permissions: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, permission: str) -> bool:
        return self.revoked_at is None and (
            ALL_PERMISSIONS in self.permissions or permission in self.permissions
        )


@dataclass(frozen=True)
class NewKey:
    """The result of :meth:`KeyStore.create`: the secret is shown here and never again."""

    secret: str
    key: ApiKey


class ApiKeyItem(Model):
    """Persistence shape of a key (table from ``API_KEYS_TABLE``); stays inside this module."""

    class Meta:
        table_name = "api_keys"

    pk = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    permissions = UnicodeSetAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


def _to_domain(item: ApiKeyItem) -> ApiKey:
    return ApiKey(
        key_id=item.pk[:12],
        name=item.name,
        permissions=frozenset(item.permissions or ()),
        created_at=item.created_at,
        revoked_at=item.revoked_at,
    )


class KeyStore:
    """Keys in DynamoDB through pynamodb; ``table_name`` comes from the function's settings."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._model = bind(ApiKeyItem, table_name, host)

    def create(self, name: str, permissions: set[str], secret: str | None = None) -> NewKey:
        """Issue a key. ``secret`` lets an operator import a known key (``ENGAGEKIT_API_KEY``).

        Raises :class:`ValidationError` for an empty name, no or unknown permissions, or a secret
        under 24 chars.
        """
        if not name.strip():
            raise ValidationError("a key needs a name")
        if not permissions:
            raise ValidationError("a key needs at least one permission (or '*')")
        unknown = unknown_permissions(permissions)
        if unknown:
            raise ValidationError(
                f"unknown permission(s): {', '.join(unknown)}; see docs/rate-limits.md or "
                "engagekit.auth.permissions.KNOWN_PERMISSIONS for the names"
            )
        if secret is not None and len(secret) < 24:
            raise ValidationError("a key secret must be at least 24 characters")
        secret = secret or KEY_PREFIX + secrets.token_urlsafe(32)
        item = self._model(
            hash_secret(secret), name=name, permissions=set(permissions), created_at=clock.now()
        )
        item.save()
        return NewKey(secret=secret, key=_to_domain(item))

    def lookup(self, secret: str) -> ApiKey | None:
        """The key whose secret this is, revoked or not, or None. One GetItem."""
        digest = hash_secret(secret)
        try:
            item = self._model.get(digest, consistent_read=False)
        except self._model.DoesNotExist:
            return None
        if not hmac.compare_digest(item.pk, digest):
            return None
        return _to_domain(item)

    def list(self) -> list[ApiKey]:
        """Every key, newest first (a Scan: keys are few)."""
        return sorted((_to_domain(i) for i in self._model.scan()), key=lambda k: k.created_at, reverse=True)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke the key whose id (or id prefix of at least 6 chars) is ``key_id``.

        Raises :class:`NotFoundError` if none matches and :class:`ValidationError` if several do.
        """
        if len(key_id) < 6:
            raise ValidationError("give at least 6 characters of the key id")
        matches = [i for i in self._model.scan() if i.pk.startswith(key_id)]
        if not matches:
            raise NotFoundError(f"no key with id {key_id}")
        if len(matches) > 1:
            raise ValidationError(f"key id {key_id} is ambiguous; give more characters")
        item = matches[0]
        item.update(actions=[self._model.revoked_at.set(clock.now())])
        return _to_domain(item)
