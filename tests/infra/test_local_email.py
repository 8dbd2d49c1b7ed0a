"""The local target builds SES configuration sets from the same declaration as the cloud, and its
SES event emulation follows the declaration: the declared events, through the set's SNS topic, to
its feedback queue, in the shape SNS delivers (what ``engagekit.channels.feedback`` parses).

A platform of just two queues and two configuration sets, on moto in process (no sockets).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from engagekit.channels.feedback import ses_event
from engagekit.clock import ManualClock

from infra.local.runtime import LocalPlatform
from infra.spec import EmailConfigurationSet, Manifest, Queue

ENVELOPED = EmailConfigurationSet("cs-enveloped", feedback_queue="fb")
RAW = EmailConfigurationSet(
    "cs-raw",
    feedback_queue="fb_raw",
    events=("SEND", "BOUNCE"),
    tls_required=False,
    raw_message_delivery=True,
)
MANIFEST = Manifest(queues=(Queue("fb"), Queue("fb_raw")), email_configuration_sets=(ENVELOPED, RAW))
SENDER = "news@shop.example"
BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    with LocalPlatform(MANIFEST, clock=clock, serve_http=False, background=False) as running:
        running.client("sesv2").create_email_identity(EmailIdentity="shop.example")
        yield running


def drain(platform: LocalPlatform, queue: str) -> list[str]:
    sqs = platform.client("sqs")
    url = platform.refs[("queue", queue, "url")]
    bodies: list[str] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def send(platform: LocalPlatform, to: str, configuration_set: str | None) -> str:
    params: dict[str, Any] = {
        "FromEmailAddress": SENDER,
        "Destination": {"ToAddresses": [to]},
        "Content": {"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
        "EmailTags": [{"Name": "user_id", "Value": "u-1"}],
    }
    if configuration_set:
        params["ConfigurationSetName"] = configuration_set
    return str(platform.client("sesv2").send_email(**params)["MessageId"])


@pytest.mark.parametrize("spec", [ENVELOPED, RAW], ids=lambda s: s.name)
def test_configuration_set_is_provisioned_from_its_declaration(platform: LocalPlatform, spec: Any) -> None:
    # given a declared set, then moto's SES has it with the declared TLS policy and reputation
    # metrics, an event destination for the declared events on the set's topic, and the topic is
    # subscribed by the feedback queue with the declared raw delivery
    got = platform.client("sesv2").get_configuration_set(ConfigurationSetName=spec.name)
    assert got["DeliveryOptions"]["TlsPolicy"] == ("REQUIRE" if spec.tls_required else "OPTIONAL")
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is spec.reputation_metrics
    topic = platform.refs[("email_configuration_set", spec.name, "topic_arn")]
    described = platform.client("ses").describe_configuration_set(
        ConfigurationSetName=spec.name, ConfigurationSetAttributeNames=["eventDestinations"]
    )
    (destination,) = described["EventDestinations"]
    assert destination["SNSDestination"] == {"TopicARN": topic}
    assert len(destination["MatchingEventTypes"]) == len(spec.events)
    sns = platform.client("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subscription["Endpoint"] == platform.refs[("queue", spec.feedback_queue, "arn")]
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])[
        "Attributes"
    ]
    assert attributes["RawMessageDelivery"] == ("true" if spec.raw_message_delivery else "false")


@dataclass
class Case:
    name: str
    configuration_set: str | None
    to: str
    queue: str
    expected: tuple[str, ...]  # eventType of each SES event on the queue


CASES = [
    Case("delivery", ENVELOPED.name, "ok@example.com", "fb", ("Delivery",)),
    Case("simulator-bounce", ENVELOPED.name, BOUNCE, "fb", ("Bounce",)),
    Case("simulator-complaint", ENVELOPED.name, COMPLAINT, "fb", ("Complaint", "Delivery")),
    # the raw set declares SEND and BOUNCE only: no Delivery, no Complaint
    Case("raw-declared-only", RAW.name, COMPLAINT, "fb_raw", ("Send",)),
    Case("raw-bounce", RAW.name, BOUNCE, "fb_raw", ("Bounce", "Send")),
    Case("undeclared-set", "not-declared", "ok@example.com", "fb", ()),
    Case("no-set", None, "ok@example.com", "fb", ()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_sends_publish_the_declared_events_as_sns_delivers_them(platform: LocalPlatform, case: Case) -> None:
    # given a send, then its set's feedback queue holds exactly the declared events SES would
    # publish, each a body the ses_feedback handler parses, enveloped unless raw delivery
    drain(platform, "fb")
    drain(platform, "fb_raw")
    message_id = send(platform, case.to, case.configuration_set)
    bodies = drain(platform, case.queue)
    events = [ses_event(body) for body in bodies]
    assert all(e is not None for e in events)
    assert sorted(str(e["eventType"]) for e in events if e) == list(case.expected)
    for body, event in zip(bodies, events, strict=True):
        assert event is not None
        assert event["mail"]["messageId"] == message_id
        assert event["mail"]["tags"]["user_id"] == ["u-1"]
        assert event["mail"]["tags"]["ses:configuration-set"] == [case.configuration_set]
        envelope = json.loads(body)
        if case.queue == "fb_raw":
            assert "Type" not in envelope  # raw: the SES event itself
        else:
            topic = platform.refs[("email_configuration_set", ENVELOPED.name, "topic_arn")]
            assert (envelope["Type"], envelope["TopicArn"]) == ("Notification", topic)
            assert {"MessageId", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"} <= set(
                envelope
            )
    other = "fb" if case.queue == "fb_raw" else "fb_raw"
    assert drain(platform, other) == []


def test_events_of_one_send_carry_the_platform_clock(platform: LocalPlatform) -> None:
    # given the manual clock, then emulated events are stamped with it, not wall time
    drain(platform, "fb")
    send(platform, "ok@example.com", ENVELOPED.name)
    (body,) = drain(platform, "fb")
    event = ses_event(body)
    assert event is not None
    assert event["delivery"]["timestamp"].startswith("2026-03-01T12:00:00")
    assert event["mail"]["destination"] == ["ok@example.com"]
