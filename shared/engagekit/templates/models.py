"""Request and response models of the template API (engagekit extension in Braze's style).

Definitions follow the platform's definition convention: ``PUT /<plural>/{id}`` takes the definition
and ``GET /<plural>/{id}`` returns ``{"id": ..., **definition, **server fields}``, so
``engagekit apply`` can diff a file against the platform. Request bodies accept the legacy
``api_key`` field (braze-api.md §0) and refuse other unknown fields (a typo is a 400, not a
silently ignored setting).

Limits (docs/liquid.md "API"): ids and names 1-100 characters of ``A-Z a-z 0-9 _ - .`` (content
block names ≤ 100 characters, braze-api.md §5.5; the character set is engagekit's so names are
safe in URL paths); template source ≤ :data:`MAX_TEMPLATE_BYTES`; content block source ≤ 50 KB
(braze-api.md §5.5); ``trigger_properties``/``context`` ≤ 50 KB each as JSON (braze-api.md §5.9).
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from engagekit.liquid.store import MAX_CONTENT_BLOCK_BYTES
from engagekit.model import Model

ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
"""Template ids, content block names and credential names (engagekit rule; module docstring)."""

RESERVED_TEMPLATE_IDS = frozenset({"render"})
"""``/templates/render`` is the preview route, so no template may be called ``render``."""

MAX_TEMPLATE_BYTES = 256 * 1024
"""UTF-8 bytes of a template's source (engagekit limit; keeps the item under DynamoDB's 400 KB)."""

MAX_PROPERTIES_BYTES = 50 * 1024
"""JSON bytes of ``trigger_properties``, ``context``, ... in a render request (braze-api.md §5.9)."""

MAX_TAGS = 50
MAX_TAG_CHARS = 100
MAX_DESCRIPTION_CHARS = 1000
MAX_CREDENTIAL_CHARS = 1024


class _Body(Model):
    model_config = ConfigDict(extra="forbid")
    api_key: str | None = Field(
        default=None, exclude=True, description="Legacy key field; prefer Authorization: Bearer"
    )


def _check_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if not tag or len(tag) > MAX_TAG_CHARS:
            raise ValueError(f"tags must be 1 to {MAX_TAG_CHARS} characters")
    return tags


class TemplateDefinition(_Body):
    """Body of ``PUT /templates/{template_id}``."""

    template: str = Field(description="The Liquid source (Braze dialect), at most 256 KB of UTF-8")
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    _tags = field_validator("tags")(_check_tags)

    @field_validator("template")
    @classmethod
    def _size(cls, value: str) -> str:
        if len(value.encode()) > MAX_TEMPLATE_BYTES:
            raise ValueError(f"template is over {MAX_TEMPLATE_BYTES} bytes")
        return value


class ContentBlockDefinition(_Body):
    """Body of ``PUT /content_blocks/{name}`` (fields named as Braze's content block API names them)."""

    content: str = Field(description="The Liquid source of the block, at most 50 KB of UTF-8 (§5.5)")
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)

    _tags = field_validator("tags")(_check_tags)

    @field_validator("content")
    @classmethod
    def _size(cls, value: str) -> str:
        if len(value.encode()) > MAX_CONTENT_BLOCK_BYTES:
            raise ValueError(f"content is over {MAX_CONTENT_BLOCK_BYTES} bytes (braze-api.md §5.5)")
        return value


class CredentialDefinition(_Body):
    """Body of ``PUT /connected_content/credentials/{name}``: HTTP basic auth (RFC 7617)."""

    username: str = Field(min_length=1, max_length=MAX_CREDENTIAL_CHARS, description="No ':' (RFC 7617)")
    password: str = Field(max_length=MAX_CREDENTIAL_CHARS, description="Stored; never returned")

    @field_validator("username")
    @classmethod
    def _no_colon(cls, value: str) -> str:
        if ":" in value:
            raise ValueError("a basic-auth username cannot contain ':' (RFC 7617)")
        return value


class UserAliasBody(Model):
    model_config = ConfigDict(extra="forbid")
    alias_name: str = Field(min_length=1, max_length=512)
    alias_label: str = Field(min_length=1, max_length=512)


def _json_size(value: dict[str, Any], name: str) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"), default=str).encode()) > MAX_PROPERTIES_BYTES:
        raise ValueError(f"{name} is over {MAX_PROPERTIES_BYTES} bytes (braze-api.md §5.9)")
    return value


class RenderBody(_Body):
    """Body of ``POST /templates/render``: exactly one of ``template``/``template_id``; at most one
    of ``external_id``/``user_alias``/``braze_id`` (none: every user attribute is unset)."""

    template: str | None = Field(default=None, description="Inline Liquid source to render")
    template_id: str | None = Field(default=None, description="A stored template to render")
    external_id: str | None = Field(default=None, min_length=1, max_length=512)
    user_alias: UserAliasBody | None = None
    braze_id: str | None = Field(default=None, min_length=1, max_length=512)
    trigger_properties: dict[str, Any] = Field(
        default_factory=dict, description="api_trigger_properties.${...}"
    )
    context: dict[str, Any] = Field(default_factory=dict, description="context.${...} (Canvas context)")
    canvas_entry_properties: dict[str, Any] | None = Field(
        default=None,
        description="canvas_entry_properties.${...}; defaults to `context` when not given",
    )
    event_properties: dict[str, Any] = Field(default_factory=dict, description="event_properties.${...}")
    strict: bool = Field(default=False, description="An undefined variable aborts instead of rendering ''")

    @field_validator("template")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) > MAX_TEMPLATE_BYTES:
            raise ValueError(f"template is over {MAX_TEMPLATE_BYTES} bytes")
        return value

    @field_validator("trigger_properties", "context", "event_properties", "canvas_entry_properties")
    @classmethod
    def _properties_size(cls, value: dict[str, Any] | None, info: Any) -> dict[str, Any] | None:
        return None if value is None else _json_size(value, info.field_name)

    @model_validator(mode="after")
    def _one_of_each(self) -> RenderBody:
        if (self.template is None) == (self.template_id is None):
            raise ValueError("give exactly one of 'template' (Liquid source) or 'template_id'")
        users = [n for n in ("external_id", "user_alias", "braze_id") if getattr(self, n) is not None]
        if len(users) > 1:
            raise ValueError(f"give at most one of external_id, user_alias, braze_id (got {users})")
        return self


class RenderResponse(Model):
    """Answer of ``POST /templates/render`` with status 200 (a syntax error is a 400)."""

    message: Literal["success"] = "success"
    status: Literal["rendered", "aborted"] = Field(
        description="rendered: `text` is the message; aborted: the message would not be sent"
    )
    text: str | None = Field(default=None, description="The rendered message (status rendered)")
    reason: str | None = Field(default=None, description="Why the message would not be sent (aborted)")
    abort_kind: str | None = Field(
        default=None, description="abort_message, connected_content, undefined_variable, ..."
    )
    template_id: str | None = Field(default=None, description="The stored template rendered, if any")
    version: str | None = Field(default=None, description="Its version (hash of the source)")
    message_extras: dict[str, str] = Field(default_factory=dict, description="message_extras key/values")
    warnings: list[str] = Field(default_factory=list, description="Failed Connected Content calls, ...")
