"""The infra tier: synthesize the CDK app ONCE per session, then assert on the cloud assembly.

Synthesis (with cdk-nag) takes about 10 s, so every test shares :func:`synth`. The layer asset is the
fast ``shared/engagekit``-only one (no pip, no network). When a manifest function has no code folder
yet, every test that needs the synthesized app is skipped with the reason instead of failing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from infra.cdk import constants as C
from infra.manifest import MANIFEST
from infra.spec import Manifest

Resource = dict[str, Any]


@dataclass
class Synth:
    """One synthesized cloud assembly and what the tests read from it."""

    manifest: Manifest
    outdir: Path
    template_json: dict[str, Any]
    report: dict[str, Any]
    metadata: dict[str, list[dict[str, Any]]]
    nag_error: str | None
    by_path: dict[str, str] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, Resource]:
        return dict(self.template_json["Resources"])

    def logical_id(self, path: str) -> str:
        """The logical id of the resource whose ``aws:cdk:path`` is ``<stack>/<path>``."""
        full = f"{C.STACK_ID}/{path}"
        assert full in self.by_path, f"no resource at {full}"
        return self.by_path[full]

    def of_type(self, cfn_type: str) -> dict[str, Resource]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == cfn_type}


# --- where each kind of manifest resource lives in the construct tree -------------------------
def table_path(name: str) -> str:
    return f"{C.TABLES}/{name}/Resource"


def queue_path(name: str) -> str:
    return f"{C.QUEUES}/{name}/Resource"


def bucket_path(name: str) -> str:
    return f"{C.BUCKETS}/{name}/Resource"


def delivery_stream_path(name: str) -> str:
    return f"{C.DELIVERY_STREAMS}/{name}/Resource"


def state_machine_path(name: str) -> str:
    return f"{C.STATE_MACHINES}/{name}/Resource/Resource"


def function_path(name: str) -> str:
    return f"{C.FUNCTIONS}/{name}/Resource/Resource"


def function_log_group_path(name: str) -> str:
    return f"{C.FUNCTIONS}/{name}/{C.LOG_GROUP}/Resource"


def email_configuration_set_path(name: str) -> str:
    return f"{C.EMAIL}/{name}/{C.EMAIL_CONFIGURATION_SET}/Resource"


def email_event_destination_path(name: str) -> str:
    return f"{C.EMAIL}/{name}/{C.EMAIL_CONFIGURATION_SET}/{C.EMAIL_EVENT_DESTINATION}/Resource"


def email_topic_path(name: str) -> str:
    return f"{C.EMAIL}/{name}/{C.EMAIL_EVENTS_TOPIC}/Resource"


def email_topic_policy_path(name: str) -> str:
    return f"{C.EMAIL}/{name}/{C.EMAIL_EVENTS_TOPIC}/Policy/Resource"


def email_key_path(name: str) -> str:
    return f"{C.EMAIL}/{name}/{C.EMAIL_EVENTS_KEY}/Resource"


KIND_PATH = {
    "table": table_path,
    "queue": queue_path,
    "bucket": bucket_path,
    "delivery_stream": delivery_stream_path,
    "state_machine": state_machine_path,
    "function": function_path,
}


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """Synthesize the app from MANIFEST once; skip (with the reason) if a function folder is missing."""
    from infra.cdk.app import build_app
    from infra.cdk.errors import MissingFunctionCode
    from infra.cdk.layer import layer_asset

    outdir = tmp_path_factory.mktemp("cdk.out")
    layer_dir, _ = layer_asset()
    try:
        app, _stack = build_app(MANIFEST, layer_dir=layer_dir, outdir=str(outdir))
    except MissingFunctionCode as exc:
        pytest.skip(f"cannot synthesize yet: {exc}")
    nag_error: str | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # jsii surfaces cdk's ValidationFailed as a RuntimeError
        if "Validation" not in str(exc):
            raise
        nag_error = str(exc)
    template = json.loads((outdir / f"{C.STACK_ID}.template.json").read_text())
    report_file = outdir / "validation-report.json"
    synthesized = Synth(
        manifest=MANIFEST,
        outdir=outdir,
        template_json=template,
        report=json.loads(report_file.read_text()) if report_file.exists() else {},
        metadata=json.loads((outdir / f"{C.STACK_ID}.metadata.json").read_text()),
        nag_error=nag_error,
        by_path={
            r["Metadata"]["aws:cdk:path"]: lid
            for lid, r in template["Resources"].items()
            if "aws:cdk:path" in r.get("Metadata", {})
        },
    )
    yield synthesized


@pytest.fixture(scope="session")
def template(synth: Synth) -> Any:
    """``aws_cdk.assertions.Template`` over the synthesized stack (built from JSON: no re-synthesis)."""
    from aws_cdk.assertions import Template

    return Template.from_json(synth.template_json)


def refs(value: Any) -> set[str]:
    """Every logical id a CloudFormation value refers to through ``Ref`` or ``Fn::GetAtt``."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and not str(value["Ref"]).startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            found |= refs(v)
    elif isinstance(value, list):
        for v in value:
            found |= refs(v)
    return found


def render(value: Any) -> str:
    """A CloudFormation value as text: ``Ref X`` -> ``${X}``, ``GetAtt X.A`` -> ``${X.A}``, joins joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return "${" + value["Ref"] + "}"
        if "Fn::GetAtt" in value:
            return "${" + ".".join(value["Fn::GetAtt"]) + "}"
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            return sep.join(render(p) for p in parts)
    raise AssertionError(f"cannot render {value!r}")
