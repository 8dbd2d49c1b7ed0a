"""Query exported Currents data with DuckDB: one view per event type, deduplicated by ``id``.

Layout read (what the ``currents`` delivery stream writes, docs/currents.md)::

    <root>/currents/event_type=<Currents event type>/date=<YYYY-MM-DD-HH>/<object>.gz

each object gzip-compressed newline-delimited JSON. A source is a local directory (the bucket's
mirror, or the ``currents`` folder itself) or an :class:`S3Source`. DuckDB's ``httpfs`` extension is
not bundled with the duckdb wheel and cannot be installed offline, so an S3 source is first mirrored
into a local cache folder with boto3 (:func:`sync_s3`: new objects only, deletions followed), then
read like a directory.

Every view exists even before any data (empty, with the schema's columns), so queries never fail
on a missing event type. Columns: the event's Currents fields (:mod:`engagekit.currents.events`)
plus ``date``, the hour partition (UTC hour Firehose received the event, as Braze's ``date``,
braze-api.md §6). Views keep one row per ``id``: delivery is at least once (§6), and a retried
record repeats the same events with the same ids.
"""

from __future__ import annotations

import tempfile
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagekit.currents.errors import CurrentsQueryError
from engagekit.currents.events import EVENT_CLASSES, CurrentsEvent

if typing.TYPE_CHECKING:
    import duckdb

__all__ = [
    "PARTITION_COLUMN",
    "S3Source",
    "Source",
    "athena_columns",
    "connect",
    "run_query",
    "schema",
    "sync_s3",
    "view_columns",
]

PARTITION_COLUMN = "date"
"""The hour partition column every view adds: ``YYYY-MM-DD-HH`` (UTC), from the object key."""

DEFAULT_PREFIX = "currents/"


@dataclass(frozen=True)
class S3Source:
    """Exported data in S3: ``bucket`` and the key ``prefix`` (``currents/``).

    ``endpoint_url`` points boto3 at a local endpoint (the local platform's moto server, e.g.
    ``http://127.0.0.1:5000``); ``client`` injects a boto3 S3 client instead. ``cache_dir`` is the
    synced folder (default: ``<tmp>/engagekit-currents/<bucket>``).
    """

    bucket: str
    prefix: str = DEFAULT_PREFIX
    endpoint_url: str | None = None
    cache_dir: Path | None = None
    client: Any = field(default=None, compare=False, repr=False)

    @property
    def local_root(self) -> Path:
        """The synced folder: it mirrors the bucket, so the data sits under ``local_root/prefix``."""
        return self.cache_dir or Path(tempfile.gettempdir()) / "engagekit-currents" / self.bucket


Source = str | Path | S3Source
"""A local directory (bucket mirror or the ``currents`` folder) or an :class:`S3Source`."""


# --------------------------------------------------------------------------------------------
# Schema: DuckDB column types from the pydantic models


def _duckdb_type(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) != 1:  # pragma: no cover - no such field today
            raise TypeError(f"unsupported union {annotation!r}")
        return _duckdb_type(inner[0])
    if origin is typing.Literal:
        return "VARCHAR"
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"{_duckdb_type(item)}[]"
    scalar = {str: "VARCHAR", int: "BIGINT", float: "DOUBLE", bool: "BOOLEAN"}.get(annotation)
    if scalar is None:  # pragma: no cover - guarded by the schema test
        raise TypeError(f"no DuckDB type for {annotation!r}")
    return scalar


def _event_type(cls: type[CurrentsEvent]) -> str:
    return str(cls.model_fields["event_type"].default)


def view_columns(cls: type[CurrentsEvent]) -> list[tuple[str, str]]:
    """``(column, DuckDB type)`` of ``cls``'s view: its fields in order, then ``date`` (VARCHAR).

    ``time`` is BIGINT epoch seconds; JSON-encoded fields (``properties``) are VARCHAR.
    """
    columns = [(name, _duckdb_type(f.annotation)) for name, f in cls.model_fields.items()]
    return [*columns, (PARTITION_COLUMN, "VARCHAR")]


_ATHENA_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "DOUBLE": "double", "BOOLEAN": "boolean"}


def athena_columns(cls: type[CurrentsEvent]) -> list[tuple[str, str]]:
    """``(column, Glue/Athena type)`` of ``cls``'s table, without the ``date`` partition column.

    The same columns as :func:`view_columns` in Hive DDL types (``string``, ``bigint``, ``double``,
    ``boolean``, ``array<string>``), for Glue tables over the same JSON objects (OpenX JSON SerDe).
    """
    out = []
    for name, kind in view_columns(cls)[:-1]:
        athena = f"array<{_ATHENA_TYPES[kind[:-2]]}>" if kind.endswith("[]") else _ATHENA_TYPES[kind]
        out.append((name, athena))
    return out


# --------------------------------------------------------------------------------------------
# Sources


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _currents_dir(source: str | Path) -> Path:
    root = Path(source)
    nested = root / DEFAULT_PREFIX.rstrip("/")
    return nested if nested.is_dir() else root


def sync_s3(source: S3Source) -> Path:
    """Mirror ``s3://bucket/prefix`` into ``source.local_root``; return the local data folder.

    Downloads each ``.gz`` object not yet cached with the same size (Firehose objects are never
    rewritten), removes cached ``.gz`` files whose object is gone (lifecycle expiry). Writes go
    through a ``.part`` file and a rename, so a reader never sees half an object. Raises
    CurrentsQueryError if S3 cannot be listed or read.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    client = source.client
    if client is None:
        import boto3

        client = boto3.client("s3", endpoint_url=source.endpoint_url)
    root = source.local_root.resolve()
    prefix = source.prefix
    data_dir = root / prefix.strip("/") if prefix.strip("/") else root
    seen: set[Path] = set()
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=source.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = str(obj["Key"])
                if not key.endswith(".gz"):
                    continue
                local = (root / key).resolve()
                if not local.is_relative_to(root):
                    continue  # a key such as "../x" must not escape the cache folder
                seen.add(local)
                if local.is_file() and local.stat().st_size == int(obj["Size"]):
                    continue
                local.parent.mkdir(parents=True, exist_ok=True)
                body = client.get_object(Bucket=source.bucket, Key=key)["Body"].read()
                part = local.with_name(local.name + ".part")
                part.write_bytes(body)
                part.replace(local)
    except (BotoCoreError, ClientError) as exc:
        raise CurrentsQueryError(f"cannot sync s3://{source.bucket}/{prefix}: {exc}") from exc
    if data_dir.is_dir():
        for cached in data_dir.rglob("*.gz"):
            if cached.resolve() not in seen:
                cached.unlink()
    return data_dir


def _resolve(source: Source, sync: bool) -> Path:
    if isinstance(source, S3Source):
        if sync:
            return sync_s3(source)
        prefix = source.prefix.strip("/")
        return source.local_root / prefix if prefix else source.local_root
    return _currents_dir(source)


# --------------------------------------------------------------------------------------------
# Views and queries


def _view_sql(cls: type[CurrentsEvent], data_dir: Path) -> str:
    columns = view_columns(cls)
    names = ", ".join(f'"{name}"' for name, _ in columns)
    type_dir = data_dir / f"event_type={_event_type(cls)}"
    if not any(type_dir.glob("date=*/*.gz")):
        typed = ", ".join(f'CAST(NULL AS {kind}) AS "{name}"' for name, kind in columns)
        return f'CREATE OR REPLACE VIEW "{cls.VIEW}" AS SELECT {typed} WHERE false'
    json_columns = ", ".join(f"{_sql_string(n)}: {_sql_string(k)}" for n, k in columns[:-1])
    pattern = _sql_string(str(type_dir / "date=*" / "*.gz"))
    return (
        f'CREATE OR REPLACE VIEW "{cls.VIEW}" AS SELECT DISTINCT ON ("id") {names} '
        f"FROM read_json({pattern}, format='newline_delimited', compression='gzip', "
        f"columns={{{json_columns}}}, hive_partitioning=true, hive_types={{'date': 'VARCHAR'}})"
    )


def connect(source: Source, *, sync: bool = True, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per event type over ``source``.

    View names: :data:`engagekit.currents.events.VIEW_NAMES` (``custom_events``, ``email_sends``...).
    An S3 source is synced first unless ``sync`` is false. ``threads`` caps DuckDB's threads.
    Raises CurrentsQueryError if a view cannot be created or S3 cannot be read.
    """
    import duckdb

    data_dir = _resolve(source, sync)
    connection = duckdb.connect(":memory:")
    try:
        if threads is not None:
            connection.execute(f"SET threads = {int(threads)}")
        for cls in EVENT_CLASSES:
            connection.execute(_view_sql(cls, data_dir))
    except duckdb.Error as exc:
        connection.close()
        raise CurrentsQueryError(f"cannot create the Currents views over {data_dir}: {exc}") from exc
    return connection


def run_query(sql: str, source: Source, *, sync: bool = True) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` over the views of ``source``; return ``(column names, rows)``.

    Raises CurrentsQueryError for SQL DuckDB rejects (message from DuckDB) or an unreadable source.
    """
    import duckdb

    if not sql.strip():
        raise CurrentsQueryError("the SQL is empty")
    connection = connect(source, sync=sync)
    try:
        cursor = connection.execute(sql)
        if cursor is None:  # only comments or semicolons: nothing ran
            raise CurrentsQueryError("the SQL holds no statement")
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall() if cursor.description else []
    except duckdb.Error as exc:
        raise CurrentsQueryError(str(exc)) from exc
    finally:
        connection.close()
    return columns, rows


def schema(source: Source | None = None, *, sync: bool = False) -> dict[str, list[tuple[str, str]]]:
    """Every view and its ``(column, DuckDB type)`` list, as DuckDB describes it over ``source``.

    Without a source, the declared schema (the same for every source: empty views have it too).
    """
    if source is None:
        return {cls.VIEW: view_columns(cls) for cls in EVENT_CLASSES}
    connection = connect(source, sync=sync)
    try:
        return {
            cls.VIEW: [
                (str(r[0]), str(r[1])) for r in connection.execute(f'DESCRIBE "{cls.VIEW}"').fetchall()
            ]
            for cls in EVENT_CLASSES
        }
    finally:
        connection.close()


def view_names() -> Sequence[str]:
    """The view names, in :data:`engagekit.currents.events.EVENT_CLASSES` order."""
    return [cls.VIEW for cls in EVENT_CLASSES]
