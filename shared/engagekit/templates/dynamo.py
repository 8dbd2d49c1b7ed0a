"""DynamoDB adapters of the template repositories (pynamodb); persistence types stay in this module.

Tables (declared in ``infra/manifest.py``):

- ``templates``: hash key ``pk`` = ``template#<id>`` or ``content_block#<name>``; one item per
  definition with its source (≤ 256 KB for templates, ≤ 50 KB for blocks, so far below DynamoDB's
  400 KB item limit), ``version``, description, tags and UTC timestamps.
- ``connected_content_credentials``: hash key ``name``; username and password. DynamoDB encrypts
  every table at rest (AWS-owned key by default); the table is separate so that only functions that
  render or manage templates get read access to it, and the API never returns the password
  (docs/liquid.md "Credentials").

Every method is one request (GetItem, PutItem or DeleteItem). Reads are eventually consistent except
where a caller asks otherwise; the per-container cache (:mod:`engagekit.templates.cache`) sits above.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError
from pynamodb.models import Model

from engagekit.dynamo import bind
from engagekit.templates.records import CredentialRecord, Kind, TemplateRecord


class TemplateItem(Model):
    """Persistence shape of a template or content block."""

    class Meta:
        table_name = "templates"

    pk = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute()
    ident = UnicodeAttribute()
    source = UnicodeAttribute()
    version = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    tags = ListAttribute[str](null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class CredentialItem(Model):
    """Persistence shape of a Connected Content basic-auth credential."""

    class Meta:
        table_name = "connected_content_credentials"

    name = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    password = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


def _pk(kind: Kind, ident: str) -> str:
    return f"{kind}#{ident}"


class DynamoTemplateRepository:
    """:class:`~engagekit.templates.records.TemplateRepository` on the ``templates`` table."""

    def __init__(self, table_name: str, host: str | None = None, *, consistent: bool = False) -> None:
        self._model = bind(TemplateItem, table_name, host)
        self._consistent = consistent

    def get(self, kind: Kind, ident: str) -> TemplateRecord | None:
        """One GetItem; ``None`` when absent."""
        try:
            item = self._model.get(_pk(kind, ident), consistent_read=self._consistent)
        except self._model.DoesNotExist:
            return None
        return TemplateRecord(
            kind=kind,
            id=item.ident,
            source=item.source,
            version=item.version,
            description=item.description,
            tags=tuple(item.tags or ()),
            created_at=item.created_at,
            updated_at=item.updated_at,
        )

    def put(self, record: TemplateRecord) -> None:
        """One PutItem (last writer wins)."""
        self._model(
            _pk(record.kind, record.id),
            kind=record.kind,
            ident=record.id,
            source=record.source,
            version=record.version,
            description=record.description,
            tags=list(record.tags),
            created_at=record.created_at,
            updated_at=record.updated_at,
        ).save()


class DynamoCredentialRepository:
    """:class:`~engagekit.templates.records.CredentialRepository` on ``connected_content_credentials``."""

    def __init__(self, table_name: str, host: str | None = None) -> None:
        self._model = bind(CredentialItem, table_name, host)

    def get(self, name: str) -> CredentialRecord | None:
        """One GetItem; ``None`` when absent."""
        try:
            item = self._model.get(name)
        except self._model.DoesNotExist:
            return None
        return CredentialRecord(
            name=item.name,
            username=item.username,
            password=item.password,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )

    def put(self, record: CredentialRecord) -> None:
        """One PutItem."""
        self._model(
            record.name,
            username=record.username,
            password=record.password,
            created_at=record.created_at,
            updated_at=record.updated_at,
        ).save()

    def delete(self, name: str) -> bool:
        """One conditional DeleteItem; True if the credential existed."""
        try:
            self._model(name).delete(condition=self._model.name.exists())
        except DeleteError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True
