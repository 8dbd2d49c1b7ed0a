"""Segments over the API: definitions, members, exports (docs/segments.md "Managing segments").

Use cases take a :class:`SegmentsService` (the ports, built once per container by
:func:`service_from_settings`, or from fakes in tests):

- :func:`put_segment` / :func:`get_segment` / :func:`delete_segment`: ``PUT/GET/DELETE
  /segments/{segment_id}``; ``GET`` returns ``name`` and ``filter`` exactly as they were PUT
  (``engagekit apply`` diffs them), plus server fields ``id``, ``state``, ``size``, ...
- :func:`list_segments` / :func:`segment_details`: Braze's ``GET /segments/list`` and ``GET
  /segments/details`` shapes;
- :func:`segment_users`: ``GET /segments/{segment_id}/users``, paged with an opaque cursor;
- :func:`export_segment`: ``POST /users/export/segment`` (braze-api.md §1.7).

A new segment, or an edited filter, is ``building`` until its backfill job has evaluated every
existing profile, then ``live``; the stream handler keeps it current meanwhile.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import Field, field_validator

from engagekit import clock
from engagekit.config import FunctionSettings
from engagekit.errors import ConflictError, NotFoundError, ValidationError
from engagekit.model import Request
from engagekit.profiles.projection import EXPORTABLE_FIELDS
from engagekit.segments.base import InvalidFilterError
from engagekit.segments.dependencies import check_acyclic
from engagekit.segments.filters import SegmentDefinition, parse_segment_definition, segment_refs
from engagekit.segments.jobs import Job, JobStarter
from engagekit.segments.membership import DEFAULT_PAGE, MembershipRepo
from engagekit.segments.profile_source import ProfileSource
from engagekit.segments.store import DefinitionRepo, StoredSegment

RESERVED_IDS = frozenset({"list", "details"})
"""Ids that would collide with ``GET /segments/list`` and ``GET /segments/details``."""
LIST_PAGE = 100
"""``GET /segments/list`` returns segments in groups of 100 (Braze, "Export segment list")."""
MAX_USERS_PAGE = 1000
MAX_CUSTOM_ATTRIBUTES_TO_EXPORT = 500
"""braze-api.md §1.7: at most 500 names in ``custom_attributes_to_export``."""


class SegmentsSettings(FunctionSettings):
    """Environment of the segment functions (each uses the variables it needs)."""

    segments_table: str
    memberships_table: str
    segment_timers_table: str = ""
    profiles_table: str = ""
    segment_backfill_state_machine_arn: str = ""
    segment_exports_bucket: str = ""
    backfill_parts: int = Field(default=8, ge=1, le=1_000_000)
    backfill_page_size: int = Field(default=500, ge=1, le=5000)


@dataclass
class SegmentsService:
    """What the segment API use cases need."""

    definitions: DefinitionRepo
    memberships: MembershipRepo
    profiles: ProfileSource
    jobs: JobStarter
    exports_bucket: str = ""
    backfill_parts: int = 8
    backfill_page_size: int = 500
    callback_check: Callable[[str], None] | None = None


def _canonical(value: Any) -> str:
    """JSON text that tells ``1``, ``1.0`` and ``true`` apart (dict equality does not)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def view(segment: StoredSegment, size: int) -> dict[str, Any]:
    """The ``GET /segments/{segment_id}`` body: the definition as PUT plus server fields."""
    return {
        "id": segment.segment_id,
        "name": segment.name,
        "filter": segment.filter,
        "state": segment.state,
        "size": size,
        "generation": segment.generation,
        "created_at": clock.utc_iso(segment.created_at),
        "updated_at": clock.utc_iso(segment.updated_at),
        "live_at": clock.utc_iso(segment.live_at) if segment.live_at else None,
    }


def _live(svc: SegmentsService, segment_id: str) -> StoredSegment:
    stored = svc.definitions.get(segment_id)
    if stored is None or stored.state == "deleting":
        raise NotFoundError(f"segment {segment_id} not found")
    return stored


def put_segment(svc: SegmentsService, segment_id: str, body: Any) -> tuple[dict[str, Any], bool]:
    """Create or replace a definition; returns ``(GET view, created)``. Idempotent: an identical
    definition changes nothing. A changed filter bumps ``generation``, sets ``building`` and
    starts a backfill; a changed name alone is just saved.

    Raises :class:`InvalidFilterError` (400, path of the bad node) for an invalid body or a reserved
    id (``list``, ``details``), :class:`SegmentCycleError` (400) when segments would reference each
    other in a loop, :class:`ConflictError` (409) while the segment is being deleted or when a
    concurrent PUT won.
    """
    if segment_id in RESERVED_IDS:
        raise InvalidFilterError("segment_id", f"{segment_id!r} is reserved (GET /segments/{segment_id})")
    definition = parse_segment_definition(segment_id, body)
    assert isinstance(body, dict)
    current = svc.definitions.get(segment_id)
    if current is not None and current.state == "deleting":
        raise ConflictError(f"segment {segment_id} is being deleted; retry when it is gone")
    same_filter = current is not None and _canonical(current.filter) == _canonical(body["filter"])
    if current is not None and same_filter and current.name == definition.name:
        return view(current, svc.memberships.count(segment_id)), False
    now = clock.now()
    if not same_filter:
        others: dict[str, SegmentDefinition] = {
            s.segment_id: s.definition()
            for s in svc.definitions.all()
            if s.state != "deleting" and s.segment_id != segment_id
        }
        others[segment_id] = definition
        check_acyclic(others)
    if current is None:
        stored = StoredSegment(
            segment_id=segment_id,
            name=definition.name,
            filter=body["filter"],
            state="building",
            generation=1,
            created_at=now,
            updated_at=now,
        )
    elif same_filter:
        stored = replace(current, name=definition.name, updated_at=now)
    else:
        stored = replace(
            current,
            name=definition.name,
            filter=body["filter"],
            state="building",
            generation=current.generation + 1,
            updated_at=now,
            live_at=None,
        )
    svc.definitions.save(
        stored, expected_generation=current.generation if current else 0, bump=not same_filter
    )
    if not same_filter:
        svc.jobs.start(
            Job(
                kind="build",
                segment_id=segment_id,
                generation=stored.generation,
                parts=svc.backfill_parts,
                page_size=svc.backfill_page_size,
            )
        )
    return view(stored, svc.memberships.count(segment_id)), current is None


def get_segment(svc: SegmentsService, segment_id: str) -> dict[str, Any]:
    """The GET view; raises :class:`NotFoundError` (404) for unknown or deleting segments."""
    return view(_live(svc, segment_id), svc.memberships.count(segment_id))


def delete_segment(svc: SegmentsService, segment_id: str) -> dict[str, Any]:
    """Mark the segment deleting (it leaves every index at once) and start the job that removes its
    members; the definition disappears when that job finishes.

    Raises :class:`NotFoundError` (404) and :class:`ConflictError` (409) while other segments'
    filters reference it (delete or edit those first).
    """
    current = _live(svc, segment_id)
    users = sorted(
        s.segment_id
        for s in svc.definitions.all()
        if s.state != "deleting" and segment_id in segment_refs(s.definition().filter)
    )
    if users:
        raise ConflictError(f"segment {segment_id} is referenced by: {', '.join(users)}")
    generation = current.generation + 1
    svc.definitions.save(
        replace(current, state="deleting", generation=generation, updated_at=clock.now()),
        expected_generation=current.generation,
    )
    svc.jobs.start(Job(kind="drop", segment_id=segment_id, generation=generation))
    return {"message": "success"}


def list_segments(svc: SegmentsService, page: str | None, sort_direction: str | None) -> dict[str, Any]:
    """Braze's ``GET /segments/list``: 100 a page (``page`` from 0), by creation time, oldest first
    unless ``sort_direction=desc``. Raises :class:`ValidationError` for a bad page or direction."""
    try:
        number = int(page) if page not in (None, "") else 0
    except ValueError:
        raise ValidationError("page must be a whole number >= 0") from None
    if number < 0:
        raise ValidationError("page must be a whole number >= 0")
    direction = (sort_direction or "asc").lower()
    if direction not in ("asc", "desc"):
        raise ValidationError("sort_direction must be 'asc' or 'desc'")
    segments = sorted(
        (s for s in svc.definitions.all() if s.state != "deleting"),
        key=lambda s: (s.created_at, s.segment_id),
        reverse=direction == "desc",
    )
    chunk = segments[number * LIST_PAGE : (number + 1) * LIST_PAGE]
    return {
        "message": "success",
        "segments": [
            {"id": s.segment_id, "name": s.name, "analytics_tracking_enabled": False, "tags": []}
            for s in chunk
        ],
    }


def segment_details(svc: SegmentsService, segment_id: str | None) -> dict[str, Any]:
    """Braze's ``GET /segments/details``. ``description`` is the filter as compact JSON (Braze: "a
    human-readable description of filters"); engagekit keeps no tags, teams or text description.
    Raises :class:`ValidationError` without ``segment_id``, :class:`NotFoundError` when unknown."""
    if not segment_id:
        raise ValidationError("segment_id is required")
    stored = _live(svc, segment_id)
    return {
        "message": "success",
        "created_at": clock.utc_iso(stored.created_at),
        "updated_at": clock.utc_iso(stored.updated_at),
        "name": stored.name,
        "description": json.dumps(stored.filter, separators=(",", ":"), ensure_ascii=False),
        "text_description": "",
        "tags": [],
        "teams": [],
    }


def segment_users(
    svc: SegmentsService, segment_id: str, cursor: str | None, limit: str | None
) -> dict[str, Any]:
    """``GET /segments/{segment_id}/users?cursor=&limit=``: ``{"message", "segment_id", "users":
    [{"user_id", "external_id"}], "next_cursor"}`` (``next_cursor`` null on the last page);
    ``limit`` 1-1000 (default 100). Raises :class:`ValidationError` / :class:`NotFoundError`."""
    _live(svc, segment_id)
    try:
        size = int(limit) if limit not in (None, "") else DEFAULT_PAGE
    except ValueError:
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_USERS_PAGE}") from None
    if not 1 <= size <= MAX_USERS_PAGE:
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_USERS_PAGE}")
    user_ids, next_cursor = svc.memberships.page_members(segment_id, cursor=cursor or None, limit=size)
    profiles = svc.profiles.get(user_ids) if user_ids else {}
    users = [
        {"user_id": u, "external_id": profiles[u].external_id if u in profiles else None} for u in user_ids
    ]
    return {"message": "success", "segment_id": segment_id, "users": users, "next_cursor": next_cursor}


class ExportSegmentRequest(Request):
    """``POST /users/export/segment`` (braze-api.md §1.7)."""

    segment_id: str = Field(min_length=1, max_length=128)
    callback_endpoint: str | None = Field(default=None, max_length=2048)
    fields_to_export: list[str] | None = Field(default=None, description="default: every field")
    custom_attributes_to_export: list[str] | None = Field(
        default=None, max_length=MAX_CUSTOM_ATTRIBUTES_TO_EXPORT
    )
    output_format: Literal["gzip", "zip"] = "gzip"

    @field_validator("fields_to_export")
    @classmethod
    def _known_fields(cls, value: list[str] | None) -> list[str] | None:
        unknown = sorted(set(value or ()) - set(EXPORTABLE_FIELDS))
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(unknown)}")
        return value


def export_segment(svc: SegmentsService, body: dict[str, Any]) -> dict[str, Any]:
    """Start an export of the segment's members as gzip NDJSON files in the exports bucket under
    ``segment-export/SEGMENT_ID/YYYY-MM-dd/OBJECT_PREFIX/`` (braze-api.md §1.7); returns
    ``{"message": "success", "object_prefix": ...}`` at once. The callback (if any) is POSTed
    ``{"success": true, ...}`` when the files are written.

    Raises pydantic's ``ValidationError`` (400) for a bad body, :class:`ValidationError` for
    ``output_format: zip`` (only gzip is written), :class:`NotFoundError` (404) for an unknown
    segment and :class:`ExportRunning` (429) while another export of the segment runs.
    """
    request = ExportSegmentRequest.model_validate(body)
    if request.output_format != "gzip":
        raise ValidationError("output_format 'zip' is not supported; use 'gzip'")
    _live(svc, request.segment_id)
    if request.callback_endpoint and svc.callback_check is not None:
        svc.callback_check(request.callback_endpoint)
    started = clock.now()
    prefix = f"{uuid.uuid4()}-{int(started.timestamp())}"
    svc.definitions.lock_export(request.segment_id, prefix, started)
    job = Job(
        kind="export",
        segment_id=request.segment_id,
        started_at=started.isoformat(),
        object_prefix=prefix,
        key_prefix=f"segment-export/{request.segment_id}/{started:%Y-%m-%d}/{prefix}/",
        bucket=svc.exports_bucket,
        fields_to_export=request.fields_to_export,
        custom_attributes_to_export=request.custom_attributes_to_export,
        callback_endpoint=request.callback_endpoint,
    )
    try:
        svc.jobs.start(job)
    except Exception:
        svc.definitions.unlock_export(request.segment_id, prefix)
        raise
    return {"message": "success", "object_prefix": prefix}


def service_from_settings(settings: SegmentsSettings) -> SegmentsService:
    """The DynamoDB + Step Functions service (handlers keep one per container)."""
    from engagekit.segments.jobs import StepFunctionsStarter
    from engagekit.segments.membership import MembershipStore
    from engagekit.segments.profile_source import DynamoProfileSource
    from engagekit.segments.runtime import check_callback_url
    from engagekit.segments.store import DynamoDefinitions

    return SegmentsService(
        definitions=DynamoDefinitions(settings.segments_table),
        memberships=MembershipStore(settings.memberships_table),
        profiles=DynamoProfileSource(settings.profiles_table),
        jobs=StepFunctionsStarter(settings.segment_backfill_state_machine_arn),
        exports_bucket=settings.segment_exports_bucket,
        backfill_parts=settings.backfill_parts,
        backfill_page_size=settings.backfill_page_size,
        callback_check=check_callback_url,
    )
