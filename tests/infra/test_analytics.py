"""The Currents query layer in the cloud: Glue tables, Athena workgroup, retention.

It is derived from the manifest's ``currents`` delivery stream (infra/cdk/constructs/analytics.py),
so these tests check it against that stream and against the local query layer's schema
(:mod:`engagekit.currents.query`): a column of a DuckDB view is a column of its Glue table, with the
same type; the Glue table reads exactly the keys the stream writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engagekit.currents import events as ev
from engagekit.currents.query import view_columns

from infra.cdk import constants as C
from infra.cdk.constructs.analytics import (
    EVENT_TYPE_COLUMN,
    event_type_of,
    families,
    family_columns,
    family_of,
    layout,
    static_folder,
)
from infra.cdk.errors import SynthError
from infra.manifest import MANIFEST
from infra.spec import DeliveryStream
from tests.infra.conftest import Synth, bucket_path, render

DOCS = Path(__file__).resolve().parents[2] / "docs"
STREAM = MANIFEST.delivery_stream(C.CURRENTS_STREAM)
HIVE = {"VARCHAR": "string", "BIGINT": "bigint", "DOUBLE": "double", "BOOLEAN": "boolean"}


def glue_tables(synth: Synth) -> dict[str, dict[str, Any]]:
    """Glue table name -> its ``TableInput``."""
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in synth.of_type("AWS::Glue::Table").values()
    }


def one(synth: Synth, cfn_type: str) -> dict[str, Any]:
    (resource,) = synth.of_type(cfn_type).values()
    return dict(resource["Properties"])


def lake_id(synth: Synth) -> str:
    return synth.logical_id(bucket_path(STREAM.bucket))


# --- derived from the stream and the event schemas ---------------------------------------------
def test_every_event_type_is_in_exactly_one_glue_table(synth: Synth) -> None:
    # given the Glue tables, then their event_type projections partition the Currents event types
    tables = glue_tables(synth)
    projected = {
        name: t["Parameters"][f"projection.{EVENT_TYPE_COLUMN}.values"].split(",")
        for name, t in tables.items()
    }
    every = [t for values in projected.values() for t in values]
    assert sorted(every) == sorted(ev.EVENT_TYPES) and len(every) == len(set(every))
    assert projected == {f: [event_type_of(c) for c in classes] for f, classes in families().items()}


@pytest.mark.parametrize("cls", ev.EVENT_CLASSES, ids=lambda c: c.VIEW)
def test_each_view_column_is_a_column_of_its_glue_table_with_the_same_type(
    synth: Synth, cls: type[ev.CurrentsEvent]
) -> None:
    # given the local DuckDB view of an event type, then its Glue table has every column of it
    table = glue_tables(synth)[family_of(event_type_of(cls))]
    glue = {c["Name"]: c["Type"] for c in table["StorageDescriptor"]["Columns"]}
    glue |= {c["Name"]: c["Type"] for c in table["PartitionKeys"]}
    for name, duck in view_columns(cls):
        hive = f"array<{HIVE[duck[:-2]]}>" if duck.endswith("[]") else HIVE[duck]
        assert glue.get(name) == hive, name


@pytest.mark.parametrize("family", sorted(families()))
def test_glue_table_columns_are_the_union_of_its_event_types(synth: Synth, family: str) -> None:
    table = glue_tables(synth)[family]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == family_columns(families()[family])
    assert EVENT_TYPE_COLUMN not in dict(columns)  # a partition column, not a data column


@pytest.mark.parametrize("family", sorted(families()))
def test_glue_table_projects_event_type_and_hour_where_the_stream_writes(synth: Synth, family: str) -> None:
    # given the stream prefix currents/event_type=!{...}/date=!{timestamp:yyyy-MM-dd-HH}/
    table = glue_tables(synth)[family]
    params = table["Parameters"]
    lake = "${" + lake_id(synth) + "}"
    # then Athena lists exactly those keys, one hour at a time, over the retention window
    assert render(params["storage.location.template"]) == (
        f"s3://{lake}/currents/event_type=${{event_type}}/date=${{date}}/"
    )
    assert render(table["StorageDescriptor"]["Location"]) == f"s3://{lake}/currents/"
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [
        ("event_type", "string"),
        ("date", "string"),
    ]
    assert params["projection.enabled"] == "true"
    assert params[f"projection.{EVENT_TYPE_COLUMN}.type"] == "enum"
    assert {
        k: params[f"projection.date.{k}"] for k in ("type", "format", "interval", "interval.unit", "range")
    } == {
        "type": "date",
        "format": "yyyy-MM-dd-HH",
        "interval": "1",
        "interval.unit": "HOURS",
        "range": f"NOW-{C.CURRENTS_RETENTION_DAYS}DAYS,NOW",
    }
    # and reads the gzip NDJSON objects with the OpenX JSON SerDe
    sd = table["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
    assert (sd["InputFormat"], sd["Compressed"]) == ("org.apache.hadoop.mapred.TextInputFormat", True)
    assert table["TableType"] == "EXTERNAL_TABLE"


def test_glue_tables_belong_to_the_currents_database(synth: Synth) -> None:
    db_id = synth.logical_id(f"{C.ANALYTICS}/{C.GLUE_DATABASE}/Resource")
    assert one(synth, "AWS::Glue::Database")["DatabaseInput"]["Name"] == "engagekitstack_currents"
    for resource in synth.of_type("AWS::Glue::Table").values():
        assert resource["Properties"]["DatabaseName"] == {"Ref": db_id}
        assert resource["DeletionPolicy"] == "Delete"  # metadata only; the lake keeps the data


# --- Athena ----------------------------------------------------------------------------------
def test_workgroup_enforces_encrypted_results_in_its_own_bucket(synth: Synth) -> None:
    wg = one(synth, "AWS::Athena::WorkGroup")
    config = wg["WorkGroupConfiguration"]
    results = synth.logical_id(f"{C.ANALYTICS}/{C.ATHENA_RESULTS_BUCKET}/Resource")
    assert wg["Name"] == f"{C.STACK_ID}-{C.CURRENTS_STREAM}"
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == C.ATHENA_BYTES_SCANNED_CUTOFF
    assert config["EngineVersion"]["SelectedEngineVersion"] == C.ATHENA_ENGINE_VERSION
    assert render(config["ResultConfiguration"]["OutputLocation"]) == f"s3://${{{results}}}/"
    assert config["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}


def test_results_bucket_is_private_encrypted_logged_tls_only_and_expires(synth: Synth, template: Any) -> None:
    from aws_cdk.assertions import Match

    path = f"{C.ANALYTICS}/{C.ATHENA_RESULTS_BUCKET}/Resource"
    p = synth.resources[synth.logical_id(path)]["Properties"]
    assert all(p["PublicAccessBlockConfiguration"].values())
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    assert p["LoggingConfiguration"]["LogFilePrefix"] == "athena-results/"
    (rule,) = p["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == C.ATHENA_RESULTS_RETENTION_DAYS and "Prefix" not in rule
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": synth.logical_id(path)},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_lake_expires_currents_and_error_objects_by_prefix(synth: Synth) -> None:
    rules = synth.resources[lake_id(synth)]["Properties"]["LifecycleConfiguration"]["Rules"]
    by_prefix = {r["Prefix"]: r["ExpirationInDays"] for r in rules}
    assert by_prefix == {
        "currents/": C.CURRENTS_RETENTION_DAYS,
        "currents-errors/": C.CURRENTS_ERRORS_RETENTION_DAYS,
    }


def test_stack_outputs_name_the_database_and_the_workgroup(synth: Synth) -> None:
    outputs = {k: v["Value"] for k, v in synth.template_json["Outputs"].items()}
    db_id = synth.logical_id(f"{C.ANALYTICS}/{C.GLUE_DATABASE}/Resource")
    wg_id = synth.logical_id(f"{C.ANALYTICS}/{C.ATHENA_WORKGROUP}")
    assert [v for k, v in outputs.items() if C.OUTPUT_CURRENTS_DATABASE in k] == [{"Ref": db_id}]
    assert [v for k, v in outputs.items() if C.OUTPUT_ATHENA_WORKGROUP in k] == [{"Ref": wg_id}]


# --- building blocks (no synthesis) ------------------------------------------------------------
@dataclass
class LayoutCase:
    name: str
    prefix: str
    error: str | None  # a fragment of the SynthError message, or None when the layout is valid


LAYOUT_CASES = [
    LayoutCase("manifest", STREAM.prefix, None),
    LayoutCase("no event type key", "currents/date=!{timestamp:yyyy-MM-dd-HH}/", "exactly one"),
    LayoutCase("no hour", "currents/event_type=!{partitionKeyFromQuery:event_type}/", "exactly one"),
    LayoutCase(
        "two timestamps",
        "currents/event_type=!{partitionKeyFromQuery:event_type}/!{timestamp:yyyy}/!{timestamp:HH}/",
        "exactly one",
    ),
    LayoutCase(
        "other expression",
        "currents/event_type=!{partitionKeyFromQuery:event_type}/date=!{timestamp:yyyy}/!{firehose:random-string}/",
        "unsupported",
    ),
    LayoutCase(
        "no static folder", "!{partitionKeyFromQuery:event_type}/!{timestamp:yyyy-MM-dd-HH}/", "folder"
    ),
]


@pytest.mark.parametrize("case", LAYOUT_CASES, ids=lambda c: c.name)
def test_layout_of_a_stream_prefix(case: LayoutCase) -> None:
    stream = DeliveryStream("s", bucket="lake", prefix=case.prefix, error_prefix="errors/")
    if case.error is None:
        got = layout(stream)
        assert (got.folder, got.template, got.date_format) == (
            "currents/",
            "currents/event_type=${event_type}/date=${date}/",
            "yyyy-MM-dd-HH",
        )
        return
    with pytest.raises(SynthError, match=case.error):
        layout(stream)


@pytest.mark.parametrize(
    ("prefix", "folder"),
    [
        ("currents/event_type=!{x:y}/", "currents/"),
        ("a/b/c!{x:y}", "a/b/"),
        ("currents-errors/!{firehose:error-output-type}/", "currents-errors/"),
        ("!{x:y}/", ""),
    ],
)
def test_static_folder_stops_at_the_last_slash_before_an_expression(prefix: str, folder: str) -> None:
    assert static_folder(prefix) == folder


def test_an_event_type_without_a_family_is_a_synth_error() -> None:
    with pytest.raises(SynthError, match="FAMILY_PREFIXES"):
        family_of("users.messages.whatsapp.Send")


def test_a_column_with_two_types_in_one_family_is_a_synth_error() -> None:
    class A(ev.CurrentsEvent):
        event_type: str = "users.messages.email.X"
        extra: int | None = None

    class B(ev.CurrentsEvent):
        event_type: str = "users.messages.email.Y"
        extra: str | None = None

    with pytest.raises(SynthError, match="'extra' is bigint and string"):
        family_columns([A, B])


# --- documentation ---------------------------------------------------------------------------
FAMILY_ROW = re.compile(r"^\| \*\*`(?P<table>\w+)`\*\* \| (?P<views>.*) \|$", re.M)


def test_docs_list_each_glue_table_with_the_views_it_holds() -> None:
    rows = {
        m["table"]: re.findall(r"`(\w+)`", m["views"])
        for m in FAMILY_ROW.finditer((DOCS / "currents.md").read_text())
    }
    assert rows == {family: [c.VIEW for c in classes] for family, classes in families().items()}


def test_deploy_doc_describes_the_analytics_construct() -> None:
    text = (DOCS / "deploy.md").read_text()
    assert "`Analytics` (`constructs/analytics.py`)" in text
