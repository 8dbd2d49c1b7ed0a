"""Stored templates, content blocks and Connected Content credentials, and template previews.

The platform side of personalization (issue 5): DynamoDB repositories behind per-container caches
that implement the Liquid library's ports (:class:`engagekit.liquid.TemplateStore`,
:class:`engagekit.liquid.CredentialStore`), the use cases of the template API
(``PUT/GET /templates/{id}``, ``PUT/GET /content_blocks/{name}``,
``PUT/GET/DELETE /connected_content/credentials/{name}``, ``POST /templates/render``) and the
renderer channel senders build (:func:`renderer_from_settings`). See docs/liquid.md "API".
"""

from engagekit.templates.cache import CachedCredentials, CachedTemplates, TtlCache
from engagekit.templates.records import (
    CredentialRecord,
    CredentialRepository,
    InMemoryCredentialRepository,
    InMemoryTemplateRepository,
    TemplateRecord,
    TemplateRepository,
)
from engagekit.templates.service import (
    RendererSettings,
    TemplatesService,
    TemplatesSettings,
    build_service,
    make_renderer,
    renderer_from_settings,
    service_from_settings,
)
from engagekit.templates.use_cases import TemplateSyntaxError

__all__ = [
    "CachedCredentials",
    "CachedTemplates",
    "CredentialRecord",
    "CredentialRepository",
    "InMemoryCredentialRepository",
    "InMemoryTemplateRepository",
    "RendererSettings",
    "TemplateRecord",
    "TemplateRepository",
    "TemplateSyntaxError",
    "TemplatesService",
    "TemplatesSettings",
    "TtlCache",
    "build_service",
    "make_renderer",
    "renderer_from_settings",
    "service_from_settings",
]
