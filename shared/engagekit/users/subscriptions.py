"""Subscription and email-state endpoints (braze-api.md §8).

- ``POST /subscription/status/set``: one group's state for users by external_id, and by email OR
  phone (every profile holding the address);
- ``GET /subscription/user/status``: the group states of users by external_id, email or phone;
- ``POST /email/status``: an address's global email state, for every profile holding it and for
  profiles that take the address later (kept on the address's identity item);
- ``GET /email/unsubscribes`` and ``GET /email/hard_bounces``: addresses unsubscribed / hard bounced
  in a date range (a Scan of the email identities: an admin listing, documented as such);
- :func:`record_hard_bounce`: what the email channel calls when the provider reports a hard bounce.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from engagekit import clock
from engagekit.currents.events import (
    CurrentsEvent,
    SubscriptionGlobalStateChange,
    UserIds,
    user_event,
)
from engagekit.domain.profile import Profile
from engagekit.errors import ValidationError
from engagekit.model import Model
from engagekit.profiles import identity as ids
from engagekit.profiles.behavior_events import UPDATE_SOURCE, group_change, status_name
from engagekit.profiles.changes import UserChanges
from engagekit.profiles.identity import Identifier
from engagekit.profiles.limits import MAX_IDS_PER_REQUEST
from engagekit.profiles.resolve import load
from engagekit.profiles.timeparse import iso
from engagekit.profiles.writer import save_with_retry
from engagekit.users.models import EmailStatusRequest, SubscriptionStatusSetRequest
from engagekit.users.service import UsersService

EMAIL_OR_PHONE = "Either an email address or a phone number should be provided, but not both."


def _as_list(value: str | list[str] | None, name: str) -> list[str]:
    values = [value] if isinstance(value, str) else list(value or [])
    if len(values) > MAX_IDS_PER_REQUEST:
        raise ValidationError(f"at most {MAX_IDS_PER_REQUEST} values in '{name}'")
    return values


def _parse(kind: str, values: list[str]) -> list[Identifier]:
    try:
        if kind == "email":
            return [ids.email(v) for v in values]
        if kind == "phone":
            return [ids.phone(v) for v in values]
        return [ids.external_id(ids.check_identifier(v, "external_id")) for v in values]
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _profiles_for(svc: UsersService, idents: list[Identifier]) -> list[Profile]:
    resolution = load(svc.store, idents)
    found: dict[str, Profile] = {}
    for ident in idents:
        for profile in resolution.candidates(ident):
            found.setdefault(profile.user_id, profile)
    return list(found.values())


def set_group_status(request: SubscriptionStatusSetRequest, svc: UsersService) -> dict[str, Any]:
    """Set ``subscription_group_id`` to ``subscription_state`` for the users named (≤50 per list).

    Every profile sharing a given email or phone is updated (braze-api.md §8, §11.11); each changed
    profile is written once and exports ``users.behaviors.subscriptiongroup.StateChange``. The
    endpoint creates no profile (§8 documents updates of existing users only; ``/users/track``
    creates users): an identifier naming no profile is reported as an error item
    ``{"type": "no user with <kind> ...; nothing stored", "input_array": "external_id"|"email"|
    "phone", "index": i}`` and the others are applied (201 ``{"message": "success", "errors": [...]}``).
    Raises ValidationError when both email and phone are given, none of the lists is, or a value is invalid.
    """
    if request.email is not None and request.phone is not None:
        raise ValidationError(EMAIL_OR_PHONE)
    named: list[tuple[str, int, Identifier]] = []
    for kind in ("external_id", "email", "phone"):
        parsed = _parse(kind, _as_list(getattr(request, kind), kind))
        named += [(kind, index, ident) for index, ident in enumerate(parsed)]
    if not named:
        raise ValidationError("Provide external_id, email or phone")
    now = clock.now()
    group, state = request.subscription_group_id, request.subscription_state
    events: list[CurrentsEvent] = []

    def mutate(p: Profile) -> UserChanges:
        changes = UserChanges()
        if p.subscription_groups.get(group) != state:
            p.subscription_groups[group] = state
            changes.groups[group] = state
        return changes

    resolution = load(svc.store, [ident for _, _, ident in named])
    found: dict[str, Profile] = {}
    errors: list[dict[str, Any]] = []
    for kind, index, ident in named:
        candidates = resolution.candidates(ident)
        if not candidates:
            errors.append(
                {
                    "type": f"no user with {ident.describe()}; nothing stored",
                    "input_array": kind,
                    "index": index,
                }
            )
        for profile in candidates:
            found.setdefault(profile.user_id, profile)
    for profile in found.values():
        saved = save_with_retry(svc.store, profile.user_id, mutate, now=now, current=profile)
        if saved and saved[1].groups:
            p = saved[0]
            events.append(group_change(UserIds.of(p), group, state, now, email=p.email, phone=p.phone))
    svc.emit(events)
    body: dict[str, Any] = {"message": "success"}
    if errors:
        body["errors"] = errors
    return body


class UserStatusQuery(Model):
    """Query of ``GET /subscription/user/status``: comma-separated ids (HTTP API joins repeats)."""

    model_config = ConfigDict(extra="ignore")
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    limit: int = Field(default=100, ge=1, le=100)
    offset: int = Field(default=0, ge=0)


def user_status(query: UserStatusQuery, svc: UsersService) -> dict[str, Any]:
    """The subscription group states of the users named by ``query`` (≤50 ids per kind).

    Returns ``{"users": [{"external_id", "email", "phone", "subscription_groups": [{"id", "status"}]}],
    "message": "success"}``; raises ValidationError when no identifier is given.
    """
    idents: list[Identifier] = []
    for kind in ("external_id", "email", "phone"):
        raw = getattr(query, kind)
        values = [v.strip() for v in raw.split(",") if v.strip()] if raw else []
        idents += _parse(kind, _as_list(values, kind))
    if not idents:
        raise ValidationError("Provide external_id, email or phone")
    profiles = _profiles_for(svc, idents)[query.offset : query.offset + query.limit]
    users = [
        {
            "external_id": p.external_id,
            "email": p.email,
            "phone": p.phone,
            "subscription_groups": [
                {"id": g, "status": status_name(s)} for g, s in sorted(p.subscription_groups.items())
            ],
        }
        for p in profiles
    ]
    return {"users": users, "message": "success"}


def email_status(request: EmailStatusRequest, svc: UsersService) -> dict[str, Any]:
    """Set the global email state of ≤50 addresses (braze-api.md §8, ``/email/status``).

    The state is recorded on the address (one write each; it applies to profiles that take the
    address later) and set on every profile holding it (one write each), exporting
    ``users.behaviors.subscription.GlobalStateChange``. Raises ValidationError for a bad address.
    """
    idents = _parse("email", _as_list(request.email, "email"))
    if not idents:
        raise ValidationError("Provide at least one email address")
    now = clock.now()
    state = request.subscription_state
    for ident in idents:
        svc.store.set_address_state(ident.key or "", subscription_state=state, at=now)
    events: list[CurrentsEvent] = []

    def mutate(p: Profile) -> UserChanges:
        changes = UserChanges()
        if p.email_subscribe != state:
            p.email_subscribe = state
            changes.email_subscribe = state
        return changes

    for profile in _profiles_for(svc, idents):
        saved = save_with_retry(svc.store, profile.user_id, mutate, now=now, current=profile)
        if saved and saved[1].email_subscribe:
            events.append(
                user_event(
                    SubscriptionGlobalStateChange,
                    UserIds.of(saved[0]),
                    time=now,
                    subscription_status=status_name(state),
                    channel="email",
                    email_address=saved[0].email,
                    state_change_source=UPDATE_SOURCE,
                )
            )
    svc.emit(events)
    return {"message": "success"}


class EmailListQuery(Model):
    """Query of ``GET /email/unsubscribes`` and ``/email/hard_bounces`` (dates ``YYYY-MM-DD``, UTC)."""

    model_config = ConfigDict(extra="ignore")
    start_date: date | None = None
    end_date: date | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0)
    sort_direction: Literal["asc", "desc"] = "desc"
    email: str | None = None

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _date_only(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) != 10:
            raise ValueError("dates are YYYY-MM-DD")
        return value


def email_list(
    kind: Literal["unsubscribes", "hard_bounces"], query: EmailListQuery, svc: UsersService
) -> dict[str, Any]:
    """Addresses unsubscribed (or hard bounced) between ``start_date`` and ``end_date`` inclusive.

    Returns ``{"emails": [{"email", "unsubscribed_at"|"hard_bounced_at"}], "message": "success"}``
    sorted by time (``sort_direction``), paged by ``offset``/``limit``. Raises ValidationError
    when the dates are missing (and no ``email`` is given) or reversed.
    """
    target: Identifier | None = None
    if query.email:
        target = _parse("email", [query.email])[0]
    elif query.start_date is None or query.end_date is None:
        raise ValidationError("Provide start_date and end_date (YYYY-MM-DD), or an email")
    if query.start_date and query.end_date and query.start_date > query.end_date:
        raise ValidationError("start_date must not be after end_date")
    low = datetime.combine(query.start_date, time.min, UTC) if query.start_date else None
    high = datetime.combine(query.end_date, time.max, UTC) if query.end_date else None
    field = "unsubscribed_at" if kind == "unsubscribes" else "hard_bounced_at"
    rows: list[tuple[datetime, str]] = []
    records = (
        svc.store.get_identities([target.key or ""]).values()
        if target
        else svc.store.scan_identities("email#")
    )
    for record in records:
        if kind == "unsubscribes":
            at = record.state_changed_at if record.subscription_state == "unsubscribed" else None
        else:
            at = record.hard_bounced_at
        if at is None or (low and at < low) or (high and at > high):
            continue
        rows.append((at, record.key.removeprefix("email#")))
    rows.sort(reverse=query.sort_direction == "desc")
    page = rows[query.offset : query.offset + query.limit]
    return {"emails": [{"email": email, field: iso(at)} for at, email in page], "message": "success"}


def record_hard_bounce(svc: UsersService, email: str) -> int:
    """Mark ``email`` hard bounced (the address and every profile holding it); returns profiles changed.

    A hard bounce does not change the subscription state; it makes the address unusable until the
    profile's address changes (braze-api.md §8). Raises ValueError for an invalid address.
    """
    ident = ids.email(email)
    now = clock.now()
    svc.store.set_address_state(ident.key or "", at=now, hard_bounced=True)

    def mutate(p: Profile) -> UserChanges:
        changes = UserChanges()
        if not p.email_hard_bounced:
            p.email_hard_bounced = True
            changes.touched = True
        return changes

    changed = 0
    for profile in _profiles_for(svc, [ident]):
        saved = save_with_retry(svc.store, profile.user_id, mutate, now=now, current=profile)
        changed += int(bool(saved and saved[1].touched))
    return changed
