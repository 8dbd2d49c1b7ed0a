"""Use cases of the template API: store and read templates, content blocks and Connected Content
credentials, and render previews (docs/liquid.md "API").

Every function takes a :class:`~engagekit.templates.service.TemplatesService` and a validated body
model, and returns a JSON-ready dict (plus the HTTP status for writes). Errors are raised, never
returned: :class:`TemplateSyntaxError` (400, with 1-based line and column),
:class:`engagekit.errors.ValidationError` (400), :class:`engagekit.errors.NotFoundError` (404).
"""

from __future__ import annotations

from typing import Any

from liquid.exceptions import LiquidError

from engagekit import clock
from engagekit.clock import utc_iso
from engagekit.domain.profile import Profile, UserAlias
from engagekit.errors import NotFoundError, ValidationError
from engagekit.liquid import (
    Aborted,
    Rendered,
    RenderRequest,
    RenderResult,
    Retry,
    StoredTemplate,
    SyntaxProblem,
)
from engagekit.liquid.render import syntax_problem
from engagekit.profiles import identity as ids
from engagekit.profiles.resolve import find, load
from engagekit.templates.models import (
    ID_PATTERN,
    RESERVED_TEMPLATE_IDS,
    ContentBlockDefinition,
    CredentialDefinition,
    RenderBody,
    RenderResponse,
    TemplateDefinition,
)
from engagekit.templates.records import CredentialRecord, Kind, TemplateRecord
from engagekit.templates.service import TemplatesService


class TemplateSyntaxError(ValidationError):
    """The Liquid source does not parse. HTTP 400; ``problem`` has the 1-based line and column.

    Body: ``{"message": "Template syntax error at line L, column C: ...", "errors": [{"type":
    "syntax_error", "message", "line", "column", "template"}]}``.
    """

    def __init__(self, problem: SyntaxProblem) -> None:
        where = f" of {problem.template!r}" if problem.template else ""
        super().__init__(
            f"Template syntax error at line {problem.line}, column {problem.column}{where}: "
            f"{problem.message}",
            errors=[
                {
                    "type": "syntax_error",
                    "message": problem.message,
                    "line": problem.line,
                    "column": problem.column,
                    "template": problem.template,
                }
            ],
        )
        self.problem = problem


def check_id(value: str, what: str) -> str:
    """``value`` if it is a valid id/name (:data:`~engagekit.templates.models.ID_PATTERN`).

    Raises:
        ValidationError: otherwise (400).
    """
    if not ID_PATTERN.fullmatch(value):
        raise ValidationError(f"{what} must be 1 to 100 characters of letters, digits, '_', '-' and '.'")
    return value


def _check_syntax(svc: TemplatesService, kind: Kind, stored: StoredTemplate) -> None:
    """Parse ``stored`` as the renderer will (a template's parse stays cached for its version).

    Raises:
        TemplateSyntaxError: it does not parse, or uses an unknown filter.
    """
    try:
        svc.renderer.parse(stored if kind == "template" else stored.source)
    except LiquidError as err:
        raise TemplateSyntaxError(syntax_problem(err, stored.template_id, stored.source)) from err


def _definition(record: TemplateRecord, body_field: str) -> dict[str, Any]:
    return {
        "id": record.id,
        body_field: record.source,
        "description": record.description,
        "tags": list(record.tags),
        "version": record.version,
        "created_at": utc_iso(record.created_at),
        "updated_at": utc_iso(record.updated_at),
    }


def _put(
    svc: TemplatesService,
    kind: Kind,
    ident: str,
    source: str,
    description: str | None,
    tags: tuple[str, ...],
) -> tuple[TemplateRecord, int]:
    current = svc.templates.fresh_record(kind, ident)
    if current is not None and current.same_definition(source, description, tags):
        return current, 200
    now = clock.now()
    stored = StoredTemplate.of(ident, source)
    _check_syntax(svc, kind, stored)
    record = TemplateRecord(
        kind=kind,
        id=ident,
        source=source,
        version=stored.version,
        description=description,
        tags=tags,
        created_at=current.created_at if current is not None else now,
        updated_at=now,
    )
    svc.templates.put(record)
    return record, 200 if current is not None else 201


def put_template(
    svc: TemplatesService, template_id: str, body: TemplateDefinition
) -> tuple[dict[str, Any], int]:
    """``PUT /templates/{template_id}``: create or replace a template (idempotent).

    Returns ``({"message": "success", "id", "version", "updated_at"}, 201 | 200)``: 201 when created;
    a PUT equal to what is stored changes nothing (same ``version`` and ``updated_at``).

    Raises:
        ValidationError: bad or reserved id (``render``).
        TemplateSyntaxError: the source does not parse (400 with line and column).
    """
    check_id(template_id, "template_id")
    if template_id in RESERVED_TEMPLATE_IDS:
        raise ValidationError(f"template_id {template_id!r} is reserved")
    record, status = _put(svc, "template", template_id, body.template, body.description, tuple(body.tags))
    return {
        "message": "success",
        "id": record.id,
        "version": record.version,
        "updated_at": utc_iso(record.updated_at),
    }, status


def get_template(svc: TemplatesService, template_id: str) -> dict[str, Any]:
    """``GET /templates/{template_id}``: ``{"id", "template", "description", "tags", "version",
    "created_at", "updated_at"}`` (times ISO 8601 UTC).

    Raises:
        NotFoundError: no such template (404).
    """
    check_id(template_id, "template_id")
    record = svc.templates.fresh_record("template", template_id)
    if record is None:
        raise NotFoundError(f"no template with id {template_id!r}")
    return _definition(record, "template")


def put_content_block(
    svc: TemplatesService, name: str, body: ContentBlockDefinition
) -> tuple[dict[str, Any], int]:
    """``PUT /content_blocks/{name}``: create or replace a content block (idempotent).

    Every message that includes the block renders the new content from then on (braze-api.md §5.5).
    Returns ``({"message": "success", "id", "version", "updated_at"}, 201 | 200)``.

    Raises:
        ValidationError: bad name; content over 50 KB (braze-api.md §5.5).
        TemplateSyntaxError: the content does not parse (400 with line and column).
    """
    check_id(name, "content block name")
    record, status = _put(svc, "content_block", name, body.content, body.description, tuple(body.tags))
    return {
        "message": "success",
        "id": record.id,
        "version": record.version,
        "updated_at": utc_iso(record.updated_at),
    }, status


def get_content_block(svc: TemplatesService, name: str) -> dict[str, Any]:
    """``GET /content_blocks/{name}``: ``{"id", "content", "description", "tags", "version",
    "created_at", "updated_at"}``.

    Raises:
        NotFoundError: no such block (404).
    """
    check_id(name, "content block name")
    record = svc.templates.fresh_record("content_block", name)
    if record is None:
        raise NotFoundError(f"no content block named {name!r}")
    return _definition(record, "content")


def _credential_view(record: CredentialRecord) -> dict[str, Any]:
    return {
        "id": record.name,
        "username": record.username,
        "created_at": utc_iso(record.created_at),
        "updated_at": utc_iso(record.updated_at),
    }


def put_credential(
    svc: TemplatesService, name: str, body: CredentialDefinition
) -> tuple[dict[str, Any], int]:
    """``PUT /connected_content/credentials/{name}``: store a basic-auth credential for
    ``:basic_auth name`` (braze-api.md §5.4). The answer never contains the password.

    Returns ``({"message": "success", "id", "username", "created_at", "updated_at"}, 201 | 200)``.

    Raises:
        ValidationError: bad name.
    """
    check_id(name, "credential name")
    current = svc.credentials.fresh_record(name)
    if current is not None and (current.username, current.password) == (body.username, body.password):
        return {"message": "success", **_credential_view(current)}, 200
    now = clock.now()
    record = CredentialRecord(
        name=name,
        username=body.username,
        password=body.password,
        created_at=current.created_at if current is not None else now,
        updated_at=now,
    )
    svc.credentials.put(record)
    return {"message": "success", **_credential_view(record)}, 200 if current is not None else 201


def get_credential(svc: TemplatesService, name: str) -> dict[str, Any]:
    """``GET /connected_content/credentials/{name}``: ``{"id", "username", "created_at",
    "updated_at"}`` — never the password.

    Raises:
        NotFoundError: no such credential (404).
    """
    check_id(name, "credential name")
    record = svc.credentials.fresh_record(name)
    if record is None:
        raise NotFoundError(f"no Connected Content credential named {name!r}")
    return _credential_view(record)


def delete_credential(svc: TemplatesService, name: str) -> dict[str, Any]:
    """``DELETE /connected_content/credentials/{name}``: messages that use it abort from then on
    (braze-api.md §5.4 "deleted credential ⇒ call aborted"). Returns ``{"message": "success"}``.

    Raises:
        NotFoundError: no such credential (404).
    """
    check_id(name, "credential name")
    if not svc.credentials.delete(name):
        raise NotFoundError(f"no Connected Content credential named {name!r}")
    return {"message": "success"}


def load_profile(svc: TemplatesService, body: RenderBody) -> Profile | None:
    """The profile the render body names (``None`` when it names none). Two DynamoDB reads at most.

    Raises:
        NotFoundError: the identifier matches no user (404).
    """
    if body.external_id is not None:
        ident = ids.external_id(body.external_id)
    elif body.user_alias is not None:
        alias = body.user_alias
        ident = ids.alias(UserAlias(alias_name=alias.alias_name, alias_label=alias.alias_label))
    elif body.braze_id is not None:
        ident = ids.braze_id(body.braze_id)
    else:
        return None
    profile = find(load(svc.profiles, [ident]), ident)
    if profile is None:
        raise NotFoundError(f"no user with {ident.describe()}")
    return profile


def preview_response(result: RenderResult, record: TemplateRecord | None = None) -> dict[str, Any]:
    """The ``POST /templates/render`` answer for a render ``result`` (a :class:`RenderResponse`).

    Raises:
        TemplateSyntaxError: ``result`` is a :class:`~engagekit.liquid.SyntaxProblem` (400).
    """
    template_id, version = (record.id, record.version) if record is not None else (None, None)
    if isinstance(result, Rendered):
        response = RenderResponse(
            status="rendered",
            text=result.text,
            message_extras=result.message_extras,
            warnings=list(result.warnings),
            template_id=template_id,
            version=version,
        )
    elif isinstance(result, Aborted):
        response = RenderResponse(
            status="aborted",
            reason=result.reason,
            abort_kind=result.kind,
            template_id=template_id,
            version=version,
        )
    elif isinstance(result, Retry):  # previews never retry (braze-api.md §5.4); kept for exhaustiveness
        response = RenderResponse(
            status="aborted",
            reason=result.reason,
            abort_kind="connected_content",
            template_id=template_id,
            version=version,
        )
    else:
        raise TemplateSyntaxError(result)
    return response.model_dump(exclude_none=True)


def render(svc: TemplatesService, body: RenderBody) -> dict[str, Any]:
    """``POST /templates/render``: render a template for a user as a preview (never retried).

    Returns ``{"message": "success", "status": "rendered", "text", "message_extras", "warnings"}``
    or ``{"message": "success", "status": "aborted", "reason", "abort_kind"}`` (plus
    ``template_id``/``version`` for a stored template).

    Raises:
        TemplateSyntaxError: the template (or a content block it includes) does not parse (400,
            1-based line and column; ``template`` names the block).
        NotFoundError: unknown ``template_id`` or user (404).
        ValidationError: bad ``template_id``.
    """
    record: TemplateRecord | None = None
    template: StoredTemplate | str
    if body.template_id is not None:
        check_id(body.template_id, "template_id")
        record = svc.templates.fresh_record("template", body.template_id)
        if record is None:
            raise NotFoundError(f"no template with id {body.template_id!r}")
        template = record.stored()
    else:
        assert body.template is not None  # RenderBody guarantees one of the two
        template = body.template
    profile = load_profile(svc, body)
    request = RenderRequest(
        trigger_properties=body.trigger_properties,
        canvas_entry_properties=(
            body.canvas_entry_properties if body.canvas_entry_properties is not None else body.context
        ),
        context=body.context,
        event_properties=body.event_properties,
        preview=True,
    )
    result = svc.renderer.render(template, profile, request, strict=body.strict)
    return preview_response(result, record)
