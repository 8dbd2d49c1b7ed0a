"""Lambda functions of the manifest, the shared layer, and each function's own role and log group."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk import grants, nag
from infra.cdk.constructs.log_groups import log_group
from infra.cdk.errors import MissingFunctionCode
from infra.cdk.registry import Resources
from infra.spec import Function, Manifest

# --- the defaults every function gets, set here once -----------------------------------------
RUNTIME: Final = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE: Final = lambda_.Architecture.ARM_64
LOGGING_FORMAT: Final = lambda_.LoggingFormat.JSON
TRACING: Final = lambda_.Tracing.ACTIVE
CODE_EXCLUDE: Final = ("__pycache__", "*.pyc", "tests")
XRAY_FINDING: Final = grants.Wildcard("*", nag.XRAY_WILDCARD)


class Functions(Construct):
    """Per :class:`infra.spec.Function` (id = name): the function, its role and its log group.

    Code asset ``functions/<name>/`` with handler ``handler.handler``; the one shared layer
    (``SharedLayer``) carries ``engagekit`` and its dependencies. Each role starts with only
    ``logs:CreateLogStream``/``logs:PutLogEvents`` on the function's own log group and X-Ray;
    :meth:`grant` adds the manifest's ``access`` later, once every resource exists. Environment
    variables are added later too (:meth:`add_environment`), so they may refer to state machines
    that themselves refer to functions. Raises :class:`MissingFunctionCode` for a missing folder.
    """

    def __init__(
        self, scope: Construct, construct_id: str, specs: tuple[Function, ...], root: Path, layer_dir: Path
    ) -> None:
        super().__init__(scope, construct_id)
        for spec in specs:
            if not (root / spec.code_dir / "handler.py").is_file():
                raise MissingFunctionCode(spec.name, spec.code_dir)
        self.layer = lambda_.LayerVersion(
            self,
            C.LAYER,
            # the layer's bytecode is built for the Lambda runtime (infra/cdk/layer.py): keep it
            code=lambda_.Code.from_asset(str(layer_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="engagekit library and its runtime dependencies (infra/cdk/layer.py)",
        )
        self.by_name: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self._wildcards: dict[str, list[grants.Wildcard]] = {}
        for spec in specs:
            self.by_name[spec.name] = self._function(spec, root)

    def _function(self, spec: Function, root: Path) -> lambda_.Function:
        group = Construct(self, spec.name)
        log_grp = log_group(group, C.LOG_GROUP)
        role = iam.Role(
            group,
            C.ROLE,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"engagekit function {spec.name}: exactly the grants of its manifest entry",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_grp.log_group_arn]
            )
        )
        fn = lambda_.Function(
            group,
            "Resource",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=C.LAMBDA_HANDLER,
            code=lambda_.Code.from_asset(str(root / spec.code_dir), exclude=list(CODE_EXCLUDE)),
            layers=[self.layer],
            role=role,
            description=spec.description,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            logging_format=LOGGING_FORMAT,
            log_group=log_grp,
            tracing=TRACING,
        )
        nag.acknowledge(fn, nag.LAMBDA_RUNTIME_PINNED)
        self.roles[spec.name] = role
        self._wildcards[spec.name] = [XRAY_FINDING]
        return fn

    def note_wildcards(self, name: str, wildcards: list[grants.Wildcard]) -> None:
        """Record resource wildcards granted to function ``name`` (acknowledged in :meth:`finish`)."""
        self._wildcards[name].extend(wildcards)

    def finish(self) -> None:
        """Acknowledge every recorded wildcard on its function's role, reasons merged per finding."""
        for name, wildcards in self._wildcards.items():
            grants.acknowledge(self.roles[name], wildcards)

    def wire(self, manifest: Manifest, resources: Resources) -> None:
        """Add each function's environment (Refs resolved) and its ``access`` grants.

        Runs after every resource exists. Raises :class:`SynthError` for an unknown reference or an
        unsupported grant.
        """
        for spec in manifest.functions:
            fn = self.by_name[spec.name]
            for key, value in spec.environment:
                fn.add_environment(key, value if isinstance(value, str) else resources.resolve(value))
            for access in spec.access:
                self.note_wildcards(
                    spec.name, grants.grant(self.roles[spec.name], access, resources, manifest)
                )
