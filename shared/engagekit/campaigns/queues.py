"""The channel queues port: put send batches on a channel's SQS queue, ten messages per request.

:class:`SqsSendQueues` is the boto3 adapter (``SendMessageBatch``: at most 10 entries and 256 KiB
per call, SQS quotas; failed entries are resent, up to :data:`MAX_ATTEMPTS` calls);
:class:`FakeSendQueues` keeps bodies in memory and counts requests (tests, the bench).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from engagekit.campaigns.plan import MAX_BATCH_BYTES
from engagekit.errors import EngagekitError

ENTRIES_PER_CALL = 10
"""SendMessageBatch takes at most 10 entries (SQS quotas)."""
MAX_ATTEMPTS = 4


class QueueError(EngagekitError):
    """SQS refused messages after every attempt."""


class SendQueues(Protocol):
    """Where send batches go: one queue per channel, named as in the manifest (``send_email``...)."""

    def send(self, queue: str, bodies: Sequence[str]) -> None:
        """Enqueue every body on ``queue``; raises :class:`QueueError` when SQS keeps refusing."""
        ...


def calls(bodies: Sequence[str], max_bytes: int = MAX_BATCH_BYTES) -> list[list[str]]:
    """Group ``bodies`` into SendMessageBatch calls of ≤ 10 entries and ≤ ``max_bytes`` in all."""
    out: list[list[str]] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        n = len(body.encode())
        if current and (len(current) >= ENTRIES_PER_CALL or size + n > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append(body)
        size += n
    if current:
        out.append(current)
    return out


class SqsSendQueues:
    """:class:`SendQueues` over boto3 SQS; ``urls`` maps queue names to queue URLs."""

    def __init__(self, urls: Mapping[str, str], client: Any | None = None) -> None:
        self._urls = dict(urls)
        self._client = client
        self.requests = 0
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            from engagekit import aws

            self._client = aws.client("sqs")
        return self._client

    def send(self, queue: str, bodies: Sequence[str]) -> None:
        try:
            url = self._urls[queue]
        except KeyError as exc:
            raise QueueError(f"no URL configured for queue {queue!r}") from exc
        for call in calls(bodies):
            pending = {str(i): body for i, body in enumerate(call)}
            for _ in range(MAX_ATTEMPTS):
                with self._lock:
                    self.requests += 1
                resp = self.client.send_message_batch(
                    QueueUrl=url, Entries=[{"Id": i, "MessageBody": b} for i, b in pending.items()]
                )
                failed = {f["Id"] for f in resp.get("Failed", [])}
                pending = {i: b for i, b in pending.items() if i in failed}
                if not pending:
                    break
            if pending:
                raise QueueError(
                    f"SQS refused {len(pending)} messages for {queue} after {MAX_ATTEMPTS} attempts"
                )


class FakeSendQueues:
    """In-memory :class:`SendQueues`: ``bodies[queue]`` in order; ``requests`` counts calls."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[str]] = {}
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, queue: str, bodies: Sequence[str]) -> None:
        with self._lock:
            for call in calls(bodies):
                self.requests[queue] += 1
                self.bodies.setdefault(queue, []).extend(call)

    def drain(self, queue: str) -> list[str]:
        """Take every body queued on ``queue``."""
        with self._lock:
            return self.bodies.pop(queue, [])
