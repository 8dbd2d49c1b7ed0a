"""Personalization: Braze's Liquid dialect on python-liquid, safe by default (braze-api.md §5).

Public API::

    renderer = Renderer(store, connected=ConnectedContentClient(Urllib3Fetcher()))
    result = renderer.render(template, profile, RenderRequest(trigger_properties={...}))
    match result:
        case Rendered(text=text): ...
        case Aborted(reason=reason): ...        # do not send; record the reason
        case Retry(delay_seconds=delay): ...    # re-queue, render again with attempt + 1
        case SyntaxProblem(line=line, column=column): ...

    render_preview(source, profile, trigger_properties={...}, renderer=renderer) -> PreviewResult

See docs/liquid.md for what template authors can use.
"""

from engagekit.liquid.connected.client import ConnectedCall, ConnectedContentClient, HostHealth
from engagekit.liquid.connected.guard import (
    Resolver,
    StaticResolver,
    SystemResolver,
    UnsafeTestAllowlist,
    UrlGuard,
    refusal_reason,
)
from engagekit.liquid.connected.http import FakeFetcher, Fetcher, HttpRequest, HttpResponse
from engagekit.liquid.connected.stores import (
    BasicAuthCredential,
    CredentialStore,
    InMemoryCredentialStore,
    InMemoryResponseCache,
    ResponseCache,
)
from engagekit.liquid.context import CampaignInfo, CanvasInfo, RenderRequest
from engagekit.liquid.environment import BrazeEnvironment, RenderLimits
from engagekit.liquid.errors import (
    FetchError,
    FetchFailed,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    PersonalizationError,
)
from engagekit.liquid.preview import PreviewResult, render_preview
from engagekit.liquid.render import Renderer
from engagekit.liquid.results import Aborted, Rendered, RenderResult, Retry, SyntaxProblem
from engagekit.liquid.store import (
    InMemoryTemplateStore,
    ParsedTemplateCache,
    StoredTemplate,
    TemplateStore,
    TtlCachedTemplateStore,
)

__all__ = [
    "Aborted",
    "BasicAuthCredential",
    "BrazeEnvironment",
    "CampaignInfo",
    "CanvasInfo",
    "ConnectedCall",
    "ConnectedContentClient",
    "CredentialStore",
    "FakeFetcher",
    "FetchError",
    "FetchFailed",
    "FetchRefused",
    "FetchTimeout",
    "FetchTooLarge",
    "Fetcher",
    "HostHealth",
    "HttpRequest",
    "HttpResponse",
    "InMemoryCredentialStore",
    "InMemoryResponseCache",
    "InMemoryTemplateStore",
    "ParsedTemplateCache",
    "PersonalizationError",
    "PreviewResult",
    "RenderLimits",
    "RenderRequest",
    "RenderResult",
    "Rendered",
    "Renderer",
    "Resolver",
    "ResponseCache",
    "Retry",
    "StaticResolver",
    "StoredTemplate",
    "SyntaxProblem",
    "SystemResolver",
    "TemplateStore",
    "TtlCachedTemplateStore",
    "UnsafeTestAllowlist",
    "UrlGuard",
    "refusal_reason",
    "render_preview",
]
