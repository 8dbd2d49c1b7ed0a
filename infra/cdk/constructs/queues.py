"""SQS queues of the manifest, each with its dead-letter queue and redrive policy."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.spec import Queue


class Queues(Construct):
    """Per :class:`infra.spec.Queue`: the queue (id = name) and its DLQ (id = ``Queue.dlq_name``).

    The queue redrives to the DLQ after ``max_receive_count`` receives (SQS redrive policy). Both are
    SQS-managed-encrypted and refuse non-TLS requests (``aws:SecureTransport``).
    """

    def __init__(self, scope: Construct, construct_id: str, specs: tuple[Queue, ...]) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, sqs.Queue] = {}
        self.dlqs: dict[str, sqs.Queue] = {}
        for spec in specs:
            dlq = sqs.Queue(
                self,
                spec.dlq_name,
                retention_period=Duration.seconds(spec.dlq_retention_s),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
            )
            self.dlqs[spec.name] = dlq
            self.by_name[spec.name] = sqs.Queue(
                self,
                spec.name,
                visibility_timeout=Duration.seconds(spec.visibility_timeout_s),
                retention_period=Duration.seconds(spec.retention_s),
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dlq),
            )
