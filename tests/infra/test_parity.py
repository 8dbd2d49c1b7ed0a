"""Manifest <-> template parity, both directions: nothing missing, nothing extra.

Given the manifest and the template synthesized from it, every declared resource (tables, queues and
their DLQs, buckets, delivery streams, state machines, functions, routes, event source mappings,
schedules, SES configuration sets with their event destination, SNS topic, topic key and queue
subscription) is in the template, and every template resource of those types is declared in the manifest
or is one of the app's own helpers, listed here by path and counted by type.
"""

from __future__ import annotations

from collections import Counter

import pytest

from infra.cdk import constants as C
from infra.cdk.constructs.analytics import families
from infra.spec import Manifest, QueueTrigger, ScheduleTrigger, StreamTrigger
from tests.infra.conftest import (
    Synth,
    bucket_path,
    delivery_stream_path,
    email_configuration_set_path,
    email_event_destination_path,
    email_key_path,
    email_topic_path,
    function_path,
    queue_path,
    refs,
    state_machine_path,
    table_path,
)

# Manifest-level types: each resource of these types must be declared (or be a listed helper).
HELPERS_BY_PATH = {
    "AWS::S3::Bucket": {f"{C.BUCKETS}/{C.ACCESS_LOGS_BUCKET}/Resource"},  # server access log target
}
# Derived from the manifest's ``currents`` delivery stream (infra/cdk/constructs/analytics.py):
# the Athena results bucket.
ANALYTICS_HELPERS = {f"{C.ANALYTICS}/{C.ATHENA_RESULTS_BUCKET}/Resource"}


def has_query_layer(m: Manifest) -> bool:
    """The Currents query layer (Glue, Athena, results bucket) exists when the stream does."""
    return any(d.name == C.CURRENTS_STREAM for d in m.delivery_streams)


def declared_paths(m: Manifest) -> dict[str, set[str]]:
    """The construct path (below the stack) of every manifest resource, by CloudFormation type."""
    return {
        "AWS::DynamoDB::Table": {table_path(t.name) for t in m.tables},
        "AWS::SQS::Queue": {queue_path(n) for q in m.queues for n in (q.name, q.dlq_name)},
        "AWS::S3::Bucket": {bucket_path(b.name) for b in m.buckets}
        | HELPERS_BY_PATH["AWS::S3::Bucket"]
        | (ANALYTICS_HELPERS if has_query_layer(m) else set()),
        "AWS::KinesisFirehose::DeliveryStream": {delivery_stream_path(d.name) for d in m.delivery_streams},
        "AWS::StepFunctions::StateMachine": {state_machine_path(s.name) for s in m.state_machines},
        "AWS::Lambda::Function": {function_path(f.name) for f in m.functions},
        "AWS::SES::ConfigurationSet": {
            email_configuration_set_path(c.name) for c in m.email_configuration_sets
        },
        "AWS::SES::ConfigurationSetEventDestination": {
            email_event_destination_path(c.name) for c in m.email_configuration_sets
        },
        "AWS::SNS::Topic": {email_topic_path(c.name) for c in m.email_configuration_sets},
        "AWS::KMS::Key": {email_key_path(c.name) for c in m.email_configuration_sets},
    }


def expected_type_counts(m: Manifest) -> Counter[str]:
    """How many resources of each type the app creates for ``m``, helpers included, no more."""
    routes = len(m.routes())
    schedules = sum(isinstance(t, ScheduleTrigger) for f in m.functions for t in f.triggers)
    mappings = sum(isinstance(t, StreamTrigger | QueueTrigger) for f in m.functions for t in f.triggers)
    roles = len(m.functions) + len(m.state_machines) + len(m.delivery_streams)  # one role each
    analytics = 1 if has_query_layer(m) else 0  # results bucket, Glue database, Athena workgroup
    email = len(m.email_configuration_sets)  # each: set, destination, key, topic, its policy, subscription
    counts: Counter[str] = Counter(
        {
            "AWS::DynamoDB::Table": len(m.tables),
            "AWS::SQS::Queue": 2 * len(m.queues),  # queue + DLQ
            "AWS::SQS::QueuePolicy": 2 * len(m.queues),  # TLS-only policy on each
            # + access log bucket, + Athena results bucket
            "AWS::S3::Bucket": len(m.buckets) + (1 if m.buckets else 0) + analytics,
            "AWS::S3::BucketPolicy": len(m.buckets) + (1 if m.buckets else 0) + analytics,
            "AWS::KinesisFirehose::DeliveryStream": len(m.delivery_streams),
            "AWS::Logs::LogStream": len(m.delivery_streams),  # Firehose delivery errors
            "AWS::StepFunctions::StateMachine": len(m.state_machines),
            "AWS::Lambda::Function": len(m.functions),
            "AWS::Lambda::LayerVersion": 1 if m.functions else 0,
            "AWS::IAM::Role": roles,
            "AWS::IAM::Policy": roles,  # each role's DefaultPolicy
            # functions, state machines, delivery streams, HTTP API access logs
            "AWS::Logs::LogGroup": roles + (1 if routes else 0),
            "AWS::ApiGatewayV2::Api": 1 if routes else 0,
            "AWS::ApiGatewayV2::Stage": 1 if routes else 0,
            "AWS::ApiGatewayV2::Route": routes,
            "AWS::ApiGatewayV2::Integration": routes,
            "AWS::Lambda::Permission": routes + schedules,  # API Gateway and EventBridge may invoke
            "AWS::Lambda::EventSourceMapping": mappings,
            "AWS::Events::Rule": schedules,
            "AWS::Glue::Database": analytics,
            "AWS::Glue::Table": analytics * len(families()),  # one per Currents event family
            "AWS::Athena::WorkGroup": analytics,
            "AWS::SES::ConfigurationSet": email,
            "AWS::SES::ConfigurationSetEventDestination": email,
            "AWS::KMS::Key": email,
            "AWS::SNS::Topic": email,
            "AWS::SNS::TopicPolicy": email,  # TLS-only publishing, SES may publish
            "AWS::SNS::Subscription": email,  # the feedback queue (its policy statement: same QueuePolicy)
        }
    )
    return +counts  # drop zero counts


def test_every_template_resource_type_is_accounted_for(synth: Synth) -> None:
    # given the manifest, when the template is synthesized, then each type occurs exactly as planned
    actual = Counter(r["Type"] for r in synth.resources.values() if r["Type"] != "AWS::CDK::Metadata")
    assert actual == expected_type_counts(synth.manifest)


@pytest.mark.parametrize("cfn_type", sorted(declared_paths(Manifest())))
def test_manifest_resources_and_template_resources_match(synth: Synth, cfn_type: str) -> None:
    # given the declared paths of one type, then the template has exactly those resources of it
    prefix = f"{C.STACK_ID}/"
    in_template = {
        synth.resources[lid]["Metadata"]["aws:cdk:path"].removeprefix(prefix)
        for lid in synth.of_type(cfn_type)
    }
    expected = declared_paths(synth.manifest)[cfn_type]
    assert sorted(expected - in_template) == [], "declared but not in the template"
    assert sorted(in_template - expected) == [], "in the template but not declared"


def test_http_routes_match_the_manifest_and_reach_their_function(synth: Synth) -> None:
    # given the manifest's routes, when the API is synthesized, then each route key exists once and
    # its integration invokes the declaring function; no other route exists
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    actual: dict[str, str] = {}
    for route in synth.of_type("AWS::ApiGatewayV2::Route").values():
        target = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]  # "integrations/<id>"
        (fn_id,) = refs(integrations[target]["Properties"]["IntegrationUri"])
        actual[route["Properties"]["RouteKey"]] = fn_id
    expected = {r.route_key: synth.logical_id(function_path(f.name)) for r, f in synth.manifest.routes()}
    assert actual == expected


def test_event_source_mappings_match_the_manifest(synth: Synth) -> None:
    # given stream and queue triggers, then each is one mapping from its source to its function
    expected: set[tuple[str, str, str]] = set()
    for fn in synth.manifest.functions:
        fn_id = synth.logical_id(function_path(fn.name))
        for trig in fn.triggers:
            if isinstance(trig, StreamTrigger):
                expected.add((fn_id, synth.logical_id(table_path(trig.table)), "StreamArn"))
            elif isinstance(trig, QueueTrigger):
                expected.add((fn_id, synth.logical_id(queue_path(trig.queue)), "Arn"))
    actual = {
        (m["Properties"]["FunctionName"]["Ref"], *m["Properties"]["EventSourceArn"]["Fn::GetAtt"])
        for m in synth.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    assert actual == expected


def test_schedules_match_the_manifest(synth: Synth) -> None:
    # given schedule triggers, then each is one rule (named by the trigger) targeting its function
    expected = {
        (trig.name, synth.logical_id(function_path(fn.name)))
        for fn in synth.manifest.functions
        for trig in fn.triggers
        if isinstance(trig, ScheduleTrigger)
    }
    actual = set()
    for rule in synth.of_type("AWS::Events::Rule").values():
        name = rule["Metadata"]["aws:cdk:path"].split("/")[-2]
        for target in rule["Properties"]["Targets"]:
            (fn_id,) = refs(target["Arn"])
            actual.add((name, fn_id))
    assert actual == expected


def test_email_event_subscriptions_match_the_manifest(synth: Synth) -> None:
    # given the configuration sets, then each set's topic has exactly one subscription, to its
    # feedback queue with the declared raw delivery, and no other subscription exists
    expected = {
        (
            synth.logical_id(email_topic_path(c.name)),
            synth.logical_id(queue_path(c.feedback_queue)),
            c.raw_message_delivery,
        )
        for c in synth.manifest.email_configuration_sets
    }
    actual = [
        (
            s["Properties"]["TopicArn"]["Ref"],
            s["Properties"]["Endpoint"]["Fn::GetAtt"][0],
            s["Properties"]["RawMessageDelivery"],
        )
        for s in synth.of_type("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "sqs"
    ]
    assert sorted(actual) == sorted(expected)
    assert len(actual) == len(synth.of_type("AWS::SNS::Subscription"))
