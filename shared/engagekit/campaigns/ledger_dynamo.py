"""The send ledger on DynamoDB (table ``sends``; see :mod:`engagekit.campaigns.ledger` for semantics).

Table ``sends``: hash ``pk``, range ``sk``, TTL ``expires_at``, GSI ``by_user`` (hash ``cap_user``,
range ``sent_at``; sparse: only sends that count toward frequency caps carry ``cap_user``).

=============================  ====================  ===========================================
``pk``                         ``sk``                item
=============================  ====================  ===========================================
``d#<dispatch_id>``            ``meta``              dispatch record (plan: zlib JSON)
``d#<dispatch_id>``            ``unit#<name>``       recipients x steps an audience unit enqueued
``d#<dispatch_id>``            ``msg#<batch key>``   outcome counts of one queue message
``r#<dispatch>#<step>#<user>`` ``r``                 one recipient's ledger entry
``u#<user_id>``                ``c#<campaign_id>``   when (``last_at``) and by which dispatch (``msg``)
                                                     the user last received the campaign
``rate#<bucket>``              ``<epoch minute>``    tokens used in one rate-limit window
=============================  ====================  ===========================================

Recipient entries spread over partitions (one per recipient), so a 10-million send never
concentrates on one partition. Claims, calling marks and outcomes are one conditional
``UpdateItem`` per recipient (1 write unit each), :data:`WORKERS` in flight at once; entries whose
condition failed are read back with one consistent BatchGetItem per 100. (``TransactWriteItems``
of 100 would save round trips but bills 2 write units per item, and one conflicting item cancels
the other 99.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from engagekit import clock
from engagekit.campaigns.ledger import (
    DISPATCH_TTL_S,
    RECIPIENT_TTL_S,
    ClaimResult,
    DispatchRecord,
    Entry,
    Progress,
    Receipt,
    RecipientKey,
)
from engagekit.campaigns.plan import DispatchPlan
from engagekit.campaigns.rules import SentRecord
from engagekit.dynamo import bind

WORKERS = 8
"""Conditional writes in flight at once per sender (DynamoDB latency is a few ms per request)."""
BATCH_GET_KEYS = 100
"""BatchGetItem reads at most 100 keys (DynamoDB quotas)."""


class ByUser(GlobalSecondaryIndex["SendItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    cap_user = UnicodeAttribute(hash_key=True)
    sent_at = NumberAttribute(range_key=True)


class SendItem(Model):
    """Every item kind of the ``sends`` table (module docstring); stays inside this module."""

    class Meta:
        table_name = "sends"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = NumberAttribute(null=True)
    # dispatch record
    plan = BinaryAttribute(null=True, legacy_encoding=False)
    status = UnicodeAttribute(null=True)
    target = NumberAttribute(null=True)
    counts = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    n = NumberAttribute(null=True)
    # recipient entry
    state = UnicodeAttribute(null=True)
    owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    attempts = NumberAttribute(null=True)
    msg = UnicodeAttribute(null=True)
    until = NumberAttribute(null=True)
    abort_type = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    provider_id = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    at = NumberAttribute(null=True)
    cap_user = UnicodeAttribute(null=True)
    sent_at = NumberAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    tags = UnicodeSetAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    # receipt / rate window
    last_at = NumberAttribute(null=True)
    used = NumberAttribute(null=True)
    by_user = ByUser()


def _recipient_pk(key: RecipientKey) -> str:
    return f"r#{key.id}"


def _key_of(pk: str) -> RecipientKey:
    dispatch_id, step, user_id = pk[2:].split("#", 2)
    return RecipientKey(dispatch_id, step, user_id)


def _entry(item: SendItem) -> Entry:
    return Entry(
        key=_key_of(item.pk),
        state=item.state or "claimed",  # type: ignore[arg-type]
        owner=item.owner,
        lease_until=item.lease_until,
        msg=item.msg,
        until=item.until,
        abort_type=item.abort_type,
        reason=item.reason,
        provider_id=item.provider_id,
        address=item.address,
        at=item.at,
        counts=item.cap_user is not None,
        channel=item.channel,
        tags=tuple(sorted(item.tags or ())),
        campaign_id=item.campaign_id,
        sent_at=item.sent_at,
    )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class DynamoLedger:
    """:class:`~engagekit.campaigns.ledger.Ledger` on the ``sends`` table (``SENDS_TABLE``)."""

    def __init__(self, table_name: str, host: str | None = None, workers: int = WORKERS) -> None:
        self._m = bind(SendItem, table_name, host)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ledger")

    # --- dispatches ---------------------------------------------------------------------------
    def create_dispatch(self, record: DispatchRecord) -> bool:
        m = self._m
        item = m(
            f"d#{record.dispatch_id}",
            "meta",
            plan=record.plan.encode(),
            status=record.status,
            target=record.target,
            counts=json.dumps(record.counts),
            created_at=record.created_at,
            expires_at=int(record.created_at.timestamp()) + DISPATCH_TTL_S,
        )
        try:
            item.save(condition=m.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_dispatch(self, dispatch_id: str) -> DispatchRecord | None:
        try:
            item = self._m.get(f"d#{dispatch_id}", "meta", consistent_read=True)
        except self._m.DoesNotExist:
            return None
        return DispatchRecord(
            dispatch_id=dispatch_id,
            plan=DispatchPlan.decode(item.plan or b""),
            created_at=item.created_at or clock.now(),
            status=item.status or "resolving",  # type: ignore[arg-type]
            target=int(item.target) if item.target is not None else None,
            counts=json.loads(item.counts or "{}"),
            finished_at=item.finished_at,
        )

    def update_dispatch(
        self,
        dispatch_id: str,
        *,
        status: str | None = None,
        target: int | None = None,
        counts: Mapping[str, int] | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        m = self._m
        actions: list[Action] = []
        if status is not None:
            actions.append(m.status.set(status))
        if target is not None:
            actions.append(m.target.set(target))
        if counts is not None:
            actions.append(m.counts.set(json.dumps(dict(counts))))
        if finished_at is not None:
            actions.append(m.finished_at.set(finished_at))
        if actions:
            m(f"d#{dispatch_id}", "meta").update(actions=actions, condition=m.pk.exists())

    def put_unit_count(self, dispatch_id: str, unit: str, count: int) -> None:
        exp = int(clock.now_epoch()) + DISPATCH_TTL_S
        self._m(f"d#{dispatch_id}", f"unit#{unit}", n=count, expires_at=exp).save()

    def unit_counts(self, dispatch_id: str) -> dict[str, int]:
        m = self._m
        return {
            item.sk.removeprefix("unit#"): int(item.n or 0)
            for item in m.query(f"d#{dispatch_id}", m.sk.startswith("unit#"), consistent_read=True)
        }

    def put_summary(self, dispatch_id: str, msg: str, counts: Mapping[str, int]) -> None:
        exp = int(clock.now_epoch()) + DISPATCH_TTL_S
        self._m(f"d#{dispatch_id}", f"msg#{msg}", counts=json.dumps(dict(counts)), expires_at=exp).save()

    def progress(self, dispatch_id: str) -> Progress:
        m = self._m
        record = self.get_dispatch_header(dispatch_id)
        total: dict[str, int] = {}
        messages = 0
        for item in m.query(f"d#{dispatch_id}", m.sk.startswith("msg#"), consistent_read=True):
            messages += 1
            for outcome, n in json.loads(item.counts or "{}").items():
                total[outcome] = total.get(outcome, 0) + int(n)
        return Progress(record, total, messages)

    def get_dispatch_header(self, dispatch_id: str) -> int | None:
        """The target of a dispatch without reading its plan (None: unsealed or unknown)."""
        try:
            item = self._m.get(f"d#{dispatch_id}", "meta", attributes_to_get=["target"], consistent_read=True)
        except self._m.DoesNotExist:
            return None
        return int(item.target) if item.target is not None else None

    # --- recipients ---------------------------------------------------------------------------
    def _updates(
        self, updates: list[tuple[RecipientKey, list[Action], Condition]]
    ) -> tuple[set[RecipientKey], dict[RecipientKey, Entry | None]]:
        """Run conditional UpdateItems, :data:`WORKERS` at a time; returns (written, refused ->
        current entry). Refused entries are read back with one consistent BatchGetItem per 100."""

        def one(update: tuple[RecipientKey, list[Action], Condition]) -> bool:
            key, actions, condition = update
            try:
                self._m(_recipient_pk(key), "r").update(actions=actions, condition=condition)
            except UpdateError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    return False
                raise
            return True

        results = list(self._pool.map(one, updates)) if len(updates) > 1 else [one(u) for u in updates]
        written = {u[0] for u, ok in zip(updates, results, strict=True) if ok}
        refused_keys = [u[0] for u, ok in zip(updates, results, strict=True) if not ok]
        refused: dict[RecipientKey, Entry | None] = dict.fromkeys(refused_keys)
        for chunk in _chunks(refused_keys, BATCH_GET_KEYS):
            for item in self._m.batch_get([(_recipient_pk(k), "r") for k in chunk], consistent_read=True):
                entry = _entry(item)
                refused[entry.key] = entry
        return written, refused

    def _claim_condition(self, now: float) -> Condition:
        m = self._m
        condition: Condition = (
            m.pk.does_not_exist()
            | (m.state == "retry")
            | ((m.state == "claimed") & (m.lease_until < now))
            | ((m.state == "deferred") & (m.until <= now))
        )
        return condition

    def _claim_actions(self, owner: str, msg: str, lease_until: float) -> list[Action]:
        m = self._m
        return [
            m.state.set("claimed"),
            m.owner.set(owner),
            m.lease_until.set(lease_until),
            m.msg.set(msg),
            m.attempts.add(1),
            m.expires_at.set(int(clock.now_epoch()) + RECIPIENT_TTL_S),
        ]

    def claim(
        self, keys: Iterable[RecipientKey], *, owner: str, msg: str, now: float, lease_until: float
    ) -> list[ClaimResult]:
        keys = list(keys)
        condition = self._claim_condition(now)
        actions = self._claim_actions(owner, msg, lease_until)
        written, refused = self._updates([(k, actions, condition) for k in keys])
        out: list[ClaimResult] = []
        for key in keys:
            if key in written:
                out.append(
                    ClaimResult(
                        key, True, Entry(key, "claimed", owner=owner, lease_until=lease_until, msg=msg)
                    )
                )
            else:
                out.append(ClaimResult(key, False, refused.get(key)))
        return out

    def take_over(self, entry: Entry, *, owner: str, msg: str, now: float, lease_until: float) -> bool:
        m = self._m
        condition = (m.state == "calling") & (m.owner == (entry.owner or "")) & (m.lease_until < now)
        try:
            m(_recipient_pk(entry.key), "r").update(
                actions=self._claim_actions(owner, msg, lease_until), condition=condition
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _history_actions(self, entry: Entry) -> list[Action]:
        m = self._m
        if not entry.counts or entry.sent_at is None:
            return [m.cap_user.remove(), m.sent_at.remove()]
        actions: list[Action] = [
            m.cap_user.set(entry.key.user_id),
            m.sent_at.set(entry.sent_at),
            m.channel.set(entry.channel or ""),
        ]
        actions.append(m.tags.set(set(entry.tags)) if entry.tags else m.tags.remove())
        actions.append(m.campaign_id.set(entry.campaign_id) if entry.campaign_id else m.campaign_id.remove())
        return actions

    def mark_calling(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        m = self._m
        condition: Condition = (m.owner == owner) & (m.state == "claimed")
        updates = [(e.key, [m.state.set("calling"), *self._history_actions(e)], condition) for e in entries]
        written, _ = self._updates(updates)
        return written

    def record(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        m = self._m
        condition: Condition = m.owner == owner
        updates: list[tuple[RecipientKey, list[Action], Condition]] = []
        for e in entries:
            actions: list[Action] = [m.state.set(e.state)]
            for text_attr, text in (
                (m.msg, e.msg),
                (m.abort_type, e.abort_type),
                (m.reason, e.reason),
                (m.provider_id, e.provider_id),
                (m.address, e.address),
            ):
                actions.append(text_attr.set(text) if text is not None else text_attr.remove())
            for number_attr, number in ((m.until, e.until), (m.at, e.at)):
                actions.append(number_attr.set(number) if number is not None else number_attr.remove())
            counted = e.state == "sent" and e.counts
            actions.extend(self._history_actions(e) if counted else [m.cap_user.remove(), m.sent_at.remove()])
            updates.append((e.key, actions, condition))
        written, _ = self._updates(updates)
        return written

    def history(self, user_id: str, since: float) -> list[SentRecord]:
        m = self._m
        out: list[SentRecord] = []
        for item in m.query(user_id, m.sent_at >= since, index_name="by_user"):
            if item.state not in ("sent", "calling") or item.sent_at is None:
                continue
            out.append(
                SentRecord(
                    datetime.fromtimestamp(float(item.sent_at), UTC),
                    item.channel or "",
                    frozenset(item.tags or ()),
                    _key_of(item.pk).dispatch_id,
                    item.campaign_id,
                )
            )
        return out

    def receipts(self, campaign_id: str, user_ids: Iterable[str]) -> dict[str, Receipt]:
        keys = [(f"u#{u}", f"c#{campaign_id}") for u in dict.fromkeys(user_ids)]
        out: dict[str, Receipt] = {}
        for item in self._m.batch_get(keys, attributes_to_get=["pk", "sk", "last_at", "msg"]):
            if item.last_at is not None:
                out[item.pk[2:]] = Receipt(float(item.last_at), item.msg or "")
        return out

    def put_receipts(self, campaign_id: str, user_ids: Iterable[str], at: float, dispatch_id: str) -> None:
        with self._m.batch_write() as batch:
            for user_id in dict.fromkeys(user_ids):
                batch.save(self._m(f"u#{user_id}", f"c#{campaign_id}", last_at=at, msg=dispatch_id))

    def reserve(self, bucket: str, window: int, want: int, limit: int) -> int:
        m = self._m
        item = m(f"rate#{bucket}", str(window))
        exp = window * 60 + 3600
        ask = want
        for _ in range(4):
            if ask <= 0:
                return 0
            try:
                item.update(
                    actions=[m.used.add(ask), m.expires_at.set(exp)],
                    condition=m.used.does_not_exist() | (m.used <= limit - ask),
                )
                return ask
            except UpdateError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
            try:
                used = int(m.get(f"rate#{bucket}", str(window), consistent_read=True).used or 0)
            except m.DoesNotExist:
                used = 0
            ask = min(want, limit - used)
        return 0
