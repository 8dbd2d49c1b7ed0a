"""Least-privilege IAM for a manifest :class:`infra.spec.Access`: exact actions, exact resources.

The action lists are written out here (no ``s3:Get*`` style wildcards) so the infra tests can check a
role against them. Resource wildcards appear only where the AWS API requires or implies them
(GSI ARNs, object keys, SES identities, SMS publishing); each is returned as a cdk-nag finding so
the caller acknowledges exactly that finding with the reason from :mod:`infra.cdk.nag`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam

from infra.cdk import nag
from infra.cdk.constructs.email import configuration_set_arn
from infra.cdk.errors import SynthError
from infra.cdk.registry import Resources
from infra.spec import Access, Manifest

_TABLE_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
_TABLE_WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
_BUCKET_READ = ("s3:GetObject", "s3:ListBucket")
_BUCKET_WRITE = ("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject")


def _union(*groups: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({a for g in groups for a in g}))


ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("table", "read"): _TABLE_READ,
    ("table", "write"): _TABLE_WRITE,
    ("table", "read_write"): _union(_TABLE_READ, _TABLE_WRITE),
    ("queue", "send"): ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"),
    ("queue", "consume"): (
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
    ),
    ("bucket", "read"): _BUCKET_READ,
    ("bucket", "write"): _BUCKET_WRITE,
    ("bucket", "read_write"): _union(_BUCKET_READ, _BUCKET_WRITE),
    ("delivery_stream", "put"): ("firehose:PutRecord", "firehose:PutRecordBatch"),
    ("state_machine", "start"): ("states:StartExecution",),
    ("function", "invoke"): ("lambda:InvokeFunction",),
    ("ses", "send_email"): ("ses:SendEmail", "ses:SendRawEmail"),
    ("sns", "publish"): ("sns:Publish",),
}
"""Every (Access.kind, Access.action) the manifest may declare, mapped to its IAM actions."""


@dataclass(frozen=True)
class Wildcard:
    """A resource wildcard a grant needs: the IAM5 ``finding`` as cdk-nag prints it, and its reason."""

    finding: str
    ack: nag.Ack


def actions_for(access: Access) -> tuple[str, ...]:
    """The IAM actions of ``access``; raises :class:`SynthError` for a pair not in :data:`ACTIONS`."""
    try:
        return ACTIONS[(access.kind, access.action)]
    except KeyError as exc:
        raise SynthError(f"unsupported access {access.kind}/{access.action} on {access.name!r}") from exc


def grant(principal: iam.IRole, access: Access, resources: Resources, manifest: Manifest) -> list[Wildcard]:
    """Add one policy statement for ``access`` to ``principal``'s default policy.

    Returns the resource wildcards the statement contains (empty for most grants); the caller
    acknowledges them on ``principal`` with :func:`acknowledge`. Raises :class:`SynthError` if the
    access pair is unsupported or names a resource the stack has not built.
    """
    actions = list(actions_for(access))
    arns, wildcards = _resources(principal, access, resources, manifest)
    principal.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=arns))
    return wildcards


def acknowledge(principal: iam.IRole, wildcards: list[Wildcard]) -> None:
    """Acknowledge each wildcard's IAM5 finding on ``principal`` only.

    Two grants needing the same wildcard (X-Ray and SMS both need ``*``) share one acknowledgement
    whose reason joins both reasons.
    """
    reasons: dict[tuple[str, str], list[str]] = {}
    for wildcard in wildcards:
        said = reasons.setdefault((wildcard.ack.rule, wildcard.finding), [])
        if wildcard.ack.reason not in said:
            said.append(wildcard.ack.reason)
    for (rule, finding), said in reasons.items():
        nag.acknowledge(principal, nag.Ack(rule, " ".join(said)), nag.resource(finding))


def _resources(
    scope: iam.IRole, access: Access, resources: Resources, manifest: Manifest
) -> tuple[list[str], list[Wildcard]]:
    name = access.name
    try:
        match access.kind:
            case "table":
                table = resources.tables[name]
                if manifest.table(name).gsis and access.action in ("read", "read_write"):
                    wildcard = Wildcard(nag.getatt(table, "Arn", "/index/*"), nag.GSI_WILDCARD)
                    return [table.table_arn, f"{table.table_arn}/index/*"], [wildcard]
                return [table.table_arn], []
            case "queue":
                return [resources.queues[name].queue_arn], []
            case "bucket":
                bucket = resources.buckets[name]
                wildcard = Wildcard(nag.getatt(bucket, "Arn", "/*"), nag.OBJECTS_WILDCARD)
                return [bucket.bucket_arn, bucket.arn_for_objects("*")], [wildcard]
            case "delivery_stream":
                return [resources.delivery_streams[name].attr_arn], []
            case "state_machine":
                return [resources.state_machines[name].state_machine_arn], []
            case "function":
                return [resources.functions[name].function_arn], []
    except KeyError as exc:
        raise SynthError(f"access to unknown {access.kind} {name!r}") from exc
    stack = Stack.of(scope)
    if access.kind == "ses":
        # SES v2 SendEmail authorizes the identity and, when the call names one, the configuration
        # set: a sender may use the manifest's configuration sets (and no other).
        arn = stack.format_arn(service="ses", resource="identity", resource_name=name)
        sets = [configuration_set_arn(stack, cs.name) for cs in manifest.email_configuration_sets]
        printed = f"arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/{name}"
        return [arn, *sets], ([Wildcard(printed, nag.SES_IDENTITY_WILDCARD)] if "*" in name else [])
    if name == "*":  # sns publish to phone numbers (SMS)
        return ["*"], [Wildcard("*", nag.SNS_SMS_WILDCARD)]
    arn = stack.format_arn(service="sns", resource=name, arn_format=ArnFormat.NO_RESOURCE_NAME)
    return [arn], []
