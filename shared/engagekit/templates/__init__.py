"""Stored templates, content blocks and Connected Content credentials, and template previews.

The platform side of personalization (issue 5): DynamoDB repositories behind per-container caches
that implement the Liquid library's ports (:class:`engagekit.liquid.TemplateStore`,
:class:`engagekit.liquid.CredentialStore`), the use cases of the template API
(``PUT/GET /templates/{id}``, ``PUT/GET /content_blocks/{name}``,
``PUT/GET/DELETE /connected_content/credentials/{name}``, ``POST /templates/render``) and the
renderer channel senders build (:func:`renderer_from_settings`). See docs/liquid.md "API".

Each public name is imported from its submodule on first use (:mod:`engagekit.lazy`): a channel
sender needs the renderer's stores, not the template API's use cases, at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engagekit import lazy

if TYPE_CHECKING:
    from engagekit.templates.cache import (
        CachedCredentials,
        CachedTemplates,
        TtlCache,
    )
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
    from engagekit.templates.use_cases import (
        TemplateSyntaxError,
    )

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

if not TYPE_CHECKING:  # type checkers see the imports above; at run time names load on first use
    __getattr__, __dir__ = lazy.exports(
        __name__,
        {
            "CachedCredentials": "engagekit.templates.cache",
            "CachedTemplates": "engagekit.templates.cache",
            "TtlCache": "engagekit.templates.cache",
            "CredentialRecord": "engagekit.templates.records",
            "CredentialRepository": "engagekit.templates.records",
            "InMemoryCredentialRepository": "engagekit.templates.records",
            "InMemoryTemplateRepository": "engagekit.templates.records",
            "TemplateRecord": "engagekit.templates.records",
            "TemplateRepository": "engagekit.templates.records",
            "RendererSettings": "engagekit.templates.service",
            "TemplatesService": "engagekit.templates.service",
            "TemplatesSettings": "engagekit.templates.service",
            "build_service": "engagekit.templates.service",
            "make_renderer": "engagekit.templates.service",
            "renderer_from_settings": "engagekit.templates.service",
            "service_from_settings": "engagekit.templates.service",
            "TemplateSyntaxError": "engagekit.templates.use_cases",
        },
    )
