"""``EngagekitStack``: a thin stack composing one construct per capability of the manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack, Tags
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk.constructs.analytics import Analytics
from infra.cdk.constructs.buckets import Buckets
from infra.cdk.constructs.delivery_streams import DeliveryStreams
from infra.cdk.constructs.email import EmailConfigurationSets
from infra.cdk.constructs.functions import Functions
from infra.cdk.constructs.queues import Queues
from infra.cdk.constructs.state_machines import StateMachines
from infra.cdk.constructs.tables import Tables
from infra.cdk.constructs.triggers import Triggers
from infra.cdk.registry import Resources
from infra.spec import Manifest


class EngagekitStack(Stack):
    """Everything in ``manifest``, built in dependency order.

    Data resources first (tables, queues, buckets, delivery streams, SES configuration sets with
    their event topics into their queues, and the Currents query layer derived from the
    ``currents`` stream), then functions without their
    environment, then state machines (their ASL may name functions), then each function's
    environment and grants (they may name state machines), then triggers.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        manifest: Manifest,
        root: Path,
        layer_dir: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=C.STACK_DESCRIPTION, **kwargs)
        Tags.of(self).add("project", "engagekit")
        tables = Tables(self, C.TABLES, manifest.tables)
        queues = Queues(self, C.QUEUES, manifest.queues)
        buckets = Buckets(self, C.BUCKETS, manifest.buckets)
        streams = DeliveryStreams(self, C.DELIVERY_STREAMS, manifest.delivery_streams, buckets.by_name)
        EmailConfigurationSets(self, C.EMAIL, manifest.email_configuration_sets, queues.by_name)
        for stream in manifest.delivery_streams:  # the query layer is derived, not declared
            if stream.name == C.CURRENTS_STREAM:
                lake = buckets.by_name[stream.bucket]
                Analytics(self, C.ANALYTICS, stream=stream, lake=lake, access_logs=buckets.access_logs)
        self.resources = Resources(
            tables=tables.by_name,
            queues=queues.by_name,
            buckets=buckets.by_name,
            delivery_streams=streams.by_name,
        )
        functions = Functions(self, C.FUNCTIONS, manifest.functions, root, layer_dir)
        self.resources.functions.update(functions.by_name)
        machines = StateMachines(self, C.STATE_MACHINES, manifest, self.resources, root)
        self.resources.state_machines.update(machines.by_name)
        functions.wire(manifest, self.resources)
        triggers = Triggers(self, C.TRIGGERS, manifest, self.resources)
        for name, wildcards in triggers.wildcards.items():
            functions.note_wildcards(name, wildcards)
        functions.finish()
