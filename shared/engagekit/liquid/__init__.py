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

Importing this package is cheap: each public name is imported from its submodule on first use
(PEP 562 ``__getattr__``), so a function that needs only, say, the SSRF guard
(:mod:`engagekit.liquid.connected.guard`) does not load the renderer at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engagekit import lazy

if TYPE_CHECKING:
    from engagekit.liquid.connected.client import (
        ConnectedCall,
        ConnectedContentClient,
        HostHealth,
    )
    from engagekit.liquid.connected.guard import (
        Resolver,
        StaticResolver,
        SystemResolver,
        UnsafeTestAllowlist,
        UrlGuard,
        refusal_reason,
    )
    from engagekit.liquid.connected.http import (
        FakeFetcher,
        Fetcher,
        HttpRequest,
        HttpResponse,
    )
    from engagekit.liquid.connected.stores import (
        BasicAuthCredential,
        CredentialStore,
        InMemoryCredentialStore,
        InMemoryResponseCache,
        ResponseCache,
    )
    from engagekit.liquid.context import (
        CampaignInfo,
        CanvasInfo,
        RenderRequest,
    )
    from engagekit.liquid.environment import (
        BrazeEnvironment,
        RenderLimits,
    )
    from engagekit.liquid.errors import (
        FetchError,
        FetchFailed,
        FetchRefused,
        FetchTimeout,
        FetchTooLarge,
        PersonalizationError,
    )
    from engagekit.liquid.preview import (
        PreviewResult,
        render_preview,
    )
    from engagekit.liquid.render import (
        Renderer,
    )
    from engagekit.liquid.results import (
        Aborted,
        Rendered,
        RenderResult,
        Retry,
        SyntaxProblem,
    )
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

if not TYPE_CHECKING:  # type checkers see the imports above; at run time names load on first use
    __getattr__, __dir__ = lazy.exports(
        __name__,
        {
            "ConnectedCall": "engagekit.liquid.connected.client",
            "ConnectedContentClient": "engagekit.liquid.connected.client",
            "HostHealth": "engagekit.liquid.connected.client",
            "Resolver": "engagekit.liquid.connected.guard",
            "StaticResolver": "engagekit.liquid.connected.guard",
            "SystemResolver": "engagekit.liquid.connected.guard",
            "UnsafeTestAllowlist": "engagekit.liquid.connected.guard",
            "UrlGuard": "engagekit.liquid.connected.guard",
            "refusal_reason": "engagekit.liquid.connected.guard",
            "FakeFetcher": "engagekit.liquid.connected.http",
            "Fetcher": "engagekit.liquid.connected.http",
            "HttpRequest": "engagekit.liquid.connected.http",
            "HttpResponse": "engagekit.liquid.connected.http",
            "BasicAuthCredential": "engagekit.liquid.connected.stores",
            "CredentialStore": "engagekit.liquid.connected.stores",
            "InMemoryCredentialStore": "engagekit.liquid.connected.stores",
            "InMemoryResponseCache": "engagekit.liquid.connected.stores",
            "ResponseCache": "engagekit.liquid.connected.stores",
            "CampaignInfo": "engagekit.liquid.context",
            "CanvasInfo": "engagekit.liquid.context",
            "RenderRequest": "engagekit.liquid.context",
            "BrazeEnvironment": "engagekit.liquid.environment",
            "RenderLimits": "engagekit.liquid.environment",
            "FetchError": "engagekit.liquid.errors",
            "FetchFailed": "engagekit.liquid.errors",
            "FetchRefused": "engagekit.liquid.errors",
            "FetchTimeout": "engagekit.liquid.errors",
            "FetchTooLarge": "engagekit.liquid.errors",
            "PersonalizationError": "engagekit.liquid.errors",
            "PreviewResult": "engagekit.liquid.preview",
            "render_preview": "engagekit.liquid.preview",
            "Renderer": "engagekit.liquid.render",
            "Aborted": "engagekit.liquid.results",
            "Rendered": "engagekit.liquid.results",
            "RenderResult": "engagekit.liquid.results",
            "Retry": "engagekit.liquid.results",
            "SyntaxProblem": "engagekit.liquid.results",
            "InMemoryTemplateStore": "engagekit.liquid.store",
            "ParsedTemplateCache": "engagekit.liquid.store",
            "StoredTemplate": "engagekit.liquid.store",
            "TemplateStore": "engagekit.liquid.store",
            "TtlCachedTemplateStore": "engagekit.liquid.store",
        },
    )
