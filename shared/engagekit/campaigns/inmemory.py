"""The whole send path in memory: the API use cases, the send run's tasks, the senders and fake
providers wired over in-memory stores and queues. Unit tests and the bench drive it; the local
runtime runs the same code over moto.

``World.deliver()`` plays SQS: it hands each queued message to its sender, and puts a failed one
back with its receive count increased (at most ``max_receive`` deliveries, then the DLQ).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engagekit.campaigns import dispatch, messaging, scheduler
from engagekit.campaigns.audience import InMemoryProfileScanner
from engagekit.campaigns.ledger import InMemoryLedger
from engagekit.campaigns.manage import put_campaign, put_frequency_cap
from engagekit.campaigns.plan import SendBatch
from engagekit.campaigns.queues import FakeSendQueues
from engagekit.campaigns.schedules import InMemoryScheduleStore
from engagekit.campaigns.service import CampaignsService, RecordingStarter
from engagekit.campaigns.store import CachedDefinitions, InMemoryDefinitionStore
from engagekit.channels.adapters import (
    ChannelAdapter,
    EmailAdapter,
    InboxAdapter,
    PushAdapter,
    SmsAdapter,
    WebhookAdapter,
    adapters_by_channel,
)
from engagekit.channels.fakes import FakeEmailProvider, FakePushProvider, FakeSmsProvider, FakeWebhookProvider
from engagekit.channels.inbox import InMemoryInbox
from engagekit.channels.sender import SenderConfig, SenderService, process
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.liquid import Renderer
from engagekit.profiles.store import InMemoryProfileStore
from engagekit.segments.membership import InMemoryMemberships
from engagekit.users.service import UsersService
from engagekit.users.track import track

QUEUES = ("send_email", "send_sms", "send_webhook", "send_push", "send_in_app")


@dataclass
class World:
    """In-memory campaigns + channels (module docstring). Attributes are the fakes to inspect."""

    profiles: InMemoryProfileStore = field(default_factory=InMemoryProfileStore)
    firehose: FakeFirehose = field(default_factory=FakeFirehose)
    definitions: InMemoryDefinitionStore = field(default_factory=InMemoryDefinitionStore)
    ledger: InMemoryLedger = field(default_factory=InMemoryLedger)
    schedules: InMemoryScheduleStore = field(default_factory=InMemoryScheduleStore)
    queues: FakeSendQueues = field(default_factory=FakeSendQueues)
    memberships: InMemoryMemberships = field(default_factory=InMemoryMemberships)
    email: FakeEmailProvider = field(default_factory=FakeEmailProvider)
    sms: FakeSmsProvider = field(default_factory=FakeSmsProvider)
    webhook: FakeWebhookProvider = field(default_factory=FakeWebhookProvider)
    push: FakePushProvider = field(
        default_factory=lambda: FakePushProvider({"app": "ios", "droid": "android"})
    )
    inbox: InMemoryInbox = field(default_factory=InMemoryInbox)
    renderer: Renderer = field(default_factory=Renderer)
    max_receive: int = 5
    dlq: list[tuple[str, str]] = field(default_factory=list)
    pending: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    deliveries: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.exporter = FirehoseExporter(self.firehose)
        self.users = UsersService(self.profiles, self.exporter)
        self.starter = RecordingStarter()
        self.campaigns = CampaignsService(
            definitions=self.definitions,
            ledger=self.ledger,
            schedules=self.schedules,
            queues=self.queues,
            memberships=self.memberships,
            scanner=InMemoryProfileScanner(self.profiles),
            users=self.users,
            starter=self.starter,
            renderer=self.renderer,
        )
        self.senders: dict[str, SenderService] = {
            name: self._sender(name, adapters) for name, adapters in self._adapters().items()
        }

    def _adapters(self) -> dict[str, list[ChannelAdapter]]:
        return {
            "send_email": [EmailAdapter(self.email)],
            "send_sms": [SmsAdapter(self.sms)],
            "send_webhook": [WebhookAdapter(self.webhook)],
            "send_push": [PushAdapter(self.push)],
            "send_in_app": [InboxAdapter(self.inbox, "content_card"), InboxAdapter(self.inbox, "in_app")],
        }

    def _sender(self, name: str, adapters: list[ChannelAdapter]) -> SenderService:
        return SenderService(
            adapters=adapters_by_channel(adapters),
            ledger=self.ledger,
            profiles=self.profiles,
            definitions=CachedDefinitions(self.definitions, ttl_s=0),
            renderer=self.renderer,
            exporter=self.exporter,
            schedules=self.schedules,
            config=SenderConfig(backoff=name == "send_webhook"),
        )

    # --- set-up -----------------------------------------------------------------------------------
    def track(self, *attributes: dict[str, Any]) -> None:
        """``/users/track`` with these attributes objects."""
        track({"attributes": list(attributes)}, self.users)

    def user_id(self, external_id: str) -> str:
        record = self.profiles.get_identities([f"external_id#{external_id}"]).get(
            f"external_id#{external_id}"
        )
        assert record is not None and record.user_ids, f"no user {external_id}"
        return sorted(record.user_ids)[0]

    def campaign(self, campaign_id: str, body: dict[str, Any]) -> None:
        put_campaign(campaign_id, body, self.definitions, self.renderer)

    def cap(self, rule_id: str, body: dict[str, Any]) -> None:
        put_frequency_cap(rule_id, body, self.definitions)

    # --- sending ----------------------------------------------------------------------------------
    def trigger(self, body: dict[str, Any]) -> dict[str, Any]:
        return messaging.trigger_send(messaging.TriggerSendRequest.model_validate(body), self.campaigns)

    def send_messages(self, body: dict[str, Any]) -> dict[str, Any]:
        return messaging.messages_send(messaging.MessagesSendRequest.model_validate(body), self.campaigns)

    def run_started(self) -> None:
        """Run every started send run's tasks in process (what the state machine does)."""
        while self.starter.started:
            dispatch.run_inline(self.campaigns, self.starter.started.pop(0))

    def tick(self) -> dict[str, Any]:
        """One scheduler run (due schedules fire, due held messages go back to their queues)."""
        return scheduler.run_due(self.campaigns)

    def deliver(
        self,
        *,
        duplicate: bool = False,
        before: Callable[[str, str], None] | None = None,
        rounds: int = 1_000,
    ) -> int:
        """Deliver queued messages until none is immediately deliverable; returns deliveries.

        ``duplicate`` delivers every message twice (SQS at-least-once); ``before(queue, body)`` runs
        before each delivery (fault injection). A message whose processing raises (a retry, or a
        crash) is put back with its receive count + 1, to be delivered by the next call — advance
        the clock past its visibility first, as SQS would.
        """
        self.run_started()
        total = 0
        retry: dict[str, list[tuple[str, int]]] = {}
        for _ in range(rounds):
            moved = False
            for queue in QUEUES:
                batch = [(b, 1) for b in self.queues.drain(queue)] + self.pending.pop(queue, [])
                for body, count in batch:
                    copies = 2 if duplicate else 1
                    for copy in range(copies):
                        moved = True
                        total += 1
                        self.deliveries[queue] += 1
                        if before is not None:
                            before(queue, body)
                        try:
                            process(self.senders[queue], SendBatch.decode(body), count)
                        except Exception:  # RetryLater, or a crash: SQS redelivers either way
                            if copy == copies - 1:
                                if count >= self.max_receive:
                                    self.dlq.append((queue, body))
                                else:
                                    retry.setdefault(queue, []).append((body, count + 1))
            if not moved:
                break
        for queue, items in retry.items():
            self.pending.setdefault(queue, []).extend(items)
        return total

    def events(self, event_type: str | None = None) -> list[Any]:
        """Currents events exported so far (deduped by id), optionally of one type."""
        self.exporter.flush()
        seen: dict[str, Any] = {}
        for event in self.firehose.events():
            seen.setdefault(event.id, event)
        return [e for e in seen.values() if event_type is None or e.event_type == event_type]

    def status(self, dispatch_id: str) -> dict[str, Any]:
        return dispatch.status(self.campaigns, dispatch_id)
