"""DynamoDB tables of the manifest: on-demand, point-in-time recovery, optional stream, TTL and GSIs."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.spec import Key, Table

_ATTR = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_STREAM = {
    "NEW_IMAGE": dynamodb.StreamViewType.NEW_IMAGE,
    "OLD_IMAGE": dynamodb.StreamViewType.OLD_IMAGE,
    "NEW_AND_OLD_IMAGES": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    "KEYS_ONLY": dynamodb.StreamViewType.KEYS_ONLY,
}
_PROJECTION = {"ALL": dynamodb.ProjectionType.ALL, "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY}


def _attr(key: Key) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTR[key.type])


class Tables(Construct):
    """One ``dynamodb.Table`` per :class:`infra.spec.Table`, construct id = manifest name.

    Tables are retained on stack deletion (they hold customer data) and have no physical name:
    functions receive the generated name through their environment.
    """

    def __init__(self, scope: Construct, construct_id: str, specs: tuple[Table, ...]) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, dynamodb.Table] = {}
        for spec in specs:
            table = dynamodb.Table(
                self,
                spec.name,
                partition_key=_attr(spec.partition_key),
                sort_key=_attr(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                stream=_STREAM[spec.stream] if spec.stream else None,
                time_to_live_attribute=spec.ttl_attribute,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for gsi in spec.gsis:
                table.add_global_secondary_index(
                    index_name=gsi.name,
                    partition_key=_attr(gsi.partition_key),
                    sort_key=_attr(gsi.sort_key) if gsi.sort_key else None,
                    projection_type=_PROJECTION[gsi.projection],
                )
            self.by_name[spec.name] = table
