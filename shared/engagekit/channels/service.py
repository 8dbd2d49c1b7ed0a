"""Composition root of the channel senders: one :class:`SenderService` per sender function.

:func:`build_sender` builds the service of ``send_email``, ``send_sms``, ``send_webhook``,
``send_push`` or ``send_in_app`` from :class:`SenderSettings` (the handler keeps one per container).
:func:`install` replaces a function's service in this process — how tests and the bench wrap ports
(fault injection, fakes) while the handler stays the very code Lambda runs.

:func:`record_handler` is the per-SQS-record function the handlers give Powertools'
``BatchProcessor``: a :class:`~engagekit.channels.sender.RetryLater` fails only that record
(``batchItemFailures``), after setting its visibility for a backoff when the sender chose one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from typing import Any

from engagekit.campaigns.plan import SendBatch
from engagekit.campaigns.store import CachedDefinitions
from engagekit.channels.adapters import (
    ChannelAdapter,
    EmailAdapter,
    InboxAdapter,
    PushAdapter,
    SmsAdapter,
    WebhookAdapter,
    adapters_by_channel,
)
from engagekit.channels.sender import RetryLater, SenderConfig, SenderService, process
from engagekit.config import load_settings
from engagekit.errors import ConfigError
from engagekit.templates.service import RendererSettings

SENDER_FUNCTIONS = ("send_email", "send_sms", "send_webhook", "send_push", "send_in_app")


class SenderSettings(RendererSettings):
    """Environment of a sender function."""

    sends_table: str
    schedules_table: str
    campaigns_table: str
    profiles_table: str
    identities_table: str
    currents_stream: str
    company_time_zone: str = "UTC"
    ses_configuration_set: str = ""
    inbox_table: str = ""
    send_webhook_queue_url: str = ""
    webhook_allowed_targets: str = ""
    """Operator opt-in: comma-separated ``ADDRESS:PORT`` webhook destinations that the SSRF guard
    would refuse (e.g. ``127.0.0.1:9000`` for a receiver on this machine with ``engagekit local
    --allow-webhook``). Empty (the default) allows only public addresses on ports 80 and 443."""


def _adapters(function: str, settings: SenderSettings) -> list[ChannelAdapter]:
    from engagekit.channels import providers

    if function == "send_email":
        return [EmailAdapter(providers.SesEmailProvider(configuration_set=settings.ses_configuration_set))]
    if function == "send_sms":
        return [SmsAdapter(providers.SnsSmsProvider())]
    if function == "send_webhook":
        return [
            WebhookAdapter(
                providers.HttpWebhookProvider(providers.webhook_fetcher(settings.webhook_allowed_targets))
            )
        ]
    if function == "send_push":
        return [PushAdapter(providers.SnsPushProvider())]
    if function == "send_in_app":
        if not settings.inbox_table:
            raise ConfigError("INBOX_TABLE is not set")
        from engagekit.channels.inbox import DynamoInbox

        inbox = DynamoInbox(settings.inbox_table)
        return [InboxAdapter(inbox, "content_card"), InboxAdapter(inbox, "in_app")]
    raise ConfigError(f"{function} is not a sender function")


def build_sender(
    function: str, settings: SenderSettings, adapters: list[ChannelAdapter] | None = None
) -> SenderService:
    """The DynamoDB / provider service of sender ``function`` (``adapters`` override the providers)."""
    from engagekit import aws
    from engagekit.campaigns.ledger_dynamo import DynamoLedger
    from engagekit.campaigns.schedules import DynamoScheduleStore
    from engagekit.campaigns.store import DynamoDefinitionStore
    from engagekit.currents.exporter import FirehoseAdapter, FirehoseExporter
    from engagekit.profiles.store import DynamoProfileStore
    from engagekit.templates.service import renderer_from_settings

    return SenderService(
        adapters=adapters_by_channel(adapters if adapters is not None else _adapters(function, settings)),
        ledger=DynamoLedger(settings.sends_table),
        profiles=DynamoProfileStore(settings.profiles_table, settings.identities_table),
        definitions=CachedDefinitions(DynamoDefinitionStore(settings.campaigns_table)),
        renderer=renderer_from_settings(settings),
        exporter=FirehoseExporter(FirehoseAdapter(settings.currents_stream, client=aws.client("firehose"))),
        schedules=DynamoScheduleStore(settings.schedules_table),
        config=SenderConfig(company_zone=settings.company_time_zone, backoff=function == "send_webhook"),
    )


_installed: dict[str, SenderService] = {}
_lock = threading.Lock()


def install(function: str, service: SenderService | None) -> None:
    """Use ``service`` for ``function`` in this process (``None``: back to the built one)."""
    with _lock:
        if service is None:
            _installed.pop(function, None)
        else:
            _installed[function] = service


def installed(function: str) -> SenderService | None:
    """The service installed for ``function``, if any."""
    with _lock:
        return _installed.get(function)


@cache
def _queue_url(arn: str) -> str:
    from engagekit import aws

    name = arn.rsplit(":", 1)[-1]
    return str(aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def set_visibility(record: Any, seconds: int) -> None:
    """Set an SQS record's visibility timeout (the retry's backoff); best effort."""
    from engagekit import aws

    aws.client("sqs").change_message_visibility(
        QueueUrl=_queue_url(record.event_source_arn),
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=seconds,
    )


def record_handler(function: str) -> Callable[[Any], None]:
    """The Powertools record handler of sender ``function`` (module docstring). The service is
    built from the environment on first use and kept by the handler (one per container)."""
    built: list[SenderService] = []

    def handle(record: Any) -> None:
        svc = installed(function)
        if svc is None:
            if not built:
                built.append(build_sender(function, load_settings(SenderSettings)))
            svc = built[0]
        count = int(record.attributes.approximate_receive_count or 1)
        try:
            process(svc, SendBatch.decode(record.body), count)
        except RetryLater as exc:
            if exc.visibility_s:
                set_visibility(record, exc.visibility_s)
            raise

    return handle
