"""``POST /users/export/ids`` (braze-api.md §1.6): profiles by identifier, projected by
:func:`engagekit.profiles.projection.export_user` (the projection ``/users/export/segment`` reuses)."""

from __future__ import annotations

from typing import Any

from engagekit import clock
from engagekit.domain.profile import Profile, UserAlias
from engagekit.errors import ValidationError
from engagekit.profiles import identity as ids
from engagekit.profiles.identity import Identifier
from engagekit.profiles.limits import MAX_IDS_PER_REQUEST
from engagekit.profiles.projection import export_user
from engagekit.profiles.resolve import load
from engagekit.users.models import ExportIdsRequest
from engagekit.users.service import UsersService

TOO_MANY_IDS = "The max number of external_ids and aliases per request was exceeded"


def export_ids(request: ExportIdsRequest, svc: UsersService) -> dict[str, Any]:
    """The users named by ``request`` as Braze user objects, with ``invalid_user_ids``.

    ``external_ids`` and ``braze_id`` that match no profile are listed in ``invalid_user_ids``; an
    email address or phone number returns every profile holding it. Two DynamoDB reads.
    Raises ValidationError (400) for more than 50 external_ids + user_aliases, for several of
    ``device_id``/``email_address``/``phone``, for an invalid address, or for no identifier at all.
    """
    if len(request.external_ids) + len(request.user_aliases) > MAX_IDS_PER_REQUEST:
        raise ValidationError(TOO_MANY_IDS)
    singles = [n for n in ("device_id", "email_address", "phone") if getattr(request, n)]
    if len(singles) > 1:
        raise ValidationError("Only one of 'device_id', 'email_address' or 'phone' may be given")
    idents: list[tuple[str | None, Identifier]] = [(x, ids.external_id(x)) for x in request.external_ids]
    idents += [
        (None, ids.alias(UserAlias(alias_name=a.alias_name, alias_label=a.alias_label)))
        for a in request.user_aliases
    ]
    if request.braze_id:
        idents.append((request.braze_id, ids.braze_id(request.braze_id)))
    try:
        if request.email_address:
            idents.append((None, ids.email(request.email_address)))
        if request.phone:
            idents.append((None, ids.phone(request.phone)))
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if not idents and not request.device_id:
        raise ValidationError(
            "Provide external_ids, user_aliases, braze_id, email_address, phone or device_id to export"
        )
    resolution = load(svc.store, [i for _, i in idents])
    found: dict[str, Profile] = {}
    invalid: list[str] = []
    for raw, ident in idents:
        matches = resolution.candidates(ident)
        if not matches and raw is not None:
            invalid.append(raw)
        for profile in matches:
            found.setdefault(profile.user_id, profile)
    now = clock.now()
    fields = request.fields_to_export
    body: dict[str, Any] = {
        "message": "success",
        "users": [export_user(p, fields, now) for p in found.values()],
    }
    if invalid:
        body["invalid_user_ids"] = invalid
    return body
