"""The send ledger: one claim per (dispatch, step, user), the dispatch records, and send history.

This is what makes delivery exactly once. Every recipient of every send has one ledger entry keyed
``(dispatch_id, step, user_id)``; a sender writes it with a conditional write *before* any provider
call, and each transition is conditioned on the writer still owning the entry:

==========  =================================================================================
state       meaning
==========  =================================================================================
claimed     a sender owns it until ``lease_until`` (epoch s); the provider has NOT been called
calling     the owner is about to call the provider (written just before the call)
sent        terminal: the provider accepted it
aborted     terminal: not sent on purpose (``abort_type``: Liquid abort, not subscribed, ...)
capped      terminal: a frequency-capping rule stopped it
failed      terminal: the provider refused it, or its outcome is unknown after a crash
deferred    held until ``until`` (quiet hours, local-time send, rate limit, Connected Content retry)
retry       the provider failed transiently; the next delivery of the message may claim it again
==========  =================================================================================

A claim succeeds when the entry is absent, in ``retry``, ``deferred`` and due, or ``claimed`` with
an expired lease (the sender died before the provider call: retrying is safe). An entry left in
``calling`` with an expired lease is *ambiguous* (the sender died during the provider call): it is
retried only for providers that are idempotent (webhooks send the same ``Idempotency-Key``, the
in-app inbox is a keyed put); for SES, SNS SMS and push it becomes ``failed`` with reason
``outcome_unknown`` — engagekit never risks sending twice. A live lease makes the recipient *busy*:
the message is retried after its visibility timeout. Leases outlive the sender's timeout, so an
owner never loses its lease while it runs.

``msg`` records which queue message (batch key) wrote the outcome; that message's *summary* (counts
per outcome) is written once all its recipients are terminal or handed off, and the dispatch is
complete when the summaries' terminal counts reach the target. Entries expire after
:data:`RECIPIENT_TTL_S` (DynamoDB TTL), longer than any frequency-capping window.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

from engagekit.campaigns.plan import DispatchPlan
from engagekit.campaigns.rules import SentRecord

State = Literal["claimed", "calling", "sent", "aborted", "capped", "failed", "deferred", "retry"]
TERMINAL: frozenset[str] = frozenset({"sent", "aborted", "capped", "failed"})
OUTCOMES = ("sent", "aborted", "capped", "failed", "deferred")
RECIPIENT_TTL_S = 35 * 86_400
"""Ledger entries live 35 days: past the 30-day frequency-capping maximum (braze-api.md §4) and
SQS's 14-day maximum retention, so a replayed message always finds its claim."""
DISPATCH_TTL_S = 90 * 86_400
"""Dispatch records and summaries live 90 days."""


@dataclass(frozen=True, order=True)
class RecipientKey:
    """One recipient of one step of one dispatch."""

    dispatch_id: str
    step: str
    user_id: str

    @property
    def id(self) -> str:
        return f"{self.dispatch_id}#{self.step}#{self.user_id}"


@dataclass(frozen=True)
class Entry:
    """A ledger entry (module docstring). Times are epoch seconds (UTC).

    ``channel``/``tags``/``campaign_id``/``sent_at`` are set when the send counts toward frequency
    caps (``counts``); they feed the per-user history index.
    """

    key: RecipientKey
    state: State
    owner: str | None = None
    lease_until: float | None = None
    msg: str | None = None
    until: float | None = None
    abort_type: str | None = None
    reason: str | None = None
    provider_id: str | None = None
    address: str | None = None
    at: float | None = None
    counts: bool = False
    channel: str | None = None
    tags: tuple[str, ...] = ()
    campaign_id: str | None = None
    sent_at: float | None = None

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Receipt:
    """The last time (epoch s) a user received a campaign, and the dispatch that sent it."""

    at: float
    dispatch_id: str


@dataclass(frozen=True)
class ClaimResult:
    """``won``: the caller now owns the entry (state ``claimed``); else ``entry`` is what is there."""

    key: RecipientKey
    won: bool
    entry: Entry | None = None


@dataclass
class DispatchRecord:
    """One dispatch: its plan, status, target (recipients x steps; None until sealed) and counts."""

    dispatch_id: str
    plan: DispatchPlan
    created_at: datetime
    status: Literal["resolving", "sending", "complete"] = "resolving"
    target: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    finished_at: datetime | None = None


@dataclass(frozen=True)
class Progress:
    """Where a dispatch stands: ``counts`` per outcome summed over the message summaries."""

    target: int | None
    counts: Mapping[str, int]
    messages: int

    @property
    def terminal(self) -> int:
        return sum(self.counts.get(o, 0) for o in TERMINAL)

    @property
    def done(self) -> bool:
        return self.target is not None and self.terminal >= self.target


class Ledger(Protocol):
    """The send ledger port (DynamoDB: :class:`~engagekit.campaigns.ledger_dynamo.DynamoLedger`)."""

    def create_dispatch(self, record: DispatchRecord) -> bool:
        """Store a new dispatch; False if one with that id exists (nothing written)."""
        ...

    def get_dispatch(self, dispatch_id: str) -> DispatchRecord | None: ...

    def update_dispatch(
        self,
        dispatch_id: str,
        *,
        status: str | None = None,
        target: int | None = None,
        counts: Mapping[str, int] | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        """Set the given fields of a dispatch record."""
        ...

    def put_unit_count(self, dispatch_id: str, unit: str, count: int) -> None:
        """Record how many (recipient, step) pairs audience unit ``unit`` enqueued (idempotent)."""
        ...

    def unit_counts(self, dispatch_id: str) -> dict[str, int]: ...

    def put_summary(self, dispatch_id: str, msg: str, counts: Mapping[str, int]) -> None:
        """Record the outcome counts of queue message ``msg`` (idempotent overwrite)."""
        ...

    def progress(self, dispatch_id: str) -> Progress:
        """The dispatch's target and the sum of its summaries (one paged Query)."""
        ...

    def claim(
        self, keys: Iterable[RecipientKey], *, owner: str, msg: str, now: float, lease_until: float
    ) -> list[ClaimResult]:
        """Claim each key for ``owner`` (conditions in the module docstring); one result per key."""
        ...

    def take_over(self, entry: Entry, *, owner: str, msg: str, now: float, lease_until: float) -> bool:
        """Claim an ambiguous ``calling`` entry whose lease expired (it must still be as read)."""
        ...

    def mark_calling(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        """Move owned ``claimed`` entries to ``calling`` with their history fields; returns the
        keys still owned (a key missing from the result must not be sent)."""
        ...

    def record(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        """Write outcomes (terminal, ``deferred`` or ``retry``) of entries ``owner`` owns; returns
        the keys written."""
        ...

    def history(self, user_id: str, since: float) -> list[SentRecord]:
        """The user's capped-channel sends since ``since`` (epoch s), from the history index."""
        ...

    def receipts(self, campaign_id: str, user_ids: Iterable[str]) -> dict[str, Receipt]:
        """When (and by which dispatch) each user last received ``campaign_id``, for those who did."""
        ...

    def put_receipts(self, campaign_id: str, user_ids: Iterable[str], at: float, dispatch_id: str) -> None:
        """Record that ``user_ids`` received ``campaign_id`` at ``at`` (epoch s) by ``dispatch_id``.

        Senders call it only for ``sent`` outcomes: a failed or aborted attempt is not a receipt
        (re-eligibility, braze-api.md §4)."""
        ...

    def reserve(self, bucket: str, window: int, want: int, limit: int) -> int:
        """Take up to ``want`` of the ``limit`` tokens of rate window ``window`` (epoch minute) of
        ``bucket``; returns how many were granted (0..want)."""
        ...


def claimable(entry: Entry | None, now: float) -> bool:
    """Whether a claim may take ``entry`` (module docstring)."""
    if entry is None:
        return True
    if entry.state == "retry":
        return True
    if entry.state == "claimed":
        return (entry.lease_until or 0) < now
    if entry.state == "deferred":
        return (entry.until or 0) <= now
    return False


class InMemoryLedger:
    """:class:`Ledger` in memory with the same conditions (thread-safe), for unit tests and the bench.

    ``requests`` counts the DynamoDB requests the DynamoDB adapter would make (one conditional
    UpdateItem per claim, calling mark and outcome; receipts in batches of 100 reads / 25 writes).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.entries: dict[RecipientKey, Entry] = {}
        self.dispatches: dict[str, DispatchRecord] = {}
        self.units: dict[str, dict[str, int]] = {}
        self.summaries: dict[str, dict[str, dict[str, int]]] = {}
        self._receipts: dict[tuple[str, str], Receipt] = {}
        self._buckets: dict[tuple[str, int], int] = {}
        self.requests: Counter[str] = Counter()

    def _count(self, op: str, n: int = 1, per: int = 1) -> None:
        self.requests[op] += max(1, -(-n // per)) if n else 0

    def create_dispatch(self, record: DispatchRecord) -> bool:
        with self._lock:
            self._count("create_dispatch")
            if record.dispatch_id in self.dispatches:
                return False
            self.dispatches[record.dispatch_id] = replace(record, counts=dict(record.counts))
            return True

    def get_dispatch(self, dispatch_id: str) -> DispatchRecord | None:
        with self._lock:
            self._count("get_dispatch")
            record = self.dispatches.get(dispatch_id)
            return replace(record, counts=dict(record.counts)) if record else None

    def update_dispatch(
        self,
        dispatch_id: str,
        *,
        status: str | None = None,
        target: int | None = None,
        counts: Mapping[str, int] | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        with self._lock:
            self._count("update_dispatch")
            record = self.dispatches[dispatch_id]
            if status is not None:
                record.status = status  # type: ignore[assignment]
            if target is not None:
                record.target = target
            if counts is not None:
                record.counts = dict(counts)
            if finished_at is not None:
                record.finished_at = finished_at

    def put_unit_count(self, dispatch_id: str, unit: str, count: int) -> None:
        with self._lock:
            self._count("put_unit_count")
            self.units.setdefault(dispatch_id, {})[unit] = count

    def unit_counts(self, dispatch_id: str) -> dict[str, int]:
        with self._lock:
            self._count("unit_counts")
            return dict(self.units.get(dispatch_id, {}))

    def put_summary(self, dispatch_id: str, msg: str, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._count("put_summary")
            self.summaries.setdefault(dispatch_id, {})[msg] = dict(counts)

    def progress(self, dispatch_id: str) -> Progress:
        with self._lock:
            self._count("progress")
            record = self.dispatches.get(dispatch_id)
            total: Counter[str] = Counter()
            msgs = self.summaries.get(dispatch_id, {})
            for counts in msgs.values():
                total.update(counts)
            return Progress(record.target if record else None, dict(total), len(msgs))

    def claim(
        self, keys: Iterable[RecipientKey], *, owner: str, msg: str, now: float, lease_until: float
    ) -> list[ClaimResult]:
        keys = list(keys)
        out: list[ClaimResult] = []
        with self._lock:
            self._count("claim", len(keys))
            for key in keys:
                current = self.entries.get(key)
                if claimable(current, now):
                    self.entries[key] = Entry(key, "claimed", owner=owner, lease_until=lease_until, msg=msg)
                    out.append(ClaimResult(key, True, self.entries[key]))
                else:
                    out.append(ClaimResult(key, False, current))
        return out

    def take_over(self, entry: Entry, *, owner: str, msg: str, now: float, lease_until: float) -> bool:
        with self._lock:
            self._count("take_over")
            current = self.entries.get(entry.key)
            if (
                current is None
                or current.state != "calling"
                or current.owner != entry.owner
                or (current.lease_until or 0) >= now
            ):
                return False
            self.entries[entry.key] = Entry(
                entry.key, "claimed", owner=owner, lease_until=lease_until, msg=msg
            )
            return True

    def mark_calling(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        entries = list(entries)
        done: set[RecipientKey] = set()
        with self._lock:
            self._count("mark_calling", len(entries))
            for entry in entries:
                current = self.entries.get(entry.key)
                if current is None or current.owner != owner or current.state != "claimed":
                    continue
                self.entries[entry.key] = replace(entry, state="calling", owner=owner)
                done.add(entry.key)
        return done

    def record(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        entries = list(entries)
        done: set[RecipientKey] = set()
        with self._lock:
            self._count("record", len(entries))
            for entry in entries:
                current = self.entries.get(entry.key)
                if current is None or current.owner != owner:
                    continue
                keep = entry.state in ("sent", "calling") and entry.counts
                self.entries[entry.key] = replace(
                    entry,
                    owner=owner,
                    counts=keep,
                    sent_at=entry.sent_at if keep else None,
                )
                done.add(entry.key)
        return done

    def history(self, user_id: str, since: float) -> list[SentRecord]:
        from datetime import UTC

        with self._lock:
            self._count("history")
            return [
                SentRecord(
                    datetime.fromtimestamp(e.sent_at, UTC),
                    e.channel or "",
                    frozenset(e.tags),
                    e.key.dispatch_id,
                    e.campaign_id,
                )
                for e in self.entries.values()
                if e.key.user_id == user_id
                and e.counts
                and e.sent_at is not None
                and e.sent_at >= since
                and e.state in ("sent", "calling")
            ]

    def receipts(self, campaign_id: str, user_ids: Iterable[str]) -> dict[str, Receipt]:
        ids = list(user_ids)
        with self._lock:
            self._count("receipts", len(ids), 100)
            return {u: self._receipts[(campaign_id, u)] for u in ids if (campaign_id, u) in self._receipts}

    def put_receipts(self, campaign_id: str, user_ids: Iterable[str], at: float, dispatch_id: str) -> None:
        ids = list(user_ids)
        with self._lock:
            self._count("put_receipts", len(ids), 25)
            for u in ids:
                self._receipts[(campaign_id, u)] = Receipt(at, dispatch_id)

    def reserve(self, bucket: str, window: int, want: int, limit: int) -> int:
        with self._lock:
            self._count("reserve")
            used = self._buckets.get((bucket, window), 0)
            granted = max(0, min(want, limit - used))
            self._buckets[(bucket, window)] = used + granted
            return granted
