"""Identity endpoints: ``/users/identify``, ``/users/alias/new``, ``/users/alias/update``,
``/users/merge``, ``/users/external_ids/rename``, ``/users/external_ids/remove`` (braze-api.md §1.2,
§1.3, §1.5) and ``/users/delete`` (§1.4, §8).

Each entry of a request is processed on its own: an entry that cannot be applied (unknown user,
taken alias, ambiguous email) is reported in ``errors`` (or ``rename_errors``/``removal_errors``)
and the others go on. A merge writes the kept profile once, moves the merged profile's aliases,
drops its other identities, deletes it and exports ``users.UserOrphan``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engagekit import clock
from engagekit.currents import events as ev  # ev.UserOrphan etc.: loaded on first use (cold start)
from engagekit.currents.events import CurrentsEvent, UserIds, user_event
from engagekit.domain.profile import Profile, UserAlias
from engagekit.errors import ValidationError
from engagekit.profiles import identity as ids
from engagekit.profiles.changes import UserChanges
from engagekit.profiles.identity import Identifier
from engagekit.profiles.merge import merge_into
from engagekit.profiles.resolve import Ambiguous, Resolution, load, pick
from engagekit.profiles.store import IdentityTaken
from engagekit.profiles.writer import save_with_retry
from engagekit.users.models import (
    AliasNewRequest,
    AliasUpdateRequest,
    DeleteRequest,
    EmailToIdentify,
    EmailWithPriority,
    IdentifyRequest,
    MergeIdentifier,
    MergeRequest,
    PhoneToIdentify,
    PhoneWithPriority,
    RemoveRequest,
    RenameRequest,
    UserAliasModel,
)
from engagekit.users.service import UsersService

TOO_MANY_IDS = "a single request may not contain more than 50 identifiers"


def _alias(model: UserAliasModel | Any) -> UserAlias:
    return UserAlias(alias_name=model.alias_name, alias_label=model.alias_label)


def _error(kind: str, index: int, message: str) -> dict[str, Any]:
    return {"type": message, "input_array": kind, "index": index}


def _touched(profile: Profile) -> UserChanges:
    changes = UserChanges()
    changes.touched = True
    return changes


def identity_keys(profile: Profile) -> list[tuple[str, bool]]:
    """Every identities-table key naming ``profile``, with whether it is unique (external ids, aliases)."""
    keys: list[tuple[str, bool]] = []
    for external_id in [profile.external_id, *profile.deprecated_external_ids]:
        if external_id:
            keys.append((ids.identity_key("external_id", external_id), True))
    keys += [(ids.alias(a).key or "", True) for a in profile.user_aliases]
    email = ids.normalize_email(profile.email) if profile.email else None
    if email:
        keys.append((ids.identity_key("email", email), False))
    phone = ids.normalize_phone(profile.phone) if profile.phone else None
    if phone:
        keys.append((ids.identity_key("phone", phone), False))
    return keys


# --------------------------------------------------------------------------------------------
# merging (identify, merge)


def merge_users(svc: UsersService, keep: Profile, merged: Profile, now: datetime) -> list[CurrentsEvent]:
    """Merge ``merged`` into ``keep``: one write of ``keep``, identity moves, delete ``merged``.

    Returns the ``users.UserOrphan`` event. Raises ConflictError when ``keep`` keeps changing.
    """
    snapshot = merged.model_copy(deep=True)
    before_email = ids.normalize_email(keep.email) if keep.email else None
    before_phone = ids.normalize_phone(keep.phone) if keep.phone else None
    saved = save_with_retry(svc.store, keep.user_id, lambda p: merge_into(p, snapshot), now=now, current=keep)
    kept = saved[0] if saved else keep
    kept_aliases = {ids.alias(a).key for a in kept.user_aliases}
    for key, unique in identity_keys(snapshot):
        if unique and key in kept_aliases:
            with contextlib.suppress(IdentityTaken):
                svc.store.transfer_identity(key, snapshot.user_id, kept.user_id)
        elif unique:
            svc.store.release_identity(key, snapshot.user_id)
        else:
            svc.store.unlink_identity(key, snapshot.user_id)
    for kind, before, now_value in (
        ("email", before_email, ids.normalize_email(kept.email) if kept.email else None),
        ("phone", before_phone, ids.normalize_phone(kept.phone) if kept.phone else None),
    ):
        if now_value and now_value != before:
            svc.store.link_identity(ids.identity_key(kind, now_value), kept.user_id)  # type: ignore[arg-type]
    svc.store.delete_profile(snapshot.user_id)
    return [
        user_event(ev.UserOrphan, UserIds.of(snapshot), time=now, orphaned_by_id=kept.user_id),
    ]


def _add_external_id(svc: UsersService, profile: Profile, external_id: str, now: datetime) -> None:
    """Give an anonymous profile ``external_id`` (claim first, then one profile write)."""
    svc.store.claim_identity(ids.identity_key("external_id", external_id), profile.user_id)

    def mutate(p: Profile) -> UserChanges:
        changes = UserChanges()
        if p.external_id != external_id:
            p.external_id = external_id
            changes.touched = True
        return changes

    save_with_retry(svc.store, profile.user_id, mutate, now=now, current=profile)


def _identify_one(
    svc: UsersService, resolution: Resolution, external_id: str, anonymous: Profile, now: datetime
) -> tuple[str | None, list[CurrentsEvent]]:
    """Identify ``anonymous`` as ``external_id``; returns (error or None, events)."""
    holder = resolution.candidates(ids.external_id(external_id))
    if anonymous.external_id and anonymous.external_id != external_id:
        return "the profile already has another external_id", []
    if not holder:
        _add_external_id(svc, anonymous, external_id, now)
        return None, []
    keep = holder[0]
    if keep.user_id == anonymous.user_id:
        return None, []
    labels = {a.alias_label for a in keep.user_aliases}
    if any(a.alias_label in labels for a in anonymous.user_aliases):
        return "the identified user already has an alias with this label; profiles not combined", []
    return None, merge_users(svc, keep, anonymous, now)


def identify(request: IdentifyRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/identify``: combine alias-, email- or phone-only profiles into identified ones.

    For each entry: the anonymous profile found by the alias (or by the email/phone and its
    ``prioritization``) is merged into the profile with ``external_id``; if no profile has that
    ``external_id`` it is simply given to the anonymous profile (braze-api.md §1.2). Returns
    ``{"aliases_processed", "message"}`` (+ ``emails_processed``/``phone_numbers_processed`` and
    ``errors`` when those were sent or failed).
    """
    now = clock.now()
    entries: list[tuple[str, int, str, Identifier, Sequence[str]]] = []
    errors: list[dict[str, Any]] = []
    for i, a in enumerate(request.aliases_to_identify):
        entries.append(("aliases_to_identify", i, a.external_id, ids.alias(_alias(a.user_alias)), ()))
    by_address: list[tuple[str, int, EmailToIdentify | PhoneToIdentify]] = [
        ("emails_to_identify", i, e) for i, e in enumerate(request.emails_to_identify)
    ]
    by_address += [
        ("phone_numbers_to_identify", i, e) for i, e in enumerate(request.phone_numbers_to_identify)
    ]
    for kind, i, e in by_address:
        try:
            ident = ids.email(e.email) if isinstance(e, EmailToIdentify) else ids.phone(e.phone)
        except ValueError as exc:
            errors.append(_error(kind, i, str(exc)))
            continue
        entries.append((kind, i, e.external_id, ident, e.prioritization))
    if not entries and not errors:
        raise ValidationError("Provide aliases_to_identify, emails_to_identify or phone_numbers_to_identify")
    resolution = load(svc.store, [ids.external_id(e[2]) for e in entries] + [e[3] for e in entries])
    processed = {"aliases_to_identify": 0, "emails_to_identify": 0, "phone_numbers_to_identify": 0}
    events: list[CurrentsEvent] = []
    for kind, index, external_id, ident, priority in entries:
        candidates = resolution.candidates(ident)
        if ident.kind in ("email", "phone"):
            candidates = [p for p in candidates if not p.external_id or p.external_id == external_id]
            try:
                chosen = pick(candidates, priority)
            except Ambiguous:
                errors.append(_error(kind, index, "more than one profile matches; none was merged"))
                continue
        else:
            chosen = candidates[0] if candidates else None
        if chosen is None:
            errors.append(_error(kind, index, f"no profile with {ident.describe()}"))
            continue
        # re-read: an earlier entry of this request may have changed either profile
        fresh = svc.store.get_profiles([chosen.user_id])
        if chosen.user_id not in fresh:
            errors.append(_error(kind, index, f"no profile with {ident.describe()}"))
            continue
        resolution = load(svc.store, [ids.external_id(external_id), ident])
        problem, new_events = _identify_one(svc, resolution, external_id, fresh[chosen.user_id], now)
        if problem:
            errors.append(_error(kind, index, problem))
            continue
        events += new_events
        processed[kind] += 1
    svc.emit(events)
    body: dict[str, Any] = {"aliases_processed": processed["aliases_to_identify"], "message": "success"}
    if request.emails_to_identify:
        body["emails_processed"] = processed["emails_to_identify"]
    if request.phone_numbers_to_identify:
        body["phone_numbers_processed"] = processed["phone_numbers_to_identify"]
    if errors:
        body["errors"] = errors
    return body


# --------------------------------------------------------------------------------------------
# aliases


def alias_new(request: AliasNewRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/alias/new`` (braze-api.md §1.3): add an alias to an existing user (``external_id``)
    or create an alias-only user. An unknown ``external_id``, a taken alias or a label the user
    already has is reported in ``errors``. Returns ``{"aliases_processed", "message"}``."""
    now = clock.now()
    resolution = load(
        svc.store, [ids.external_id(a.external_id) for a in request.user_aliases if a.external_id]
    )
    errors: list[dict[str, Any]] = []
    processed = 0
    for index, entry in enumerate(request.user_aliases):
        alias = _alias(entry)
        key = ids.alias(alias).key or ""
        if entry.external_id:
            found = resolution.candidates(ids.external_id(entry.external_id))
            if not found:
                errors.append(
                    _error("user_aliases", index, f"no user with external_id {entry.external_id!r}")
                )
                continue
            owner = svc.store.get_profiles([found[0].user_id]).get(found[0].user_id)
            if owner is None:
                errors.append(
                    _error("user_aliases", index, f"no user with external_id {entry.external_id!r}")
                )
                continue
            if any(a.alias_label == alias.alias_label for a in owner.user_aliases):
                errors.append(_error("user_aliases", index, "the user already has an alias with this label"))
                continue
            user_id = owner.user_id
        else:
            owner, user_id = None, ids.new_user_id()
        try:
            svc.store.claim_identity(key, user_id)
        except IdentityTaken:
            errors.append(_error("user_aliases", index, "this alias already exists"))
            continue

        def mutate(p: Profile, alias: UserAlias = alias) -> UserChanges:
            changes = _touched(p)
            if alias not in p.user_aliases:
                p.user_aliases.append(alias)
            return changes

        def create(user_id: str = user_id) -> Profile:
            return Profile(user_id=user_id, created_at=now)

        save_with_retry(svc.store, user_id, mutate, now=now, current=owner, create=create)
        processed += 1
    body: dict[str, Any] = {"aliases_processed": processed, "message": "success"}
    if errors:
        body["errors"] = errors
    return body


ALIAS_SAME_NAME = "old_alias_name and new_alias_name are the same"


def alias_update(request: AliasUpdateRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/alias/update``: rename an alias (same label); the new name must be free.

    Braze (braze-api.md §1, "other user endpoints") gives no rule for an update whose
    ``old_alias_name`` equals ``new_alias_name``; engagekit refuses it as an error item
    (:data:`ALIAS_SAME_NAME`) and changes nothing, like an external-id rename to the same id.
    Returns ``{"message": "success"}`` with ``errors`` (``{type, input_array: "alias_updates",
    index}``) for entries that could not be applied.
    """
    now = clock.now()
    errors: list[dict[str, Any]] = []
    for index, entry in enumerate(request.alias_updates):
        if entry.old_alias_name == entry.new_alias_name:
            errors.append(_error("alias_updates", index, ALIAS_SAME_NAME))
            continue
        old = UserAlias(alias_name=entry.old_alias_name, alias_label=entry.alias_label)
        new = UserAlias(alias_name=entry.new_alias_name, alias_label=entry.alias_label)
        resolution = load(svc.store, [ids.alias(old)])
        found = resolution.candidates(ids.alias(old))
        if not found:
            errors.append(_error("alias_updates", index, "no user has this alias"))
            continue
        owner = found[0]
        try:
            svc.store.claim_identity(ids.alias(new).key or "", owner.user_id)
        except IdentityTaken:
            errors.append(_error("alias_updates", index, "the new alias already exists"))
            continue

        def mutate(p: Profile, old: UserAlias = old, new: UserAlias = new) -> UserChanges:
            p.user_aliases = [new if a == old else a for a in p.user_aliases]
            return _touched(p)

        save_with_retry(svc.store, owner.user_id, mutate, now=now, current=owner)
        svc.store.release_identity(ids.alias(old).key or "", owner.user_id)
    body: dict[str, Any] = {"message": "success"}
    if errors:
        body["errors"] = errors
    return body


# --------------------------------------------------------------------------------------------
# merge


def _merge_identifier(ident: MergeIdentifier) -> tuple[Identifier, Sequence[str]]:
    given = [
        n
        for n in ("external_id", "user_alias", "braze_id", "email", "phone")
        if getattr(ident, n) is not None
    ]
    if len(given) != 1:
        raise ValueError("each identifier must have exactly one of external_id, user_alias, email or phone")
    name = given[0]
    if name == "user_alias":
        return ids.alias(_alias(ident.user_alias)), ()
    if name in ("email", "phone"):
        if not ident.prioritization:
            raise ValueError(f"'{name}' identifiers need a 'prioritization'")
        return (
            ids.email(ident.email or "") if name == "email" else ids.phone(ident.phone or "")
        ), ident.prioritization
    value = getattr(ident, name)
    return (ids.external_id(value) if name == "external_id" else ids.braze_id(value)), ()


def _one(resolution: Resolution, ident: Identifier, priority: Sequence[str]) -> Profile | None:
    candidates = resolution.candidates(ident)
    if ident.kind in ("email", "phone"):
        return pick(candidates, priority)
    return candidates[0] if candidates else None


def merge(request: MergeRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/merge`` (braze-api.md §1.5): merge ``identifier_to_merge`` into ``identifier_to_keep``.

    Returns ``{"message": "success"}`` (202) with ``errors`` for merges that could not be done
    (unknown or ambiguous users, same user twice). Raises ValidationError (400) for a malformed
    identifier (none or several kinds, email/phone without prioritization).
    """
    now = clock.now()
    pairs: list[tuple[tuple[Identifier, Sequence[str]], tuple[Identifier, Sequence[str]]]] = []
    for update in request.merge_updates:
        try:
            pairs.append(
                (_merge_identifier(update.identifier_to_merge), _merge_identifier(update.identifier_to_keep))
            )
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
    errors: list[dict[str, Any]] = []
    events: list[CurrentsEvent] = []
    for index, ((merge_id, merge_prio), (keep_id, keep_prio)) in enumerate(pairs):
        resolution = load(svc.store, [merge_id, keep_id])
        try:
            merged = _one(resolution, merge_id, merge_prio)
            keep = _one(resolution, keep_id, keep_prio)
        except Ambiguous:
            errors.append(_error("merge_updates", index, "more than one profile matches; not merged"))
            continue
        if merged is None or keep is None:
            missing = merge_id if merged is None else keep_id
            errors.append(_error("merge_updates", index, f"no profile with {missing.describe()}"))
            continue
        if merged.user_id == keep.user_id:
            errors.append(_error("merge_updates", index, "both identifiers name the same user"))
            continue
        events += merge_users(svc, keep, merged, now)
    svc.emit(events)
    body: dict[str, Any] = {"message": "success"}
    if errors:
        body["errors"] = errors
    return body


# --------------------------------------------------------------------------------------------
# external ids


RENAME_SAME_ID = "current_external_id and new_external_id are the same"
RENAME_NOT_CURRENT = "no user has this current external_id (a deprecated id cannot be renamed)"
RENAME_TAKEN = "the new external_id is already in use as a current or deprecated external_id"
REMOVE_UNKNOWN = "no user has this external_id"
REMOVE_CURRENT = "this is a current external_id, not a deprecated one"


def rename(request: RenameRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/external_ids/rename``: give a user a new external_id; the current one stays as a
    deprecated id (still resolving to the user) until ``/users/external_ids/remove``.

    Braze's rules (braze-api.md §1 "other user endpoints"; Braze's rename page): the
    ``current_external_id`` must be a user's primary id (not a deprecated one); the
    ``new_external_id`` must not be in use as any user's primary or deprecated id (the same user's
    included); the two must differ. A rename breaking a rule is a ``rename_errors`` item
    ``[current_external_id, reason]`` and changes nothing; the others are applied.

    Returns ``{"message", "external_ids": [renamed current ids], "rename_errors": [[id, reason]]}``.
    """
    now = clock.now()
    renamed: list[str] = []
    failures: list[list[str]] = []
    for entry in request.external_id_renames:
        current, new = entry.current_external_id, entry.new_external_id
        if current == new:
            failures.append([current, RENAME_SAME_ID])
            continue
        new_key = ids.identity_key("external_id", new)
        resolution = load(svc.store, [ids.external_id(current)], extra_keys=[new_key])
        found = [p for p in resolution.candidates(ids.external_id(current)) if p.external_id == current]
        if not found:
            failures.append([current, RENAME_NOT_CURRENT])
            continue
        owner = found[0]
        # claim_identity is idempotent for its holder: the owner's own deprecated id would pass it
        if (
            new_key in resolution.identities
            or new == owner.external_id
            or new in owner.deprecated_external_ids
        ):
            failures.append([current, RENAME_TAKEN])
            continue
        try:
            svc.store.claim_identity(new_key, owner.user_id)
        except IdentityTaken:
            failures.append([current, RENAME_TAKEN])
            continue

        def mutate(p: Profile, current: str = current, new: str = new) -> UserChanges:
            if p.external_id == current:
                p.external_id = new
                kept = [x for x in p.deprecated_external_ids if x not in (current, new)]
                p.deprecated_external_ids = [*kept, current]
            return _touched(p)

        save_with_retry(svc.store, owner.user_id, mutate, now=now, current=owner)
        renamed.append(current)
    return {"message": "success", "external_ids": renamed, "rename_errors": failures}


def remove(request: RemoveRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/external_ids/remove``: drop deprecated external ids (never a user's current one).

    Returns ``{"message", "removed_ids": [...], "removal_errors": [[id, reason]]}``.
    """
    now = clock.now()
    removed: list[str] = []
    failures: list[list[str]] = []
    resolution = load(svc.store, [ids.external_id(x) for x in request.external_ids])
    for external_id in request.external_ids:
        found = resolution.candidates(ids.external_id(external_id))
        owner = svc.store.get_profiles([found[0].user_id]).get(found[0].user_id) if found else None
        if owner is None:
            failures.append([external_id, REMOVE_UNKNOWN])
            continue
        # a current id is never removed, even if (from older data) it is also listed as deprecated
        if external_id == owner.external_id or external_id not in owner.deprecated_external_ids:
            failures.append([external_id, REMOVE_CURRENT])
            continue

        def mutate(p: Profile, external_id: str = external_id) -> UserChanges:
            if p.external_id == external_id or external_id not in p.deprecated_external_ids:
                return UserChanges()
            p.deprecated_external_ids = [x for x in p.deprecated_external_ids if x != external_id]
            return _touched(p)

        saved = save_with_retry(svc.store, owner.user_id, mutate, now=now, current=owner)
        after = saved[0] if saved else owner
        if after.external_id == external_id or external_id in after.deprecated_external_ids:
            failures.append([external_id, REMOVE_CURRENT])
            continue
        svc.store.release_identity(ids.identity_key("external_id", external_id), owner.user_id)
        removed.append(external_id)
    return {"message": "success", "removed_ids": removed, "removal_errors": failures}


# --------------------------------------------------------------------------------------------
# delete


def _with_priority(entry: EmailWithPriority | PhoneWithPriority) -> tuple[Identifier, Sequence[str]]:
    if isinstance(entry, EmailWithPriority):
        return ids.email(entry.email), entry.prioritization
    return ids.phone(entry.phone), entry.prioritization


def delete(request: DeleteRequest, svc: UsersService) -> dict[str, Any]:
    """``/users/delete`` (braze-api.md §1.4, §8): delete profiles and every identity naming them.

    Up to 50 identifiers of any types (engagekit accepts mixed types, see docs/users-api.md). An
    email or phone deletes the profile its ``prioritization`` picks (none when ambiguous). Each
    deletion exports ``users.UserDeleteRequest`` and runs the service's deletion hooks (segment
    memberships, journey timers, queued sends). Returns ``{"deleted": n, "message": "success"}``.
    Raises ValidationError for more than 50 identifiers or an invalid address.
    """
    total = sum(
        len(x)
        for x in (
            request.external_ids,
            request.user_aliases,
            request.braze_ids,
            request.email_addresses,
            request.phone_numbers,
        )
    )
    if total > 50:
        raise ValidationError(TOO_MANY_IDS)
    if total == 0:
        raise ValidationError(
            "Provide external_ids, user_aliases, braze_ids, email_addresses or phone_numbers"
        )
    targets: list[tuple[Identifier, Sequence[str]]] = [(ids.external_id(x), ()) for x in request.external_ids]
    targets += [(ids.alias(_alias(a)), ()) for a in request.user_aliases]
    targets += [(ids.braze_id(x), ()) for x in request.braze_ids]
    try:
        targets += [_with_priority(e) for e in request.email_addresses]
        targets += [_with_priority(e) for e in request.phone_numbers]
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    resolution = load(svc.store, [t for t, _ in targets])
    doomed: dict[str, Profile] = {}
    for ident, priority in targets:
        try:
            profile = _one(resolution, ident, priority)
        except Ambiguous:
            continue
        if profile is not None:
            doomed.setdefault(profile.user_id, profile)
    now = clock.now()
    events: list[CurrentsEvent] = []
    deleted = 0
    for profile in doomed.values():
        if svc.store.delete_profile(profile.user_id):
            deleted += 1
        for key, unique in identity_keys(profile):
            if unique:
                svc.store.release_identity(key, profile.user_id)
            else:
                svc.store.unlink_identity(key, profile.user_id)
        events.append(ev.user_delete_request(profile.user_id, time=now))
        for hook in svc.deletion_hooks:
            hook(profile)
    svc.emit(events)
    return {"deleted": deleted, "message": "success"}
