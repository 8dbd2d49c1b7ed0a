"""Composition roots: the template API's service, and the renderer every channel sender uses.

- :func:`renderer_from_settings` — for senders (and anything that renders at send time): a
  :class:`~engagekit.liquid.Renderer` over the ``templates`` table and the Connected Content
  credentials, both behind per-container caches of ``TEMPLATE_CACHE_SECONDS`` (default 30 s), with
  the real HTTP fetcher and its SSRF guard. Build one per container and keep it.
- :func:`service_from_settings` — for the ``templates_api`` function: the same pieces plus the
  profile store, with records read fresh on every request (:data:`API_CACHE_SECONDS`) so a template
  author always previews what was last saved, whichever container served the save. Parsed templates
  are still cached per container by version.
"""

from __future__ import annotations

from dataclasses import dataclass

from engagekit.config import FunctionSettings
from engagekit.liquid import ConnectedContentClient, Fetcher, Renderer
from engagekit.profiles.store import DynamoProfileStore, ProfileStore
from engagekit.templates.cache import DEFAULT_TTL_SECONDS, CachedCredentials, CachedTemplates
from engagekit.templates.records import CredentialRepository, TemplateRepository

API_CACHE_SECONDS = 0.0
"""Record cache of the template API: none (previews and GETs read the table; parses stay cached)."""


class RendererSettings(FunctionSettings):
    """Environment of a function that renders stored templates (``TEMPLATES_TABLE``, ...)."""

    templates_table: str
    connected_content_credentials_table: str
    template_cache_seconds: float = DEFAULT_TTL_SECONDS


class TemplatesSettings(RendererSettings):
    """Environment of the ``templates_api`` function: the renderer's tables plus the profile store's."""

    profiles_table: str
    identities_table: str


@dataclass
class TemplatesService:
    """What the template API's use cases need, built once per container."""

    templates: CachedTemplates
    credentials: CachedCredentials
    profiles: ProfileStore
    renderer: Renderer


def make_renderer(
    templates: CachedTemplates, credentials: CachedCredentials, fetcher: Fetcher | None = None
) -> Renderer:
    """A renderer reading ``templates`` (and their content blocks) with Connected Content over
    ``fetcher`` (default: the urllib3 fetcher with the SSRF guard, braze-api.md §5.4) using
    ``credentials`` for ``:basic_auth``."""
    if fetcher is None:
        from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher

        fetcher = Urllib3Fetcher()
    return Renderer(templates, connected=ConnectedContentClient(fetcher, credentials=credentials))


def build_service(
    templates: TemplateRepository,
    credentials: CredentialRepository,
    profiles: ProfileStore,
    *,
    fetcher: Fetcher | None = None,
    cache_seconds: float = API_CACHE_SECONDS,
) -> TemplatesService:
    """A :class:`TemplatesService` over the given ports (tests pass fakes and a FakeFetcher)."""
    cached_templates = CachedTemplates(templates, cache_seconds)
    cached_credentials = CachedCredentials(credentials, cache_seconds)
    renderer = make_renderer(cached_templates, cached_credentials, fetcher)
    return TemplatesService(cached_templates, cached_credentials, profiles, renderer)


def service_from_settings(settings: TemplatesSettings) -> TemplatesService:
    """The DynamoDB-backed service of the ``templates_api`` function (one per container)."""
    from engagekit.templates.dynamo import DynamoCredentialRepository, DynamoTemplateRepository

    return build_service(
        DynamoTemplateRepository(settings.templates_table),
        DynamoCredentialRepository(settings.connected_content_credentials_table),
        DynamoProfileStore(settings.profiles_table, settings.identities_table),
    )


def renderer_from_settings(settings: RendererSettings, fetcher: Fetcher | None = None) -> Renderer:
    """The send-time renderer of a channel sender (module docstring); keep one per container."""
    from engagekit.templates.dynamo import DynamoCredentialRepository, DynamoTemplateRepository

    ttl = settings.template_cache_seconds
    templates = CachedTemplates(DynamoTemplateRepository(settings.templates_table), ttl)
    credentials = CachedCredentials(
        DynamoCredentialRepository(settings.connected_content_credentials_table), ttl
    )
    return make_renderer(templates, credentials, fetcher)
