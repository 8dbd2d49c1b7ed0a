"""Dispatching a send: create the dispatch record, enqueue recipients, and the send run's tasks.

Two paths share :func:`enqueue`:

- **explicit recipients** (≤ 50, ``/campaigns/trigger/send`` and ``/messages/send`` with users):
  the API resolves them and enqueues them at once — one SendMessageBatch — with the target known
  (recipients x steps). A state machine for 50 recipients would cost about ten state transitions
  per API call (Step Functions Standard bills per transition) and add latency for nothing.
- **audiences** (a segment, a Connected Audience, everyone): the API stores the dispatch and starts
  the ``send_run`` state machine (``infra/statemachines/send_run.asl.json``), whose tasks are
  :func:`run_task`: ``resolve`` lists the audience units, a Map runs ``enqueue`` per unit (a Lambda
  invocation that walks its slice and enqueues up to :data:`MAX_USERS_PER_TASK` users, returning a
  cursor when there are more), ``seal`` records the target (sum of the units' counts), and
  ``poll`` waits (a Wait state, growing intervals) until every recipient has an outcome. Nothing
  per recipient happens in the state machine.

Every step is idempotent: a retried task, a second execution for the same dispatch or a restarted
one enqueues the same content-keyed batches again and the senders' ledger dedupes them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from itertools import islice
from typing import Any

from engagekit import clock
from engagekit.campaigns.audience import unit_by_name, unit_members, units_for
from engagekit.campaigns.ledger import DispatchRecord
from engagekit.campaigns.plan import QUEUE_OF_CHANNEL, DispatchPlan, Recipient, pack
from engagekit.campaigns.service import CampaignsService
from engagekit.errors import EngagekitError, NotFoundError, ValidationError

MAX_USERS_PER_TASK = 100_000
"""Users one ``enqueue`` task handles before returning a cursor (keeps an invocation well under
Lambda's 15-minute limit: 100,000 users are 40 SendMessageBatch calls per step)."""
MIN_WAIT_S = 5
MAX_WAIT_S = 300
"""The send run polls for completion after ``clamp(elapsed / 4, 5, 300)`` seconds."""


class DispatchError(EngagekitError):
    """A send run task cannot proceed (unknown dispatch, missing audience unit)."""


def new_dispatch_id() -> str:
    """A fresh dispatch id: 24 lowercase hex digits (like Braze's)."""
    return secrets.token_hex(12)


def enqueue(svc: CampaignsService, plan: DispatchPlan, recipients: Sequence[Recipient]) -> int:
    """Put ``recipients`` on the queue of every step of ``plan``; returns messages sent.

    One message per :data:`~engagekit.campaigns.plan.RECIPIENTS_PER_MESSAGE` recipients and step,
    ten messages per SendMessageBatch. Raises QueueError when SQS keeps refusing.
    """
    sent = 0
    for step in plan.steps():
        bodies = [batch.encode() for batch in pack(plan.dispatch_id, step, recipients)]
        svc.queues.send(QUEUE_OF_CHANNEL[plan.channel(step)], bodies)
        sent += len(bodies)
    return sent


def start(
    svc: CampaignsService, plan: DispatchPlan, recipients: Sequence[Recipient] | None
) -> DispatchRecord:
    """Start the send ``plan``: explicit ``recipients`` are enqueued now, audiences go to the state
    machine. Idempotent per ``plan.dispatch_id`` (a repeat re-enqueues; the ledger dedupes)."""
    now = clock.now()
    steps = len(plan.steps())
    if plan.audience.kind == "recipients":
        users = list(recipients or [])
        target = len(users) * steps
        record = DispatchRecord(
            plan.dispatch_id,
            plan,
            now,
            status="sending" if target else "complete",
            target=target,
            finished_at=None if target else now,
        )
        svc.ledger.create_dispatch(record)
        if users:
            enqueue(svc, plan, users)
        return record
    record = DispatchRecord(plan.dispatch_id, plan, now, status="resolving")
    svc.ledger.create_dispatch(record)
    svc.starter.start(plan.dispatch_id)
    return record


def _record(svc: CampaignsService, dispatch_id: str) -> DispatchRecord:
    record = svc.ledger.get_dispatch(dispatch_id)
    if record is None:
        raise DispatchError(f"no dispatch {dispatch_id}")
    return record


def resolve(svc: CampaignsService, dispatch_id: str) -> dict[str, Any]:
    """Task ``resolve``: ``{"dispatch_id", "units": [name, ...]}`` (the Map's items)."""
    record = _record(svc, dispatch_id)
    return {"dispatch_id": dispatch_id, "units": [u.name for u in units_for(record.plan.audience)]}


def enqueue_unit(
    svc: CampaignsService, dispatch_id: str, unit_name: str, skip: int = 0, count: int = 0
) -> dict[str, Any]:
    """Task ``enqueue``: enqueue the members of one unit from position ``skip``.

    Returns ``{"dispatch_id", "unit", "skip", "count", "done"}``: when ``done`` is false the state
    machine calls again with the returned ``skip``/``count``. When done, the unit's count
    (users x steps) is stored in the ledger.
    """
    record = _record(svc, dispatch_id)
    plan = record.plan
    try:
        unit = unit_by_name(plan.audience, unit_name)
    except KeyError as exc:
        raise DispatchError(f"dispatch {dispatch_id} has no audience unit {unit_name}") from exc
    members = unit_members(
        plan.audience,
        unit,
        memberships=svc.memberships,
        profiles=svc.users.store,
        scanner=svc.scanner,
        now=record.created_at,
    )
    page = list(islice(islice(members, skip, None), MAX_USERS_PER_TASK + 1))
    more = len(page) > MAX_USERS_PER_TASK
    page = page[:MAX_USERS_PER_TASK]
    tp_free: list[Recipient] = [(uid, None) for uid in page]
    if tp_free:
        enqueue(svc, plan, tp_free)
    count += len(page)
    if more:
        return {
            "dispatch_id": dispatch_id,
            "unit": unit_name,
            "skip": skip + len(page),
            "count": count,
            "done": False,
        }
    svc.ledger.put_unit_count(dispatch_id, unit_name, count * len(plan.steps()))
    return {
        "dispatch_id": dispatch_id,
        "unit": unit_name,
        "skip": skip + len(page),
        "count": count,
        "done": True,
    }


def _wait_s(created_at: datetime) -> int:
    elapsed = (clock.now() - created_at).total_seconds()
    return int(min(MAX_WAIT_S, max(MIN_WAIT_S, elapsed / 4)))


def seal(svc: CampaignsService, dispatch_id: str) -> dict[str, Any]:
    """Task ``seal``: target = sum of the unit counts; then the same answer as :func:`poll`."""
    record = _record(svc, dispatch_id)
    counts = svc.ledger.unit_counts(dispatch_id)
    expected = {u.name for u in units_for(record.plan.audience)}
    missing = expected - set(counts)
    if missing:
        raise DispatchError(f"dispatch {dispatch_id}: units not enqueued: {sorted(missing)[:5]}")
    target = sum(counts[name] for name in expected)
    svc.ledger.update_dispatch(dispatch_id, status="sending", target=target)
    return poll(svc, dispatch_id)


def poll(svc: CampaignsService, dispatch_id: str) -> dict[str, Any]:
    """Task ``poll``: ``{"dispatch_id", "done", "wait_s", "target", "counts"}``; when every
    recipient has an outcome the dispatch is marked complete with its counts."""
    record = _record(svc, dispatch_id)
    progress = svc.ledger.progress(dispatch_id)
    counts = dict(progress.counts)
    if progress.done:
        if record.status != "complete":
            svc.ledger.update_dispatch(dispatch_id, status="complete", counts=counts, finished_at=clock.now())
        return {
            "dispatch_id": dispatch_id,
            "done": True,
            "wait_s": 0,
            "target": progress.target,
            "counts": counts,
        }
    return {
        "dispatch_id": dispatch_id,
        "done": False,
        "wait_s": _wait_s(record.created_at),
        "target": progress.target,
        "counts": counts,
    }


def run_task(svc: CampaignsService, event: dict[str, Any]) -> dict[str, Any]:
    """The send run's Lambda task: ``event["action"]`` is resolve, enqueue, seal or poll.

    Raises ValidationError for an unknown action and DispatchError for an unknown dispatch.
    """
    action = event.get("action")
    dispatch_id = str(event.get("dispatch_id") or "")
    if action == "resolve":
        return resolve(svc, dispatch_id)
    if action == "enqueue":
        return enqueue_unit(
            svc, dispatch_id, str(event["unit"]), int(event.get("skip") or 0), int(event.get("count") or 0)
        )
    if action == "seal":
        return seal(svc, dispatch_id)
    if action == "poll":
        return poll(svc, dispatch_id)
    raise ValidationError(f"unknown send run action {action!r}")


def status(svc: CampaignsService, dispatch_id: str) -> dict[str, Any]:
    """A dispatch's status: ``{"dispatch_id", "status", "target", "counts", "created_at", ...}``.

    Raises NotFoundError for an unknown dispatch.
    """
    record = svc.ledger.get_dispatch(dispatch_id)
    if record is None:
        raise NotFoundError(f"no dispatch {dispatch_id}")
    progress = svc.ledger.progress(dispatch_id)
    return {
        "dispatch_id": dispatch_id,
        "status": "complete" if progress.done else record.status,
        "target": progress.target,
        "counts": dict(progress.counts),
        "messages": progress.messages,
        "created_at": clock.utc_iso(record.created_at),
        "campaign_id": record.plan.campaign_id,
        "send_id": record.plan.send_id,
    }


def run_inline(svc: CampaignsService, dispatch_id: str) -> None:
    """Run a send run's tasks in process, in order (unit tests and the CLI without Step Functions)."""
    resolved = resolve(svc, dispatch_id)
    for name in resolved["units"]:
        out = enqueue_unit(svc, dispatch_id, name)
        while not out["done"]:
            out = enqueue_unit(svc, dispatch_id, name, out["skip"], out["count"])
    seal(svc, dispatch_id)
