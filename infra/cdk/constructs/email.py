"""SES configuration sets of the manifest and the path of their events to the feedback queue.

Per :class:`infra.spec.EmailConfigurationSet`: the configuration set (physical name = its manifest
name, the ``ConfigurationSetName`` senders pass to SES v2 ``SendEmail``), an event destination
publishing the declared event types to an SNS topic, and the topic's SQS subscription by the
feedback queue. SES event publishing, SNS encryption and SQS subscription rules:
https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-sns.html
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk import constants as C
from infra.spec import EmailConfigurationSet

SES_PRINCIPAL = "ses.amazonaws.com"


def configuration_set_arn(stack: Stack, name: str) -> str:
    """``arn:<partition>:ses:<region>:<account>:configuration-set/<name>`` (IAM resource type)."""
    return stack.format_arn(service="ses", resource="configuration-set", resource_name=name)


class EmailConfigurationSets(Construct):
    """Per :class:`infra.spec.EmailConfigurationSet` (group id = name), children by constants:

    - ``ConfigurationSet``: ``AWS::SES::ConfigurationSet`` named ``name``, TLS policy ``REQUIRE``
      when ``tls_required`` (else ``OPTIONAL``), reputation metrics per the declaration, sending
      enabled; its child ``Feedback`` is the ``AWS::SES::ConfigurationSetEventDestination`` with
      ``MatchingEventTypes`` = ``events`` and the topic as SNS destination (CDK adds the topic
      policy statement letting ``ses.amazonaws.com`` publish for this configuration set only);
    - ``EventsKey``: a customer managed KMS key (rotation on) encrypting the topic; SES may use it
      (``kms:GenerateDataKey*``, ``kms:Decrypt``) for this configuration set only. An AWS managed
      ``alias/aws/sns`` key cannot be used: its key policy cannot admit SES. The key protects
      recipient addresses in transit only (SNS keeps nothing), so it is deleted with the stack;
    - ``Events``: the SNS topic (TLS-only publishing);
    - the topic's ``AWS::SNS::Subscription`` (under the queue's construct) delivering to
      ``feedback_queue`` with raw message delivery per the declaration, and the queue policy
      statement allowing ``sns:SendMessage`` from this topic only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        specs: tuple[EmailConfigurationSet, ...],
        queues: dict[str, sqs.Queue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, ses.ConfigurationSet] = {}
        self.topics: dict[str, sns.Topic] = {}
        for spec in specs:
            self._build(spec, queues[spec.feedback_queue])

    def _build(self, spec: EmailConfigurationSet, queue: sqs.Queue) -> None:
        group = Construct(self, spec.name)
        source = {
            "StringEquals": {
                "aws:SourceAccount": Aws.ACCOUNT_ID,
                "aws:SourceArn": configuration_set_arn(Stack.of(self), spec.name),
            }
        }
        key = kms.Key(
            group,
            C.EMAIL_EVENTS_KEY,
            description=f"engagekit: SES events of configuration set {spec.name} on their SNS topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SesPublishesEncryptedEvents",
                principals=[iam.ServicePrincipal(SES_PRINCIPAL)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=source,
            )
        )
        topic = sns.Topic(
            group,
            C.EMAIL_EVENTS_TOPIC,
            display_name=f"engagekit SES events ({spec.name})",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_subscription(
            subscriptions.SqsSubscription(queue, raw_message_delivery=spec.raw_message_delivery)
        )
        configuration_set = ses.ConfigurationSet(
            group,
            C.EMAIL_CONFIGURATION_SET,
            configuration_set_name=spec.name,
            tls_policy=(
                ses.ConfigurationSetTlsPolicy.REQUIRE
                if spec.tls_required
                else ses.ConfigurationSetTlsPolicy.OPTIONAL
            ),
            reputation_metrics=spec.reputation_metrics,
            sending_enabled=True,
        )
        configuration_set.add_event_destination(
            C.EMAIL_EVENT_DESTINATION,
            destination=ses.EventDestination.sns_topic(topic),
            events=[ses.EmailSendingEvent[event] for event in spec.events],
            enabled=True,
        )
        self.by_name[spec.name] = configuration_set
        self.topics[spec.name] = topic
