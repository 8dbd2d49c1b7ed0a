"""Preview for template authors: the use case behind ``POST /templates/render`` and ``engagekit render``.

The HTTP route and the CLI command (issue 5 item 7) call :func:`render_preview` and return its
:class:`PreviewResult` as JSON. Previews render exactly like a send, except that Connected Content
``:retry`` is not applied (braze-api.md §5.4 "previews don't retry") and warnings are reported.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from pydantic import ConfigDict, Field

from engagekit.liquid.context import RenderRequest
from engagekit.liquid.render import Renderer
from engagekit.liquid.results import Aborted, Rendered, Retry, SyntaxProblem
from engagekit.model import Model

if TYPE_CHECKING:
    from engagekit.domain.profile import Profile

_default_renderer: Renderer | None = None


class PreviewResult(Model):
    """The outcome of a preview render, shaped for an API response."""

    model_config = ConfigDict(frozen=True)

    status: Literal["rendered", "aborted", "syntax_error"] = Field(
        description="rendered: `text` is the message; aborted: the message would not be sent; "
        "syntax_error: the template does not parse"
    )
    text: str | None = Field(default=None, description="The rendered message (status rendered)")
    reason: str | None = Field(default=None, description="Why the message would not be sent (status aborted)")
    abort_kind: str | None = Field(
        default=None, description="abort_message, connected_content, undefined_variable, ..."
    )
    message: str | None = Field(
        default=None, description="What is wrong with the template (status syntax_error)"
    )
    line: int | None = Field(default=None, description="1-based line of the syntax error")
    column: int | None = Field(default=None, description="1-based column of the syntax error")
    template: str | None = Field(
        default=None, description="Template or content block holding the syntax error"
    )
    message_extras: dict[str, str] = Field(default_factory=dict, description="message_extras key/values")
    warnings: list[str] = Field(default_factory=list, description="Failed Connected Content calls, ...")


def render_preview(
    source: str,
    profile: Profile | None,
    *,
    trigger_properties: dict[str, object] | None = None,
    context: dict[str, object] | None = None,
    event_properties: dict[str, object] | None = None,
    request: RenderRequest | None = None,
    renderer: Renderer | None = None,
    strict: bool = False,
) -> PreviewResult:
    """Render template ``source`` for ``profile`` as a preview; never raises.

    ``trigger_properties``/``context``/``event_properties`` are shortcuts for the matching
    :class:`RenderRequest` fields (``context`` fills both ``context`` and
    ``canvas_entry_properties``); an explicit ``request`` wins. ``renderer`` should be the
    process's renderer (with its template store and Connected Content client); by default a bare one
    with no content blocks and no HTTP client is used.

    Returns:
        :class:`PreviewResult` with status ``rendered`` (text), ``aborted`` (reason) or
        ``syntax_error`` (message, 1-based line and column).
    """
    global _default_renderer
    if renderer is None:
        if _default_renderer is None:
            _default_renderer = Renderer()
        renderer = _default_renderer
    if request is None:
        request = RenderRequest(
            trigger_properties=trigger_properties or {},
            canvas_entry_properties=context or {},
            context=context or {},
            event_properties=event_properties or {},
            preview=True,
        )
    elif not request.preview:
        request = replace(request, preview=True)
    result = renderer.render(source, profile, request, strict=strict)
    if isinstance(result, Rendered):
        return PreviewResult(
            status="rendered",
            text=result.text,
            message_extras=result.message_extras,
            warnings=list(result.warnings),
        )
    if isinstance(result, Aborted):
        return PreviewResult(status="aborted", reason=result.reason, abort_kind=result.kind)
    if isinstance(result, Retry):  # previews never retry; kept for exhaustiveness
        return PreviewResult(status="aborted", reason=result.reason, abort_kind="connected_content")
    assert isinstance(result, SyntaxProblem)
    return PreviewResult(
        status="syntax_error",
        message=result.message,
        line=result.line,
        column=result.column,
        template=result.template or None,
    )
