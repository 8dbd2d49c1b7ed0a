"""Each manifest resource is configured as its declaration says (and with the cloud-only defaults).

Checks go through ``aws_cdk.assertions.Template`` on the session's synthesized stack; resources are
located by construct path, so the checks are generic over whatever the manifest declares.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.cdk.constructs.delivery_streams import metadata_extraction_query
from infra.cdk.constructs.triggers import schedule_minutes
from infra.cdk.layer import ROOT
from infra.manifest import MANIFEST
from infra.spec import QueueTrigger, Ref, ScheduleTrigger, StreamTrigger
from tests.infra.conftest import (
    KIND_PATH,
    Synth,
    bucket_path,
    delivery_stream_path,
    function_path,
    queue_path,
    state_machine_path,
    table_path,
)


def props(synth: Synth, path: str) -> dict[str, Any]:
    return dict(synth.resources[synth.logical_id(path)]["Properties"])


def ref_value(synth: Synth, ref: Ref) -> Any:
    """The CloudFormation expression a Ref must resolve to in an environment variable."""
    lid = synth.logical_id(KIND_PATH[ref.kind](ref.name))
    if ref.attr == "url" or (ref.attr == "name" and ref.kind in ("table", "bucket", "delivery_stream")):
        return {"Ref": lid}  # Ref of a queue is its URL; of a table/bucket/stream, its name
    if ref.attr == "arn" and ref.kind == "state_machine":
        return {"Ref": lid}
    attr = {"arn": "Arn", "name": "QueueName" if ref.kind == "queue" else "Name"}[ref.attr]
    return {"Fn::GetAtt": [lid, attr]}


def rate_seconds(expression: str) -> int:
    """``rate(5 minutes)`` / ``rate(1 hour)`` / ``rate(2 days)`` in seconds (EventBridge syntax)."""
    match = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression)
    assert match, expression
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[match.group(2)]


@pytest.mark.parametrize("name", [t.name for t in MANIFEST.tables])
def test_table_matches_its_declaration(synth: Synth, name: str) -> None:
    spec = synth.manifest.table(name)
    p = props(synth, table_path(name))
    keys = [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key.name, "KeyType": "RANGE"})
    assert p["KeySchema"] == keys
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p.get("StreamSpecification") == ({"StreamViewType": spec.stream} if spec.stream else None)
    ttl = p.get("TimeToLiveSpecification")
    assert ttl == ({"AttributeName": spec.ttl_attribute, "Enabled": True} if spec.ttl_attribute else None)
    gsis = p.get("GlobalSecondaryIndexes", [])
    assert sorted(g["IndexName"] for g in gsis) == sorted(g.name for g in spec.gsis)


@pytest.mark.parametrize("name", [q.name for q in MANIFEST.queues])
def test_queue_redrives_to_its_own_dlq(synth: Synth, name: str) -> None:
    spec = synth.manifest.queue(name)
    p = props(synth, queue_path(name))
    dlq = synth.logical_id(queue_path(spec.dlq_name))
    assert p["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
        "maxReceiveCount": spec.max_receive_count,
    }
    assert p["VisibilityTimeout"] == spec.visibility_timeout_s
    assert p["MessageRetentionPeriod"] == spec.retention_s
    assert props(synth, queue_path(spec.dlq_name))["MessageRetentionPeriod"] == spec.dlq_retention_s
    assert p["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("name", [b.name for b in MANIFEST.buckets])
def test_bucket_is_private_encrypted_logged_and_tls_only(synth: Synth, template: Any, name: str) -> None:
    from aws_cdk.assertions import Match

    lid = synth.logical_id(bucket_path(name))
    p = props(synth, bucket_path(name))
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert p["LoggingConfiguration"]["LogFilePrefix"] == f"{name}/"
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": lid},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize("name", [d.name for d in MANIFEST.delivery_streams])
def test_delivery_stream_matches_its_declaration(synth: Synth, name: str) -> None:
    spec = synth.manifest.delivery_stream(name)
    p = props(synth, delivery_stream_path(name))
    s3 = p["ExtendedS3DestinationConfiguration"]
    assert p["DeliveryStreamType"] == "DirectPut"
    assert s3["BucketARN"] == {"Fn::GetAtt": [synth.logical_id(bucket_path(spec.bucket)), "Arn"]}
    assert (s3["Prefix"], s3["ErrorOutputPrefix"]) == (spec.prefix, spec.error_prefix)
    assert s3["BufferingHints"] == {"IntervalInSeconds": spec.buffer_s, "SizeInMBs": spec.buffer_mib}
    assert s3["CompressionFormat"] == spec.compression
    assert ("DynamicPartitioningConfiguration" in s3) == bool(spec.partition_keys)
    steps = s3.get("ProcessingConfiguration", {}).get("Processors", [])

    def named(step: dict[str, Any]) -> tuple[str, dict[str, str]]:
        return step["Type"], {q["ParameterName"]: q["ParameterValue"] for q in step["Parameters"]}

    expected = []
    if spec.deaggregation:
        expected.append(("RecordDeAggregation", {"SubRecordType": spec.deaggregation}))
    if spec.partition_keys:
        query = metadata_extraction_query(spec.partition_keys)
        params = {"MetadataExtractionQuery": query, "JsonParsingEngine": "JQ-1.6"}
        expected.append(("MetadataExtraction", params))
    if spec.append_delimiter:
        expected.append(("AppendDelimiterToRecord", {}))
    actual = [named(step) for step in steps]
    assert actual == expected


@pytest.mark.parametrize("name", [s.name for s in MANIFEST.state_machines])
def test_state_machine_uses_its_asl_file_and_substitutions(synth: Synth, name: str) -> None:
    spec = synth.manifest.state_machine(name)
    p = props(synth, state_machine_path(name))
    asl = json.loads((ROOT / spec.asl_file).read_text())
    assert json.loads(p["DefinitionString"]) == asl
    assert p["DefinitionSubstitutions"] == {key: ref_value(synth, ref) for key, ref in spec.substitutions}
    assert p["LoggingConfiguration"]["Level"] == "ALL"
    assert p["TracingConfiguration"] == {"Enabled": True}
    assert p["StateMachineType"] == "STANDARD"


@pytest.mark.parametrize("name", [f.name for f in MANIFEST.functions])
def test_function_matches_its_declaration_and_the_defaults(synth: Synth, name: str) -> None:
    spec = synth.manifest.function(name)
    p = props(synth, function_path(name))
    assert (p["Runtime"], p["Architectures"], p["Handler"]) == ("python3.12", ["arm64"], "handler.handler")
    assert p["LoggingConfig"]["LogFormat"] == "JSON"
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert (p["MemorySize"], p["Timeout"]) == (spec.memory_mb, spec.timeout_s)
    assert p["Description"] == spec.description
    assert len(p["Layers"]) == 1
    expected_env = {k: v if isinstance(v, str) else ref_value(synth, v) for k, v in spec.environment}
    assert p.get("Environment", {}).get("Variables", {}) == expected_env


@pytest.mark.parametrize("name", [f.name for f in MANIFEST.functions if f.triggers])
def test_function_triggers_match_their_declaration(synth: Synth, template: Any, name: str) -> None:
    spec = synth.manifest.function(name)
    fn = {"Ref": synth.logical_id(function_path(name))}
    for trig in spec.triggers:
        if isinstance(trig, StreamTrigger):
            expected: dict[str, Any] = {
                "FunctionName": fn,
                "BatchSize": trig.batch_size,
                "MaximumRetryAttempts": trig.max_retries,
                "BisectBatchOnFunctionError": True,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "StartingPosition": trig.starting_position,
            }
            if trig.on_failure:
                queue = synth.logical_id(queue_path(trig.on_failure))
                expected["DestinationConfig"] = {"OnFailure": {"Destination": {"Fn::GetAtt": [queue, "Arn"]}}}
            template.has_resource_properties("AWS::Lambda::EventSourceMapping", expected)
        elif isinstance(trig, QueueTrigger):
            expected = {
                "FunctionName": fn,
                "BatchSize": trig.batch_size,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            }
            if trig.max_batching_window_s:
                expected["MaximumBatchingWindowInSeconds"] = trig.max_batching_window_s
            template.has_resource_properties("AWS::Lambda::EventSourceMapping", expected)
        elif isinstance(trig, ScheduleTrigger):
            schedule_minutes(trig)  # the app accepts the rate
            target = {
                "Arn": {"Fn::GetAtt": [fn["Ref"], "Arn"]},
                "Id": "Target0",
                "Input": json.dumps(json.loads(trig.input_json), separators=(",", ":")),
            }
            rules = template.find_resources("AWS::Events::Rule", {"Properties": {"Targets": [target]}})
            rates = [rate_seconds(r["Properties"]["ScheduleExpression"]) for r in rules.values()]
            assert trig.rate_s in rates, (trig.name, rates)


def test_http_integrations_use_payload_format_2(synth: Synth, template: Any) -> None:
    # given the routes, then every integration is AWS_PROXY with payload format 2.0
    template.all_resources_properties(
        "AWS::ApiGatewayV2::Integration", {"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0"}
    )
    stage = {"StageName": "$default", "AutoDeploy": True}
    template.has_resource_properties("AWS::ApiGatewayV2::Stage", stage)
