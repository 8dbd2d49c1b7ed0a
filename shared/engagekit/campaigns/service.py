"""Composition root of the campaigns side: the ports every campaigns use case gets, built once per
container (:func:`service_from_settings`); tests and the bench build it from fakes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engagekit.campaigns.audience import ProfileScanner
from engagekit.campaigns.ledger import Ledger
from engagekit.campaigns.queues import SendQueues
from engagekit.campaigns.rules import DEFAULT_ZONE
from engagekit.campaigns.schedules import ScheduleStore
from engagekit.campaigns.store import DefinitionsSettings, DefinitionStore
from engagekit.errors import ConfigError
from engagekit.segments.membership import MembershipRepo
from engagekit.users.service import UsersService

if TYPE_CHECKING:
    from engagekit.liquid import Renderer


class CampaignsSettings(DefinitionsSettings):
    """Environment of the messaging API, the dispatcher and the scheduler."""

    sends_table: str
    schedules_table: str
    memberships_table: str
    profiles_table: str
    identities_table: str
    currents_stream: str
    send_run_state_machine_arn: str = ""
    send_email_queue_url: str = ""
    send_sms_queue_url: str = ""
    send_webhook_queue_url: str = ""
    send_push_queue_url: str = ""
    send_in_app_queue_url: str = ""
    company_time_zone: str = DEFAULT_ZONE


class RunStarter(Protocol):
    """Starts the send-run state machine for a dispatch (idempotent per dispatch id)."""

    def start(self, dispatch_id: str) -> None: ...


class StepFunctionsStarter:
    """:class:`RunStarter` over Step Functions: one execution named after the dispatch id, so a
    repeated start of the same dispatch is refused by Step Functions and ignored here."""

    def __init__(self, state_machine_arn: str, client: Any | None = None) -> None:
        if not state_machine_arn:
            raise ConfigError("SEND_RUN_STATE_MACHINE_ARN is not set")
        self._arn = state_machine_arn
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from engagekit import aws

            self._client = aws.client("stepfunctions")
        return self._client

    def start(self, dispatch_id: str) -> None:
        try:
            self.client.start_execution(
                stateMachineArn=self._arn, name=dispatch_id, input=json.dumps({"dispatch_id": dispatch_id})
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            return


class RecordingStarter:
    """A :class:`RunStarter` fake that records dispatch ids (tests run the tasks themselves)."""

    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, dispatch_id: str) -> None:
        self.started.append(dispatch_id)


@dataclass
class CampaignsService:
    """What the messaging, dispatch and scheduler use cases need."""

    definitions: DefinitionStore
    ledger: Ledger
    schedules: ScheduleStore
    queues: SendQueues
    memberships: MembershipRepo
    scanner: ProfileScanner
    users: UsersService
    starter: RunStarter
    renderer: Renderer | None = None
    """Checks the Liquid of inline messages; ``None``: a default one made by :meth:`liquid`."""
    company_zone: str = DEFAULT_ZONE

    def liquid(self) -> Renderer:
        """:attr:`renderer`, a default :class:`~engagekit.liquid.Renderer` made on first use.

        Only the messaging API checks Liquid, so the dispatcher and the scheduler never import the
        renderer (a large import at cold start).
        """
        if self.renderer is None:
            from engagekit.liquid import Renderer

            self.renderer = Renderer()
        return self.renderer


def service_from_settings(settings: CampaignsSettings) -> CampaignsService:
    """The DynamoDB / SQS / Step Functions service for ``settings`` (one per container)."""
    from engagekit.campaigns.audience import DynamoProfileScanner
    from engagekit.campaigns.ledger_dynamo import DynamoLedger
    from engagekit.campaigns.queues import SqsSendQueues
    from engagekit.campaigns.schedules import DynamoScheduleStore
    from engagekit.campaigns.store import DynamoDefinitionStore
    from engagekit.segments.membership import MembershipStore
    from engagekit.users.service import UsersSettings
    from engagekit.users.service import service_from_settings as users_from_settings

    urls = {
        "send_email": settings.send_email_queue_url,
        "send_sms": settings.send_sms_queue_url,
        "send_webhook": settings.send_webhook_queue_url,
        "send_push": settings.send_push_queue_url,
        "send_in_app": settings.send_in_app_queue_url,
    }
    users = users_from_settings(
        UsersSettings(
            profiles_table=settings.profiles_table,
            identities_table=settings.identities_table,
            currents_stream=settings.currents_stream,
        )
    )
    starter: RunStarter = (
        StepFunctionsStarter(settings.send_run_state_machine_arn)
        if settings.send_run_state_machine_arn
        else _MissingStarter()
    )
    return CampaignsService(
        definitions=DynamoDefinitionStore(settings.campaigns_table),
        ledger=DynamoLedger(settings.sends_table),
        schedules=DynamoScheduleStore(settings.schedules_table),
        queues=SqsSendQueues({k: v for k, v in urls.items() if v}),
        memberships=MembershipStore(settings.memberships_table),
        scanner=DynamoProfileScanner(settings.profiles_table),
        users=users,
        starter=starter,
        company_zone=settings.company_time_zone,
    )


class _MissingStarter:
    def start(self, dispatch_id: str) -> None:
        raise ConfigError("SEND_RUN_STATE_MACHINE_ARN is not set: this function cannot start send runs")
