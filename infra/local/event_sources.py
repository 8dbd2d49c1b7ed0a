"""Event source mappings as Lambda runs them, which moto cannot (reference/local-aws.md).

- :class:`StreamMapping`: DynamoDB stream -> function, in order, ``batch_size`` records a call,
  ``ReportBatchItemFailures`` (retry from the first failed sequence number), ``max_retries`` then
  the failed batch's metadata goes to the on-failure queue and the shard moves on.
- :class:`QueueMapping`: SQS -> function, ``batch_size`` messages a call; successes are deleted,
  ``batchItemFailures`` (or an exception: the whole batch) stay in flight until the queue's
  visibility timeout passes on the platform clock, then are received again; SQS's redrive policy
  moves a message to the DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.lambdas import ACCOUNT_ID, REGION
from infra.spec import Queue, QueueTrigger, StreamTrigger

log = logging.getLogger("engagekit.local")
Invoke = Callable[[str, Any], Any]

# The runtime owns visibility on the platform clock; moto's own (wall-clock) timeout is set out of reach.
_HELD_S = 43_200


def failed_ids(result: Any) -> list[str] | None:
    """The ``itemIdentifier`` list of a ``batchItemFailures`` response, or None if absent."""
    if isinstance(result, dict) and isinstance(result.get("batchItemFailures"), list):
        return [str(f.get("itemIdentifier")) for f in result["batchItemFailures"]]
    return None


class StreamMapping:
    """One DynamoDB stream mapping. Thread-safe ``offer``; ``pump`` runs one batch."""

    def __init__(
        self,
        function: str,
        trigger: StreamTrigger,
        invoke: Invoke,
        on_failure: Callable[[dict[str, Any]], None],
    ):
        self.function = function
        self.trigger = trigger
        self._invoke = invoke
        self._on_failure = on_failure
        self._records: deque[dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._attempts = 0
        self.invocations = 0
        self.discarded = 0

    @property
    def table(self) -> str:
        return self.trigger.table

    def offer(self, record: dict[str, Any]) -> None:
        record = dict(record)
        record["eventSourceARN"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{self.table}/stream/local"
        with self._lock:
            self._records.append(record)

    def pending(self) -> int:
        with self._lock:
            return len(self._records)

    def pump(self) -> bool:
        """Deliver one batch; returns True if there was anything to deliver."""
        with self._lock:
            batch = list(self._records)[: self.trigger.batch_size]
        if not batch:
            return False
        self.invocations += 1
        try:
            result = self._invoke(self.function, {"Records": batch})
            failures = failed_ids(result) or []
        except Exception:
            log.exception("stream function %s failed", self.function)
            failures = [batch[0]["dynamodb"]["SequenceNumber"]]
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first_failed = next((i for i, s in enumerate(sequence) if s in failures), None)
        done = len(batch) if first_failed is None else first_failed
        with self._lock:
            for _ in range(done):
                self._records.popleft()
        if first_failed is None:
            self._attempts = 0
            return True
        self._attempts += 1
        if self._attempts > self.trigger.max_retries:
            failed = batch[first_failed:]
            self._on_failure(
                {
                    "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function},
                    "DDBStreamBatchInfo": {
                        "startSequenceNumber": failed[0]["dynamodb"]["SequenceNumber"],
                        "endSequenceNumber": failed[-1]["dynamodb"]["SequenceNumber"],
                        "batchSize": len(failed),
                        "streamArn": failed[0]["eventSourceARN"],
                    },
                }
            )
            with self._lock:
                for _ in failed:
                    self._records.popleft()
            self.discarded += len(failed)
            self._attempts = 0
        return True


@dataclass
class _InFlight:
    receipt_handle: str
    visible_at: float


class QueueMapping:
    """One SQS mapping over a boto3 SQS client (in process, under moto)."""

    def __init__(
        self,
        function: str,
        trigger: QueueTrigger,
        queue: Queue,
        queue_url: str,
        sqs: Any,
        invoke: Invoke,
        now: Callable[[], float],
    ):
        self.function = function
        self.trigger = trigger
        self.queue = queue
        self.queue_url = queue_url
        self._sqs = sqs
        self._invoke = invoke
        self._now = now
        self._in_flight: list[_InFlight] = []
        self._lock = threading.Lock()
        self.invocations = 0

    def waiting(self) -> int:
        """Messages in flight after a failure, waiting for their visibility timeout."""
        with self._lock:
            return len(self._in_flight)

    def visible(self) -> int:
        attrs = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def release_due(self) -> int:
        """Make messages whose platform-clock visibility timeout has passed visible again."""
        now = self._now()
        with self._lock:
            due = [m for m in self._in_flight if m.visible_at <= now]
            self._in_flight = [m for m in self._in_flight if m.visible_at > now]
        for m in due:
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=m.receipt_handle, VisibilityTimeout=0
                )
            except Exception:
                log.debug("visibility reset skipped", exc_info=True)
        return len(due)

    def pump(self) -> bool:
        """Receive and deliver one batch; returns True if a batch was delivered."""
        resp = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, self.trigger.batch_size),
            VisibilityTimeout=_HELD_S,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            return False
        self.invocations += 1
        event = {"Records": [self._record(m) for m in messages]}
        try:
            failures = set(failed_ids(self._invoke(self.function, event)) or [])
        except Exception:
            log.exception("queue function %s failed", self.function)
            failures = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failures]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        visible_at = self._now() + self.queue.visibility_timeout_s
        with self._lock:
            self._in_flight.extend(
                _InFlight(m["ReceiptHandle"], visible_at) for m in messages if m["MessageId"] in failures
            )
        return True

    def _record(self, m: dict[str, Any]) -> dict[str, Any]:
        attrs = m.get("Attributes", {})
        return {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {
                "ApproximateReceiveCount": attrs.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attrs.get("SentTimestamp", "0"),
                "SenderId": attrs.get("SenderId", ACCOUNT_ID),
                "ApproximateFirstReceiveTimestamp": attrs.get("ApproximateFirstReceiveTimestamp", "0"),
            },
            "messageAttributes": {
                k: {
                    "stringValue": v.get("StringValue"),
                    "binaryValue": v.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": v["DataType"],
                }
                for k, v in m.get("MessageAttributes", {}).items()
            },
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{self.queue.name}",
            "awsRegion": REGION,
        }


class Scheduler:
    """EventBridge rate rules on the platform clock: each fires once per ``rate_s`` of platform time."""

    def __init__(self, now: Callable[[], float], invoke: Invoke) -> None:
        self._now = now
        self._invoke = invoke
        self._rules: list[dict[str, Any]] = []

    def add(self, function: str, name: str, rate_s: int, input_json: str) -> None:
        self._rules.append(
            {
                "function": function,
                "name": name,
                "rate_s": rate_s,
                "input": json.loads(input_json),
                "next": self._now() + rate_s,
            }
        )

    def next_due(self) -> float | None:
        return min((r["next"] for r in self._rules), default=None)

    def fire_due(self) -> int:
        now, fired = self._now(), 0
        for rule in self._rules:
            if rule["next"] <= now:
                rule["next"] = now + rule["rate_s"]
                fired += 1
                try:
                    self._invoke(rule["function"], rule["input"])
                except Exception:
                    log.exception("scheduled function %s failed", rule["function"])
        return fired
