"""Least privilege: each function's own role holds exactly the grants its manifest entry implies.

Implied grants = the function's ``access`` (actions from ``infra.cdk.grants.ACTIONS``), what its
triggers need (stream reads, queue consumption, the on-failure queue), and the baseline every
function has (write to its own log group, X-Ray). Statements are compared as (action, resource)
pairs with resources rendered as ``${LogicalId.Attr}``, so a grant on the wrong table fails too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from infra.cdk.grants import ACTIONS
from infra.manifest import MANIFEST
from infra.spec import Access, Function, QueueTrigger, StreamTrigger
from tests.infra.conftest import (
    KIND_PATH,
    Synth,
    delivery_stream_path,
    function_log_group_path,
    function_path,
    render,
    state_machine_path,
    table_path,
)

Pair = tuple[str, str]

STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
ON_FAILURE_SEND = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")


def role_pairs(synth: Synth, role_id: str) -> set[Pair]:
    """Every (action, rendered resource) the policies attached to ``role_id`` allow."""
    pairs: set[Pair] = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for stmt in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert stmt["Effect"] == "Allow"
            actions = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
            pairs |= {(a, render(r)) for a in actions for r in resources}
    return pairs


def arn(synth: Synth, kind: str, name: str) -> str:
    lid = synth.logical_id(KIND_PATH[kind](name))
    return "${" + lid + "}" if kind == "state_machine" else "${" + lid + ".Arn}"  # Ref of SFN = ARN


def access_pairs(synth: Synth, access: Access) -> set[Pair]:
    actions = ACTIONS[(access.kind, access.action)]
    account = "arn:${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}:"
    if access.kind == "ses":  # the identities, and the manifest's configuration sets
        ses = account.replace("{service}", "ses")
        sets = [f"{ses}configuration-set/{c.name}" for c in synth.manifest.email_configuration_sets]
        resources = [f"{ses}identity/{access.name}", *sets]
    elif access.kind == "sns":
        resources = ["*"] if access.name == "*" else [account.replace("{service}", "sns") + access.name]
    else:
        resources = [arn(synth, access.kind, access.name)]
        if access.kind == "bucket":
            resources.append(resources[0] + "/*")
        if access.kind == "table" and synth.manifest.table(access.name).gsis and "read" in access.action:
            resources.append(resources[0] + "/index/*")
    return {(a, r) for a in actions for r in resources}


def expected_pairs(synth: Synth, fn: Function) -> set[Pair]:
    pairs = {(a, "${" + synth.logical_id(function_log_group_path(fn.name)) + ".Arn}")
             for a in ("logs:CreateLogStream", "logs:PutLogEvents")}  # fmt: skip
    pairs |= {(a, "*") for a in XRAY}
    for access in fn.access:
        pairs |= access_pairs(synth, access)
    for trig in fn.triggers:
        if isinstance(trig, StreamTrigger):
            stream = "${" + synth.logical_id(table_path(trig.table)) + ".StreamArn}"
            pairs |= {(a, stream) for a in STREAM_READ} | {("dynamodb:ListStreams", "*")}
            if trig.on_failure:
                pairs |= {(a, arn(synth, "queue", trig.on_failure)) for a in ON_FAILURE_SEND}
        elif isinstance(trig, QueueTrigger):
            pairs |= access_pairs(synth, Access("queue", trig.queue, "consume"))
    return pairs


def function_role(synth: Synth, name: str) -> str:
    fn = synth.resources[synth.logical_id(function_path(name))]
    return str(fn["Properties"]["Role"]["Fn::GetAtt"][0])


FUNCTIONS = [f.name for f in MANIFEST.functions]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_role_allows_exactly_its_declared_grants(synth: Synth, name: str) -> None:
    # given a function's manifest entry, when its role is synthesized, then the role allows exactly
    # the implied (action, resource) pairs: nothing missing, nothing more
    fn = synth.manifest.function(name)
    actual = role_pairs(synth, function_role(synth, name))
    expected = expected_pairs(synth, fn)
    assert sorted(expected - actual) == [], "declared but not granted"
    assert sorted(actual - expected) == [], "granted but not declared"


@pytest.mark.parametrize(
    "name",
    [
        f.name
        for f in MANIFEST.functions
        if not any(a.kind == "table" for a in f.access)
        and not any(isinstance(t, StreamTrigger) for t in f.triggers)
    ],
)
def test_function_without_table_access_has_no_dynamodb_actions(synth: Synth, name: str) -> None:
    # given a function that declares no table access and no stream, then its role has no dynamodb:*
    actions = {a for a, _ in role_pairs(synth, function_role(synth, name))}
    assert sorted(a for a in actions if a.startswith("dynamodb:")) == []


def test_each_function_has_its_own_role(synth: Synth) -> None:
    # given all functions, then no two share a role
    roles = [function_role(synth, f.name) for f in synth.manifest.functions]
    assert len(set(roles)) == len(roles)


@pytest.mark.parametrize("name", [s.name for s in MANIFEST.state_machines])
def test_state_machine_role_reaches_only_its_substitutions(synth: Synth, name: str) -> None:
    # given a state machine, then its role's only resource-scoped grants are on the resources its
    # ASL names through substitutions; the rest is log delivery and X-Ray, which need "*"
    from infra.cdk.constructs.state_machines import SUBSTITUTION_ACCESS

    machine = synth.resources[synth.logical_id(state_machine_path(name))]
    actual = role_pairs(synth, machine["Properties"]["RoleArn"]["Fn::GetAtt"][0])
    scoped = {(a, r) for a, r in actual if r != "*"}
    expected: set[Pair] = set()
    for _, ref in synth.manifest.state_machine(name).substitutions:
        expected |= access_pairs(synth, Access(ref.kind, ref.name, SUBSTITUTION_ACCESS[ref.kind]))
    assert scoped == expected
    assert {a.split(":")[0] for a, r in actual if r == "*"} <= {"logs", "xray"}


@pytest.mark.parametrize("name", [d.name for d in MANIFEST.delivery_streams])
def test_delivery_stream_role_writes_only_under_its_prefixes(synth: Synth, name: str) -> None:
    # given a delivery stream, then its role may put objects only under the static heads of its
    # prefix and error prefix in its own bucket, and write only its own error log stream
    spec = synth.manifest.delivery_stream(name)
    stream = synth.resources[synth.logical_id(delivery_stream_path(name))]
    role = stream["Properties"]["ExtendedS3DestinationConfiguration"]["RoleARN"]["Fn::GetAtt"][0]
    actual = role_pairs(synth, role)
    bucket = arn(synth, "bucket", spec.bucket)
    heads = {spec.prefix.split("!{")[0], spec.error_prefix.split("!{")[0]}
    object_resources = {r for a, r in actual if a == "s3:PutObject"}
    assert object_resources == {f"{bucket}/{h}*" for h in heads}
    assert {r for a, r in actual if a.startswith("s3:") and not r.startswith(f"{bucket}/")} == {bucket}
    assert {a for a, _ in actual} == {
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:PutObject",
        "logs:PutLogEvents",
    }


@dataclass
class ActionCase:
    kind: str
    action: str
    forbidden_verbs: tuple[str, ...]


READ_ONLY_CASES = [
    ActionCase("table", "read", ("Put", "Update", "Delete", "BatchWrite")),
    ActionCase("bucket", "read", ("Put", "Delete", "Abort")),
    ActionCase("queue", "send", ("Receive", "Delete", "Purge")),
    ActionCase("table", "write", ("Scan", "Query", "GetItem", "BatchGet")),
]


@pytest.mark.parametrize("case", READ_ONLY_CASES, ids=lambda c: f"{c.kind}-{c.action}")
def test_grant_actions_stay_within_their_verb(case: ActionCase) -> None:
    # given a narrow access verb, then its IAM actions include no action of another verb
    actions = ACTIONS[(case.kind, case.action)]
    assert [a for a in actions if any(v in a.split(":")[1] for v in case.forbidden_verbs)] == []


def test_no_grant_uses_an_action_wildcard() -> None:
    # given every supported access pair, then every action is spelled out (no "s3:Get*")
    assert [a for actions in ACTIONS.values() for a in actions if "*" in a] == []
