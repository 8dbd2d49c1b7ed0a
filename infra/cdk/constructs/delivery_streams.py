"""Firehose delivery streams of the manifest: Direct PUT into S3 with GZIP and dynamic partitioning."""

from __future__ import annotations

import re

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk import nag
from infra.cdk.constructs.log_groups import log_group
from infra.cdk.errors import SynthError
from infra.spec import DeliveryStream

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_P = firehose.CfnDeliveryStream


def metadata_extraction_query(partition_keys: tuple[tuple[str, str], ...]) -> str:
    """The JQ object Firehose evaluates per record, e.g. ``{event_type: .event_type}``.

    Raises :class:`SynthError` for a key that is not a JQ identifier (Firehose dynamic partitioning).
    """
    for key, _ in partition_keys:
        if not _KEY.match(key):
            raise SynthError(f"partition key {key!r} is not a JQ identifier")
    return "{" + ", ".join(f"{key}: {path}" for key, path in partition_keys) + "}"


def _static_head(prefix: str) -> str:
    """The part of an S3 prefix before its first Firehose expression (``!{...}``)."""
    return prefix.split("!{", 1)[0]


def processors(spec: DeliveryStream) -> list[_P.ProcessorProperty]:
    """The record processors ``spec`` declares, in Firehose's order; empty when it declares none.

    RecordDeAggregation (``deaggregation``), MetadataExtraction with JQ-1.6 (``partition_keys``),
    AppendDelimiterToRecord (``append_delimiter``). Raises :class:`SynthError` for deaggregation
    without partition keys: Firehose offers record deaggregation only with dynamic partitioning.
    """

    def param(name: str, value: str) -> _P.ProcessorParameterProperty:
        return _P.ProcessorParameterProperty(parameter_name=name, parameter_value=value)

    if spec.deaggregation and not spec.partition_keys:
        raise SynthError(f"delivery stream {spec.name}: deaggregation needs partition_keys (Firehose)")
    out: list[_P.ProcessorProperty] = []
    if spec.deaggregation:
        sub_record = param("SubRecordType", spec.deaggregation)
        out.append(_P.ProcessorProperty(type="RecordDeAggregation", parameters=[sub_record]))
    if spec.partition_keys:
        query = metadata_extraction_query(spec.partition_keys)
        out.append(
            _P.ProcessorProperty(
                type="MetadataExtraction",
                parameters=[param("MetadataExtractionQuery", query), param("JsonParsingEngine", "JQ-1.6")],
            )
        )
    if spec.append_delimiter:
        out.append(_P.ProcessorProperty(type="AppendDelimiterToRecord", parameters=[]))
    return out


class DeliveryStreams(Construct):
    """Per :class:`infra.spec.DeliveryStream` (id = name): the stream, its role, its error log.

    ExtendedS3 destination into the manifest bucket with ``prefix``/``error_prefix``, buffering hints
    (``buffer_s`` seconds, ``buffer_mib`` MiB), compression, SSE with an AWS-owned key, and, when
    ``partition_keys`` is set, dynamic partitioning; the record processors are :func:`processors`.
    The role may write objects only under the static heads of both prefixes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        specs: tuple[DeliveryStream, ...],
        buckets: dict[str, s3.Bucket],
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, firehose.CfnDeliveryStream] = {}
        for spec in specs:
            self.by_name[spec.name] = self._stream(spec, buckets[spec.bucket])

    def _stream(self, spec: DeliveryStream, bucket: s3.Bucket) -> firehose.CfnDeliveryStream:
        group = Construct(self, spec.name)
        log_grp = log_group(group, C.LOG_GROUP)
        log_stream = logs.LogStream(group, C.LOG_STREAM, log_group=log_grp)
        role = iam.Role(group, C.ROLE, assumed_by=iam.ServicePrincipal("firehose.amazonaws.com"))
        heads = sorted({_static_head(spec.prefix), _static_head(spec.error_prefix)})
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[bucket.bucket_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{head}*") for head in heads],
            )
        )
        stream_arn = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{log_grp.log_group_name}:log-stream:{log_stream.log_stream_name}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["logs:PutLogEvents"], resources=[stream_arn])
        )
        for head in heads:
            nag.acknowledge(role, nag.OBJECTS_WILDCARD, nag.resource(nag.getatt(bucket, "Arn", f"/{head}*")))

        partitioned = bool(spec.partition_keys)
        steps = processors(spec)
        stream = firehose.CfnDeliveryStream(
            group,
            "Resource",
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=_P.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
            extended_s3_destination_configuration=_P.ExtendedS3DestinationConfigurationProperty(
                bucket_arn=bucket.bucket_arn,
                role_arn=role.role_arn,
                prefix=spec.prefix,
                error_output_prefix=spec.error_prefix,
                buffering_hints=_P.BufferingHintsProperty(
                    interval_in_seconds=spec.buffer_s, size_in_m_bs=spec.buffer_mib
                ),
                compression_format=spec.compression,
                cloud_watch_logging_options=_P.CloudWatchLoggingOptionsProperty(
                    enabled=True,
                    log_group_name=log_grp.log_group_name,
                    log_stream_name=log_stream.log_stream_name,
                ),
                dynamic_partitioning_configuration=_P.DynamicPartitioningConfigurationProperty(
                    enabled=True,
                    retry_options=_P.RetryOptionsProperty(duration_in_seconds=C.FIREHOSE_RETRY_S),
                )
                if partitioned
                else None,
                processing_configuration=_P.ProcessingConfigurationProperty(enabled=True, processors=steps)
                if steps
                else None,
            ),
        )
        policy = role.node.try_find_child("DefaultPolicy")
        if policy is not None:  # Firehose checks its role's access when the stream is created
            stream.node.add_dependency(policy)
        return stream
