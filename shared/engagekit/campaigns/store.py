"""Definitions storage: campaigns, frequency-capping rules and send ids, in the ``campaigns`` table.

Table ``campaigns`` (hash ``pk``, range ``sk``): ``pk`` is the kind (``campaign``,
``frequency_cap``, ``send_id#<campaign_id>``), ``sk`` the id. The definition is kept as the JSON
that was PUT (``body``), so ``GET`` returns what was PUT (``engagekit apply`` diffs it), with
``created_at``/``updated_at`` (ISO UTC) and ``version`` (bumped only when the body changes: a PUT of
the same body is a no-op, so ``apply`` is idempotent). Listing one kind is one Query: senders read the
frequency-capping rules once per queue message (one Query per 250 recipients, never stale).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from engagekit import clock
from engagekit.config import FunctionSettings
from engagekit.dynamo import bind

Kind = Literal["campaign", "frequency_cap"]
RULES_CACHE_S = 0.0
"""How long senders may reuse definitions they read (wall seconds): 0, a rule edit applies to the
next queue message."""


@dataclass(frozen=True)
class StoredDefinition:
    """A definition as stored: the body as PUT plus server fields (times aware UTC)."""

    kind: str
    id: str
    body: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int

    def as_response(self) -> dict[str, Any]:
        """``{"id": ..., **body, "created_at", "updated_at", "version"}`` (GET's shape)."""
        return {
            "id": self.id,
            **self.body,
            "created_at": clock.utc_iso(self.created_at),
            "updated_at": clock.utc_iso(self.updated_at),
            "version": self.version,
        }


class DefinitionStore(Protocol):
    """Where definitions live (DynamoDB in the cloud, a dict in tests)."""

    def get(self, kind: Kind, ident: str) -> StoredDefinition | None:
        """The definition, or None (one GetItem)."""
        ...

    def put(self, kind: Kind, ident: str, body: dict[str, Any]) -> tuple[StoredDefinition, bool]:
        """Create or replace; returns the stored definition and whether anything changed."""
        ...

    def list(self, kind: Kind) -> list[StoredDefinition]:
        """Every definition of ``kind`` (one paged Query)."""
        ...

    def put_send_id(self, campaign_id: str, send_id: str) -> bool:
        """Record a send id of a campaign; False if it existed already."""
        ...

    def has_send_id(self, campaign_id: str, send_id: str) -> bool:
        """Whether ``send_id`` was created for ``campaign_id``."""
        ...


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class DefinitionItem(Model):
    """Persistence shape of a definition; stays inside this module."""

    class Meta:
        table_name = "campaigns"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    body = UnicodeAttribute(default="{}")
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=1)


def _domain(item: DefinitionItem) -> StoredDefinition:
    return StoredDefinition(
        kind=item.pk,
        id=item.sk,
        body=json.loads(item.body),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=int(item.version),
    )


class DynamoDefinitionStore:
    """:class:`DefinitionStore` on the ``campaigns`` table (name from ``CAMPAIGNS_TABLE``)."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._model = bind(DefinitionItem, table_name, host)

    def get(self, kind: Kind, ident: str) -> StoredDefinition | None:
        try:
            return _domain(self._model.get(kind, ident))
        except self._model.DoesNotExist:
            return None

    def put(self, kind: Kind, ident: str, body: dict[str, Any]) -> tuple[StoredDefinition, bool]:
        now = clock.now()
        current = self.get(kind, ident)
        text = _canonical(body)
        if current is not None and _canonical(current.body) == text:
            return current, False
        item = self._model(
            kind,
            ident,
            body=text,
            created_at=current.created_at if current else now,
            updated_at=now,
            version=(current.version + 1) if current else 1,
        )
        item.save()
        return _domain(item), True

    def list(self, kind: Kind) -> list[StoredDefinition]:
        return [_domain(item) for item in self._model.query(kind)]

    def put_send_id(self, campaign_id: str, send_id: str) -> bool:
        now = clock.now()
        item = self._model(f"send_id#{campaign_id}", send_id, created_at=now, updated_at=now)
        try:
            item.save(condition=self._model.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def has_send_id(self, campaign_id: str, send_id: str) -> bool:
        try:
            self._model.get(f"send_id#{campaign_id}", send_id)
        except self._model.DoesNotExist:
            return False
        return True


class DefinitionsSettings(FunctionSettings):
    """Environment of the definitions API (``CAMPAIGNS_TABLE``)."""

    campaigns_table: str


def definitions_from_settings(settings: DefinitionsSettings) -> DefinitionStore:
    """The DynamoDB definition store of ``settings`` (the definitions API keeps one per container)."""
    return DynamoDefinitionStore(settings.campaigns_table)


class InMemoryDefinitionStore:
    """A dict-backed :class:`DefinitionStore` for unit tests and the bench; ``reads`` counts gets."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], StoredDefinition] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def get(self, kind: Kind, ident: str) -> StoredDefinition | None:
        self.reads += 1
        return self._items.get((kind, ident))

    def put(self, kind: Kind, ident: str, body: dict[str, Any]) -> tuple[StoredDefinition, bool]:
        now = clock.now()
        with self._lock:
            current = self._items.get((kind, ident))
            if current is not None and _canonical(current.body) == _canonical(body):
                return current, False
            stored = StoredDefinition(
                kind,
                ident,
                json.loads(_canonical(body)),
                current.created_at if current else now,
                now,
                (current.version + 1) if current else 1,
            )
            self._items[(kind, ident)] = stored
            return stored, True

    def list(self, kind: Kind) -> list[StoredDefinition]:
        self.reads += 1
        return sorted((d for (k, _), d in self._items.items() if k == kind), key=lambda d: d.id)

    def put_send_id(self, campaign_id: str, send_id: str) -> bool:
        key = (f"send_id#{campaign_id}", send_id)
        with self._lock:
            if key in self._items:
                return False
            now = clock.now()
            self._items[key] = StoredDefinition(key[0], send_id, {}, now, now, 1)
            return True

    def has_send_id(self, campaign_id: str, send_id: str) -> bool:
        return (f"send_id#{campaign_id}", send_id) in self._items


class CachedDefinitions:
    """Read-through cache over a :class:`DefinitionStore` for senders: entries live ``ttl_s`` wall
    seconds (monotonic, not the platform clock: it bounds staleness, not business time)."""

    def __init__(self, store: DefinitionStore, ttl_s: float = RULES_CACHE_S) -> None:
        self.store = store
        self._ttl = ttl_s
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple[str, str], load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
        value = load()
        with self._lock:
            self._entries[key] = (now + self._ttl, value)
        return value

    def get(self, kind: Kind, ident: str) -> StoredDefinition | None:
        result: StoredDefinition | None = self._cached((kind, ident), lambda: self.store.get(kind, ident))
        return result

    def list(self, kind: Kind) -> list[StoredDefinition]:
        result: list[StoredDefinition] = self._cached((kind, "*"), lambda: self.store.list(kind))
        return result

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
