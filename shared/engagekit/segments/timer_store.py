"""Per-user segment timers: the instant a user's answer to a segment next flips with no new data.

Table ``segment_timers`` (``infra/manifest.py``): hash key ``user_id``, range key ``segment_id``,
so a user's timers are one Query and replacing a timer is one PutItem (deleting: one DeleteItem).
Each item carries ``due`` (the instant, ISO 8601 UTC with microseconds and a ``Z``, fixed width so
text order is time order) and ``tshard`` (``f"{crc32(user_id) % TIMER_SHARDS:02d}"``). The GSI
``due`` (hash ``tshard``, range ``due``, keys only) lets the sweep read *only due timers*:
``Query tshard = s AND due <= now`` on each of the :data:`TIMER_SHARDS` shards; no Scan, and the
cost follows the number of due timers, not the number of users.

The GSI is eventually consistent: a timer deleted a moment ago may still be read as due. That is
harmless: the sweep re-evaluates the segment from the current profile and rewrites the timer.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from engagekit.dynamo import bind

TIMER_SHARDS = 16
"""Hash partitions of the ``due`` index; the sweep queries each one."""
DUE_INDEX = "due"


def due_text(instant: datetime) -> str:
    """``instant`` as fixed-width ISO 8601 UTC text (``2026-03-08T00:00:00.000000Z``)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_due(text: str) -> datetime:
    """Inverse of :func:`due_text` (an aware UTC datetime)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def timer_shard(user_id: str) -> str:
    """The ``tshard`` of a user's timers: ``crc32(utf-8) % TIMER_SHARDS``, two digits."""
    return f"{zlib.crc32(user_id.encode()) % TIMER_SHARDS:02d}"


@dataclass(frozen=True, order=True)
class Timer:
    """A due timer read by the sweep: ``due`` aware UTC."""

    due: datetime
    user_id: str
    segment_id: str


class TimerRepo(Protocol):
    """The timers port (:class:`DynamoTimers`, :class:`InMemoryTimers`)."""

    def for_user(self, user_id: str) -> dict[str, datetime]:
        """The user's timers, segment id -> due instant (one consistent Query)."""
        ...

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        """The timers among ``(user_id, segment_id)`` keys that exist (consistent BatchGetItem, 100
        keys a request)."""
        ...

    def write(self, changes: Iterable[tuple[str, str, datetime | None]]) -> int:
        """Apply ``(user_id, segment_id, due or None)``: put or delete. BatchWriteItem, 25 per
        request (DynamoDB limit). Returns the number of items written."""
        ...

    def due(self, now: datetime, limit: int) -> list[Timer]:
        """Up to ``limit`` timers due at or before ``now``, oldest first within each shard."""
        ...

    def delete_user(self, user_id: str) -> int:
        """Delete every timer of the user (profile deletion); returns how many."""
        ...


class TimerItem(Model):
    """Persistence shape of a timer; stays inside this module."""

    class Meta:
        table_name = "segment_timers"

    user_id = UnicodeAttribute(hash_key=True)
    segment_id = UnicodeAttribute(range_key=True)
    due = UnicodeAttribute()
    tshard = UnicodeAttribute()


class DueIndex(GlobalSecondaryIndex["TimerItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = DUE_INDEX
        projection = KeysOnlyProjection()

    tshard = UnicodeAttribute(hash_key=True)
    due = UnicodeAttribute(range_key=True)


class _IndexedTimerItem(TimerItem):
    by_due = DueIndex()


class DynamoTimers:
    """:class:`TimerRepo` on the ``segment_timers`` table (``SEGMENT_TIMERS_TABLE``)."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._model = bind(_IndexedTimerItem, table_name, host)

    def for_user(self, user_id: str) -> dict[str, datetime]:
        return {i.segment_id: parse_due(i.due) for i in self._model.query(user_id, consistent_read=True)}

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        wanted = sorted(set(keys))
        found: dict[tuple[str, str], datetime] = {}
        for start in range(0, len(wanted), 100):
            for item in self._model.batch_get(wanted[start : start + 100], consistent_read=True):
                found[(item.user_id, item.segment_id)] = parse_due(item.due)
        return found

    def write(self, changes: Iterable[tuple[str, str, datetime | None]]) -> int:
        count = 0
        with self._model.batch_write() as batch:
            for user_id, segment_id, due in changes:
                item = self._model(user_id, segment_id, due="", tshard=timer_shard(user_id))
                if due is None:
                    batch.delete(item)
                else:
                    item.due = due_text(due)
                    batch.save(item)
                count += 1
        return count

    def due(self, now: datetime, limit: int) -> list[Timer]:
        cutoff = due_text(now)
        out: list[Timer] = []
        for shard in range(TIMER_SHARDS):
            if len(out) >= limit:
                break
            for item in self._model.by_due.query(
                f"{shard:02d}", self._model.due <= cutoff, limit=limit - len(out)
            ):
                out.append(Timer(parse_due(item.due), item.user_id, item.segment_id))
        return out

    def delete_user(self, user_id: str) -> int:
        keys = [i.segment_id for i in self._model.query(user_id, consistent_read=True)]
        with self._model.batch_write() as batch:
            for segment_id in keys:
                batch.delete(self._model(user_id, segment_id))
        return len(keys)


class InMemoryTimers:
    """:class:`TimerRepo` in memory (tests, the bench). ``writes`` counts items written."""

    def __init__(self) -> None:
        self._timers: dict[str, dict[str, datetime]] = {}
        self._lock = threading.Lock()
        self.writes = 0

    def for_user(self, user_id: str) -> dict[str, datetime]:
        return dict(self._timers.get(user_id, {}))

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], datetime]:
        found: dict[tuple[str, str], datetime] = {}
        for user_id, segment_id in keys:
            due = self._timers.get(user_id, {}).get(segment_id)
            if due is not None:
                found[(user_id, segment_id)] = due
        return found

    def write(self, changes: Iterable[tuple[str, str, datetime | None]]) -> int:
        count = 0
        with self._lock:
            for user_id, segment_id, due in changes:
                timers = self._timers.setdefault(user_id, {})
                if due is None:
                    timers.pop(segment_id, None)
                else:
                    timers[segment_id] = due
                count += 1
            self.writes += count
        return count

    def due(self, now: datetime, limit: int) -> list[Timer]:
        found = sorted(
            Timer(due, user_id, segment_id)
            for user_id, timers in self._timers.items()
            for segment_id, due in timers.items()
            if due <= now
        )
        return found[:limit]

    def delete_user(self, user_id: str) -> int:
        with self._lock:
            return len(self._timers.pop(user_id, {}))

    def all(self) -> Iterator[Timer]:
        """Every timer (tests)."""
        for user_id, timers in self._timers.items():
            for segment_id, due in timers.items():
                yield Timer(due, user_id, segment_id)
