"""Stored definitions of the template API: records, the repository ports and in-memory fakes.

Two kinds of Liquid source are stored (docs/liquid.md "API"): message **templates** (referenced by
id from campaigns and previews) and **content blocks** (``{{content_blocks.${name}}}``, braze-api.md
§5.5). Connected Content **credentials** (``:basic_auth name``, braze-api.md §5.4) are stored apart,
in their own table with their own grants, because they hold secrets.

A record's ``version`` is the first 16 hex digits of the SHA-256 of its source
(:meth:`engagekit.liquid.StoredTemplate.of`): it changes exactly when the source changes, and the
per-process parsed-template cache is keyed by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from engagekit.liquid import StoredTemplate

Kind = Literal["template", "content_block"]


@dataclass(frozen=True, slots=True)
class TemplateRecord:
    """A stored template or content block; times are aware UTC."""

    kind: Kind
    id: str
    source: str
    version: str
    description: str | None
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime

    def stored(self) -> StoredTemplate:
        """The record as the Liquid library's :class:`~engagekit.liquid.StoredTemplate`."""
        return StoredTemplate(self.id, self.source, self.version)

    def same_definition(self, source: str, description: str | None, tags: tuple[str, ...]) -> bool:
        """True when a PUT of these values would change nothing (PUT is idempotent)."""
        return self.source == source and self.description == description and self.tags == tags


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A stored HTTP basic-auth credential for Connected Content; times are aware UTC.

    ``password`` never leaves the data-access layer and the use cases that build requests: the API
    returns only ``username`` and timestamps (docs/liquid.md "Credentials").
    """

    name: str
    username: str
    password: str
    created_at: datetime
    updated_at: datetime


class TemplateRepository(Protocol):
    """Templates and content blocks by ``(kind, id)``: DynamoDB in the cloud, a dict in tests."""

    def get(self, kind: Kind, ident: str) -> TemplateRecord | None:
        """The record, or ``None``."""
        ...

    def put(self, record: TemplateRecord) -> None:
        """Create or replace the record."""
        ...


class CredentialRepository(Protocol):
    """Connected Content credentials by name."""

    def get(self, name: str) -> CredentialRecord | None:
        """The credential, or ``None``."""
        ...

    def put(self, record: CredentialRecord) -> None:
        """Create or replace the credential."""
        ...

    def delete(self, name: str) -> bool:
        """Delete the credential; True if it existed."""
        ...


class InMemoryTemplateRepository:
    """A dict-backed :class:`TemplateRepository` for unit tests and benches; ``reads`` counts gets."""

    def __init__(self) -> None:
        self._records: dict[tuple[Kind, str], TemplateRecord] = {}
        self.reads = 0

    def get(self, kind: Kind, ident: str) -> TemplateRecord | None:
        self.reads += 1
        return self._records.get((kind, ident))

    def put(self, record: TemplateRecord) -> None:
        self._records[(record.kind, record.id)] = record


class InMemoryCredentialRepository:
    """A dict-backed :class:`CredentialRepository`; ``reads`` counts gets."""

    def __init__(self) -> None:
        self._records: dict[str, CredentialRecord] = {}
        self.reads = 0

    def get(self, name: str) -> CredentialRecord | None:
        self.reads += 1
        return self._records.get(name)

    def put(self, record: CredentialRecord) -> None:
        self._records[record.name] = record

    def delete(self, name: str) -> bool:
        return self._records.pop(name, None) is not None
