"""The messaging API (braze-api.md §2): trigger and message sends, send ids, schedules.

Endpoints and their use cases:

- ``POST /campaigns/trigger/send`` → :func:`trigger_send` (§2.1): up to 50 ``recipients`` with
  per-recipient ``trigger_properties`` (overriding the top-level ones key by key) and
  ``attributes`` (applied to the profile through the users service *before* the message renders;
  ``send_to_existing_only: false`` creates the user), or ``broadcast: true`` to the campaign's
  segment, optionally narrowed by a Connected Audience ``audience``; recipients are also filtered
  by the campaign's segment and the audience. Duplicate recipients (the same user, however
  addressed) get one message; the first occurrence's trigger properties win.
- ``POST /messages/send`` → :func:`messages_send` (§2.3): inline messages per channel to
  ``external_user_ids``/``user_aliases`` (≤ 50 together), a ``segment_id`` or an ``audience``;
  ``override_frequency_capping``; ``recipient_subscription_state``.
- ``POST /sends/id/create`` → :func:`create_send_id` (§2.5).
- ``POST /messages/schedule/create|update|delete`` and ``/campaigns/trigger/schedule/create|update|delete``
  → :func:`schedule_create`, :func:`schedule_update`, :func:`schedule_delete` (§2.4), with
  ``in_local_time`` (each user at that wall time in their zone) and ``at_optimal_time`` (treated as
  ``in_local_time``: engagekit has no send-time optimization).

Every send answers ``{"dispatch_id": ..., "message": "success"}`` (and ``send_id`` when given).
Errors are Braze's fatal 400s (§0): ``Invalid Campaign ID``, ``No Recipients``, ``The max number
of external_ids and aliases per request was exceeded``, ``No message to send``, a Liquid field of an
inline message that does not parse (:func:`~engagekit.campaigns.manage.check_liquid`, the check of
``PUT /campaigns``: ``errors`` name the field, line and column), ...: nothing is sent or enqueued
when a request fails.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engagekit import clock
from engagekit.campaigns import dispatch
from engagekit.campaigns.definitions import CampaignDefinition, Messages
from engagekit.campaigns.manage import check_liquid
from engagekit.campaigns.plan import Audience, DispatchPlan, Recipient
from engagekit.campaigns.rules import earliest_local_instant, latest_local_instant, parse_local_time
from engagekit.campaigns.schedules import ScheduleRecord
from engagekit.campaigns.service import CampaignsService
from engagekit.domain.profile import Profile, UserAlias
from engagekit.errors import NotFoundError, ValidationError
from engagekit.model import Model
from engagekit.profiles import identity as ids
from engagekit.profiles.identity import Identifier
from engagekit.profiles.resolve import Ambiguous, find, load, pick
from engagekit.segments import evaluate, parse_filter
from engagekit.segments.filters import FilterNode

MAX_RECIPIENTS = 50
"""Users one send request may name (braze-api.md §2, §9)."""
MAX_PROPERTIES_BYTES = 50 * 1024
"""``trigger_properties`` objects are at most 50 KB (braze-api.md §2.1, §9)."""
MAX_SEND_ID_CHARS = 64
INVALID_CAMPAIGN = "Invalid Campaign ID"
NO_RECIPIENTS = "No Recipients"
TOO_MANY = "The max number of external_ids and aliases per request was exceeded"


class AliasModel(Model):
    model_config = ConfigDict(extra="forbid")
    alias_name: str = Field(min_length=1, max_length=400)
    alias_label: str = Field(min_length=1, max_length=400)


class RecipientModel(Model):
    """One recipient of ``/campaigns/trigger/send``: exactly one identifier (braze-api.md §2.1)."""

    model_config = ConfigDict(extra="ignore")
    external_user_id: str | None = Field(default=None, min_length=1, max_length=400)
    user_alias: AliasModel | None = None
    email: str | None = Field(default=None, max_length=320)
    prioritization: list[str] | None = None
    trigger_properties: dict[str, Any] | None = None
    send_to_existing_only: bool = True
    attributes: dict[str, Any] | None = None


class ScheduleModel(Model):
    """Braze's schedule object (braze-api.md §2.4): ``time`` ISO 8601 (UTC, or a naive local time
    with ``in_local_time``/``at_optimal_time``)."""

    model_config = ConfigDict(extra="ignore")
    time: str = Field(min_length=10, max_length=40)
    in_local_time: bool = False
    at_optimal_time: bool = False


class TriggerSendRequest(Model):
    """``POST /campaigns/trigger/send`` (braze-api.md §2.1)."""

    model_config = ConfigDict(extra="ignore")
    campaign_id: str = Field(min_length=1, max_length=128)
    send_id: str | None = Field(default=None, max_length=MAX_SEND_ID_CHARS)
    trigger_properties: dict[str, Any] = Field(default_factory=dict)
    broadcast: bool = False
    audience: dict[str, Any] | None = None
    recipients: list[RecipientModel] | None = None
    attachments: list[dict[str, Any]] | None = None


class TriggerScheduleRequest(TriggerSendRequest):
    """``POST /campaigns/trigger/schedule/create``: a trigger send plus ``schedule``."""

    schedule: ScheduleModel


class MessagesSendRequest(Model):
    """``POST /messages/send`` (braze-api.md §2.3)."""

    model_config = ConfigDict(extra="ignore")
    broadcast: bool = False
    external_user_ids: list[str] | None = None
    user_aliases: list[AliasModel] | None = None
    segment_id: str | None = None
    audience: dict[str, Any] | None = None
    campaign_id: str | None = None
    send_id: str | None = Field(default=None, max_length=MAX_SEND_ID_CHARS)
    override_frequency_capping: bool = False
    recipient_subscription_state: Literal["opted_in", "subscribed", "all"] = "subscribed"
    messages: Messages


class MessagesScheduleRequest(MessagesSendRequest):
    """``POST /messages/schedule/create``: a message send plus ``schedule``."""

    schedule: ScheduleModel
    override_messaging_limits: bool = False


class ScheduleUpdateRequest(Model):
    """``POST /messages/schedule/update`` and ``/campaigns/trigger/schedule/update``."""

    model_config = ConfigDict(extra="ignore")
    schedule_id: str = Field(min_length=1)
    campaign_id: str | None = None
    schedule: ScheduleModel | None = None
    messages: Messages | None = None
    trigger_properties: dict[str, Any] | None = None
    recipients: list[RecipientModel] | None = None


class ScheduleDeleteRequest(Model):
    model_config = ConfigDict(extra="ignore")
    schedule_id: str = Field(min_length=1)
    campaign_id: str | None = None


class SendIdCreateRequest(Model):
    """``POST /sends/id/create`` (braze-api.md §2.5)."""

    model_config = ConfigDict(extra="ignore")
    campaign_id: str = Field(min_length=1)
    send_id: str | None = Field(default=None, min_length=1, max_length=MAX_SEND_ID_CHARS)


# --- helpers ------------------------------------------------------------------------------------


def _check_properties(props: dict[str, Any] | None, where: str) -> None:
    if props and len(json.dumps(props, default=str).encode()) > MAX_PROPERTIES_BYTES:
        raise ValidationError(f"{where} is larger than 50 KB")


def _audience_filter(audience: dict[str, Any] | None) -> FilterNode | None:
    return parse_filter(audience, path="audience") if audience is not None else None


def load_campaign(svc: CampaignsService, campaign_id: str) -> CampaignDefinition:
    """The campaign definition; ValidationError ``Invalid Campaign ID`` (braze-api.md §0) when it
    does not exist or is archived."""
    stored = svc.definitions.get("campaign", campaign_id)
    if stored is None:
        raise ValidationError(INVALID_CAMPAIGN, errors=[{"type": f"no campaign {campaign_id!r}"}])
    campaign = CampaignDefinition.model_validate(stored.body)
    if campaign.archived:
        raise ValidationError(INVALID_CAMPAIGN, errors=[{"type": f"campaign {campaign_id!r} is archived"}])
    return campaign


def _check_send_id(svc: CampaignsService, campaign_id: str | None, send_id: str | None) -> None:
    if send_id and campaign_id and not svc.definitions.has_send_id(campaign_id, send_id):
        raise ValidationError(
            "Invalid send_id: create it with /sends/id/create first",
            errors=[{"type": f"unknown send_id {send_id!r} for campaign {campaign_id!r}"}],
        )


@dataclass(frozen=True)
class _Target:
    ident: Identifier
    obj: dict[str, Any]
    prioritization: tuple[str, ...]
    properties: dict[str, Any] | None
    attributes: dict[str, Any] | None
    existing_only: bool


def _targets_from_recipients(recipients: Sequence[RecipientModel]) -> list[_Target]:
    out: list[_Target] = []
    errors: list[dict[str, Any]] = []
    for index, r in enumerate(recipients):
        given = [k for k in ("external_user_id", "user_alias", "email") if getattr(r, k) is not None]
        problem = None
        if len(given) != 1:
            problem = "a recipient needs exactly one of 'external_user_id', 'user_alias', 'email'"
        elif r.user_alias is not None and not r.send_to_existing_only:
            problem = "'send_to_existing_only: false' is not supported for user aliases"
        elif not r.send_to_existing_only and not r.attributes:
            problem = "'send_to_existing_only: false' requires 'attributes'"
        if problem:
            errors.append({"type": problem, "input_array": "recipients", "index": index})
            continue
        obj: dict[str, Any]
        try:
            _check_properties(r.trigger_properties, f"recipients[{index}].trigger_properties")
            if r.external_user_id is not None:
                ident, obj = ids.external_id(r.external_user_id), {"external_id": r.external_user_id}
            elif r.user_alias is not None:
                alias = UserAlias(alias_name=r.user_alias.alias_name, alias_label=r.user_alias.alias_label)
                ident, obj = ids.alias(alias), {"user_alias": r.user_alias.model_dump()}
            else:
                ident, obj = ids.email(r.email or ""), {"email": r.email}
        except (ValueError, ValidationError) as exc:
            errors.append({"type": str(exc), "input_array": "recipients", "index": index})
            continue
        out.append(
            _Target(
                ident,
                obj,
                tuple(r.prioritization or ("identified", "most_recently_updated")),
                r.trigger_properties,
                r.attributes,
                r.send_to_existing_only,
            )
        )
    if errors:
        raise ValidationError("Bad Request: invalid recipients", errors=errors)
    return out


def _apply_attributes(svc: CampaignsService, targets: Sequence[_Target]) -> None:
    """Apply recipients' ``attributes`` through ``/users/track``'s use case (one call, ≤ 50).

    ``targets[i]`` is ``recipients[i]``. An invalid attributes object fails the request (400,
    nothing written or sent) with error items ``{"type": "attributes: <problem>", "input_array":
    "recipients", "index": i}`` naming the recipient, not the internal /users/track array.
    """
    indexed = [
        (i, {**t.attributes, **t.obj, "_update_existing_only": t.existing_only})
        for i, t in enumerate(targets)
        if t.attributes
    ]
    if not indexed:
        return
    # Imported here: only recipients with attributes need /users/track (a large import at cold start).
    from engagekit.users.track import check_track, track

    body = {"attributes": [obj for _, obj in indexed]}
    try:
        problems = check_track(body, svc.users)
        if not problems:
            track(body, svc.users)
    except ValidationError as exc:
        problems = exc.errors or [{"type": exc.message}]
    if problems:
        errors: list[dict[str, object]] = []
        for p in problems:
            at = p.get("index")
            index = indexed[at][0] if isinstance(at, int) and 0 <= at < len(indexed) else None
            errors.append(
                {"type": f"attributes: {p.get('type')}", "input_array": "recipients", "index": index}
            )
        raise ValidationError("Bad Request: invalid recipients", errors=errors)


def _resolve(
    svc: CampaignsService, targets: Sequence[_Target]
) -> list[tuple[Profile, dict[str, Any] | None]]:
    """Existing profiles of ``targets`` in request order, each user once (first occurrence wins)."""
    resolution = load(svc.users.store, [t.ident for t in targets])
    seen: set[str] = set()
    out: list[tuple[Profile, dict[str, Any] | None]] = []
    for t in targets:
        if t.ident.kind == "email":
            try:
                profile = pick(resolution.candidates(t.ident), t.prioritization)
            except Ambiguous:
                profile = find(resolution, t.ident)
        else:
            profile = find(resolution, t.ident)
        if profile is None or profile.user_id in seen:
            continue
        seen.add(profile.user_id)
        out.append((profile, t.properties))
    return out


def _narrow(
    svc: CampaignsService,
    found: Iterable[tuple[Profile, dict[str, Any] | None]],
    segment_id: str | None,
    node: FilterNode | None,
) -> list[Recipient]:
    now = clock.now()
    out: list[Recipient] = []
    for profile, props in found:
        if segment_id and not svc.memberships.is_member(segment_id, profile.user_id):
            continue
        if node is not None and not evaluate(
            node,
            profile,
            now,
            memberships=lambda seg, uid=profile.user_id: svc.memberships.is_member(seg, uid),
        ):
            continue
        out.append((profile.user_id, props))
    return out


def _broadcast_audience(segment_id: str | None, audience: dict[str, Any] | None) -> Audience:
    if segment_id:
        return Audience(kind="segment", segment_id=segment_id, filter=audience)
    return Audience(kind="filter" if audience is not None else "all", filter=audience)


def _response(record_id: str, send_id: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"dispatch_id": record_id, "message": "success"}
    if send_id:
        out["send_id"] = send_id
    return out


# --- /campaigns/trigger/send ------------------------------------------------------------------------


def _validate_trigger(req: TriggerSendRequest) -> FilterNode | None:
    if req.broadcast and req.recipients:
        raise ValidationError("Bad Request: 'broadcast' cannot be true when 'recipients' are given")
    if req.broadcast and req.attachments:
        raise ValidationError("Bad Request: 'attachments' are not allowed with 'broadcast'")
    if not req.broadcast and not req.recipients:
        raise ValidationError(
            NO_RECIPIENTS, errors=[{"type": "give 'recipients' or set 'broadcast' to true"}]
        )
    if req.recipients is not None and len(req.recipients) > MAX_RECIPIENTS:
        raise ValidationError(TOO_MANY, errors=[{"type": f"{len(req.recipients)} recipients (max 50)"}])
    _check_properties(req.trigger_properties, "trigger_properties")
    return _audience_filter(req.audience)


def trigger_send(
    req: TriggerSendRequest,
    svc: CampaignsService,
    *,
    dispatch_id: str | None = None,
    local_time: str | None = None,
    schedule_id: str | None = None,
) -> dict[str, Any]:
    """``/campaigns/trigger/send`` (module docstring); returns the Braze response body.

    ``dispatch_id``/``local_time``/``schedule_id`` are set when a schedule fires. Raises
    ValidationError (400) for Braze's fatal errors; nothing is sent then.
    """
    node = _validate_trigger(req)
    campaign = load_campaign(svc, req.campaign_id)
    _check_send_id(svc, req.campaign_id, req.send_id)
    plan_id = dispatch_id or dispatch.new_dispatch_id()
    recipients: list[Recipient] | None = None
    if req.recipients:
        targets = _targets_from_recipients(req.recipients)
        _apply_attributes(svc, targets)
        recipients = _narrow(svc, _resolve(svc, targets), campaign.segment_id, node)
        audience = Audience(kind="recipients")
    else:
        audience = _broadcast_audience(campaign.segment_id, req.audience)
    plan = DispatchPlan(
        dispatch_id=plan_id,
        created_at=clock.now(),
        source="campaign",
        campaign_id=req.campaign_id,
        campaign_name=campaign.name,
        send_id=req.send_id,
        schedule_id=schedule_id,
        tags=tuple(campaign.tags),
        messages=campaign.messages,
        trigger_properties=req.trigger_properties,
        subscription_requirement=campaign.subscription_requirement,
        frequency_capping=campaign.frequency_capping,
        quiet_hours=campaign.quiet_hours,
        rate_limit_per_minute=campaign.rate_limit_per_minute,
        reeligibility=campaign.reeligibility,
        local_time=local_time,
        audience=audience,
    )
    dispatch.start(svc, plan, recipients)
    return _response(plan_id, req.send_id)


# --- /messages/send -------------------------------------------------------------------------------


def _validate_messages(req: MessagesSendRequest, svc: CampaignsService) -> FilterNode | None:
    check_liquid(req.messages, svc.liquid())
    users = len(req.external_user_ids or []) + len(req.user_aliases or [])
    if users > MAX_RECIPIENTS:
        raise ValidationError(TOO_MANY, errors=[{"type": f"{users} users (max 50)"}])
    if req.broadcast and users:
        raise ValidationError("Bad Request: 'broadcast' cannot be true when users are given")
    if not users and not req.broadcast:
        raise ValidationError(
            NO_RECIPIENTS,
            errors=[
                {
                    "type": "give 'external_user_ids'/'user_aliases', "
                    "or 'broadcast': true with a segment_id or audience"
                }
            ],
        )
    if req.broadcast and not req.segment_id and req.audience is None:
        raise ValidationError(
            NO_RECIPIENTS, errors=[{"type": "a broadcast needs 'segment_id' or 'audience'"}]
        )
    return _audience_filter(req.audience)


def messages_send(
    req: MessagesSendRequest,
    svc: CampaignsService,
    *,
    dispatch_id: str | None = None,
    local_time: str | None = None,
    schedule_id: str | None = None,
) -> dict[str, Any]:
    """``/messages/send`` (module docstring); returns the Braze response body.

    Raises ValidationError (400) for Braze's fatal errors; nothing is sent then.
    """
    node = _validate_messages(req, svc)
    campaign = load_campaign(svc, req.campaign_id) if req.campaign_id else None
    _check_send_id(svc, req.campaign_id, req.send_id)
    plan_id = dispatch_id or dispatch.new_dispatch_id()
    recipients: list[Recipient] | None = None
    if not req.broadcast:
        idents: list[Identifier] = [ids.external_id(x) for x in req.external_user_ids or []]
        idents += [
            ids.alias(UserAlias(alias_name=a.alias_name, alias_label=a.alias_label))
            for a in req.user_aliases or []
        ]
        targets = [_Target(i, {}, (), None, None, True) for i in idents]
        recipients = _narrow(svc, _resolve(svc, targets), req.segment_id, node)
        audience = Audience(kind="recipients")
    else:
        audience = _broadcast_audience(req.segment_id, req.audience)
    plan = DispatchPlan(
        dispatch_id=plan_id,
        created_at=clock.now(),
        source="messages",
        campaign_id=req.campaign_id,
        campaign_name=campaign.name if campaign else None,
        send_id=req.send_id,
        schedule_id=schedule_id,
        tags=tuple(campaign.tags) if campaign else (),
        messages=req.messages,
        subscription_requirement=req.recipient_subscription_state,
        frequency_capping=True,
        override_frequency_capping=req.override_frequency_capping,
        local_time=local_time,
        audience=audience,
    )
    dispatch.start(svc, plan, recipients)
    return _response(plan_id, req.send_id)


# --- /sends/id/create --------------------------------------------------------------------------------


def create_send_id(req: SendIdCreateRequest, svc: CampaignsService) -> dict[str, Any]:
    """Create a send id for a campaign (braze-api.md §2.5); ``{"message": "success", "send_id"}``.

    The 100-per-day limit is the ``sends.id.create`` rate-limit group (docs/rate-limits.md).
    Raises ValidationError ``Invalid Campaign ID``.
    """
    load_campaign(svc, req.campaign_id)
    send_id = req.send_id or secrets.token_hex(12)
    svc.definitions.put_send_id(req.campaign_id, send_id)
    return {"message": "success", "send_id": send_id}


# --- schedules -------------------------------------------------------------------------------------


def _due(schedule: ScheduleModel, now: datetime) -> tuple[datetime, str | None]:
    """When a schedule fires and, for local-time sends, the naive local wall time.

    Raises ValidationError for an unparseable time, or a local time already past in every zone.
    """
    local = schedule.in_local_time or schedule.at_optimal_time
    try:
        parsed = datetime.fromisoformat(schedule.time.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationError(f"Bad Request: schedule.time {schedule.time!r} is not ISO 8601") from exc
    if local:
        wall = parsed.replace(tzinfo=None).isoformat(timespec="seconds")
        parse_local_time(wall)
        if latest_local_instant(wall) < now:
            raise ValidationError("Bad Request: schedule.time has already passed in every time zone")
        return max(earliest_local_instant(wall), now), wall
    at = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return max(at.astimezone(UTC), now), None


def schedule_create(
    kind: Literal["messages", "campaign"],
    req: MessagesScheduleRequest | TriggerScheduleRequest,
    body: dict[str, Any],
    svc: CampaignsService,
) -> dict[str, Any]:
    """Store a scheduled send; ``{"dispatch_id", "schedule_id", "message": "success"}``.

    ``body`` is the raw request (kept to replay at fire time). The request is validated now as a
    send would be (targets, campaign, messages); recipients are resolved when it fires. A past
    (non-local) time fires at the next scheduler run. Raises ValidationError.
    """
    if isinstance(req, TriggerScheduleRequest):
        _validate_trigger(req)
        load_campaign(svc, req.campaign_id)
        _check_send_id(svc, req.campaign_id, req.send_id)
        campaign_id: str | None = req.campaign_id
    else:
        _validate_messages(req, svc)
        if req.campaign_id:
            load_campaign(svc, req.campaign_id)
        _check_send_id(svc, req.campaign_id, req.send_id)
        campaign_id = req.campaign_id
    due_at, _ = _due(req.schedule, clock.now())
    record = ScheduleRecord(
        schedule_id=secrets.token_hex(12),
        kind=kind,
        request={k: v for k, v in body.items() if k not in ("schedule", "api_key")},
        schedule=req.schedule.model_dump(),
        dispatch_id=dispatch.new_dispatch_id(),
        due_at=due_at,
        campaign_id=campaign_id,
    )
    svc.schedules.put_schedule(record)
    return {"dispatch_id": record.dispatch_id, "schedule_id": record.schedule_id, "message": "success"}


def _pending(svc: CampaignsService, schedule_id: str, kind: str) -> ScheduleRecord:
    record = svc.schedules.get_schedule(schedule_id)
    if record is None or record.kind != kind or record.state != "pending":
        raise NotFoundError(f"no pending schedule {schedule_id}")
    return record


def schedule_update(
    kind: Literal["messages", "campaign"], req: ScheduleUpdateRequest, svc: CampaignsService
) -> dict[str, Any]:
    """Replace a pending schedule's time, messages, trigger properties or recipients.

    Raises NotFoundError (404) for an unknown or already fired schedule, ValidationError otherwise.
    """
    from dataclasses import replace

    record = _pending(svc, req.schedule_id, kind)
    request = dict(record.request)
    if req.messages is not None:
        if kind != "messages":
            raise ValidationError("Bad Request: a campaign schedule's messages come from the campaign")
        check_liquid(req.messages, svc.liquid())
        request["messages"] = req.messages.model_dump(by_alias=True, exclude_none=True)
    if req.trigger_properties is not None:
        request["trigger_properties"] = req.trigger_properties
    if req.recipients is not None:
        request["recipients"] = [r.model_dump(exclude_none=True) for r in req.recipients]
    schedule = req.schedule.model_dump() if req.schedule is not None else record.schedule
    due_at, _ = _due(ScheduleModel.model_validate(schedule), clock.now())
    model: type[BaseModel] = MessagesScheduleRequest if kind == "messages" else TriggerScheduleRequest
    model.model_validate({**request, "schedule": schedule})
    svc.schedules.put_schedule(replace(record, request=request, schedule=schedule, due_at=due_at))
    return {"message": "success"}


def schedule_delete(
    kind: Literal["messages", "campaign"], req: ScheduleDeleteRequest, svc: CampaignsService
) -> dict[str, Any]:
    """Cancel a pending schedule; NotFoundError (404) if unknown or already fired."""
    _pending(svc, req.schedule_id, kind)
    if not svc.schedules.set_state(req.schedule_id, "deleted"):
        raise NotFoundError(f"no pending schedule {req.schedule_id}")
    return {"message": "success"}


def fire(record: ScheduleRecord, svc: CampaignsService) -> dict[str, Any]:
    """Run a due schedule as the send it describes, with its pre-assigned dispatch id."""
    schedule = ScheduleModel.model_validate(record.schedule)
    local = schedule.time if (schedule.in_local_time or schedule.at_optimal_time) else None
    wall = None
    if local is not None:
        wall = (
            datetime.fromisoformat(local.replace("Z", "+00:00"))
            .replace(tzinfo=None)
            .isoformat(timespec="seconds")
        )
    if record.kind == "campaign":
        return trigger_send(
            TriggerSendRequest.model_validate(record.request),
            svc,
            dispatch_id=record.dispatch_id,
            local_time=wall,
            schedule_id=record.schedule_id,
        )
    return messages_send(
        MessagesSendRequest.model_validate(record.request),
        svc,
        dispatch_id=record.dispatch_id,
        local_time=wall,
        schedule_id=record.schedule_id,
    )
