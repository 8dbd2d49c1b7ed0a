"""Request and response models of the user data API, in Braze's wire format (braze-api.md §1, §8).

These models are the HTTP contract: ``docs/openapi.json`` is generated from them
(:mod:`engagekit.users.openapi`). Every request model accepts the legacy ``api_key`` field
(braze-api.md §0) and ignores other unknown top-level fields, as Braze does.

``/users/track`` objects are documented here field by field, but the use case validates each
object on its own (:mod:`engagekit.users.track`) so one bad object becomes an error item instead of
failing the request; every other endpoint validates its whole body with its model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field

from engagekit.model import Model, Request
from engagekit.profiles.identity import MAX_IDENTIFIER_BYTES, check_identifier
from engagekit.profiles.limits import MAX_IDS_PER_REQUEST, MAX_OBJECTS_PER_ARRAY, MAX_PURCHASE_QUANTITY
from engagekit.profiles.projection import EXPORTABLE_FIELDS

Priority = Literal["identified", "unidentified", "most_recently_updated", "least_recently_updated"]
SubscriptionState = Literal["opted_in", "subscribed", "unsubscribed"]
GroupState = Literal["subscribed", "unsubscribed"]
ExportField = Literal[EXPORTABLE_FIELDS]  # type: ignore[valid-type]


def _identifier(value: str) -> str:
    return check_identifier(value, "identifier")


IdStr = Annotated[str, Field(min_length=1, max_length=MAX_IDENTIFIER_BYTES), AfterValidator(_identifier)]
"""external_id, braze_id, alias name or label: ≤400 UTF-8 bytes, no control characters."""


class Message(Model):
    """``{"message": "success"}``, or a fatal message with error items (braze-api.md §0)."""

    message: str = Field(description="'success' or the fatal error")
    errors: list[dict[str, Any]] | None = Field(default=None, description="error items when any")


class UserAliasModel(Model):
    """A user alias (braze-api.md §1.1): a (label, name) pair unique in the workspace."""

    model_config = ConfigDict(extra="forbid")
    alias_name: IdStr
    alias_label: IdStr


class _Identified(Model):
    """The identifier fields of a /users/track object: exactly one of external_id, user_alias,
    braze_id; or email (or phone) alone."""

    model_config = ConfigDict(extra="allow")
    external_id: IdStr | None = None
    user_alias: UserAliasModel | None = None
    braze_id: IdStr | None = None
    email: str | None = Field(default=None, max_length=320, description="identifier when no other is given")
    phone: str | None = Field(
        default=None, max_length=64, description="identifier when no other and no email"
    )
    update_existing_only: bool | None = Field(
        default=None,
        alias="_update_existing_only",
        description="false by default for external_id/email/phone, true for user_alias and braze_id",
    )


class SubscriptionGroupUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    subscription_group_id: str = Field(min_length=1, max_length=255)
    subscription_state: GroupState


class PushTokenModel(Model):
    model_config = ConfigDict(extra="forbid")
    app_id: str = Field(min_length=1, max_length=255)
    token: str = Field(min_length=1, max_length=4096)
    device_id: str | None = Field(default=None, max_length=255)


class Location(Model):
    longitude: float = Field(ge=-180, le=180)
    latitude: float = Field(ge=-90, le=90)


class AttributesObject(_Identified):
    """A user attributes object (braze-api.md §1.1.1). Any other key is a custom attribute:
    string (≤255), number, boolean, time string, array (≤ the array cap), ``{"inc": n}``,
    ``{"add": [...], "remove": [...]}``, object, array of objects with ``$add``/``$remove``/``$update``,
    or ``null`` to remove it."""

    merge_objects: bool | None = Field(default=None, alias="_merge_objects")
    first_name: str | None = Field(default=None, max_length=255)
    last_name: str | None = Field(default=None, max_length=255)
    home_city: str | None = Field(default=None, max_length=255)
    country: str | None = Field(
        default=None, max_length=255, description="ISO-3166-1 alpha-2 or a country name"
    )
    language: str | None = Field(default=None, max_length=255, description="ISO-639-1")
    time_zone: str | None = Field(default=None, max_length=255, description="IANA or Rails name")
    dob: str | None = Field(default=None, description="YYYY-MM-DD", pattern=r"^\d{4}-\d{2}-\d{2}$")
    gender: Literal["M", "F", "O", "N", "P"] | None = None
    email_subscribe: SubscriptionState | None = None
    push_subscribe: SubscriptionState | None = None
    subscription_groups: list[SubscriptionGroupUpdate] | None = Field(default=None, max_length=450)
    push_tokens: list[PushTokenModel] | None = Field(default=None, max_length=20)
    current_location: Location | None = None


class EventObject(_Identified):
    """An event object (braze-api.md §1.1.2)."""

    model_config = ConfigDict(extra="ignore")
    app_id: str | None = Field(default=None, max_length=255)
    name: str = Field(min_length=1, max_length=255)
    time: str = Field(description="ISO 8601 or another Braze time format; a future time becomes now")
    properties: dict[str, Any] | None = Field(
        default=None, description="≤100 KB; names ≤255 chars, no leading '$', not 'time'/'event_name'"
    )


class PurchaseObject(_Identified):
    """A purchase object (braze-api.md §1.1.3)."""

    model_config = ConfigDict(extra="ignore")
    app_id: str | None = Field(default=None, max_length=255)
    product_id: str = Field(min_length=1, max_length=255)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217")
    price: float
    quantity: int = Field(
        default=1, ge=1, le=MAX_PURCHASE_QUANTITY, description="counted as that many purchases"
    )
    time: str
    properties: dict[str, Any] | None = Field(default=None, description="≤50 KB")


class TrackRequest(Request):
    """``POST /users/track`` (braze-api.md §1.1): up to 75 objects in each array."""

    attributes: list[AttributesObject] | None = Field(default=None, max_length=MAX_OBJECTS_PER_ARRAY)
    events: list[EventObject] | None = Field(default=None, max_length=MAX_OBJECTS_PER_ARRAY)
    purchases: list[PurchaseObject] | None = Field(default=None, max_length=MAX_OBJECTS_PER_ARRAY)


class TrackErrorItem(Model):
    type: str = Field(description="what is wrong with the object")
    input_array: Literal["attributes", "events", "purchases"]
    index: int | None = Field(default=None, description="position of the object in its array")


class TrackResponse(Model):
    """201: counts of the objects processed per array sent, and error items for skipped ones."""

    message: str
    attributes_processed: int | None = None
    events_processed: int | None = None
    purchases_processed: int | None = None
    errors: list[TrackErrorItem] | None = None


class TrackSyncUser(Model):
    model_config = ConfigDict(extra="allow")
    external_id: str | None = None
    braze_id: str | None = None
    custom_attributes: dict[str, Any] | None = None
    custom_events: list[dict[str, Any]] | None = None
    purchase_events: list[dict[str, Any]] | None = None


class TrackSyncResponse(Model):
    """201 when the single object was applied; the resulting profile slice (braze-api.md §1.1.4)."""

    users: list[TrackSyncUser]
    message: str


# --- identify, aliases ------------------------------------------------------------------------


class AliasToIdentify(Model):
    model_config = ConfigDict(extra="forbid")
    external_id: IdStr
    user_alias: UserAliasModel


class EmailToIdentify(Model):
    model_config = ConfigDict(extra="forbid")
    external_id: IdStr
    email: str = Field(min_length=3, max_length=320)
    prioritization: list[Priority] = Field(min_length=1, max_length=4)


class PhoneToIdentify(Model):
    model_config = ConfigDict(extra="forbid")
    external_id: IdStr
    phone: str = Field(min_length=4, max_length=64)
    prioritization: list[Priority] = Field(min_length=1, max_length=4)


class IdentifyRequest(Request):
    """``POST /users/identify`` (braze-api.md §1.2): ≤50 entries per array."""

    aliases_to_identify: list[AliasToIdentify] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    emails_to_identify: list[EmailToIdentify] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    phone_numbers_to_identify: list[PhoneToIdentify] = Field(
        default_factory=list, max_length=MAX_IDS_PER_REQUEST
    )


class IdentifyResponse(Model):
    aliases_processed: int
    emails_processed: int | None = None
    phone_numbers_processed: int | None = None
    message: str
    errors: list[dict[str, Any]] | None = None


class NewAlias(Model):
    model_config = ConfigDict(extra="forbid")
    external_id: IdStr | None = None
    alias_name: IdStr
    alias_label: IdStr


class AliasNewRequest(Request):
    """``POST /users/alias/new`` (braze-api.md §1.3): ≤50 aliases."""

    user_aliases: list[NewAlias] = Field(min_length=1, max_length=MAX_IDS_PER_REQUEST)


class AliasNewResponse(Model):
    aliases_processed: int
    message: str
    errors: list[dict[str, Any]] | None = None


class AliasUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    alias_label: IdStr
    old_alias_name: IdStr
    new_alias_name: IdStr


class AliasUpdateRequest(Request):
    """``POST /users/alias/update``: rename an alias's name within its label; ≤50 updates."""

    alias_updates: list[AliasUpdate] = Field(min_length=1, max_length=MAX_IDS_PER_REQUEST)


# --- delete, merge, external ids --------------------------------------------------------------


class EmailWithPriority(Model):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    prioritization: list[Priority] = Field(min_length=1, max_length=4)


class PhoneWithPriority(Model):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(min_length=4, max_length=64)
    prioritization: list[Priority] = Field(min_length=1, max_length=4)


class DeleteRequest(Request):
    """``POST /users/delete`` (braze-api.md §1.4): ≤50 identifiers in all, of any types."""

    external_ids: list[IdStr] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    user_aliases: list[UserAliasModel] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    braze_ids: list[IdStr] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    email_addresses: list[EmailWithPriority] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    phone_numbers: list[PhoneWithPriority] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)


class DeleteResponse(Model):
    deleted: int = Field(description="profiles deleted")
    message: str


class MergeIdentifier(Model):
    """One user in a merge: exactly one of external_id, user_alias, email or phone (+ prioritization)."""

    model_config = ConfigDict(extra="forbid")
    external_id: IdStr | None = None
    user_alias: UserAliasModel | None = None
    braze_id: IdStr | None = None
    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(default=None, min_length=4, max_length=64)
    prioritization: list[Priority] | None = Field(default=None, min_length=1, max_length=4)


class MergeUpdate(Model):
    model_config = ConfigDict(extra="forbid")
    identifier_to_merge: MergeIdentifier
    identifier_to_keep: MergeIdentifier


class MergeRequest(Request):
    """``POST /users/merge`` (braze-api.md §1.5): ≤50 merges."""

    merge_updates: list[MergeUpdate] = Field(min_length=1, max_length=MAX_IDS_PER_REQUEST)


class Rename(Model):
    model_config = ConfigDict(extra="forbid")
    current_external_id: IdStr
    new_external_id: IdStr


class RenameRequest(Request):
    """``POST /users/external_ids/rename``: ≤50 renames; the old id stays deprecated until removed."""

    external_id_renames: list[Rename] = Field(min_length=1, max_length=MAX_IDS_PER_REQUEST)


class RenameResponse(Model):
    message: str
    external_ids: list[str]
    rename_errors: list[list[str]]


class RemoveRequest(Request):
    """``POST /users/external_ids/remove``: remove ≤50 deprecated external ids."""

    external_ids: list[IdStr] = Field(min_length=1, max_length=MAX_IDS_PER_REQUEST)


class RemoveResponse(Model):
    message: str
    removed_ids: list[str]
    removal_errors: list[list[str]]


# --- export ------------------------------------------------------------------------------------


class ExportIdsRequest(Request):
    """``POST /users/export/ids`` (braze-api.md §1.6): ≤50 external_ids + user_aliases; at most one of
    device_id, email_address, phone."""

    external_ids: list[IdStr] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    user_aliases: list[UserAliasModel] = Field(default_factory=list, max_length=MAX_IDS_PER_REQUEST)
    device_id: str | None = Field(default=None, max_length=512)
    braze_id: IdStr | None = None
    email_address: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64)
    fields_to_export: list[ExportField] | None = Field(default=None, description="default: every field")


class ExportIdsResponse(Model):
    message: str
    users: list[dict[str, Any]]
    invalid_user_ids: list[str] | None = None


# --- subscriptions and email -------------------------------------------------------------------

IdList = str | list[str]


class SubscriptionStatusSetRequest(Request):
    """``POST /subscription/status/set`` (braze-api.md §8): external ids and email OR phone, ≤50 each."""

    subscription_group_id: str = Field(min_length=1, max_length=255)
    subscription_state: GroupState
    external_id: IdStr | list[IdStr] | None = None
    email: IdList | None = None
    phone: IdList | None = None


class EmailStatusRequest(Request):
    """``POST /email/status`` (braze-api.md §8): ≤50 addresses; applies to addresses not yet on a user."""

    email: IdList
    subscription_state: SubscriptionState


class GroupStatus(Model):
    id: str
    status: str


class UserSubscriptionStatus(Model):
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    subscription_groups: list[GroupStatus]


class UserStatusResponse(Model):
    users: list[UserSubscriptionStatus]
    message: str


class EmailDated(Model):
    email: str
    unsubscribed_at: str | None = None
    hard_bounced_at: str | None = None


class EmailListResponse(Model):
    emails: list[EmailDated]
    message: str
