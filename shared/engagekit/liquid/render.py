"""The render boundary: template + profile + request in, a :data:`RenderResult` out, never an exception.

A :class:`Renderer` is the composition root of personalization: one per process (Lambda
container), holding the two environments (lax and strict), the parsed-template cache, the template
store and the Connected Content client. Every channel sender calls :meth:`Renderer.render` per
recipient; previews call :func:`engagekit.liquid.preview.render_preview`.

Templates are parsed once per process: stored ones by ``(template_id, version)``, inline sources by
their SHA-256; a new version replaces the old parse (braze-api.md §5.5 "updating a block updates all
messages"; ARCHITECTURE.md "Templates are parsed once and cached").
"""

from __future__ import annotations

import hashlib
import logging
from io import StringIO
from typing import TYPE_CHECKING

from liquid.context import RenderContext
from liquid.exceptions import (
    LiquidError,
    LiquidInterrupt,
    LiquidSyntaxError,
    ResourceLimitError,
    StopRender,
    TemplateNotFoundError,
    UndefinedError,
)
from liquid.token import TOKEN_TAG, Token

from engagekit.liquid.connected.client import ConnectedContentClient
from engagekit.liquid.context import BrazeNamespace, RenderRequest
from engagekit.liquid.environment import BrazeEnvironment, RenderLimits
from engagekit.liquid.errors import MessageAborted, RetryRequested
from engagekit.liquid.results import Aborted, Rendered, RenderResult, Retry, SyntaxProblem
from engagekit.liquid.state import STATE_KEY, RenderState
from engagekit.liquid.store import (
    ContentBlockLoader,
    InMemoryTemplateStore,
    ParsedTemplateCache,
    StoredTemplate,
    TemplateStore,
)

if TYPE_CHECKING:
    from liquid import BoundTemplate

    from engagekit.domain.profile import Profile

logger = logging.getLogger(__name__)


_NO_REQUEST = RenderRequest()


def position(err: LiquidError, source: str = "") -> tuple[int, int]:
    """1-based ``(line, column)`` of a python-liquid error.

    Errors without a position (such as a missing ``{% endif %}``) point just past the end of
    ``source``, where the missing text belongs.
    """
    token = err.token
    if token is None or token.start_index < 0 or not token.source:
        index = len(source)
    else:
        source = token.source
        index = min(token.start_index, len(source))
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column


def syntax_problem(err: LiquidError, template: str = "", source: str = "") -> SyntaxProblem:
    """A :class:`SyntaxProblem` for ``err`` (message without python-liquid's source excerpt)."""
    line, column = position(err, source)
    name = str(err.template_name) if err.template_name else template
    return SyntaxProblem(message=str(err.message), line=line, column=column, template=name)


def _render_top_level(bound: BoundTemplate, context: RenderContext, buffer: StringIO) -> None:
    """``bound.render_with_context(context, buffer)`` for a top-level render in ``Mode.STRICT``.

    The same node loop and error rules as python-liquid 2.3.6's ``BoundTemplate.render_with_context``
    (pinned in requirements.lock), without the ``{"partial": False}`` scope it pushes for
    ``include``/``render`` partials (removed from this dialect): every variable lookup then skips
    one namespace miss. ``tests/integration/templates/test_render_boundary.py`` pins the behaviour.
    """
    for node in bound.nodes:
        try:
            node.render(context, buffer)
        except LiquidInterrupt as err:  # break/continue outside a loop
            raise LiquidSyntaxError(f"unexpected '{err}'", token=node.token) from None
        except StopRender:
            break
        except LiquidError as err:
            if not err.token:
                err.token = node.token
            raise


class Renderer:
    """Braze Liquid renderer with per-process template caching (module docstring).

    Args:
        store: templates and content blocks (default: an empty in-memory store).
        connected: the Connected Content client (default: none — ``connected_content`` inserts
            nothing and records a warning).
        limits: python-liquid resource limits (default :class:`RenderLimits`).
        cache: the parsed-template cache (default: a new one; share one per process).
    """

    def __init__(
        self,
        store: TemplateStore | None = None,
        *,
        connected: ConnectedContentClient | None = None,
        limits: RenderLimits | None = None,
        cache: ParsedTemplateCache | None = None,
    ) -> None:
        self.store: TemplateStore = store if store is not None else InMemoryTemplateStore()
        self.connected = connected
        self.cache = cache if cache is not None else ParsedTemplateCache()
        loader = ContentBlockLoader(self.store, self.cache)
        self.lax = BrazeEnvironment(loader=loader, limits=limits)
        self.strict = BrazeEnvironment(loader=loader, limits=limits, strict_variables=True)

    def environment(self, *, strict: bool = False) -> BrazeEnvironment:
        return self.strict if strict else self.lax

    def parse(self, template: StoredTemplate | str, *, strict: bool = False) -> BoundTemplate:
        """The cached parse of ``template`` (a stored template or inline source).

        Raises:
            liquid.exceptions.LiquidSyntaxError: the template does not parse (not cached).
        """
        env = self.strict if strict else self.lax
        key: tuple[str, bool, str]
        if isinstance(template, StoredTemplate):
            key, version, source, name = (
                ("template", strict, template.template_id),
                template.version,
                template.source,
                template.template_id,
            )
        else:
            digest = hashlib.sha256(template.encode()).hexdigest()
            key, version, source, name = ("source", strict, digest), "", template, ""
        return self.cache.get_or_parse(key, version, lambda: self._parse(env, source, name))

    @staticmethod
    def _parse(env: BrazeEnvironment, source: str, name: str) -> BoundTemplate:
        template = env.from_string(source, name=name)
        analysis = template.analyze(include_partials=False)
        for filter_name, spans in analysis.filters.items():
            if filter_name not in env.filters:
                raise LiquidSyntaxError(
                    f"unknown filter '{filter_name}'",
                    token=Token(TOKEN_TAG, filter_name, spans[0].index, source),
                )
        return template

    def render(
        self,
        template: StoredTemplate | str,
        profile: Profile | None,
        request: RenderRequest | None = None,
        *,
        strict: bool = False,
    ) -> RenderResult:
        """Render ``template`` for ``profile`` (``None``: every user attribute is unset).

        Returns:
            :class:`Rendered` (text, message extras, warnings), :class:`Aborted` (``abort_message``,
            failed ``:retry`` Connected Content, undefined variable with ``strict``, resource limit,
            other render error), :class:`Retry` (Connected Content ``:retry``) or
            :class:`SyntaxProblem` (with 1-based line and column). Never raises.
        """
        template_name, source = (
            (template.template_id, template.source)
            if isinstance(template, StoredTemplate)
            else ("", template)
        )
        try:
            bound = self.parse(template, strict=strict)
        except LiquidError as err:
            return syntax_problem(err, template_name, source)
        request = request if request is not None else _NO_REQUEST
        state = RenderState(request=request, connected=self.connected)
        context = RenderContext(bound, globals=BrazeNamespace(profile, request))
        context.tag_namespace[STATE_KEY] = state
        buffer = StringIO()  # loop bodies check its size per iteration (engagekit.liquid.tags)
        try:
            _render_top_level(bound, context, buffer)
        except MessageAborted as signal:
            return Aborted(reason=signal.reason, kind=signal.kind)
        except RetryRequested as signal:
            return Retry(reason=signal.reason, delay_seconds=signal.delay_seconds)
        except UndefinedError as err:
            return Aborted(reason=f"undefined variable: {err.message}", kind="undefined_variable")
        except ResourceLimitError as err:
            return Aborted(reason=str(err.message), kind="resource_limit")
        except TemplateNotFoundError as err:
            return Aborted(reason=str(err.message), kind="render_error")
        except LiquidSyntaxError as err:
            return syntax_problem(err, template_name)
        except LiquidError as err:
            return Aborted(reason=str(err.message), kind="render_error")
        except Exception as err:  # the render boundary: nothing escapes (module docstring)
            logger.exception("unexpected error rendering template %r", template_name)
            return Aborted(reason=f"internal error: {type(err).__name__}", kind="render_error")
        text = buffer.getvalue()
        limit = bound.env.output_stream_limit
        if limit is not None and len(text) * 4 > limit and len(text.encode()) > limit:
            return Aborted(reason="output stream limit reached", kind="resource_limit")
        return Rendered(text=text, message_extras=dict(state.extras), warnings=tuple(state.warnings))
