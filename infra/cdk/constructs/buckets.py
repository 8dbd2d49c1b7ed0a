"""S3 buckets of the manifest: encrypted, public access blocked, TLS only, server access logged."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk import constants as C
from infra.spec import Bucket


def _secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket | None = None,
    access_logs_prefix: str | None = None,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
) -> s3.Bucket:
    return s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        versioned=False,
        removal_policy=RemovalPolicy.RETAIN,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix,
        lifecycle_rules=lifecycle_rules,
    )


class Buckets(Construct):
    """One ``s3.Bucket`` per :class:`infra.spec.Bucket` (id = name), plus one helper bucket.

    The helper ``AccessLogs`` bucket receives the S3 server access logs of every manifest bucket
    (prefix ``<name>/``); it is not in the manifest because the local target has no equivalent.
    cdk-nag's S1 does not apply to it: it is the log destination (granted by bucket policy).
    ``expire_after_days`` becomes a lifecycle rule expiring current objects after that many days.
    """

    def __init__(self, scope: Construct, construct_id: str, specs: tuple[Bucket, ...]) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, s3.Bucket] = {}
        self.access_logs: s3.Bucket | None = None
        if not specs:
            return
        self.access_logs = _secure_bucket(self, C.ACCESS_LOGS_BUCKET)
        for spec in specs:
            lifecycle = (
                [s3.LifecycleRule(expiration=Duration.days(spec.expire_after_days))]
                if spec.expire_after_days
                else None
            )
            self.by_name[spec.name] = _secure_bucket(
                self,
                spec.name,
                access_logs=self.access_logs,
                access_logs_prefix=f"{spec.name}/",
                lifecycle_rules=lifecycle,
            )
