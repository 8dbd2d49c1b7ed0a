"""Segment jobs: the walks the ``segment_backfill`` state machine runs, one Lambda task a page.

A job is a JSON object (:class:`Job`) with a ``kind``:

- ``build``: a new or edited segment (``generation``) is evaluated over every profile: a parallel
  Scan of the ``profiles`` table in ``parts`` parts, each a loop of pages; then the segment turns
  ``live`` (if no newer edit superseded this generation).
- ``drop``: a deleted segment's members are removed shard by shard; then the definition goes.
- ``export``: ``POST /users/export/segment``: each member shard is written as gzip NDJSON files of
  at most :data:`EXPORT_FILE_USERS` users to S3 under Braze's key layout; then the callback is
  called and the export lock released.

The state machine (``infra/statemachines/segment_backfill.asl.json``) is: ``Plan`` (returns
``{"job", "parts": [0, 1, ...]}``) -> ``Walk`` (a Map over ``parts``; each iteration loops the
``page`` task until ``done``) -> ``Finish``. :func:`handle` is the task's entry point. Never a
per-user execution (ARCHITECTURE.md scale facts: Step Functions executions orchestrate shards).
Step Functions Standard keeps at most 25,000 history events per execution (AWS quota): at
about 3 events a page, one build walks up to ~8,000 pages (``parts`` x pages), i.e. 4 million
profiles at the default page of 500; raise ``page_size`` for larger tables.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import ConfigDict, Field

from engagekit.model import Model
from engagekit.profiles.projection import export_user
from engagekit.segments.membership import SHARDS
from engagekit.segments.store import DefinitionRepo
from engagekit.segments.updater import MembershipUpdater, Page

log = logging.getLogger(__name__)

EXPORT_FILE_USERS = 5000
"""Users per export file (braze-api.md §1.7: "~1 file per 5,000 users")."""
DROP_PAGE = 500


class Job(Model):
    """The input of one ``segment_backfill`` execution (and of each of its tasks)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["build", "drop", "export"]
    segment_id: str
    generation: int = 0
    parts: int = Field(default=8, ge=1, le=1_000_000)
    page_size: int = Field(default=500, ge=1, le=EXPORT_FILE_USERS)
    started_at: str | None = None
    object_prefix: str | None = None
    key_prefix: str | None = None
    bucket: str | None = None
    fields_to_export: list[str] | None = None
    custom_attributes_to_export: list[str] | None = None
    callback_endpoint: str | None = None


class JobStarter(Protocol):
    """Starts a job (the Step Functions adapter, or a synchronous runner in tests)."""

    def start(self, job: Job) -> str:
        """Start ``job``; returns its execution id."""
        ...


class ObjectWriter(Protocol):
    """Writes one object (S3 PutObject, or memory in tests)."""

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None: ...


class Callback(Protocol):
    """POSTs the export-finished notice to the caller's ``callback_endpoint``."""

    def post(self, url: str, body: dict[str, Any]) -> None:
        """Raises an exception when refused (unsafe target) or failed."""
        ...


def execution_name(job: Job) -> str:
    """A unique, valid Step Functions execution name (1-80 of ``[A-Za-z0-9_-]``)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", job.segment_id)[:50]
    return f"{job.kind}-{safe}-{job.generation}-{uuid.uuid4().hex[:12]}"[:80]


class StepFunctionsStarter:
    """:class:`JobStarter` on Step Functions (``SEGMENT_BACKFILL_STATE_MACHINE_ARN``)."""

    def __init__(self, state_machine_arn: str, client: Any = None) -> None:
        self.arn = state_machine_arn
        self._client = client

    def start(self, job: Job) -> str:
        from engagekit import aws

        sfn = self._client or aws.client("stepfunctions")
        out = sfn.start_execution(
            stateMachineArn=self.arn, name=execution_name(job), input=job.model_dump_json(exclude_none=True)
        )
        return str(out["executionArn"])


class S3Writer:
    """:class:`ObjectWriter` on S3."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        from engagekit import aws

        (self._client or aws.client("s3")).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, ContentEncoding="gzip"
        )


@dataclass
class JobRunner:
    """The task logic of the state machine; ``now`` comes from the caller (the platform clock)."""

    updater: MembershipUpdater
    definitions: DefinitionRepo
    writer: ObjectWriter | None = None
    callback: Callback | None = None

    def plan(self, job: Job) -> dict[str, Any]:
        """``{"job": ..., "parts": [0..n-1]}``: scan parts for builds, member shards otherwise."""
        parts = job.parts if job.kind == "build" else SHARDS
        return {"job": job.model_dump(exclude_none=True), "parts": list(range(parts))}

    def page(self, job: Job, part: int, cursor: str | None, page: int, now: datetime) -> dict[str, Any]:
        """Run one page of ``part``; returns the next task input with ``done``."""
        if job.kind == "build":
            result = self.updater.backfill_page(
                job.segment_id,
                job.generation,
                now,
                part=part,
                parts=job.parts,
                cursor=cursor,
                limit=job.page_size,
            )
        elif job.kind == "drop":
            result = self.updater.drop_page(job.segment_id, part, DROP_PAGE)
        else:
            result = self._export_page(job, part, cursor, page)
        return {
            "action": "page",
            "job": job.model_dump(exclude_none=True),
            "part": part,
            "cursor": result.cursor,
            "page": page + 1,
            "done": result.done,
        }

    def finish(self, job: Job, now: datetime) -> dict[str, Any]:
        """Close the job: ``live`` for builds, remove the definition for drops, callback for exports."""
        if job.kind == "build":
            live = self.definitions.set_state(job.segment_id, job.generation, "live", now)
            return {"segment_id": job.segment_id, "state": "live" if live else "superseded"}
        if job.kind == "drop":
            self.updater.memberships.drop_segment(job.segment_id)
            removed = self.definitions.remove(job.segment_id, job.generation)
            return {"segment_id": job.segment_id, "deleted": removed}
        assert job.object_prefix is not None
        self.definitions.unlock_export(job.segment_id, job.object_prefix)
        called = False
        if job.callback_endpoint and self.callback is not None:
            try:
                self.callback.post(
                    job.callback_endpoint,
                    {"success": True, "segment_id": job.segment_id, "object_prefix": job.object_prefix},
                )
                called = True
            except Exception as exc:  # the export is done; a failed notice is logged, not retried
                log.warning("segment export callback to %s failed: %s", job.callback_endpoint, exc)
        return {"segment_id": job.segment_id, "object_prefix": job.object_prefix, "callback": called}

    def _export_page(self, job: Job, shard: int, cursor: str | None, page: int) -> Page:
        from engagekit.segments.updater import Outcome

        assert self.writer is not None and job.bucket and job.key_prefix and job.started_at
        users, next_cursor = self.updater.memberships.page_members(
            job.segment_id, cursor=cursor, limit=EXPORT_FILE_USERS, shard=shard
        )
        if users:
            started = datetime.fromisoformat(job.started_at)
            profiles = self.updater.profiles.get(users)
            lines = [
                json.dumps(project(profiles[u], job, started), separators=(",", ":"), ensure_ascii=False)
                for u in users
                if u in profiles
            ]
            body = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6)
            key = f"{job.key_prefix}{job.object_prefix}-{shard:03d}-{page:05d}.json.gz"
            self.writer.put(job.bucket, key, body, "application/x-ndjson")
        return Page(Outcome(users=len(users)), next_cursor, next_cursor is None)


def project(profile: Any, job: Job, now: datetime) -> dict[str, Any]:
    """One exported user: :func:`engagekit.profiles.projection.export_user` (the projection of
    ``/users/export/ids``) with ``fields_to_export``; ``custom_attributes_to_export`` narrows
    ``custom_attributes`` unless ``fields_to_export`` asks for all of them (braze-api.md §1.7)."""
    fields = set(job.fields_to_export) if job.fields_to_export is not None else None
    named = job.custom_attributes_to_export
    if named and fields is not None and "custom_attributes" not in fields:
        fields.add("custom_attributes")
        out = export_user(profile, fields, now)
        attrs = out.pop("custom_attributes", {})
        picked = {k: attrs[k] for k in named if k in attrs}
        if picked:
            out["custom_attributes"] = picked
        return out
    return export_user(profile, fields, now)


def handle(runner: JobRunner, event: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The task entry point: ``{"action": "plan"|"page"|"finish", "job": {...}, ...}``.

    Raises pydantic's ``ValidationError`` for a malformed event and ``ValueError`` for an unknown
    action (the execution then fails: a programming error, not data).
    """
    action = event.get("action")
    job = Job.model_validate(event.get("job"))
    if action == "plan":
        return runner.plan(job)
    if action == "page":
        return runner.page(job, int(event["part"]), event.get("cursor"), int(event.get("page", 0)), now)
    if action == "finish":
        return runner.finish(job, now)
    raise ValueError(f"unknown segment job action {action!r}")
