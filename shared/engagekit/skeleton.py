"""The walking skeleton's use cases: a ping that travels route -> table -> stream -> queue ->
state machine -> Firehose. It proves the plumbing of both targets; real features replace it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from engagekit import aws, clock
from engagekit.dynamo import bind
from engagekit.errors import NotFoundError, ValidationError


class PingItem(Model):
    class Meta:
        table_name = "skeleton"

    pk = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    ticks = NumberAttribute(default=0)


def _bound(table: str) -> type[PingItem]:
    return bind(PingItem, table)


def create_ping(table: str, ping_id: str) -> dict[str, Any]:
    """Store ping ``ping_id`` with status ``new``. Raises ValidationError for a bad id."""
    if not ping_id or len(ping_id) > 128:
        raise ValidationError("'id' must be a non-empty string of at most 128 characters")
    item = _bound(table)(f"ping#{ping_id}", status="new", created_at=clock.now())
    item.save()
    return {"id": ping_id, "status": "new"}


def get_ping(table: str, ping_id: str) -> dict[str, Any]:
    """The ping's status. Raises NotFoundError."""
    model = _bound(table)
    try:
        item = model.get(f"ping#{ping_id}", consistent_read=True)
    except model.DoesNotExist as exc:
        raise NotFoundError(f"no ping {ping_id}") from exc
    return {"id": ping_id, "status": item.status}


def enqueue_new_pings(queue_url: str, records: list[dict[str, Any]]) -> int:
    """Send one message per newly inserted ping to the work queue, ten a call. Returns messages sent."""
    ids = [
        r["dynamodb"]["Keys"]["pk"]["S"].removeprefix("ping#")
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["pk"]["S"].startswith("ping#")
    ]
    for start in range(0, len(ids), 10):
        aws.client("sqs").send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "MessageBody": json.dumps({"id": p})}
                for i, p in enumerate(ids[start : start + 10])
            ],
        )
    return len(ids)


def start_run(state_machine_arn: str, ping_id: str) -> str:
    """Start the skeleton state machine for a ping, named after it (idempotent: a second start with
    the same name and input is a no-op in Step Functions)."""
    out = aws.client("stepfunctions").start_execution(
        stateMachineArn=state_machine_arn, name=f"ping-{ping_id}"[:80], input=json.dumps({"id": ping_id})
    )
    return str(out["executionArn"])


def export_event(stream: str, ping_id: str, at: datetime) -> None:
    """Write one Currents-shaped event for the ping to the Firehose stream."""
    event = {"id": f"ping-{ping_id}", "event_type": "engagekit.skeleton.Ping", "time": int(at.timestamp())}
    aws.client("firehose").put_record_batch(
        DeliveryStreamName=stream, Records=[{"Data": (json.dumps(event) + "\n").encode()}]
    )


def mark_done(table: str, ping_id: str) -> dict[str, Any]:
    """Set the ping's status to ``done``."""
    model = _bound(table)
    model(f"ping#{ping_id}").update(actions=[model.status.set("done")])
    return {"id": ping_id, "status": "done"}


def tick(table: str) -> int:
    """Count one scheduled tick; returns the new count (an atomic ADD)."""
    model = _bound(table)
    item = model("ticks", status="ticks", created_at=clock.now())
    item.update(actions=[model.ticks.add(1), model.status.set("ticks"), model.created_at.set(clock.now())])
    return int(item.ticks)
