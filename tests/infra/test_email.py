"""SES configuration sets: the cloud resources match each declaration, the senders name a declared
set, and both targets spell the declared event types the same way.

Cloud: configuration set (name, TLS, reputation metrics) -> event destination (declared event types)
-> KMS-encrypted, TLS-only SNS topic that only SES (for this set) may publish to -> the feedback
queue, whose policy admits this topic only.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.manifest import MANIFEST
from infra.spec import SES_EVENT_TYPES, EmailConfigurationSet, Manifest, Queue
from tests.infra.conftest import (
    Synth,
    email_configuration_set_path,
    email_event_destination_path,
    email_key_path,
    email_topic_path,
    email_topic_policy_path,
    queue_path,
)

SETS = [c.name for c in MANIFEST.email_configuration_sets]
# CloudFormation's (and SES v1's) spelling of each SES v2 event type (AWS::SES::ConfigurationSet-
# EventDestination EventDestination.MatchingEventTypes)
CFN_EVENT_TYPES = {
    "SEND": "send",
    "REJECT": "reject",
    "BOUNCE": "bounce",
    "COMPLAINT": "complaint",
    "DELIVERY": "delivery",
    "OPEN": "open",
    "CLICK": "click",
    "RENDERING_FAILURE": "renderingFailure",
    "DELIVERY_DELAY": "deliveryDelay",
    "SUBSCRIPTION": "subscription",
}


def props(synth: Synth, path: str) -> dict[str, Any]:
    return dict(synth.resources[synth.logical_id(path)]["Properties"])


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["PolicyDocument" if "PolicyDocument" in policy else "KeyPolicy"]["Statement"])


def configuration_set_arn(name: Any) -> dict[str, Any]:
    """The ARN expression of a configuration set (``name`` a literal or a CloudFormation Ref)."""
    prefix = ["arn:", {"Ref": "AWS::Partition"}, ":ses:", {"Ref": "AWS::Region"}, ":"]
    tail = [{"Ref": "AWS::AccountId"}, ":configuration-set/"]
    if isinstance(name, str):
        return {"Fn::Join": ["", [*prefix, *tail[:1], f":configuration-set/{name}"]]}
    return {"Fn::Join": ["", [*prefix, *tail, name]]}


def test_the_email_sender_names_a_declared_configuration_set() -> None:
    # given every function that sets SES_CONFIGURATION_SET, then the value is a declared set (the
    # cloud creates exactly the declared sets under their names; SES refuses unknown ones)
    declared = {c.name for c in MANIFEST.email_configuration_sets}
    named = {
        fn.name: value
        for fn in MANIFEST.functions
        for key, value in fn.environment
        if key == "SES_CONFIGURATION_SET"
    }
    assert named, "no function sends with a configuration set"
    assert {fn: v for fn, v in named.items() if v not in declared} == {}


def test_the_local_target_spells_every_ses_event_type_as_cloudformation_does() -> None:
    # given each SES v2 event type, then the local runtime's event destination names it as the
    # cloud template does (the template side: test_event_destination_publishes_...)
    from infra.local.runtime import _SES_V1_EVENT_TYPES

    assert set(CFN_EVENT_TYPES) == set(SES_EVENT_TYPES)
    assert _SES_V1_EVENT_TYPES == CFN_EVENT_TYPES


@pytest.mark.parametrize("name", SETS)
def test_configuration_set_matches_its_declaration(synth: Synth, name: str) -> None:
    spec = synth.manifest.email_configuration_set(name)
    p = props(synth, email_configuration_set_path(name))
    assert p["Name"] == spec.name  # senders pass this literal name
    assert p["DeliveryOptions"] == {"TlsPolicy": "REQUIRE" if spec.tls_required else "OPTIONAL"}
    assert p["ReputationOptions"] == {"ReputationMetricsEnabled": spec.reputation_metrics}
    assert p["SendingOptions"] == {"SendingEnabled": True}


@pytest.mark.parametrize("name", SETS)
def test_event_destination_publishes_the_declared_events_to_the_topic(synth: Synth, name: str) -> None:
    spec = synth.manifest.email_configuration_set(name)
    p = props(synth, email_event_destination_path(name))
    assert p["ConfigurationSetName"] == {"Ref": synth.logical_id(email_configuration_set_path(name))}
    destination = p["EventDestination"]
    assert destination["Enabled"] is True
    assert destination["MatchingEventTypes"] == [CFN_EVENT_TYPES[e] for e in spec.events]
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": synth.logical_id(email_topic_path(name))}}
    assert set(destination) == {"Enabled", "MatchingEventTypes", "SnsDestination"}


@pytest.mark.parametrize("name", SETS)
def test_topic_is_encrypted_tls_only_and_only_ses_for_this_set_publishes(synth: Synth, name: str) -> None:
    topic = synth.logical_id(email_topic_path(name))
    key = synth.logical_id(email_key_path(name))
    assert props(synth, email_topic_path(name))["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}
    policy = props(synth, email_topic_policy_path(name))
    assert policy["Topics"] == [{"Ref": topic}]
    deny, allow = statements(policy)
    assert (deny["Effect"], deny["Action"], deny["Principal"]) == ("Deny", "sns:Publish", "*")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert (allow["Effect"], allow["Action"]) == ("Allow", "sns:Publish")
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    config_set = {"Ref": synth.logical_id(email_configuration_set_path(name))}
    assert allow["Condition"] == {
        "StringEquals": {
            "AWS:SourceAccount": {"Ref": "AWS::AccountId"},
            "AWS:SourceArn": configuration_set_arn(config_set),
        }
    }


@pytest.mark.parametrize("name", SETS)
def test_topic_key_rotates_and_lets_only_ses_for_this_set_encrypt(synth: Synth, name: str) -> None:
    p = props(synth, email_key_path(name))
    assert p["EnableKeyRotation"] is True
    ses_statements = [
        s for s in statements(p) if s.get("Principal", {}).get("Service") == "ses.amazonaws.com"
    ]
    assert ses_statements == [
        {
            "Sid": "SesPublishesEncryptedEvents",
            "Effect": "Allow",
            "Principal": {"Service": "ses.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceAccount": {"Ref": "AWS::AccountId"},
                    "aws:SourceArn": configuration_set_arn(name),
                }
            },
        }
    ]
    # no other service principal may use the key (the rest is the account's own administration)
    others = [s for s in statements(p) if s not in ses_statements]
    assert [s["Principal"] for s in others if "Service" in s["Principal"]] == []


@pytest.mark.parametrize("name", SETS)
def test_feedback_queue_admits_sns_from_this_topic_only(synth: Synth, name: str) -> None:
    spec = synth.manifest.email_configuration_set(name)
    queue = synth.logical_id(queue_path(spec.feedback_queue))
    (policy,) = [
        p["Properties"]
        for p in synth.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    allows = [s for s in statements(policy) if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": synth.logical_id(email_topic_path(name))}}},
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
        }
    ]


def test_queues_without_a_configuration_set_admit_no_one(synth: Synth) -> None:
    # given queues no configuration set feeds, then their policies only deny non-TLS requests
    fed = {synth.logical_id(queue_path(c.feedback_queue)) for c in synth.manifest.email_configuration_sets}
    for policy in synth.of_type("AWS::SQS::QueuePolicy").values():
        (queue,) = policy["Properties"]["Queues"]
        if queue["Ref"] not in fed:
            assert {s["Effect"] for s in statements(policy["Properties"])} == {"Deny"}, queue


# --- the declaration's own rules (no synthesis) ------------------------------------------------
QUEUES = (Queue("fb"),)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (EmailConfigurationSet("cs", feedback_queue="nope"), "unknown queue 'nope'"),
        (EmailConfigurationSet("has space", feedback_queue="fb"), "1-64 of"),
        (EmailConfigurationSet("x" * 65, feedback_queue="fb"), "1-64 of"),
        (EmailConfigurationSet("cs", feedback_queue="fb", events=()), "events must be distinct"),
        (
            EmailConfigurationSet("cs", feedback_queue="fb", events=("OPEN", "OPEN")),
            "events must be distinct",
        ),
        (EmailConfigurationSet("cs", feedback_queue="fb", events=("Opened",)), "events must be distinct"),  # type: ignore[arg-type]
    ],
    ids=["unknown-queue", "bad-name", "long-name", "no-events", "repeated-event", "unknown-event"],
)
def test_manifest_refuses_a_configuration_set_ses_would_refuse(
    spec: EmailConfigurationSet, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Manifest(queues=QUEUES, email_configuration_sets=(spec,)).validate()


def test_manifest_refuses_two_configuration_sets_of_one_name() -> None:
    cs = EmailConfigurationSet("cs", feedback_queue="fb")
    with pytest.raises(ValueError, match="duplicate resource names"):
        Manifest(queues=QUEUES, email_configuration_sets=(cs, cs)).validate()
