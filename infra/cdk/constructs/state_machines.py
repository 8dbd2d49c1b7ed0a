"""Step Functions state machines of the manifest: ASL files with definition substitutions."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk import grants, nag
from infra.cdk.constructs.log_groups import log_group
from infra.cdk.registry import Resources
from infra.spec import Access, Action, Manifest, ResourceKind, StateMachine

SUBSTITUTION_ACCESS: dict[ResourceKind, Action] = {
    "function": "invoke",
    "state_machine": "start",
    "queue": "send",
    "table": "read_write",
    "bucket": "read_write",
    "delivery_stream": "put",
}
"""What a state machine may do with each kind of resource its ASL refers to through a substitution."""


class StateMachines(Construct):
    """Per :class:`infra.spec.StateMachine` (id = name): a Standard state machine and its log group.

    The definition is the ASL file, inlined in the template, with ``${Name}`` placeholders replaced
    by the resolved ``substitutions``; the role gets :data:`SUBSTITUTION_ACCESS` on each referenced
    resource and nothing else. Logging level ALL without execution data (payloads carry user data), X-Ray on.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        manifest: Manifest,
        resources: Resources,
        root: Path,
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, sfn.StateMachine] = {}
        for spec in manifest.state_machines:
            self.by_name[spec.name] = self._machine(spec, manifest, resources, root)

    def _machine(
        self, spec: StateMachine, manifest: Manifest, resources: Resources, root: Path
    ) -> sfn.StateMachine:
        group = Construct(self, spec.name)
        log_grp = log_group(group, C.LOG_GROUP)
        machine = sfn.StateMachine(
            group,
            "Resource",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string((root / spec.asl_file).read_text()),
            definition_substitutions={key: resources.resolve(ref) for key, ref in spec.substitutions},
            logs=sfn.LogOptions(destination=log_grp, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        wildcards = [
            grants.Wildcard("*", nag.XRAY_WILDCARD),
            grants.Wildcard("*", nag.LOGS_DELIVERY_WILDCARD),
        ]
        for _, ref in spec.substitutions:
            access = Access(ref.kind, ref.name, SUBSTITUTION_ACCESS[ref.kind])
            wildcards += grants.grant(machine.role, access, resources, manifest)
        grants.acknowledge(machine.role, wildcards)
        return machine
