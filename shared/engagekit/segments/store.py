"""Segment definitions in DynamoDB: the ``segments`` table, behind the :class:`DefinitionRepo` port.

One item per segment (hash key ``pk`` = segment id) holds the definition exactly as it was PUT
(``name`` and the ``filter`` JSON text, so ``GET`` returns what was written), its ``state``
(``building`` -> ``live``; ``deleting`` while its members are removed), its ``generation`` (1 on
create, +1 on every filter change: a backfill finishing for an older generation changes nothing),
timestamps and the running export's lock. A meta item (``pk = "#version"``) carries a random token
replaced by every write that changes the set of filters, so a stream handler re-reads the
definitions only when the token changes (one GetItem instead of a Scan). Segment ids never start with ``#``
(docs/segments.md), so the meta item cannot collide with a segment.

Definitions are few (thousands at most): listing is a Scan.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from engagekit.dynamo import bind
from engagekit.errors import ConflictError
from engagekit.segments.filters import SegmentDefinition, parse_segment_definition

State = Literal["building", "live", "deleting"]
VERSION_PK = "#version"
EXPORT_LOCK_S = 3600
"""An export lock older than this (seconds) is considered abandoned (a crashed export job)."""


@dataclass(frozen=True)
class StoredSegment:
    """A stored segment definition and its server-managed fields (all datetimes aware UTC).

    ``filter`` is the JSON object as it was PUT; ``generation`` counts filter changes (1 on create).
    """

    segment_id: str
    name: str
    filter: dict[str, Any]
    state: State
    generation: int
    created_at: datetime
    updated_at: datetime
    live_at: datetime | None = None
    export_prefix: str | None = None
    export_started_at: datetime | None = None

    def definition(self) -> SegmentDefinition:
        """The parsed definition (the stored filter is valid: it was parsed when PUT)."""
        return parse_segment_definition(self.segment_id, {"name": self.name, "filter": self.filter})


class SegmentChanged(ConflictError):
    """The segment changed since it was read (a concurrent PUT/DELETE): HTTP 409, retry."""


class ExportRunning(ConflictError):
    """An export of this segment is already running (braze-api.md §1.7: one at a time, 429)."""

    status_code = 429


class DefinitionRepo(Protocol):
    """The definitions port (:class:`DynamoDefinitions`, :class:`InMemoryDefinitions`)."""

    def get(self, segment_id: str) -> StoredSegment | None:
        """The segment (any state), or ``None``. One consistent GetItem."""
        ...

    def all(self) -> list[StoredSegment]:
        """Every segment, any state (a Scan)."""
        ...

    def version(self) -> str:
        """The definitions token: changes whenever the set of filters changes. One GetItem."""
        ...

    def save(self, segment: StoredSegment, *, expected_generation: int, bump: bool = True) -> None:
        """Write ``segment`` if the stored generation is still ``expected_generation`` (0: must not
        exist); ``bump`` replaces the version token. Raises :class:`SegmentChanged`."""
        ...

    def set_state(self, segment_id: str, generation: int, state: State, at: datetime) -> bool:
        """Set the state if the generation is still ``generation``; ``False`` otherwise."""
        ...

    def remove(self, segment_id: str, generation: int) -> bool:
        """Delete the item if its generation is still ``generation`` (and replace the version token)."""
        ...

    def lock_export(self, segment_id: str, prefix: str, at: datetime) -> None:
        """Take the segment's export lock; raises :class:`ExportRunning` when held (and fresh)."""
        ...

    def unlock_export(self, segment_id: str, prefix: str) -> None:
        """Release the export lock if ``prefix`` holds it."""
        ...


class SegmentItem(Model):
    """Persistence shape of a segment and of the version counter; stays inside this module."""

    class Meta:
        table_name = "segments"

    pk = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(null=True)
    filter = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    generation = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    live_at = UTCDateTimeAttribute(null=True)
    export_prefix = UnicodeAttribute(null=True)
    export_started_at = UTCDateTimeAttribute(null=True)
    token = UnicodeAttribute(null=True)


def _to_domain(item: SegmentItem) -> StoredSegment:
    return StoredSegment(
        segment_id=item.pk,
        name=item.name or "",
        filter=json.loads(item.filter or "{}"),
        state=item.state,  # type: ignore[arg-type]
        generation=int(item.generation or 0),
        created_at=item.created_at,
        updated_at=item.updated_at,
        live_at=item.live_at,
        export_prefix=item.export_prefix,
        export_started_at=item.export_started_at,
    )


def _failed(exc: Exception) -> bool:
    if isinstance(exc, TransactWriteError):
        return any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons)
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


class DynamoDefinitions:
    """:class:`DefinitionRepo` on the ``segments`` table (``SEGMENTS_TABLE``)."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._model = bind(SegmentItem, table_name, host)

    def _connection(self) -> Connection:
        return self._model._get_connection().connection

    def get(self, segment_id: str) -> StoredSegment | None:
        try:
            return _to_domain(self._model.get(segment_id, consistent_read=True))
        except self._model.DoesNotExist:
            return None

    def all(self) -> list[StoredSegment]:
        return [_to_domain(i) for i in self._model.scan(consistent_read=True) if i.pk != VERSION_PK]

    def version(self) -> str:
        try:
            return self._model.get(VERSION_PK, consistent_read=True).token or ""
        except self._model.DoesNotExist:
            return ""

    def save(self, segment: StoredSegment, *, expected_generation: int, bump: bool = True) -> None:
        model = self._model
        item = model(
            segment.segment_id,
            name=segment.name,
            filter=json.dumps(segment.filter, separators=(",", ":"), ensure_ascii=False),
            state=segment.state,
            generation=segment.generation,
            created_at=segment.created_at,
            updated_at=segment.updated_at,
            live_at=segment.live_at,
            export_prefix=segment.export_prefix,
            export_started_at=segment.export_started_at,
        )
        condition = (
            model.pk.does_not_exist() if expected_generation == 0 else model.generation == expected_generation
        )
        try:
            if bump:
                with TransactWrite(connection=self._connection()) as tx:
                    tx.save(item, condition=condition)
                    tx.update(model(VERSION_PK), [model.token.set(uuid.uuid4().hex)])
            else:
                item.save(condition=condition)
        except (TransactWriteError, PutError) as exc:
            if _failed(exc):
                raise SegmentChanged(
                    f"segment {segment.segment_id} changed while this request ran; retry"
                ) from exc
            raise

    def set_state(self, segment_id: str, generation: int, state: State, at: datetime) -> bool:
        model = self._model
        actions: list[Any] = [model.state.set(state), model.updated_at.set(at)]
        if state == "live":
            actions.append(model.live_at.set(at))
        try:
            model(segment_id).update(actions=actions, condition=model.generation == generation)
        except UpdateError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def remove(self, segment_id: str, generation: int) -> bool:
        model = self._model
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.delete(model(segment_id), condition=model.generation == generation)
                tx.update(model(VERSION_PK), [model.token.set(uuid.uuid4().hex)])
        except TransactWriteError as exc:
            if _failed(exc):
                return False
            raise
        return True

    def lock_export(self, segment_id: str, prefix: str, at: datetime) -> None:
        model = self._model
        stale = at - timedelta(seconds=EXPORT_LOCK_S)
        try:
            model(segment_id).update(
                actions=[model.export_prefix.set(prefix), model.export_started_at.set(at)],
                condition=model.pk.exists()
                & (model.export_prefix.does_not_exist() | (model.export_started_at < stale)),
            )
        except UpdateError as exc:
            if _failed(exc):
                raise ExportRunning(f"an export of segment {segment_id} is already running") from exc
            raise

    def unlock_export(self, segment_id: str, prefix: str) -> None:
        model = self._model
        try:
            model(segment_id).update(
                actions=[model.export_prefix.remove(), model.export_started_at.remove()],
                condition=model.export_prefix == prefix,
            )
        except UpdateError as exc:
            if not _failed(exc):
                raise


class InMemoryDefinitions:
    """:class:`DefinitionRepo` in memory with the same conditions (tests, the bench)."""

    def __init__(self, segments: Iterable[StoredSegment] = ()) -> None:
        self._items = {s.segment_id: s for s in segments}
        self._version = ""
        self._lock = threading.Lock()
        self.version_reads = 0

    def get(self, segment_id: str) -> StoredSegment | None:
        return self._items.get(segment_id)

    def all(self) -> list[StoredSegment]:
        with self._lock:
            return list(self._items.values())

    def version(self) -> str:
        self.version_reads += 1
        return self._version

    def save(self, segment: StoredSegment, *, expected_generation: int, bump: bool = True) -> None:
        with self._lock:
            current = self._items.get(segment.segment_id)
            if (current.generation if current else 0) != expected_generation or (
                expected_generation == 0 and current is not None
            ):
                raise SegmentChanged(f"segment {segment.segment_id} changed while this request ran; retry")
            self._items[segment.segment_id] = segment
            if bump:
                self._version = uuid.uuid4().hex

    def set_state(self, segment_id: str, generation: int, state: State, at: datetime) -> bool:
        with self._lock:
            current = self._items.get(segment_id)
            if current is None or current.generation != generation:
                return False
            live_at = at if state == "live" else current.live_at
            self._items[segment_id] = replace(current, state=state, updated_at=at, live_at=live_at)
            return True

    def remove(self, segment_id: str, generation: int) -> bool:
        with self._lock:
            current = self._items.get(segment_id)
            if current is None or current.generation != generation:
                return False
            del self._items[segment_id]
            self._version = uuid.uuid4().hex
            return True

    def lock_export(self, segment_id: str, prefix: str, at: datetime) -> None:
        with self._lock:
            current = self._items.get(segment_id)
            if current is None:
                raise ExportRunning(f"segment {segment_id} does not exist")
            started = current.export_started_at
            if current.export_prefix and started and started >= at - timedelta(seconds=EXPORT_LOCK_S):
                raise ExportRunning(f"an export of segment {segment_id} is already running")
            self._items[segment_id] = replace(current, export_prefix=prefix, export_started_at=at)

    def unlock_export(self, segment_id: str, prefix: str) -> None:
        with self._lock:
            current = self._items.get(segment_id)
            if current is not None and current.export_prefix == prefix:
                self._items[segment_id] = replace(current, export_prefix=None, export_started_at=None)
