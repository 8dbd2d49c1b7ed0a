"""cdk-nag (AwsSolutions) for the app, and every acknowledgement it makes, each with its reason.

cdk-nag 3 is a CDK policy-validation plugin: :func:`add_checks` registers it on the app, and
``app.synth()`` raises ``ValidationFailed`` (a ``RuntimeError`` through jsii) while an error is not
acknowledged. Acknowledgements go through CDK's own ``Validations.of(scope).acknowledge`` and are
recorded as ``aws:cdk:acknowledged-rules`` metadata in the cloud assembly, where the infra tests and
``docs/deploy.md`` read them. Each is placed on the narrowest construct that owns the finding and,
for IAM5, names the one wildcard it accepts (cdk-nag 3 has no prefix matching).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PLUGIN: Final = "AwsSolutions"


@dataclass(frozen=True)
class Ack:
    """A rule (``AwsSolutions-L1``) and the reason it does not apply where it is acknowledged."""

    rule: str
    reason: str


# --- the catalogue: every reason the app acknowledges a rule, in one place --------------------
LAMBDA_RUNTIME_PINNED: Final = Ack(
    "AwsSolutions-L1",
    "Runtime pinned to python3.12 because the dependency layer is built from cp312 manylinux wheels "
    "(infra/cdk/layer.py); the runtime and the layer move together.",
)
XRAY_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions; '*' is required.",
)
LOGS_DELIVERY_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "Step Functions log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) has no "
    "resource-level permissions; '*' is required.",
)
STREAM_LIST_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "dynamodb:ListStreams has no resource-level permissions; the DynamoDB event source needs it on '*'.",
)
GSI_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "Reads through the table's global secondary indexes need <table ARN>/index/*; scoped to one table.",
)
OBJECTS_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "Object keys are per event and date, not known at deploy time; scoped to one bucket (and prefix).",
)
SES_IDENTITY_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "Senders use the verified SES identities of the account, configured after deploy; scoped to SES "
    "identities of this account and region.",
)
SNS_SMS_WILDCARD: Final = Ack(
    "AwsSolutions-IAM5",
    "SMS is published directly to phone numbers, which have no ARN; sns:Publish needs '*'.",
)
HTTP_API_AUTH_IN_HANDLER: Final = Ack(
    "AwsSolutions-APIG4",
    "Braze-compatible REST API keys (Bearer) are verified in the function: hashed, scoped to Braze "
    "permissions, compared in constant time. An IAM/JWT authorizer would break Braze clients.",
)


def add_checks(app: App) -> None:
    """Register the AwsSolutions pack on ``app``; synthesis then fails on unacknowledged errors."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, ack: Ack, finding: str | None = None) -> None:
    """Acknowledge ``ack.rule`` (or its one ``finding``, e.g. ``Resource::*``) on ``scope`` and below."""
    rule = f"{ack.rule}[{finding}]" if finding else ack.rule
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PLUGIN}::{rule}", reason=ack.reason))


def getatt(element: IConstruct, attribute: str, suffix: str = "") -> str:
    """How cdk-nag prints ``Fn::GetAtt [<logical id>, attribute]`` followed by ``suffix``.

    ``element`` is an L2 construct or its ``CfnElement``; e.g. ``<TablesprofilesABC123.Arn>/index/*``.
    """
    cfn = element if isinstance(element, CfnElement) else element.node.default_child
    assert isinstance(cfn, CfnElement), f"{element.node.path} has no CloudFormation resource"
    return f"<{Stack.of(cfn).get_logical_id(cfn)}.{attribute}>{suffix}"


def resource(value: str) -> str:
    """The IAM5 finding id for one wildcard resource as cdk-nag prints it: ``Resource::<value>``."""
    return f"Resource::{value}"
