"""The parts every Currents event module shares: the base model, field groups, ids, builders.

See the package docstring (:mod:`engagekit.currents.events`) for the event shapes and how the
per-channel modules are loaded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import pydantic
from pydantic import ConfigDict, Field

from engagekit import clock
from engagekit.currents.errors import CurrentsSchemaError
from engagekit.model import Model

if TYPE_CHECKING:
    from engagekit.domain.profile import Profile

ABORT_TYPES: tuple[str, ...] = (
    "liquid_abort_message",  # Braze: {% abort_message %} in the template (braze-api.md §5.3)
    "connected_content_error",  # connected_content failed and the template aborted (§5.4)
    "render_error",  # the template could not be rendered
    "not_subscribed",  # subscription state or group forbids the send (§8)
    "invalid_address",  # hard-bounced / missing email, phone or push token (§8)
    "frequency_capped",  # a frequency-capping rule stopped it (§9)
    "quiet_hours",  # the user's local quiet hours
    "rate_limited",  # the campaign's delivery rate limit expired it (§9: abort after 72 h)
    "user_deleted",  # the profile was deleted before the send (§8, deletion)
)
"""``abort_type`` values engagekit senders use. Braze documents only ``liquid_abort_message``."""


def new_event_id() -> str:
    """A fresh event id: a random UUID (version 4) as its 36-character string."""
    return str(uuid.uuid4())


class CurrentsEvent(Model):
    """Base of every exported event: ``event_type``, ``id`` and ``time`` (UTC epoch seconds).

    ``VIEW`` is the name of the DuckDB view (and Athena table) that holds this event type.
    Instances are immutable; unknown fields are refused (``extra="forbid"``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    VIEW: ClassVar[str] = ""

    event_type: str
    id: str = Field(default_factory=new_event_id)
    time: int = Field(ge=0, description="UTC epoch seconds")

    def to_line(self) -> bytes:
        """The event as one newline-terminated compact JSON line (UTF-8), null fields omitted.

        Readers treat a missing key as null, so omitting nulls changes no query result and keeps
        Firehose records small (AWS bills ingestion per 5 KB, see :mod:`engagekit.currents.exporter`).
        """
        return self.model_dump_json(exclude_none=True).encode() + b"\n"


# --------------------------------------------------------------------------------------------
# Shared field groups


class _UserEvent(CurrentsEvent):
    user_id: str = Field(description="Braze's braze_id: engagekit's internal profile id")
    external_user_id: str | None = Field(default=None, description="the profile's external_id")


class _Device(Model):
    """Device fields of events an app or SDK reports (Currents v10)."""

    app_id: str | None = None
    platform: str | None = None
    os_version: str | None = None
    device_model: str | None = None
    device_id: str | None = None
    ad_id: str | None = None
    ad_id_type: str | None = None
    ad_tracking_enabled: bool | None = None


class _MessageEvent(_UserEvent):
    """Braze's message-event envelope M without ``dispatch_id`` (braze-api.md §6)."""

    timezone: str | None = None
    app_group_id: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    message_variation_id: str | None = None
    message_variation_name: str | None = None
    canvas_id: str | None = None
    canvas_name: str | None = None
    canvas_variation_id: str | None = None
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    send_id: str | None = None


class _DispatchedEvent(_MessageEvent):
    """The full envelope M: in-app messages have no ``dispatch_id`` (braze-api.md §2.7), others do."""

    dispatch_id: str | None = None


class _Abort(Model):
    abort_type: str | None = Field(default=None, description=f"one of {', '.join(ABORT_TYPES)}")
    abort_log: str | None = None


E = TypeVar("E", bound=CurrentsEvent)
M = TypeVar("M", bound=_MessageEvent)
U = TypeVar("U", bound=_UserEvent)


@dataclass(frozen=True)
class UserIds:
    """Who an event is about: ``user_id`` (braze_id), ``external_user_id``, the IANA ``timezone``."""

    user_id: str
    external_user_id: str | None = None
    timezone: str | None = None

    @classmethod
    def of(cls, profile: Profile) -> UserIds:
        """The identifiers of ``profile`` (its ``user_id``, ``external_id`` and ``time_zone``)."""
        return cls(profile.user_id, profile.external_id, profile.time_zone)


@dataclass(frozen=True)
class MessageIds:
    """Which send a message event belongs to: campaign or canvas (step, variation), dispatch, send.

    ``dispatch_id`` is shared by the recipients of one send (braze-api.md §2.7); ``send_id`` is the
    tracking id of ``/sends/id/create`` or of the campaign send.
    """

    campaign_id: str | None = None
    campaign_name: str | None = None
    message_variation_id: str | None = None
    message_variation_name: str | None = None
    canvas_id: str | None = None
    canvas_name: str | None = None
    canvas_variation_id: str | None = None
    canvas_variation_name: str | None = None
    canvas_step_id: str | None = None
    canvas_step_name: str | None = None
    dispatch_id: str | None = None
    send_id: str | None = None
    app_group_id: str | None = None

    def fields_for(self, cls: type[CurrentsEvent]) -> dict[str, str]:
        """The non-null ids that ``cls`` has a field for (in-app events have no ``dispatch_id``)."""
        names = cls.model_fields
        return {k: v for k, v in self.__dict__.items() if v is not None and k in names}


def epoch_seconds(at: datetime | float | None = None) -> int:
    """``at`` (aware datetime or epoch seconds; ``None`` = the clock's now) as whole UTC epoch seconds.

    A naive datetime raises :class:`CurrentsSchemaError` (instants are UTC-aware everywhere).
    """
    if at is None:
        return int(clock.now_epoch())
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise CurrentsSchemaError("event time must be timezone-aware (UTC)")
        return int(at.timestamp())
    return int(at)


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return clock.utc_iso(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_string(value: Mapping[str, Any] | None) -> str:
    """``value`` as compact JSON text (Currents' ``properties`` encoding, braze-api.md §6, §11.13).

    Datetimes become ISO 8601 UTC strings. Raises :class:`CurrentsSchemaError` for values JSON
    cannot hold.
    """
    try:
        return json.dumps(dict(value or {}), separators=(",", ":"), ensure_ascii=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise CurrentsSchemaError(f"properties are not JSON-serializable: {exc}") from exc


def _validate(cls: type[E], fields: Mapping[str, Any]) -> E:
    try:
        return cls.model_validate(fields)
    except pydantic.ValidationError as exc:
        raise CurrentsSchemaError(f"{cls.__name__}: {exc.errors(include_url=False)}") from exc


def parse_event(data: str | bytes | Mapping[str, Any]) -> CurrentsEvent:
    """Validate one exported record (a JSON line or a dict) back into its event model.

    Raises :class:`CurrentsSchemaError` for invalid JSON, an unknown ``event_type`` or a record
    that does not fit the type's schema. The first call imports every event module (the registry).
    """
    # Here, not at the top: the registry creates all 43 event classes, which only record readers need.
    from engagekit.currents.events.registry import EVENT_TYPES

    try:
        record = json.loads(data) if isinstance(data, str | bytes) else dict(data)
    except ValueError as exc:
        raise CurrentsSchemaError(f"not a JSON record: {exc}") from exc
    if not isinstance(record, dict):
        raise CurrentsSchemaError("a Currents record is a JSON object")
    cls = EVENT_TYPES.get(str(record.get("event_type")))
    if cls is None:
        raise CurrentsSchemaError(f"unknown Currents event_type {record.get('event_type')!r}")
    return _validate(cls, record)


def _user_fields(cls: type[CurrentsEvent], user: UserIds) -> dict[str, Any]:
    fields: dict[str, Any] = {"user_id": user.user_id, "external_user_id": user.external_user_id}
    if user.timezone is not None and "timezone" in cls.model_fields:
        fields["timezone"] = user.timezone
    return fields


def user_event(cls: type[U], user: UserIds, *, time: datetime | float | None = None, **fields: Any) -> U:
    """Any user event (behaviour, canvas, subscription, profile update) of class ``cls``.

    ``fields`` are the type's own fields; ``time`` defaults to now. Raises CurrentsSchemaError.
    Example: ``user_event(SubscriptionGroupStateChange, user, subscription_group_id="g",
    subscription_status="Unsubscribed", channel="email")``.
    """
    return _validate(cls, {**_user_fields(cls, user), "time": epoch_seconds(time), **fields})


def message_event(
    cls: type[M], user: UserIds, message: MessageIds, *, time: datetime | float | None = None, **fields: Any
) -> M:
    """A message event of class ``cls`` (e.g. :class:`EmailSend`) for ``user`` in the send ``message``.

    ``fields`` are the type's own fields (``email_address=...``, ``abort_type=...``); ``time``
    defaults to now. Raises CurrentsSchemaError.
    """
    merged = {**_user_fields(cls, user), **message.fields_for(cls), "time": epoch_seconds(time), **fields}
    return _validate(cls, merged)
