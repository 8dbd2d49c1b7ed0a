"""The cloud query layer over the Currents lake: Glue tables, an Athena workgroup, retention.

Nothing here is declared in the manifest: it is **derived** from the manifest's ``currents``
delivery stream (:data:`infra.cdk.constants.CURRENTS_STREAM`), as the local query layer (the DuckDB
views of ``engagekit query``, :mod:`engagekit.currents.query`) is derived from the same stream's
objects. Both read their columns from :mod:`engagekit.currents.events`, so the local views and the
cloud tables cannot drift apart (``tests/infra/test_analytics.py`` checks it).

- One Glue database, and **one table per event family** (:data:`FAMILY_PREFIXES`: ``behaviors``,
  ``users``, ``canvas``, ``campaigns``, ``email``, ``push``, ``sms``, ``webhook``,
  ``content_cards``, ``in_app_messages``). A table's columns are the union of its event types'
  :func:`engagekit.currents.query.athena_columns` (without ``event_type``, which is a partition
  column); its partitions are ``event_type`` (enum projection: the family's event types) and
  ``date`` (date projection in the stream's ``!{timestamp:...}`` format, hourly, from
  ``NOW-<retention>DAYS`` to ``NOW``). Partition projection needs no crawler and no
  ``MSCK REPAIR``. Per family rather than per event type: 10 tables instead of 43 keeps the stack
  far from CloudFormation's 500-resource limit, and a query over one channel reads one table.
- Lifecycle rules on the lake bucket: objects under the stream's prefix expire after
  :data:`~infra.cdk.constants.CURRENTS_RETENTION_DAYS`, under its error prefix after
  :data:`~infra.cdk.constants.CURRENTS_ERRORS_RETENTION_DAYS`.
- An Athena workgroup (engine v3) whose settings are enforced: results in a helper bucket
  ``Results`` (SSE-S3, TLS only, public access blocked, access logged, expiring after
  :data:`~infra.cdk.constants.ATHENA_RESULTS_RETENTION_DAYS`), a bytes-scanned cutoff per query,
  CloudWatch metrics.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct
from engagekit.currents.events import EVENT_CLASSES, CurrentsEvent
from engagekit.currents.query import PARTITION_COLUMN, athena_columns

from infra.cdk import constants as C
from infra.cdk.constructs.buckets import _secure_bucket
from infra.cdk.errors import SynthError
from infra.spec import DeliveryStream

EVENT_TYPE_COLUMN: Final = "event_type"

FAMILY_PREFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("users.behaviors.", "behaviors"),
    ("users.profile.", "users"),
    ("users.UserDeleteRequest", "users"),
    ("users.UserOrphan", "users"),
    ("users.canvas.", "canvas"),
    ("users.campaigns.", "campaigns"),
    ("users.messages.email.", "email"),
    ("users.messages.pushnotification.", "push"),
    ("users.messages.sms.", "sms"),
    ("users.messages.webhook.", "webhook"),
    ("users.messages.contentcard.", "content_cards"),
    ("users.messages.inappmessage.", "in_app_messages"),
)
"""Currents event type prefix -> Glue table (event family). The longest matching prefix wins."""

_PARTITION_EXPR = "!{partitionKeyFromQuery:" + EVENT_TYPE_COLUMN + "}"
_TIMESTAMP = re.compile(r"!\{timestamp:([^}]+)\}")


def event_type_of(cls: type[CurrentsEvent]) -> str:
    """The Currents event type of ``cls`` (its ``event_type`` default)."""
    return str(cls.model_fields[EVENT_TYPE_COLUMN].default)


def family_of(event_type: str) -> str:
    """The Glue table of ``event_type`` (:data:`FAMILY_PREFIXES`, longest prefix).

    Raises :class:`SynthError` for a type no prefix covers: a new family must be named on purpose.
    """
    matches = [(len(prefix), table) for prefix, table in FAMILY_PREFIXES if event_type.startswith(prefix)]
    if not matches:
        raise SynthError(f"Currents event type {event_type!r} has no Glue table: add it to FAMILY_PREFIXES")
    return max(matches)[1]


def families(classes: Sequence[type[CurrentsEvent]] = EVENT_CLASSES) -> dict[str, list[type[CurrentsEvent]]]:
    """Table name -> its event classes, tables and classes in :data:`EVENT_CLASSES` order."""
    out: dict[str, list[type[CurrentsEvent]]] = {}
    for cls in classes:
        out.setdefault(family_of(event_type_of(cls)), []).append(cls)
    return out


def family_columns(classes: Sequence[type[CurrentsEvent]]) -> list[tuple[str, str]]:
    """``(column, Hive type)`` of a family table: the union of its classes' Athena columns.

    First occurrence order; ``event_type`` is left out (a partition column). Raises
    :class:`SynthError` when two event types give one column different types.
    """
    columns: dict[str, str] = {}
    for cls in classes:
        for name, kind in athena_columns(cls):
            if name == EVENT_TYPE_COLUMN:
                continue
            if columns.setdefault(name, kind) != kind:
                raise SynthError(
                    f"column {name!r} is {columns[name]} and {kind} in one family ({event_type_of(cls)})"
                )
    return list(columns.items())


@dataclass(frozen=True)
class Layout:
    """Where a delivery stream writes: the ``folder`` holding every object (the prefix up to the last
    ``/`` before any expression), the Athena ``storage.location.template`` relative to the bucket,
    and the hour partition's Java format."""

    folder: str
    template: str
    date_format: str


def layout(stream: DeliveryStream) -> Layout:
    """The partition layout of ``stream``'s ``prefix``.

    The prefix must be ``<head>...!{partitionKeyFromQuery:event_type}...!{timestamp:FMT}...``
    (e.g. ``currents/event_type=!{partitionKeyFromQuery:event_type}/date=!{timestamp:yyyy-MM-dd-HH}/``);
    each expression becomes its Athena projection placeholder (``${event_type}``, ``${date}``).
    Raises :class:`SynthError` for any other shape.
    """
    prefix = stream.prefix
    stamps = _TIMESTAMP.findall(prefix)
    if prefix.count(_PARTITION_EXPR) != 1 or len(stamps) != 1:
        raise SynthError(
            f"delivery stream {stream.name}: the query layer needs exactly one {_PARTITION_EXPR} and one "
            f"!{{timestamp:...}} in its prefix, got {prefix!r}"
        )
    template = _TIMESTAMP.sub("${" + PARTITION_COLUMN + "}", prefix).replace(
        _PARTITION_EXPR, "${" + EVENT_TYPE_COLUMN + "}"
    )
    if "!{" in template:
        raise SynthError(f"delivery stream {stream.name}: unsupported expression in prefix {prefix!r}")
    folder = static_folder(prefix)
    if not folder:
        raise SynthError(f"delivery stream {stream.name}: the prefix {prefix!r} needs a static folder first")
    return Layout(folder=folder, template=template, date_format=stamps[0])


def static_folder(prefix: str) -> str:
    """The folder of an S3 prefix before its first Firehose expression: ``currents/`` for
    ``currents/event_type=!{...}/...``; empty when the expression starts the prefix."""
    head = prefix.split("!{", 1)[0]
    return head[: head.rindex("/") + 1] if "/" in head else ""


def glue_name(text: str) -> str:
    """A Glue/Athena identifier from ``text``: lower case, ``[a-z0-9_]`` only."""
    return re.sub(r"[^a-z0-9_]", "_", text.lower())


class Analytics(Construct):
    """Glue database + one table per family, Athena workgroup + results bucket, lake retention.

    ``stream`` is the manifest's Currents delivery stream, ``lake`` the bucket it writes to (it gets
    the retention rules), ``access_logs`` the app's access-log bucket (the results bucket logs there
    under ``athena-results/``). Names: database ``<stack>_currents``, workgroup ``<stack>-currents``
    (stack outputs ``CurrentsDatabase`` and ``AthenaWorkGroup``). Raises :class:`SynthError` for a
    stream whose prefix has no event-type/hour layout (:func:`layout`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stream: DeliveryStream,
        lake: s3.Bucket,
        access_logs: s3.IBucket | None,
    ) -> None:
        super().__init__(scope, construct_id)
        where = layout(stream)
        stack_name = Stack.of(self).stack_name

        lake.add_lifecycle_rule(
            id=f"{stream.name}-retention",
            prefix=where.folder,
            expiration=Duration.days(C.CURRENTS_RETENTION_DAYS),
            abort_incomplete_multipart_upload_after=Duration.days(C.INCOMPLETE_UPLOADS_DAYS),
        )
        errors_folder = static_folder(stream.error_prefix)
        if not errors_folder:
            raise SynthError(f"delivery stream {stream.name}: the error prefix needs a static folder first")
        lake.add_lifecycle_rule(
            id=f"{stream.name}-errors-retention",
            prefix=errors_folder,
            expiration=Duration.days(C.CURRENTS_ERRORS_RETENTION_DAYS),
        )

        self.results = _secure_bucket(
            self,
            C.ATHENA_RESULTS_BUCKET,
            access_logs=access_logs,
            access_logs_prefix="athena-results/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(C.ATHENA_RESULTS_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(C.INCOMPLETE_UPLOADS_DAYS),
                )
            ],
        )

        self.database = glue.Database(
            self,
            C.GLUE_DATABASE,
            database_name=glue_name(f"{stack_name}_{stream.name}"),
            description=f"Currents events of the {stream.name} delivery stream (docs/currents.md)",
            removal_policy=RemovalPolicy.DESTROY,  # metadata only: the lake keeps the data
        )
        tables = Construct(self, C.GLUE_TABLES)
        storage = glue.S3TableStorage.from_bucket(lake)
        self.tables: dict[str, glue.S3Table] = {}
        for family, classes in families().items():
            self.tables[family] = glue.S3Table(
                tables,
                family,
                table_name=family,
                database=self.database,
                storage=storage,
                s3_prefix=where.folder,
                description=f"Currents {family} events: " + ", ".join(event_type_of(c) for c in classes),
                data_format=glue.DataFormat.JSON,
                compressed=True,
                has_encrypted_data=False,  # SSE-S3: S3 decrypts; the flag is for client-side encryption
                columns=[glue.Column(name=n, type=_glue_type(k)) for n, k in family_columns(classes)],
                partition_keys=[
                    glue.Column(name=EVENT_TYPE_COLUMN, type=glue.Schema.STRING),
                    glue.Column(name=PARTITION_COLUMN, type=glue.Schema.STRING),
                ],
                partition_projection={
                    EVENT_TYPE_COLUMN: glue.PartitionProjectionConfiguration.enum(
                        values=[event_type_of(c) for c in classes]
                    ),
                    PARTITION_COLUMN: glue.PartitionProjectionConfiguration.date(
                        format=where.date_format,
                        min=f"NOW-{C.CURRENTS_RETENTION_DAYS}DAYS",
                        max="NOW",
                        step=glue.DateProjectionStep(interval=1, interval_unit=glue.DateIntervalUnit.HOURS),
                    ),
                },
                parameters={
                    "storage.location.template": f"s3://{lake.bucket_name}/{where.template}",
                    "classification": "json",
                },
            )
            self.tables[family].node.default_child.apply_removal_policy(RemovalPolicy.DESTROY)  # type: ignore[union-attr]

        self.workgroup = athena.CfnWorkGroup(
            self,
            C.ATHENA_WORKGROUP,
            name=f"{stack_name}-{stream.name}",
            description=f"Queries over the {stream.name} Glue tables (docs/currents.md)",
            recursive_delete_option=True,  # saved queries and history go with the stack
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=C.ATHENA_BYTES_SCANNED_CUTOFF,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=C.ATHENA_ENGINE_VERSION
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results.bucket_name}/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                    expected_bucket_owner=Stack.of(self).account,
                ),
            ),
        )
        CfnOutput(self, C.OUTPUT_CURRENTS_DATABASE, value=self.database.database_name)
        CfnOutput(self, C.OUTPUT_ATHENA_WORKGROUP, value=self.workgroup.ref)


_SCALARS: Final = {
    "string": glue.Schema.STRING,
    "bigint": glue.Schema.BIG_INT,
    "double": glue.Schema.DOUBLE,
    "boolean": glue.Schema.BOOLEAN,
}


def _glue_type(hive: str) -> glue.Type:
    """The Glue column type of a Hive type from :func:`athena_columns` (scalars, ``array<scalar>``)."""
    if hive.startswith("array<") and hive.endswith(">"):
        return glue.Schema.array(_glue_type(hive[len("array<") : -1]))
    try:
        return _SCALARS[hive]
    except KeyError as exc:
        raise SynthError(f"no Glue type for Athena column type {hive!r}") from exc
