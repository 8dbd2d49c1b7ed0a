"""Segment memberships in DynamoDB: who is in which segment, sharded, with maintained counts.

The ``memberships`` table (``infra/manifest.py``; hash key ``pk``, range key ``sk``, both strings)
holds three kinds of items:

============================  ==========================  =====================================
``pk``                        ``sk``                      meaning
============================  ==========================  =====================================
``f"{segment_id}#{shard:03d}"``  ``user_id``              ``user_id`` is a member (``at``: ISO UTC
                                                          instant it entered)
``f"{segment_id}#count"``     ``f"{shard:03d}"``          ``n``: members in that shard (atomic ADD)
``f"@{user_id}"``             ``"segments"``              ``segments``: the user's segment ids
============================  ==========================  =====================================

``shard = shard_of(user_id)`` is a stable hash (CRC-32 of the UTF-8 id) modulo :data:`SHARDS`, so
one huge segment spreads over :data:`SHARDS` partitions (DynamoDB: 1,000 WCU / 3,000 RCU per
partition) and so do its count items. Segment ids never contain ``#`` nor start with ``@``
(docs/segments.md), so the three kinds cannot collide.

Every add/remove is one ``TransactWriteItems`` of three items (member, count, user set), the member
conditioned on (non-)existence: retries and replays never double-count, and the count, the member
rows and the user's set always agree. ``add``/``remove`` return whether anything changed.

Readers (campaigns, exports): :meth:`MembershipStore.iter_members` (every member, shard by shard;
pass ``shards=`` to fan out), :meth:`~MembershipStore.page_members` (cursor paging),
:meth:`~MembershipStore.is_member`, :meth:`~MembershipStore.count`. :class:`InMemoryMemberships`
is the same contract in memory for unit tests and benchmarks.
"""

from __future__ import annotations

import base64
import binascii
import threading
import zlib
from collections.abc import Iterable, Iterator
from typing import Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from engagekit import clock
from engagekit.dynamo import bind
from engagekit.errors import ValidationError

SHARDS = 16
"""Partitions each segment's members (and its count) spread over. Changing it re-shards: never."""
USER_SK = "segments"
"""Sort key of a user's segment-set item (``pk = "@" + user_id``)."""
DEFAULT_PAGE = 100
MAX_PAGE = 10_000


def shard_of(user_id: str) -> int:
    """The member shard of ``user_id``: ``crc32(utf-8) % SHARDS``, stable across processes."""
    return zlib.crc32(user_id.encode()) % SHARDS


def member_pk(segment_id: str, shard: int) -> str:
    """Partition key of one member shard of a segment: ``f"{segment_id}#{shard:03d}"``."""
    return f"{segment_id}#{shard:03d}"


def count_pk(segment_id: str) -> str:
    """Partition key of a segment's per-shard count items."""
    return f"{segment_id}#count"


def user_pk(user_id: str) -> str:
    """Partition key of a user's segment-set item."""
    return f"@{user_id}"


class MembershipRepo(Protocol):
    """The memberships port (DynamoDB: :class:`MembershipStore`; memory: :class:`InMemoryMemberships`)."""

    def iter_members(self, segment_id: str, *, shards: Iterable[int] | None = None) -> Iterator[str]:
        """Every member's user id, shard by shard (unordered across shards)."""
        ...

    def page_members(
        self,
        segment_id: str,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
        shard: int | None = None,
    ) -> tuple[list[str], str | None]:
        """Up to ``limit`` members and the cursor of the next page (``None``: last page); with
        ``shard``, only that shard's members (parallel walks)."""
        ...

    def is_member(self, segment_id: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``segment_id`` (one consistent read)."""
        ...

    def user_segments(self, user_id: str) -> frozenset[str]:
        """The segment ids ``user_id`` is in (one consistent read)."""
        ...

    def user_segments_many(self, user_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """:meth:`user_segments` of several users (BatchGetItem, 100 keys a request); every id is
        in the answer (an empty set for users in no segment)."""
        ...

    def add(self, segment_id: str, user_id: str) -> bool:
        """Make ``user_id`` a member; ``False`` if it already was (nothing written)."""
        ...

    def remove(self, segment_id: str, user_id: str) -> bool:
        """Remove ``user_id`` from the segment; ``False`` if it was not a member."""
        ...

    def count(self, segment_id: str) -> int:
        """The number of members (sum of the per-shard counts)."""
        ...

    def remove_user(self, user_id: str) -> frozenset[str]:
        """Remove the user from every segment (profile deletion); returns the segments it left."""
        ...

    def drop_segment(self, segment_id: str) -> int:
        """Remove every member of a deleted segment; returns how many were removed."""
        ...


# --- cursors -----------------------------------------------------------------------------------


def encode_cursor(shard: int, last_user: str | None) -> str:
    """Opaque page cursor: the shard to continue in and the last user id returned in it."""
    raw = f"{shard:03d}:{last_user or ''}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str | None]:
    """Inverse of :func:`encode_cursor`; raises :class:`ValidationError` for a malformed cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        shard_s, _, last = raw.partition(":")
        shard = int(shard_s)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("cursor: not a cursor returned by this endpoint") from exc
    if not 0 <= shard < SHARDS or len(shard_s) != 3:
        raise ValidationError("cursor: not a cursor returned by this endpoint")
    return shard, (last or None)


def _page_bounds(cursor: str | None, limit: int, shard: int | None) -> tuple[int, int, str | None]:
    """``(first shard, end shard, last user id)`` of a page request; validates its arguments."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"limit: must be between 1 and {MAX_PAGE}")
    if shard is not None and not 0 <= shard < SHARDS:
        raise ValidationError(f"shard: must be between 0 and {SHARDS - 1}")
    first, last = decode_cursor(cursor) if cursor else (shard or 0, None)
    if shard is not None and first != shard:
        raise ValidationError("cursor: belongs to another shard")
    return first, (shard + 1 if shard is not None else SHARDS), last


# --- DynamoDB ----------------------------------------------------------------------------------


class MemberItem(Model):
    """A member row; stays inside this module."""

    class Meta:
        table_name = "memberships"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute(null=True)


class CountItem(Model):
    """A per-shard count of one segment."""

    class Meta:
        table_name = "memberships"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    n = NumberAttribute(default=0)


class UserSegmentsItem(Model):
    """The set of segments one user is in."""

    class Meta:
        table_name = "memberships"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    segments = UnicodeSetAttribute(null=True)


def _condition_failed_first(exc: TransactWriteError) -> bool:
    reasons = exc.cancellation_reasons
    return bool(reasons) and reasons[0] is not None and reasons[0].code == "ConditionalCheckFailed"


class MembershipStore:
    """:class:`MembershipRepo` on the ``memberships`` table (name from ``MEMBERSHIPS_TABLE``).

    ``host`` is an endpoint override (the local runtime's moto port); ``None`` in the cloud.
    Raises pynamodb exceptions on DynamoDB failures (the stream handler retries the record).
    """

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._member = bind(MemberItem, table_name, host)
        self._count = bind(CountItem, table_name, host)
        self._user = bind(UserSegmentsItem, table_name, host)

    def _connection(self) -> Connection:
        return self._member._get_connection().connection

    def iter_members(self, segment_id: str, *, shards: Iterable[int] | None = None) -> Iterator[str]:
        """Every member's user id: one paged Query per shard (``shards``: a subset, for fan-out).

        Eventually consistent reads (half the cost); a change is visible within about a second.
        """
        for shard in range(SHARDS) if shards is None else shards:
            for item in self._member.query(member_pk(segment_id, shard), attributes_to_get=["sk"]):
                yield item.sk

    def page_members(
        self,
        segment_id: str,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
        shard: int | None = None,
    ) -> tuple[list[str], str | None]:
        """Up to ``limit`` (1..10,000) members from ``cursor``, ordered by shard then user id; with
        ``shard``, only that shard. Eventually consistent Queries.

        Returns ``(user_ids, next_cursor)``; ``next_cursor`` is ``None`` after the last page.
        Raises :class:`ValidationError` for a bad cursor or limit.
        """
        first, end, last = _page_bounds(cursor, limit, shard)
        out: list[str] = []
        for current in range(first, end):
            cond = self._member.sk > last if last is not None else None
            items = self._member.query(
                member_pk(segment_id, current), range_key_condition=cond, limit=limit - len(out)
            )
            out.extend(item.sk for item in items)
            if len(out) >= limit:
                more = items.last_evaluated_key is not None or current + 1 < end
                return out, encode_cursor(current, out[-1]) if more else None
            last = None
        return out, None

    def is_member(self, segment_id: str, user_id: str) -> bool:
        """One consistent GetItem."""
        try:
            self._member.get(member_pk(segment_id, shard_of(user_id)), user_id, consistent_read=True)
        except self._member.DoesNotExist:
            return False
        return True

    def user_segments(self, user_id: str) -> frozenset[str]:
        """One consistent GetItem of the user's set."""
        try:
            item = self._user.get(user_pk(user_id), USER_SK, consistent_read=True)
        except self._user.DoesNotExist:
            return frozenset()
        return frozenset(item.segments or ())

    def user_segments_many(self, user_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """BatchGetItem of the users' set items, 100 keys a request, consistent."""
        wanted = sorted(set(user_ids))
        found: dict[str, frozenset[str]] = {u: frozenset() for u in wanted}
        for start in range(0, len(wanted), 100):
            keys = [(user_pk(u), USER_SK) for u in wanted[start : start + 100]]
            for item in self._user.batch_get(keys, consistent_read=True):
                found[item.pk[1:]] = frozenset(item.segments or ())
        return found

    def add(self, segment_id: str, user_id: str) -> bool:
        """One TransactWriteItems: put the member (if absent), ADD 1 to its shard count, add the
        segment to the user's set. ``False`` (nothing written) if already a member."""
        shard = shard_of(user_id)
        member = self._member(member_pk(segment_id, shard), user_id, at=clock.now().isoformat())
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.save(member, condition=self._member.pk.does_not_exist())
                tx.update(self._count(count_pk(segment_id), f"{shard:03d}"), [self._count.n.add(1)])
                tx.update(self._user(user_pk(user_id), USER_SK), [self._user.segments.add({segment_id})])
        except TransactWriteError as exc:
            if _condition_failed_first(exc):
                return False
            raise
        return True

    def remove(self, segment_id: str, user_id: str) -> bool:
        """One TransactWriteItems: delete the member (if present), ADD -1 to its shard count,
        delete the segment from the user's set. ``False`` (nothing written) if not a member."""
        shard = shard_of(user_id)
        member = self._member(member_pk(segment_id, shard), user_id)
        try:
            with TransactWrite(connection=self._connection()) as tx:
                tx.delete(member, condition=self._member.pk.exists())
                tx.update(self._count(count_pk(segment_id), f"{shard:03d}"), [self._count.n.add(-1)])
                tx.update(self._user(user_pk(user_id), USER_SK), [self._user.segments.delete({segment_id})])
        except TransactWriteError as exc:
            if _condition_failed_first(exc):
                return False
            raise
        return True

    def remove_user(self, user_id: str) -> frozenset[str]:
        """Remove ``user_id`` from every segment it is in (profile deletion), then its set item.

        Returns the segments it left. One transaction per segment, one DeleteItem.
        """
        left = self.user_segments(user_id)
        for segment_id in sorted(left):
            self.remove(segment_id, user_id)
        self._user(user_pk(user_id), USER_SK).delete()  # deleting a missing item is a no-op
        return left

    def count(self, segment_id: str) -> int:
        """Sum of the :data:`SHARDS` count items: one Query (eventually consistent)."""
        return sum(int(item.n or 0) for item in self._count.query(count_pk(segment_id)))

    def drop_segment(self, segment_id: str) -> int:
        """Remove every member of a deleted segment (and its counts); returns how many were removed.

        One transaction per member: O(members); callers run it off the request path.
        """
        removed = 0
        for user_id in list(self.iter_members(segment_id)):
            removed += self.remove(segment_id, user_id)
        for item in self._count.query(count_pk(segment_id)):
            item.delete()
        return removed


# --- memory ------------------------------------------------------------------------------------


class InMemoryMemberships:
    """:class:`MembershipRepo` in memory (thread-safe), for unit tests and benchmarks.

    ``writes`` counts add/remove calls that changed something (each is one transaction in DynamoDB).
    """

    def __init__(self) -> None:
        self._members: dict[str, list[set[str]]] = {}
        self._users: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self.writes = 0

    def _shards(self, segment_id: str) -> list[set[str]]:
        return self._members.setdefault(segment_id, [set() for _ in range(SHARDS)])

    def iter_members(self, segment_id: str, *, shards: Iterable[int] | None = None) -> Iterator[str]:
        """Every member, shard by shard, user ids sorted within a shard (like DynamoDB)."""
        table = self._members.get(segment_id)
        if table is None:
            return
        for shard in range(SHARDS) if shards is None else shards:
            yield from sorted(table[shard])

    def page_members(
        self,
        segment_id: str,
        *,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
        shard: int | None = None,
    ) -> tuple[list[str], str | None]:
        """Same order and cursors as :meth:`MembershipStore.page_members`."""
        first, end, last = _page_bounds(cursor, limit, shard)
        table = self._members.get(segment_id) or [set() for _ in range(SHARDS)]
        out: list[str] = []
        for current in range(first, end):
            ids = sorted(u for u in table[current] if last is None or u > last)
            take = ids[: limit - len(out)]
            out.extend(take)
            if len(out) >= limit:
                more = len(ids) > len(take) or any(table[s] for s in range(current + 1, end))
                return out, encode_cursor(current, out[-1]) if more else None
            last = None
        return out, None

    def user_segments_many(self, user_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        return {u: self.user_segments(u) for u in user_ids}

    def is_member(self, segment_id: str, user_id: str) -> bool:
        table = self._members.get(segment_id)
        return table is not None and user_id in table[shard_of(user_id)]

    def user_segments(self, user_id: str) -> frozenset[str]:
        return frozenset(self._users.get(user_id, ()))

    def add(self, segment_id: str, user_id: str) -> bool:
        with self._lock:
            shard = self._shards(segment_id)[shard_of(user_id)]
            if user_id in shard:
                return False
            shard.add(user_id)
            self._users.setdefault(user_id, set()).add(segment_id)
            self.writes += 1
            return True

    def remove(self, segment_id: str, user_id: str) -> bool:
        with self._lock:
            shard = self._shards(segment_id)[shard_of(user_id)]
            if user_id not in shard:
                return False
            shard.discard(user_id)
            self._users.get(user_id, set()).discard(segment_id)
            self.writes += 1
            return True

    def remove_user(self, user_id: str) -> frozenset[str]:
        left = self.user_segments(user_id)
        for segment_id in left:
            self.remove(segment_id, user_id)
        self._users.pop(user_id, None)
        return left

    def count(self, segment_id: str) -> int:
        table = self._members.get(segment_id)
        return sum(len(s) for s in table) if table else 0

    def drop_segment(self, segment_id: str) -> int:
        removed = 0
        for user_id in list(self.iter_members(segment_id)):
            removed += self.remove(segment_id, user_id)
        self._members.pop(segment_id, None)
        return removed
