"""The built constructs, by manifest kind and name, and how a :class:`infra.spec.Ref` resolves.

Every capability construct registers what it builds here; environment variables, ASL definition
substitutions and grants are resolved against this registry, so no construct knows another's ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from infra.cdk.errors import SynthError
from infra.spec import Ref


@dataclass
class Resources:
    """What the stack has built so far; filled in construction order (data, functions, state machines)."""

    tables: dict[str, dynamodb.Table] = field(default_factory=dict)
    queues: dict[str, sqs.Queue] = field(default_factory=dict)
    buckets: dict[str, s3.Bucket] = field(default_factory=dict)
    delivery_streams: dict[str, firehose.CfnDeliveryStream] = field(default_factory=dict)
    state_machines: dict[str, sfn.StateMachine] = field(default_factory=dict)
    functions: dict[str, lambda_.Function] = field(default_factory=dict)

    def resolve(self, ref: Ref) -> str:
        """The CloudFormation value (a token string) of ``ref``: the resource's name, ARN or URL.

        ``url`` exists only for queues. Raises :class:`SynthError` for an unknown resource, a
        resource not built yet, or an attribute its kind does not have.
        """
        try:
            value = self._attributes(ref)[ref.attr]
        except KeyError as exc:
            raise SynthError(f"cannot resolve {ref}: unknown resource or attribute") from exc
        return value

    def _attributes(self, ref: Ref) -> dict[str, str]:
        match ref.kind:
            case "table":
                t = self.tables[ref.name]
                return {"name": t.table_name, "arn": t.table_arn}
            case "queue":
                q = self.queues[ref.name]
                return {"name": q.queue_name, "arn": q.queue_arn, "url": q.queue_url}
            case "bucket":
                b = self.buckets[ref.name]
                return {"name": b.bucket_name, "arn": b.bucket_arn}
            case "delivery_stream":
                d = self.delivery_streams[ref.name]
                return {"name": d.ref, "arn": d.attr_arn}
            case "state_machine":
                m = self.state_machines[ref.name]
                return {"name": m.state_machine_name, "arn": m.state_machine_arn}
            case "function":
                f = self.functions[ref.name]
                return {"name": f.function_name, "arn": f.function_arn}
        raise KeyError(ref.kind)
