"""Scheduled sends and held queue messages, in the ``schedules`` table, fired by the scheduler.

Table ``schedules`` (hash ``pk``; TTL ``expires_at``; GSI ``due``: hash ``due_state``, range
``due_at``, sparse: only pending items carry ``due_state``):

- ``schedule#<schedule_id>``: a ``/messages/schedule/create`` or ``/campaigns/trigger/schedule/create``
  request, its pre-assigned ``dispatch_id`` and the instant it fires (``due_at``, epoch s);
- ``hold#<hold_id>``: a queue message a sender held back (quiet hours, local-time delivery, rate
  limit, Connected Content retry) and when to put it back on its channel queue.

The ``send_scheduler`` function runs every minute (an EventBridge rule in the cloud, the local
runtime's scheduler locally) and Queries the ``due`` index for ``due_at <= now``. Firing is
idempotent (the dispatch id is fixed at creation and the ledger dedupes recipients), so a scheduler
that dies after acting and before clearing an item only repeats harmless work.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from engagekit import clock
from engagekit.dynamo import bind

PENDING = "pending"
SCHEDULE_TTL_S = 30 * 86_400
"""Fired or deleted schedules are kept 30 days after they fire."""


@dataclass(frozen=True)
class ScheduleRecord:
    """A scheduled send. ``request`` is the API body without ``schedule``; ``due_at`` aware UTC."""

    schedule_id: str
    kind: Literal["messages", "campaign"]
    request: dict[str, Any]
    schedule: dict[str, Any]
    dispatch_id: str
    due_at: datetime
    state: Literal["pending", "fired", "deleted"] = "pending"
    campaign_id: str | None = None


@dataclass(frozen=True)
class Hold:
    """A held queue message: ``body`` goes back to ``queue`` at ``due_at`` (aware UTC)."""

    hold_id: str
    queue: str
    body: str
    due_at: datetime


class ScheduleStore(Protocol):
    """The schedules port (DynamoDB: :class:`DynamoScheduleStore`)."""

    def put_schedule(self, record: ScheduleRecord) -> None: ...

    def get_schedule(self, schedule_id: str) -> ScheduleRecord | None: ...

    def set_state(self, schedule_id: str, state: Literal["fired", "deleted"]) -> bool:
        """Leave ``pending`` for ``state``; False if it was not pending (nothing written)."""
        ...

    def put_hold(self, hold: Hold) -> None:
        """Store a held message (idempotent: same id, same content)."""
        ...

    def delete_hold(self, hold_id: str) -> None: ...

    def due(self, now: datetime, limit: int = 100) -> list[ScheduleRecord | Hold]:
        """Pending schedules and holds with ``due_at <= now``, earliest first, at most ``limit``."""
        ...


class DueIndex(GlobalSecondaryIndex["ScheduleItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_state = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class ScheduleItem(Model):
    """Persistence shape of schedules and holds; stays inside this module."""

    class Meta:
        table_name = "schedules"

    pk = UnicodeAttribute(hash_key=True)
    due_state = UnicodeAttribute(null=True)
    due_at = NumberAttribute()
    state = UnicodeAttribute(default=PENDING)
    kind = UnicodeAttribute(null=True)
    request = UnicodeAttribute(null=True)
    schedule = UnicodeAttribute(null=True)
    dispatch_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    queue = UnicodeAttribute(null=True)
    body = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    due = DueIndex()


def _from_item(item: ScheduleItem) -> ScheduleRecord | Hold:
    due_at = datetime.fromtimestamp(float(item.due_at), UTC)
    if item.pk.startswith("hold#"):
        return Hold(item.pk[5:], item.queue or "", item.body or "", due_at)
    return ScheduleRecord(
        schedule_id=item.pk[9:],
        kind=item.kind or "messages",  # type: ignore[arg-type]
        request=json.loads(item.request or "{}"),
        schedule=json.loads(item.schedule or "{}"),
        dispatch_id=item.dispatch_id or "",
        due_at=due_at,
        state=item.state,  # type: ignore[arg-type]
        campaign_id=item.campaign_id,
    )


class DynamoScheduleStore:
    """:class:`ScheduleStore` on the ``schedules`` table (``SCHEDULES_TABLE``)."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._m = bind(ScheduleItem, table_name, host)

    def put_schedule(self, record: ScheduleRecord) -> None:
        pending = record.state == PENDING
        self._m(
            f"schedule#{record.schedule_id}",
            due_state=PENDING if pending else None,
            due_at=record.due_at.timestamp(),
            state=record.state,
            kind=record.kind,
            request=json.dumps(record.request),
            schedule=json.dumps(record.schedule),
            dispatch_id=record.dispatch_id,
            campaign_id=record.campaign_id,
            expires_at=None if pending else int(clock.now_epoch()) + SCHEDULE_TTL_S,
        ).save()

    def get_schedule(self, schedule_id: str) -> ScheduleRecord | None:
        try:
            found = _from_item(self._m.get(f"schedule#{schedule_id}", consistent_read=True))
        except self._m.DoesNotExist:
            return None
        return found if isinstance(found, ScheduleRecord) else None

    def set_state(self, schedule_id: str, state: Literal["fired", "deleted"]) -> bool:
        m = self._m
        from pynamodb.exceptions import UpdateError

        try:
            m(f"schedule#{schedule_id}").update(
                actions=[
                    m.state.set(state),
                    m.due_state.remove(),
                    m.expires_at.set(int(clock.now_epoch()) + SCHEDULE_TTL_S),
                ],
                condition=m.state == PENDING,
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_hold(self, hold: Hold) -> None:
        self._m(
            f"hold#{hold.hold_id}",
            due_state=PENDING,
            due_at=hold.due_at.timestamp(),
            queue=hold.queue,
            body=hold.body,
            expires_at=int(hold.due_at.timestamp()) + SCHEDULE_TTL_S,
        ).save()

    def delete_hold(self, hold_id: str) -> None:
        self._m(f"hold#{hold_id}").delete()

    def due(self, now: datetime, limit: int = 100) -> list[ScheduleRecord | Hold]:
        m = self._m
        items = m.query(PENDING, m.due_at <= now.timestamp(), index_name="due", limit=limit)
        return [_from_item(item) for item in items]


class InMemoryScheduleStore:
    """A dict-backed :class:`ScheduleStore` for unit tests and the bench."""

    def __init__(self) -> None:
        self.schedules: dict[str, ScheduleRecord] = {}
        self.holds: dict[str, Hold] = {}
        self._lock = threading.Lock()

    def put_schedule(self, record: ScheduleRecord) -> None:
        with self._lock:
            self.schedules[record.schedule_id] = record

    def get_schedule(self, schedule_id: str) -> ScheduleRecord | None:
        return self.schedules.get(schedule_id)

    def set_state(self, schedule_id: str, state: Literal["fired", "deleted"]) -> bool:
        with self._lock:
            record = self.schedules.get(schedule_id)
            if record is None or record.state != PENDING:
                return False
            self.schedules[schedule_id] = replace(record, state=state)
            return True

    def put_hold(self, hold: Hold) -> None:
        with self._lock:
            self.holds[hold.hold_id] = hold

    def delete_hold(self, hold_id: str) -> None:
        with self._lock:
            self.holds.pop(hold_id, None)

    def due(self, now: datetime, limit: int = 100) -> list[ScheduleRecord | Hold]:
        with self._lock:
            found: list[ScheduleRecord | Hold] = [
                s for s in self.schedules.values() if s.state == PENDING and s.due_at <= now
            ]
            found.extend(h for h in self.holds.values() if h.due_at <= now)
        return sorted(found, key=lambda x: x.due_at)[:limit]
