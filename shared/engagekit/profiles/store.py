"""Profiles and identities in DynamoDB (pynamodb), behind the :class:`ProfileStore` port.

Tables (declared in ``infra/manifest.py``):

- ``profiles``: hash key ``user_id``; one item per user holding the whole :class:`Profile` as
  JSON (``doc``), zlib-compressed into ``docz`` when the JSON passes :data:`COMPRESS_ABOVE_BYTES`;
  ``version`` is pynamodb's :class:`VersionAttribute`, so every save is a PutItem conditioned on
  the version read (optimistic concurrency); the stream (NEW_AND_OLD_IMAGES) feeds segments.
  :func:`profile_from_image` decodes a stream image.
- ``identities``: hash key ``key`` (see :mod:`engagekit.profiles.identity`), ``user_ids`` a string
  set. Unique identities are claimed with a conditional UpdateItem; shared ones (email, phone)
  are ADDed to/DELETEd from the set. Email items also hold the address's own state
  (``/email/status``, hard bounces, spam), which applies to every profile with that address.

Every method is one DynamoDB request (BatchGetItem pages of 100 keys aside), so write counts are
what :class:`StoreStats` says. Persistence types never leave this module.
"""

from __future__ import annotations

import base64
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from pynamodb.attributes import (
    BinaryAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DeleteError, PutError, UpdateError
from pynamodb.models import Model

from engagekit.domain.profile import Profile
from engagekit.dynamo import bind
from engagekit.errors import ConflictError, EngagekitError

COMPRESS_ABOVE_BYTES = 64 * 1024
"""Profiles whose JSON is larger are stored zlib-compressed (``docz``)."""
MAX_ITEM_BYTES = 380 * 1024
"""Refuse to write a profile item above this: DynamoDB's item limit is 400 KB (AWS quotas)."""
BATCH_GET_KEYS = 100
"""BatchGetItem reads at most 100 keys per request (DynamoDB API reference)."""


class VersionConflict(ConflictError):
    """The profile changed since it was read (conditional write failed): re-read and re-apply."""


class IdentityTaken(ConflictError):
    """A unique identity (external_id, alias) already belongs to ``owner``."""

    def __init__(self, key: str, owner: str) -> None:
        super().__init__(f"identity {key} belongs to another user")
        self.key = key
        self.owner = owner


class ProfileTooLarge(EngagekitError):
    """The profile would exceed :data:`MAX_ITEM_BYTES` (DynamoDB's 400 KB item limit)."""


@dataclass(frozen=True)
class IdentityRecord:
    """An identities-table item: the users holding ``key`` and, for email addresses, their state.

    ``subscription_state`` is the address's own email state set by ``/email/status`` (it applies to
    profiles that later take the address, braze-api.md §8); ``hard_bounced_at``/``spam_at`` UTC.
    """

    key: str
    user_ids: frozenset[str] = frozenset()
    subscription_state: str | None = None
    state_changed_at: datetime | None = None
    hard_bounced_at: datetime | None = None
    spam_at: datetime | None = None


@dataclass
class StoreStats:
    """DynamoDB requests made: ``reads`` (GetItem, BatchGetItem pages, Scan pages), ``writes``."""

    reads: int = 0
    writes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def read(self, n: int = 1) -> None:
        with self._lock:
            self.reads += n

    def write(self, n: int = 1) -> None:
        with self._lock:
            self.writes += n


class ProfileStore(Protocol):
    """The port every use case reads and writes profiles and identities through."""

    stats: StoreStats

    def get_identities(self, keys: Iterable[str]) -> dict[str, IdentityRecord]:
        """The records of those ``keys`` that exist (one BatchGetItem per 100 keys, consistent)."""
        ...

    def get_profiles(self, user_ids: Iterable[str], *, consistent: bool = True) -> dict[str, Profile]:
        """The profiles of those ``user_ids`` that exist (one BatchGetItem per 100 ids)."""
        ...

    def save_profile(self, profile: Profile) -> None:
        """Write ``profile`` if its stored version is still ``profile.version`` (0: must not exist).

        On success ``profile.version`` is incremented. Raises :class:`VersionConflict` otherwise,
        :class:`ProfileTooLarge` above :data:`MAX_ITEM_BYTES`. One PutItem.
        """
        ...

    def delete_profile(self, user_id: str) -> bool:
        """Delete the profile; returns False if there was none. One DeleteItem."""
        ...

    def claim_identity(self, key: str, user_id: str) -> None:
        """Make ``user_id`` the holder of unique identity ``key``; raises :class:`IdentityTaken`."""
        ...

    def link_identity(self, key: str, user_id: str) -> None:
        """Add ``user_id`` to the holders of shared identity ``key`` (email, phone). One UpdateItem."""
        ...

    def unlink_identity(self, key: str, user_id: str) -> None:
        """Remove ``user_id`` from the holders of ``key`` (the item and its address state stay)."""
        ...

    def release_identity(self, key: str, user_id: str) -> None:
        """Delete unique identity ``key`` if ``user_id`` holds it (no-op otherwise)."""
        ...

    def transfer_identity(self, key: str, from_user_id: str, to_user_id: str) -> None:
        """Make ``to_user_id`` the only holder of ``key`` if it is absent or held by ``from_user_id``
        (merges); raises :class:`IdentityTaken` otherwise. One UpdateItem."""
        ...

    def set_address_state(
        self,
        key: str,
        *,
        subscription_state: str | None = None,
        at: datetime,
        hard_bounced: bool | None = None,
        spam: bool | None = None,
    ) -> IdentityRecord:
        """Record an email address's state (``/email/status``, bounces, spam); returns the record."""
        ...

    def scan_identities(self, prefix: str) -> Iterator[IdentityRecord]:
        """Every identity whose key starts with ``prefix`` (a Scan: admin listings only)."""
        ...

    def scan_profiles(self) -> Iterator[Profile]:
        """Every profile (a Scan; segment exports and tests)."""
        ...


# --------------------------------------------------------------------------------------------
# Encoding shared by the adapter, the fake and stream decoding


def encode_profile(profile: Profile) -> tuple[str | None, bytes | None]:
    """``(doc, docz)``: the profile's JSON (without ``version``), compressed when large.

    Raises :class:`ProfileTooLarge` when even the compressed form exceeds :data:`MAX_ITEM_BYTES`.
    """
    doc = profile.model_dump_json(exclude={"version"}, exclude_defaults=True)
    if len(doc) <= COMPRESS_ABOVE_BYTES:
        return doc, None
    packed = zlib.compress(doc.encode(), 6)
    if len(packed) > MAX_ITEM_BYTES:
        raise ProfileTooLarge(f"profile {profile.user_id} would be {len(packed)} bytes compressed")
    return None, packed


def decode_profile(doc: str | None, docz: bytes | None, version: int) -> Profile:
    """The :class:`Profile` stored as ``doc``/``docz`` at ``version``."""
    text = doc if doc is not None else zlib.decompress(docz or b"").decode()
    profile = Profile.model_validate_json(text)
    profile.version = version
    return profile


def profile_from_image(image: Mapping[str, Any] | None) -> Profile | None:
    """Decode a DynamoDB stream image (``NewImage``/``OldImage``, DynamoDB JSON) of ``profiles``.

    ``docz`` may be base64 text (as Lambda delivers binary in stream events) or bytes. Returns None
    for a missing image (INSERT's old image, REMOVE's new image).
    """
    if not image:
        return None
    version = int(image.get("version", {}).get("N", "0"))
    doc = image.get("doc", {}).get("S")
    raw = image.get("docz", {}).get("B")
    docz = base64.b64decode(raw) if isinstance(raw, str) else raw
    return decode_profile(doc, docz, version)


# --------------------------------------------------------------------------------------------
# pynamodb persistence models (private to this module)


class ProfileItem(Model):
    class Meta:
        table_name = "profiles"

    user_id = UnicodeAttribute(hash_key=True)
    version = VersionAttribute()
    external_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    doc = UnicodeAttribute(null=True)
    docz = BinaryAttribute(null=True, legacy_encoding=False)


class IdentityItem(Model):
    class Meta:
        table_name = "identities"

    key = UnicodeAttribute(hash_key=True)
    user_ids = UnicodeSetAttribute(null=True)
    sub_state = UnicodeAttribute(null=True)
    sub_changed_at = UTCDateTimeAttribute(null=True)
    hard_bounced_at = UTCDateTimeAttribute(null=True)
    spam_at = UTCDateTimeAttribute(null=True)


def _record(item: IdentityItem) -> IdentityRecord:
    return IdentityRecord(
        key=item.key,
        user_ids=frozenset(item.user_ids or ()),
        subscription_state=item.sub_state,
        state_changed_at=item.sub_changed_at,
        hard_bounced_at=item.hard_bounced_at,
        spam_at=item.spam_at,
    )


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class DynamoProfileStore:
    """:class:`ProfileStore` on DynamoDB through pynamodb (tables named at run time)."""

    def __init__(self, profiles_table: str, identities_table: str, host: str | None = None) -> None:
        self._profiles: Any = bind(ProfileItem, profiles_table, host)
        self._identities: Any = bind(IdentityItem, identities_table, host)
        self.stats = StoreStats()

    def watch_requests(self) -> Counter[str]:
        """A live count of the DynamoDB operations this store sends from now on (``PutItem``: 3).

        It hooks botocore's ``before-call`` event on the clients pynamodb uses, so it counts what
        goes to DynamoDB, retries of the SDK aside. For tests and the bench.
        """
        counter: Counter[str] = Counter()

        def hook(model: Any, **_: Any) -> None:
            counter[model.name] += 1

        clients = {
            id(c): c
            for c in (m._get_connection().connection.client for m in (self._profiles, self._identities))
        }
        for client in clients.values():
            client.meta.events.register("before-call.dynamodb", hook)
        return counter

    def get_identities(self, keys: Iterable[str]) -> dict[str, IdentityRecord]:
        wanted = sorted(set(keys))
        found: dict[str, IdentityRecord] = {}
        for chunk in _chunks(wanted, BATCH_GET_KEYS):
            self.stats.read()
            for item in self._identities.batch_get(chunk, consistent_read=True):
                found[item.key] = _record(item)
        return found

    def get_profiles(self, user_ids: Iterable[str], *, consistent: bool = True) -> dict[str, Profile]:
        wanted = sorted(set(user_ids))
        found: dict[str, Profile] = {}
        for chunk in _chunks(wanted, BATCH_GET_KEYS):
            self.stats.read()
            for item in self._profiles.batch_get(chunk, consistent_read=consistent):
                found[item.user_id] = decode_profile(item.doc, item.docz, int(item.version or 0))
        return found

    def save_profile(self, profile: Profile) -> None:
        doc, docz = encode_profile(profile)
        item = self._profiles(
            profile.user_id,
            external_id=profile.external_id,
            updated_at=profile.updated_at,
            doc=doc,
            docz=docz,
        )
        if profile.version:
            item.version = profile.version
        self.stats.write()
        try:
            item.save()
        except PutError as exc:
            if _conditional_failed(exc):
                raise VersionConflict(
                    f"profile {profile.user_id} changed since version {profile.version}"
                ) from exc
            raise
        profile.version = int(item.version)

    def delete_profile(self, user_id: str) -> bool:
        self.stats.write()
        item = self._profiles(user_id)
        try:
            item.delete(condition=self._profiles.user_id.exists(), add_version_condition=False)
        except DeleteError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def claim_identity(self, key: str, user_id: str) -> None:
        model = self._identities
        self.stats.write()
        try:
            model(key).update(
                actions=[model.user_ids.add({user_id})],
                condition=model.user_ids.does_not_exist() | model.user_ids.contains(user_id),
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            owner = self.get_identities([key]).get(key)
            holders = sorted(owner.user_ids) if owner else []
            raise IdentityTaken(key, holders[0] if holders else "") from exc

    def link_identity(self, key: str, user_id: str) -> None:
        self.stats.write()
        self._identities(key).update(actions=[self._identities.user_ids.add({user_id})])

    def unlink_identity(self, key: str, user_id: str) -> None:
        self.stats.write()
        self._identities(key).update(actions=[self._identities.user_ids.delete({user_id})])

    def release_identity(self, key: str, user_id: str) -> None:
        model = self._identities
        self.stats.write()
        try:
            model(key).delete(condition=model.user_ids.contains(user_id))
        except DeleteError as exc:
            if not _conditional_failed(exc):
                raise

    def transfer_identity(self, key: str, from_user_id: str, to_user_id: str) -> None:
        model = self._identities
        self.stats.write()
        try:
            model(key).update(
                actions=[model.user_ids.set({to_user_id})],
                condition=model.user_ids.does_not_exist()
                | model.user_ids.contains(from_user_id)
                | model.user_ids.contains(to_user_id),
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            raise IdentityTaken(key, "") from exc

    def set_address_state(
        self,
        key: str,
        *,
        subscription_state: str | None = None,
        at: datetime,
        hard_bounced: bool | None = None,
        spam: bool | None = None,
    ) -> IdentityRecord:
        model = self._identities
        actions: list[Any] = []
        if subscription_state is not None:
            actions += [model.sub_state.set(subscription_state), model.sub_changed_at.set(at)]
        if hard_bounced is not None:
            actions.append(model.hard_bounced_at.set(at) if hard_bounced else model.hard_bounced_at.remove())
        if spam is not None:
            actions.append(model.spam_at.set(at) if spam else model.spam_at.remove())
        item = model(key)
        if actions:
            self.stats.write()
            item.update(actions=actions)
            return _record(item)
        return self.get_identities([key]).get(key) or IdentityRecord(key)

    def scan_identities(self, prefix: str) -> Iterator[IdentityRecord]:
        self.stats.read()
        for item in self._identities.scan(self._identities.key.startswith(prefix)):
            yield _record(item)

    def scan_profiles(self) -> Iterator[Profile]:
        self.stats.read()
        for item in self._profiles.scan():
            yield decode_profile(item.doc, item.docz, int(item.version or 0))


class InMemoryProfileStore:
    """:class:`ProfileStore` in memory with the same conditions and counts (tests, the bench).

    Profiles are kept encoded, as DynamoDB keeps them, so reads and writes pay the same
    serialization cost as the adapter. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._profiles: dict[str, tuple[str | None, bytes | None, int]] = {}
        self._identities: dict[str, IdentityRecord] = {}
        self.stats = StoreStats()

    def get_identities(self, keys: Iterable[str]) -> dict[str, IdentityRecord]:
        wanted = sorted(set(keys))
        self.stats.read(max(1, -(-len(wanted) // BATCH_GET_KEYS)) if wanted else 0)
        with self._lock:
            return {k: self._identities[k] for k in wanted if k in self._identities}

    def get_profiles(self, user_ids: Iterable[str], *, consistent: bool = True) -> dict[str, Profile]:
        wanted = sorted(set(user_ids))
        self.stats.read(max(1, -(-len(wanted) // BATCH_GET_KEYS)) if wanted else 0)
        with self._lock:
            stored = {u: self._profiles[u] for u in wanted if u in self._profiles}
        return {u: decode_profile(doc, docz, version) for u, (doc, docz, version) in stored.items()}

    def save_profile(self, profile: Profile) -> None:
        doc, docz = encode_profile(profile)
        self.stats.write()
        with self._lock:
            current = self._profiles.get(profile.user_id)
            if (current[2] if current else 0) != profile.version:
                raise VersionConflict(f"profile {profile.user_id} changed since version {profile.version}")
            self._profiles[profile.user_id] = (doc, docz, profile.version + 1)
        profile.version += 1

    def delete_profile(self, user_id: str) -> bool:
        self.stats.write()
        with self._lock:
            return self._profiles.pop(user_id, None) is not None

    def claim_identity(self, key: str, user_id: str) -> None:
        self.stats.write()
        with self._lock:
            record = self._identities.get(key, IdentityRecord(key))
            if record.user_ids and user_id not in record.user_ids:
                raise IdentityTaken(key, sorted(record.user_ids)[0])
            self._identities[key] = replace(record, user_ids=record.user_ids | {user_id})

    def link_identity(self, key: str, user_id: str) -> None:
        self.stats.write()
        with self._lock:
            record = self._identities.get(key, IdentityRecord(key))
            self._identities[key] = replace(record, user_ids=record.user_ids | {user_id})

    def unlink_identity(self, key: str, user_id: str) -> None:
        self.stats.write()
        with self._lock:
            record = self._identities.get(key, IdentityRecord(key))
            self._identities[key] = replace(record, user_ids=record.user_ids - {user_id})

    def release_identity(self, key: str, user_id: str) -> None:
        self.stats.write()
        with self._lock:
            record = self._identities.get(key)
            if record is not None and user_id in record.user_ids:
                del self._identities[key]

    def transfer_identity(self, key: str, from_user_id: str, to_user_id: str) -> None:
        self.stats.write()
        with self._lock:
            record = self._identities.get(key, IdentityRecord(key))
            if record.user_ids and not record.user_ids & {from_user_id, to_user_id}:
                raise IdentityTaken(key, sorted(record.user_ids)[0])
            self._identities[key] = replace(record, user_ids=frozenset({to_user_id}))

    def set_address_state(
        self,
        key: str,
        *,
        subscription_state: str | None = None,
        at: datetime,
        hard_bounced: bool | None = None,
        spam: bool | None = None,
    ) -> IdentityRecord:
        self.stats.write()
        with self._lock:
            record = self._identities.get(key, IdentityRecord(key))
            if subscription_state is not None:
                record = replace(record, subscription_state=subscription_state, state_changed_at=at)
            if hard_bounced is not None:
                record = replace(record, hard_bounced_at=at if hard_bounced else None)
            if spam is not None:
                record = replace(record, spam_at=at if spam else None)
            self._identities[key] = record
            return record

    def scan_identities(self, prefix: str) -> Iterator[IdentityRecord]:
        self.stats.read()
        with self._lock:
            found = [r for k, r in sorted(self._identities.items()) if k.startswith(prefix)]
        yield from found

    def scan_profiles(self) -> Iterator[Profile]:
        self.stats.read()
        with self._lock:
            stored = list(self._profiles.values())
        for doc, docz, version in stored:
            yield decode_profile(doc, docz, version)
