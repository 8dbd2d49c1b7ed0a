"""``POST /users/track`` and ``/users/track/sync`` (braze-api.md §1.1).

Steps, and what each costs in DynamoDB requests:

1. validate the envelope (arrays of at most 75 objects; a violation is a fatal 400) and each object
   (a bad object becomes an error item ``{type, input_array, index}``; the others go on);
2. resolve every identifier of the request: one BatchGetItem on identities, one on profiles;
3. group the objects by user, in Braze's order (attributes, then events, then purchases);
4. per distinct user, claim new unique identities (one write each), apply every object of that user
   to the profile and write it once (one conditional PutItem; a lost race re-reads and re-applies);
   then link changed email/phone addresses (one write each);
5. export the Currents events of the whole request in one Firehose PutRecordBatch.

If every object is invalid the request fails with Braze's fatal message and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from engagekit import clock
from engagekit.currents.exporter import Exportable
from engagekit.domain.profile import Aggregate, Profile, UserAlias
from engagekit.errors import ValidationError
from engagekit.profiles import identity as ids
from engagekit.profiles.attributes import (
    CONTROL_KEYS,
    IGNORED_STANDARD,
    STANDARD_FIELDS,
    AddressState,
    ParsedAttributes,
    apply_attributes,
    parse_attributes,
)
from engagekit.profiles.behavior_events import events_for
from engagekit.profiles.behaviors import apply_event, apply_purchase, parse_event, parse_purchase
from engagekit.profiles.changes import EventRecord, PurchaseRecord, UserChanges
from engagekit.profiles.errors import ItemError
from engagekit.profiles.identity import MAX_IDENTIFIER_CHARS, Identifier
from engagekit.profiles.limits import MAX_OBJECTS_PER_ARRAY
from engagekit.profiles.resolve import Resolution, find, load
from engagekit.profiles.store import IdentityTaken, ProfileTooLarge
from engagekit.profiles.timeparse import iso
from engagekit.profiles.writer import save_with_retry
from engagekit.users.service import UsersService

ARRAYS = ("attributes", "events", "purchases")
FATAL_NO_VALID_DATA = "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."
MAX_INPUT_LENGTH = "Max Input Length Exceeded"

Payload = ParsedAttributes | EventRecord | PurchaseRecord


@dataclass
class _Item:
    array: str
    index: int
    ident: Identifier
    update_existing_only: bool
    payload: Payload


@dataclass
class _Plan:
    """Everything one request does to one user."""

    user_id: str
    current: Profile | None
    new_ident: Identifier | None = None
    items: list[_Item] = field(default_factory=list)


@dataclass
class _Done:
    """What :func:`_execute` did for one user (``profile`` None: nothing written)."""

    profile: Profile | None
    changes: UserChanges
    applied: list[_Item]
    errors: list[dict[str, Any]]


@dataclass
class TrackOutcome:
    """What the use case did: the response counts, error items and the written profiles."""

    counts: dict[str, int]
    errors: list[dict[str, Any]]
    profiles: list[tuple[Profile, UserChanges]]
    events: list[Exportable]


def identifier_of(obj: Mapping[str, Any]) -> Identifier:
    """The identifier of a /users/track object (braze-api.md §1.1); ItemError if none or several.

    ``external_id``, ``user_alias`` and ``braze_id`` are exclusive; without them ``email``
    identifies, else ``phone`` (both given: email wins, braze-api.md §1.1).
    """
    get = obj.get
    value = get("external_id")
    if type(value) is str and get("user_alias") is None and get("braze_id") is None:
        return _external_identifier(value)
    present = [k for k in ("external_id", "user_alias", "braze_id") if get(k) is not None]
    if len(present) > 1:
        raise ItemError(f"only one of 'external_id', 'user_alias', 'braze_id' may be given, got {present}")
    if present == ["external_id"]:
        return ids.external_id(_id_string(obj["external_id"], "external_id"))
    if present == ["user_alias"]:
        return ids.alias(parse_alias(obj["user_alias"]))
    if present == ["braze_id"]:
        return ids.braze_id(_id_string(obj["braze_id"], "braze_id"))
    if obj.get("email") is not None:
        try:
            return ids.email(_id_string(obj["email"], "email"))
        except ValueError as exc:
            raise ItemError("'email' is not a valid email address") from exc
    if obj.get("phone") is not None:
        try:
            return ids.phone(_id_string(obj["phone"], "phone"))
        except ValueError as exc:
            raise ItemError("'phone' is not a valid phone number") from exc
    raise ItemError("an object needs one of 'external_id', 'user_alias', 'braze_id', 'email' or 'phone'")


@lru_cache(maxsize=4096)
def _external_identifier(value: str) -> Identifier:
    """The checked identifier of external id ``value`` (cached: requests repeat their users)."""
    return ids.external_id(_id_string(value, "external_id"))


def _id_string(value: Any, name: str) -> str:
    if name in ("email", "phone"):
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_IDENTIFIER_CHARS:
            raise ItemError(
                f"'{name}' must be a non-empty string of at most {MAX_IDENTIFIER_CHARS} characters"
            )
        return value
    try:
        return ids.check_identifier(value, name)
    except ValueError as exc:
        raise ItemError(str(exc)) from exc


def parse_alias(value: Any) -> UserAlias:
    """A ``{"alias_name", "alias_label"}`` object as a :class:`UserAlias`; ItemError otherwise."""
    if not isinstance(value, dict):
        raise ItemError("'user_alias' must be an object with 'alias_name' and 'alias_label'")
    for field_name in ("alias_name", "alias_label"):
        try:
            ids.check_identifier(value.get(field_name), field_name)
        except ValueError as exc:
            raise ItemError(f"'user_alias': {exc}") from exc
    return UserAlias(alias_name=value["alias_name"], alias_label=value["alias_label"])


def _update_existing_only(obj: Mapping[str, Any], ident: Identifier, array: str) -> bool:
    """Braze's defaults: false for external_id/email/phone; true for aliases (always, for events and
    purchases); a braze_id can only address an existing profile (braze-api.md §1.1)."""
    value = obj.get("_update_existing_only")
    if value is not None and not isinstance(value, bool):
        raise ItemError("'_update_existing_only' must be a boolean")
    if ident.kind == "braze_id":
        return True
    if ident.kind == "alias":
        return True if array != "attributes" else (value if value is not None else True)
    return bool(value)


def check_envelope(body: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The three arrays of a /users/track body; ValidationError (fatal 400) when malformed.

    More than 75 objects in an array is ``400 Max Input Length Exceeded`` (braze-api.md §0, §1.1).
    """
    arrays: dict[str, list[Any]] = {}
    for name in ARRAYS:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, list):
            raise ValidationError(f"'{name}' must be an array of objects")
        if len(value) > MAX_OBJECTS_PER_ARRAY:
            raise ValidationError(
                MAX_INPUT_LENGTH,
                errors=[
                    {
                        "type": f"'{name}' has {len(value)} objects; "
                        f"at most {MAX_OBJECTS_PER_ARRAY} are allowed",
                        "input_array": name,
                    }
                ],
            )
        arrays[name] = value
    if not any(arrays.values()):
        raise ValidationError(FATAL_NO_VALID_DATA)
    return arrays


def _parse_items(
    arrays: dict[str, list[Any]], svc: UsersService, now: datetime
) -> tuple[list[_Item], list[dict[str, Any]]]:
    items: list[_Item] = []
    errors: list[dict[str, Any]] = []
    for array in ARRAYS:
        for index, obj in enumerate(arrays.get(array, [])):
            try:
                if not isinstance(obj, dict):
                    raise ItemError(f"'{array}' entries must be objects")
                if obj.get("push_token_import") is True:
                    raise ItemError("push_token_import is not supported: send push_tokens with an identifier")
                ident = identifier_of(obj)
                update_only = _update_existing_only(obj, ident, array)
                payload: Payload
                if array == "attributes":
                    payload = parse_attributes(obj, svc.limits, identified_by=ident.kind)
                elif array == "events":
                    payload = parse_event(obj, now)
                else:
                    payload = parse_purchase(obj, now)
            except ItemError as exc:
                errors.append(error_item(exc.type, array, index))
                continue
            items.append(_Item(array, index, ident, update_only, payload))
    return items, errors


def error_item(type_: str, array: str, index: int) -> dict[str, Any]:
    """Braze's error item (braze-api.md §0): ``{"type", "input_array", "index"}``."""
    return {"type": type_, "input_array": array, "index": index}


def _address_keys(items: Sequence[_Item]) -> set[str]:
    keys: set[str] = set()
    for item in items:
        if isinstance(item.payload, ParsedAttributes):
            for name, value in item.payload.standard:
                if name == "email" and value:
                    normalized = ids.normalize_email(value)
                    if normalized:
                        keys.add(ids.identity_key("email", normalized))
    return keys


def _plan(items: list[_Item], resolution: Resolution) -> dict[str, _Plan]:
    plans: dict[str, _Plan] = {}
    new_users: dict[Identifier, str] = {}
    for item in items:
        profile = find(resolution, item.ident)
        if profile is not None:
            user_id = profile.user_id
        elif item.ident in new_users:
            user_id = new_users[item.ident]
        elif item.update_existing_only:
            continue
        else:
            holders = resolution.holders(item.ident) if item.ident.unique else []
            user_id = holders[0] if holders else ids.new_user_id()
            new_users[item.ident] = user_id
        plan = plans.get(user_id)
        if plan is None:
            plan = plans[user_id] = _Plan(user_id, profile)
            if profile is None:
                plan.new_ident = item.ident
        plan.items.append(item)
    return plans


def new_profile(user_id: str, ident: Identifier, now: datetime) -> Profile:
    """A new profile addressed by ``ident`` (its external_id, alias, email or phone set)."""
    profile = Profile(user_id=user_id, created_at=now)
    if ident.kind == "external_id":
        profile.external_id = ident.value
    elif ident.kind == "alias":
        label, name = json.loads(ident.value)
        profile.user_aliases = [UserAlias(alias_name=name, alias_label=label)]
    elif ident.kind == "email":
        profile.email = ident.value
    elif ident.kind == "phone":
        profile.phone = ident.value
    return profile


def _addresses(resolution: Resolution) -> dict[str, AddressState]:
    out: dict[str, AddressState] = {}
    for key, record in resolution.identities.items():
        if key.startswith("email#"):
            out[key.removeprefix("email#")] = AddressState(
                record.subscription_state, record.hard_bounced_at is not None, record.spam_at is not None
            )
    return out


def _apply_items(
    profile: Profile,
    items: Sequence[_Item],
    svc: UsersService,
    addresses: Mapping[str, AddressState],
    errors: list[dict[str, Any]],
    applied: list[_Item],
    created: bool,
) -> UserChanges:
    changes = UserChanges(created=created)
    errors.clear()
    applied.clear()
    for item in items:
        try:
            if isinstance(item.payload, ParsedAttributes):
                apply_attributes(profile, item.payload, changes, svc.limits, addresses)
            elif isinstance(item.payload, EventRecord):
                apply_event(profile, item.payload, changes)
            else:
                apply_purchase(profile, item.payload, changes)
        except ItemError as exc:
            errors.append(error_item(exc.type, item.array, item.index))
            continue
        applied.append(item)
    return changes


def _execute(plan: _Plan, svc: UsersService, addresses: Mapping[str, AddressState], now: datetime) -> _Done:
    """Claim the plan's new identity, write the profile once, link changed addresses."""
    store = svc.store
    user_id = plan.user_id
    current = plan.current
    if plan.new_ident is not None and plan.new_ident.unique and plan.new_ident.key:
        try:
            store.claim_identity(plan.new_ident.key, user_id)
        except IdentityTaken as taken:
            # another request created this user first: apply to theirs
            user_id = taken.owner
            current = store.get_profiles([user_id], consistent=True).get(user_id)
    new_ident = plan.new_ident
    items = list(plan.items)
    errors: list[dict[str, Any]] = []
    applied: list[_Item] = []
    before: dict[str, str | None] = {}

    def mutate(profile: Profile) -> UserChanges:
        before["email"] = ids.normalize_email(profile.email) if profile.email else None
        before["phone"] = ids.normalize_phone(profile.phone) if profile.phone else None
        created = profile.version == 0
        return _apply_items(profile, items, svc, addresses, errors, applied, created)

    def create() -> Profile:
        assert new_ident is not None
        return new_profile(user_id, new_ident, now)

    try:
        saved = save_with_retry(store, user_id, mutate, now=now, current=current, create=create)
    except ProfileTooLarge:
        # keep the behaviour (bounded aggregates) and refuse the attributes that made it too large
        refused = [i for i in items if isinstance(i.payload, ParsedAttributes)]
        items = [i for i in items if not isinstance(i.payload, ParsedAttributes)]
        current = store.get_profiles([user_id], consistent=True).get(user_id)
        try:
            saved = save_with_retry(store, user_id, mutate, now=now, current=current, create=create)
        except ProfileTooLarge:
            # the stored profile itself is at the limit: nothing of this user's is applied
            refused, saved = list(plan.items), None
            errors.clear()
        too_large = "the profile would exceed its size limit"
        errors.extend(error_item(too_large, i.array, i.index) for i in refused)
    if saved is None:
        return _Done(None, UserChanges(), [], errors)
    profile, changes = saved
    if changes.anything:
        _link_addresses(svc, profile, before, new_ident)
    address = ids.normalize_email(profile.email) if profile.email else None
    if changes.email_subscribe and address:
        # /email/unsubscribes lists addresses whatever path changed their state (braze-api.md §8)
        key = ids.identity_key("email", address)
        svc.store.set_address_state(key, subscription_state=changes.email_subscribe, at=now)
    return _Done(profile, changes, applied, errors)


def _link_addresses(
    svc: UsersService, profile: Profile, before: Mapping[str, str | None], new_ident: Identifier | None
) -> None:
    """Keep the email/phone index in step with the profile (one write per changed address)."""
    after = {
        "email": ids.normalize_email(profile.email) if profile.email else None,
        "phone": ids.normalize_phone(profile.phone) if profile.phone else None,
    }
    for kind in ("email", "phone"):
        old, new = before.get(kind), after[kind]
        created_by_it = new_ident is not None and new_ident.kind == kind and profile.version == 1
        if old == new and not created_by_it:
            continue
        if old and old != new:
            svc.store.unlink_identity(ids.identity_key(kind, old), profile.user_id)
        if new:
            svc.store.link_identity(ids.identity_key(kind, new), profile.user_id)


def check_track(body: Mapping[str, Any], svc: UsersService) -> list[dict[str, Any]]:
    """The error items ``{"type", "input_array", "index"}`` :func:`track` would report for ``body``
    without reading or writing anything (the checks that do not depend on stored profiles).

    For callers that apply attributes on behalf of another API (``/campaigns/trigger/send``
    recipients, braze-api.md §2.1) and must refuse the whole request before anything is written.
    Raises ValidationError (400) for a malformed envelope, as :func:`track` does.
    """
    _, errors = _parse_items(check_envelope(body), svc, clock.now())
    return errors


def track(body: Mapping[str, Any], svc: UsersService) -> TrackOutcome:
    """Run a /users/track request body against ``svc``; see the module doc for the steps.

    Returns the outcome (counts per array present in the body, error items in request order).
    Raises ValidationError (400) for a malformed envelope, more than 75 objects in an array
    (``Max Input Length Exceeded``) or a request without one valid object; ConflictError (409)
    when a profile keeps losing races; CurrentsDeliveryError when Firehose refuses the events.
    """
    now = clock.now()
    arrays = check_envelope(body)
    items, errors = _parse_items(arrays, svc, now)
    if not items:
        raise ValidationError(FATAL_NO_VALID_DATA, errors=errors)
    resolution = load(svc.store, [i.ident for i in items], _address_keys(items))
    addresses = _addresses(resolution)
    plans = _plan(items, resolution)
    counts = {f"{name}_processed": 0 for name in ARRAYS if name in arrays}
    written: list[tuple[Profile, UserChanges]] = []
    events: list[Exportable] = []
    for plan in plans.values():
        done = _execute(plan, svc, addresses, now)
        errors.extend(done.errors)
        if done.profile is None:
            continue
        profile, changes = done.profile, done.changes
        for item in done.applied:
            counts[f"{item.array}_processed"] += 1
        written.append((profile, changes))
        if changes.anything:
            events.extend(events_for(profile, changes, now))
    svc.emit(events)
    errors.sort(key=lambda e: (ARRAYS.index(e["input_array"]), e["index"]))
    return TrackOutcome(counts, errors, written, events)


def track_response(outcome: TrackOutcome) -> dict[str, Any]:
    """The Braze response body: ``message``, the ``*_processed`` counts and any ``errors``."""
    body: dict[str, Any] = {"message": "success", **outcome.counts}
    if outcome.errors:
        body["errors"] = outcome.errors
    return body


def track_sync(body: Mapping[str, Any], svc: UsersService) -> dict[str, Any]:
    """``/users/track/sync`` (braze-api.md §1.1.4): exactly one object; the resulting profile slice.

    Returns ``{"users": [...], "message": "success"}`` where a user holds its ``external_id`` (or
    ``braze_id``) and ``custom_attributes`` (the attributes named in the object), ``custom_events``
    or ``purchase_events`` (``{name|product_id, first, last, count}``). ``users`` is empty when the
    object named no existing user under ``_update_existing_only``. Raises ValidationError (400) for
    anything but exactly one valid object.
    """
    arrays = check_envelope(body)
    if sum(len(v) for v in arrays.values()) != 1:
        raise ValidationError("/users/track/sync takes exactly one attributes, event or purchase object")
    outcome = track(body, svc)
    if outcome.errors:
        raise ValidationError(FATAL_NO_VALID_DATA, errors=outcome.errors)
    array, objects = next((name, value) for name, value in arrays.items() if value)
    obj = objects[0]
    users: list[dict[str, Any]] = []
    for profile, _ in outcome.profiles:
        user: dict[str, Any] = (
            {"external_id": profile.external_id} if profile.external_id else {"braze_id": profile.user_id}
        )
        if array == "attributes":
            names = [
                k
                for k in obj
                if k not in CONTROL_KEYS and k not in STANDARD_FIELDS and k not in IGNORED_STANDARD
            ]
            user["custom_attributes"] = {n: profile.custom_attributes.get(n) for n in names}
        elif array == "events":
            agg = profile.events.get(obj["name"])
            user["custom_events"] = [_aggregate_slice("name", obj["name"], agg)] if agg else []
        else:
            product = profile.products.get(obj["product_id"])
            user["purchase_events"] = (
                [_aggregate_slice("product_id", obj["product_id"], product)] if product else []
            )
        users.append(user)
    return {"users": users, "message": "success"}


def _aggregate_slice(key: str, name: str, agg: Aggregate) -> dict[str, Any]:
    return {
        key: name,
        "first": iso(agg.first) if agg.first else None,
        "last": iso(agg.last) if agg.last else None,
        "count": agg.count,
    }
