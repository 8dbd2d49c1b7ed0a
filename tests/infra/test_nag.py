"""cdk-nag (AwsSolutions): no unacknowledged error, and every acknowledgement is reasoned and narrow.

The cdk-nag 3 plugin writes ``validation-report.json`` into the cloud assembly, with
``violations`` (unacknowledged) and ``suppressedViolations`` (acknowledged, each with its reason and
the construct it was acknowledged at). Acknowledgements themselves are ``aws:cdk:acknowledged-rules``
metadata in the stack's metadata file.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from infra.cdk import constants as C
from infra.cdk import nag
from tests.infra.conftest import Synth

DOCS = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def aws_solutions(synth: Synth) -> dict[str, Any]:
    (report,) = [p for p in synth.report["pluginReports"] if p["pluginName"] == nag.PLUGIN]
    return dict(report)


def acknowledgements(synth: Synth) -> list[tuple[str, str, str]]:
    """``(construct path, acknowledged id, reason)`` for every AwsSolutions acknowledgement."""
    return [
        (path, ack_id, reason)
        for path, entries in synth.metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for ack_id, reason in entry["data"].items()
        if ack_id.startswith(f"{nag.PLUGIN}::")
    ]


def test_synthesis_passes_cdk_nag(synth: Synth) -> None:
    # given the app with AwsSolutionsChecks registered, when synthesized, then validation passes
    assert synth.nag_error is None
    report = aws_solutions(synth)
    unacknowledged = [
        f"{v['ruleName']} at {[c['constructPath'] for c in v['violatingConstructs']]}"
        for v in report["violations"]
        if v["severity"] == "error"
    ]
    assert unacknowledged == []
    assert report["conclusion"] == "success"


def test_no_validation_plugin_reports_an_error(synth: Synth) -> None:
    # given every validation plugin that ran (cdk-nag and CDK's built-in CloudFormation validation),
    # then none reports an unacknowledged error; warnings are listed
    errors, others = [], []
    for plugin in synth.report.get("pluginReports", []):
        for v in plugin["violations"]:
            line = f"{plugin['pluginName']}: {v['ruleName']} {v['description']}"
            (errors if v["severity"] == "error" else others).append(line)
    if others:
        warnings.warn("validation warnings:\n" + "\n".join(others), UserWarning, stacklevel=1)
    assert errors == []


def test_every_suppressed_finding_has_a_reason_from_the_catalogue(synth: Synth) -> None:
    # given the acknowledged findings, then each carries a reason built from nag.py's catalogue
    catalogue = {v.reason for v in vars(nag).values() if isinstance(v, nag.Ack)}
    for finding in aws_solutions(synth)["suppressedViolations"]:
        reason = finding["reason"]
        assert reason.strip(), finding["ruleName"]
        remainder = reason
        for known in catalogue:
            remainder = remainder.replace(known, "")
        assert remainder.strip() == "", f"{finding['ruleName']}: reason not in the catalogue: {reason!r}"


def test_acknowledgements_are_narrow(synth: Synth) -> None:
    # given each acknowledged finding, then it was acknowledged on the violating construct or an
    # ancestor below the capability group (never the stack or a whole group), and IAM5 findings
    # are acknowledged one wildcard at a time
    groups = {C.TABLES, C.QUEUES, C.BUCKETS, C.DELIVERY_STREAMS, C.STATE_MACHINES, C.FUNCTIONS, C.TRIGGERS}
    for finding in aws_solutions(synth)["suppressedViolations"]:
        at = finding["acknowledgedAt"]
        parts = at.split("/")
        assert parts[0] == C.STACK_ID and len(parts) >= 3 and parts[1] in groups, at
        for construct in finding["violatingConstructs"]:
            assert construct["constructPath"].startswith(at + "/"), (finding["ruleName"], at)
        if finding["ruleName"].startswith("AwsSolutions-IAM5"):
            assert "[" in finding["acknowledgedId"], finding["acknowledgedId"]


def test_no_acknowledgement_is_stale(synth: Synth) -> None:
    # given every acknowledgement the app makes, then each one suppresses at least one finding
    used = {(f["acknowledgedAt"], f["acknowledgedId"]) for f in aws_solutions(synth)["suppressedViolations"]}
    made = {(path.lstrip("/"), ack_id) for path, ack_id, _ in acknowledgements(synth)}
    assert sorted(made - used) == []


def test_every_acknowledgement_reason_is_documented() -> None:
    # given the reason catalogue, then docs/deploy.md lists each rule with its reason verbatim
    text = " ".join(DOCS.read_text().split())
    for ack in (v for v in vars(nag).values() if isinstance(v, nag.Ack)):
        assert ack.rule in text and " ".join(ack.reason.split()) in text, ack.rule
