"""Braze-only tags (braze-api.md §5.3, §5.4, §5.5, §5.8) as python-liquid ``Tag`` classes.

- ``{% abort_message %}``, ``{% abort_message() %}``, ``{% abort_message('reason') %}`` — stop
  the send; the reason must be a plain quoted string.
- ``{% connected_content URL [:method get|post] [:headers {json}] [:body text] [:content_type t]
  [:basic_auth name] [:save var] [:cache_max_age s] [:no_cache] [:retry] %}`` — URL, headers, body
  and content type may contain Liquid; see :mod:`engagekit.liquid.connected.client`.
- ``{{content_blocks.${name}}}`` — lexed into ``{% content_blocks name %}``; renders the stored
  block in place, in the same scope; a block inside a block renders, a third level renders nothing.
- ``for`` and ``tablerow`` — python-liquid's, with the output size checked after each iteration.
- ``{% message_extras :key k :value v %}`` — adds ``k: v`` (Liquid allowed in both) to the send's
  ``message_extras``; the first value for a key wins; pairs past 1 KB of JSON are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from io import StringIO
from typing import TYPE_CHECKING, TextIO

from liquid.ast import BlockNode, Node
from liquid.builtin.content import ContentNode
from liquid.builtin.tags.for_tag import ForNode, ForTag
from liquid.builtin.tags.tablerow_tag import TablerowNode, TablerowTag
from liquid.exceptions import LiquidSyntaxError, OutputStreamLimitError, TemplateNotFoundError
from liquid.tag import Tag
from liquid.token import TOKEN_EXPRESSION, Token

from engagekit.liquid.connected.client import ConnectedCall
from engagekit.liquid.errors import MessageAborted
from engagekit.liquid.state import MAX_MESSAGE_EXTRAS_BYTES, get_state, warn
from engagekit.liquid.syntax import CONTENT_BLOCK_TAG

if TYPE_CHECKING:
    from liquid import BoundTemplate
    from liquid.builtin.expressions import LoopExpression
    from liquid.context import RenderContext
    from liquid.stream import TokenStream

MAX_CONTENT_BLOCK_DEPTH = 2
"""A message may include a block that includes a block; deeper ones render nothing (§5.5)."""

DEFAULT_SAVE_NAME = "connected"
"""Where a JSON response goes without ``:save`` (braze-api.md §5.4)."""

_BLOCK_DEPTH_KEY = "engagekit.content_block_depth"


def _take_expression(stream: TokenStream) -> tuple[Token, Token | None]:
    """The tag token and its expression token (or ``None``), leaving the stream where the
    parser's own ``next()`` will step past the whole tag."""
    tag = stream.current
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return tag, stream.current
    return tag, None


def _render_nodes(template: BoundTemplate, context: RenderContext) -> str:
    nodes = template.nodes
    if len(nodes) == 1 and isinstance(nodes[0], ContentNode):
        return nodes[0].text  # no Liquid in this argument
    buffer = StringIO()
    for node in nodes:
        node.render(context, buffer)
    return buffer.getvalue()


_MASK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
"""The specification of :func:`_mask` (``re.sub`` with it is quadratic on ``"{{" * n``)."""
_MASK_OPEN = re.compile(r"\{[{%]")


def _mask(text: str, replace: Callable[[str], str]) -> str:
    """``_MASK.sub(lambda m: replace(m.group(0)), text)`` in linear time.

    Each ``{{``/``{%`` is closed by the first ``}}``/``%}`` after it; once a kind has no closer left,
    later openers of that kind are skipped without searching again.
    """
    pieces: list[str] = []
    done = index = 0
    unclosed: set[str] = set()
    while (found := _MASK_OPEN.search(text, index)) is not None:
        start = found.start()
        closer = "}}" if text[start + 1] == "{" else "%}"
        close = -1 if closer in unclosed else text.find(closer, start + 2)
        if close < 0:
            unclosed.add(closer)
            index = start + 1
            continue
        pieces += (text[done:start], replace(text[start : close + 2]))
        done = index = close + 2
    pieces.append(text[done:])
    return "".join(pieces)


def _split_options(text: str, names: frozenset[str]) -> tuple[str, list[tuple[str, str, int]]]:
    """Split ``head :opt value :opt2 value2`` (``:opt`` not inside Liquid) into the head and a list
    of ``(option, value, offset)``."""
    masked = _mask(text, lambda part: "x" * len(part))
    pattern = re.compile(r"(?:^|(?<=\s)):(" + "|".join(sorted(names)) + r")(?=\s|$)")
    matches = list(pattern.finditer(masked))
    head = text[: matches[0].start()] if matches else text
    options = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        options.append((match.group(1), text[match.end() : end].strip(), match.start()))
    return head.strip(), options


# -- output limit per loop iteration ----------------------------------------------------------------


def check_output_size(context: RenderContext, buffer: TextIO) -> None:
    """Raise ``OutputStreamLimitError`` when ``buffer`` holds more characters than the output limit.

    The render boundary writes into a plain ``StringIO`` (fast C writes) and checks the exact UTF-8
    size at the end; loop bodies and content blocks call this after each iteration so a loop can not
    grow the output far past the limit before that (characters never exceed bytes).
    """
    limit = context.env.output_stream_limit
    if limit is not None and isinstance(buffer, StringIO) and buffer.tell() > limit:
        raise OutputStreamLimitError("output stream limit reached", token=None)


class OutputCheckedBlock(BlockNode):
    """A loop body that checks the output size after each iteration."""

    __slots__ = ()

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        written = BlockNode.render_to_output(self, context, buffer)
        limit = context.env.output_stream_limit
        if limit is not None and buffer.tell() > limit and isinstance(buffer, StringIO):
            raise OutputStreamLimitError("output stream limit reached", token=None)
        return written


def _checked(block: BlockNode) -> BlockNode:
    return OutputCheckedBlock(block.token, block.nodes)


class CheckedForNode(ForNode):
    __slots__ = ()

    def __init__(
        self, token: Token, expression: LoopExpression, block: BlockNode, default: BlockNode | None = None
    ) -> None:
        super().__init__(token, expression, _checked(block), default)


class CheckedForTag(ForTag):
    """python-liquid's ``for`` with a per-iteration output size check."""

    node_class = CheckedForNode


class CheckedTablerowNode(TablerowNode):
    __slots__ = ()

    def __init__(self, token: Token, expression: LoopExpression, block: BlockNode) -> None:
        super().__init__(token, expression, _checked(block))


class CheckedTablerowTag(TablerowTag):
    """python-liquid's ``tablerow`` with a per-iteration output size check."""

    node_class = CheckedTablerowNode


# -- abort_message ----------------------------------------------------------------------------------

_ABORT_ARGS = re.compile(r"""(?:\(\s*(?:(?P<q>['"])(?P<reason>.*?)(?P=q))?\s*\))?""", re.DOTALL)
"""The specification of :func:`_abort_args`."""
DEFAULT_ABORT_REASON = "{% abort_message %} called"


class AbortMessageNode(Node):
    __slots__ = ("reason",)

    def __init__(self, token: Token, reason: str | None) -> None:
        super().__init__(token)
        self.reason = reason

    def __str__(self) -> str:
        return f"{{% abort_message({self.reason!r}) %}}" if self.reason else "{% abort_message() %}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        raise MessageAborted(self.reason or DEFAULT_ABORT_REASON, kind="abort_message")


class AbortMessageTag(Tag):
    """``abort_message`` (braze-api.md §5.3)."""

    name = "abort_message"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag, expr = _take_expression(stream)
        text = expr.value.strip() if expr else ""
        ok, reason = _abort_args(text)
        if not ok:
            raise LiquidSyntaxError(
                "abort_message takes one plain quoted string: {% abort_message('reason') %}",
                token=expr or tag,
            )
        return AbortMessageNode(tag, reason)


def _abort_args(text: str) -> tuple[bool, str | None]:
    """``(matched, reason)`` of ``_ABORT_ARGS.fullmatch(text)`` in linear time (the regex's two
    ``\\s*`` around an optional group backtrack quadratically on long whitespace)."""
    if not text:
        return True, None
    if not (text.startswith("(") and text.endswith(")")) or len(text) < 2:
        return False, None
    inner = text[1:-1].strip()
    if not inner:
        return True, None
    if len(inner) >= 2 and inner[0] in "'\"" and inner[-1] == inner[0]:
        return True, inner[1:-1]
    return False, None


# -- connected_content ------------------------------------------------------------------------------

_CC_VALUE_OPTIONS = frozenset(
    {"method", "headers", "body", "content_type", "basic_auth", "save", "cache_max_age", "cache"}
)
_CC_FLAGS = frozenset({"no_cache", "retry"})
_IDENTIFIER = re.compile(r"[A-Za-z_][\w-]*")


class ConnectedContentNode(Node):
    __slots__ = (
        "basic_auth",
        "body",
        "cache_max_age",
        "content_type",
        "headers",
        "method",
        "no_cache",
        "retry",
        "save",
        "url",
    )

    def __init__(
        self,
        token: Token,
        *,
        url: BoundTemplate,
        method: str,
        headers: BoundTemplate | None,
        body: BoundTemplate | None,
        content_type: BoundTemplate | None,
        basic_auth: str | None,
        save: str | None,
        cache_max_age: int | None,
        no_cache: bool,
        retry: bool,
    ) -> None:
        super().__init__(token)
        self.blank = False
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.content_type = content_type
        self.basic_auth = basic_auth
        self.save = save
        self.cache_max_age = cache_max_age
        self.no_cache = no_cache
        self.retry = retry

    def __str__(self) -> str:
        return f"{{% connected_content {self.url} :method {self.method} %}}"

    def _headers(self, context: RenderContext) -> dict[str, str]:
        if self.headers is None:
            return {}
        text = _render_nodes(self.headers, context)
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, Mapping):
            raise MessageAborted(
                f"connected_content: :headers is not a JSON object: {text[:200]!r}", kind="connected_content"
            )
        return {str(k): str(v) for k, v in data.items()}

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        state = get_state(context)
        if state is None or state.connected is None:
            warn(context, "connected_content: no HTTP client configured, nothing inserted")
            return 0
        call = ConnectedCall(
            url=_render_nodes(self.url, context).strip(),
            method=self.method,
            headers=self._headers(context) if self.headers is not None else {},
            body=_render_nodes(self.body, context) if self.body is not None else None,
            content_type=(_render_nodes(self.content_type, context).strip() or None)
            if self.content_type is not None
            else None,
            basic_auth=self.basic_auth,
            cache_max_age=self.cache_max_age,
            no_cache=self.no_cache,
            retry=self.retry,
        )
        outcome = state.connected.call(call, attempt=state.request.attempt, preview=state.request.preview)
        if outcome.warning:
            state.warnings.append(outcome.warning)
        if outcome.data is not None:
            context.assign(self.save or DEFAULT_SAVE_NAME, outcome.data)
        return buffer.write(outcome.text) if outcome.text else 0


class ConnectedContentTag(Tag):
    """``connected_content`` (braze-api.md §5.4)."""

    name = "connected_content"
    block = False

    def _template(self, text: str, token: Token) -> BoundTemplate:
        try:
            return self.env.from_string(text)
        except LiquidSyntaxError as err:
            raise LiquidSyntaxError(f"connected_content: {err.message}", token=token) from err

    def parse(self, stream: TokenStream) -> Node:
        tag, expr = _take_expression(stream)
        if expr is None:
            raise LiquidSyntaxError("connected_content needs a URL", token=tag)
        url, options = _split_options(expr.value, _CC_VALUE_OPTIONS | _CC_FLAGS)
        if not url or re.search(r"\s", _mask(url, lambda part: "x")):
            raise LiquidSyntaxError(
                f"connected_content: expected a URL and :options, found {url!r}", token=expr
            )
        values: dict[str, str] = {}
        for name, value, _ in options:
            if name in _CC_FLAGS:
                if value:
                    raise LiquidSyntaxError(f"connected_content: :{name} takes no value", token=expr)
                values[name] = ""
            else:
                if not value:
                    raise LiquidSyntaxError(f"connected_content: :{name} needs a value", token=expr)
                values["cache_max_age" if name == "cache" else name] = value
        method = values.get("method", "get").lower()
        if method not in ("get", "post"):
            raise LiquidSyntaxError(
                f"connected_content: :method must be get or post, not {method!r}", token=expr
            )
        save = values.get("save")
        if save is not None and not _IDENTIFIER.fullmatch(save):
            raise LiquidSyntaxError(
                f"connected_content: :save needs a variable name, not {save!r}", token=expr
            )
        cache_max_age = values.get("cache_max_age")
        if cache_max_age is not None and not cache_max_age.isdigit():
            raise LiquidSyntaxError("connected_content: :cache_max_age needs seconds", token=expr)
        headers = values.get("headers")
        if headers is not None and "{{" not in headers and "{%" not in headers:
            try:
                parsed = json.loads(headers)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise LiquidSyntaxError("connected_content: :headers must be a JSON object", token=expr)
        return ConnectedContentNode(
            tag,
            url=self._template(url, expr),
            method=method.upper(),
            headers=self._template(headers, expr) if headers is not None else None,
            body=self._template(values["body"], expr) if "body" in values else None,
            content_type=self._template(values["content_type"], expr) if "content_type" in values else None,
            basic_auth=values.get("basic_auth"),
            save=save,
            cache_max_age=int(cache_max_age) if cache_max_age is not None else None,
            no_cache="no_cache" in values,
            retry="retry" in values,
        )


# -- content blocks ---------------------------------------------------------------------------------


class ContentBlockNode(Node):
    __slots__ = ("name",)

    def __init__(self, token: Token, name: str) -> None:
        super().__init__(token)
        self.blank = False
        self.name = name

    def __str__(self) -> str:
        return f"{{{{content_blocks.${{{self.name}}}}}}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        depth = int(context.tag_namespace.get(_BLOCK_DEPTH_KEY, 0))
        if depth >= MAX_CONTENT_BLOCK_DEPTH:
            warn(context, f"content block {self.name!r} is nested too deep and renders nothing")
            return 0
        try:
            block = context.env.get_template(self.name)
        except TemplateNotFoundError:
            warn(context, f"content block {self.name!r} does not exist")
            return 0
        context.tag_namespace[_BLOCK_DEPTH_KEY] = depth + 1
        try:
            written = 0
            for node in block.nodes:
                written += node.render(context, buffer) or 0
        finally:
            context.tag_namespace[_BLOCK_DEPTH_KEY] = depth
        check_output_size(context, buffer)
        return written


class ContentBlocksTag(Tag):
    """``{{content_blocks.${name}}}`` (braze-api.md §5.5), produced by :mod:`engagekit.liquid.syntax`."""

    name = CONTENT_BLOCK_TAG
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag, expr = _take_expression(stream)
        name = expr.value.strip() if expr else ""
        if not name:
            raise LiquidSyntaxError("content_blocks needs a block name", token=tag)
        return ContentBlockNode(tag, name)


# -- message_extras ---------------------------------------------------------------------------------


class MessageExtrasNode(Node):
    __slots__ = ("key", "value")

    def __init__(self, token: Token, key: BoundTemplate, value: BoundTemplate) -> None:
        super().__init__(token)
        self.key = key
        self.value = value

    def __str__(self) -> str:
        return f"{{% message_extras :key {self.key} :value {self.value} %}}"

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        state = get_state(context)
        if state is None:
            return 0
        key = _render_nodes(self.key, context).strip()
        if not key or key in state.extras:
            return 0
        value = _render_nodes(self.value, context).strip()
        candidate = {**state.extras, key: value}
        if len(json.dumps(candidate, ensure_ascii=False).encode()) > MAX_MESSAGE_EXTRAS_BYTES:
            state.warnings.append(f"message_extras: {key!r} dropped, extras are over 1 KB")
            return 0
        state.extras[key] = value
        return 0


class MessageExtrasTag(Tag):
    """``message_extras`` (braze-api.md §5.8)."""

    name = "message_extras"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        tag, expr = _take_expression(stream)
        head, options = _split_options(expr.value if expr else "", frozenset({"key", "value"}))
        values = {name: value for name, value, _ in options}
        if head or "key" not in values or "value" not in values:
            raise LiquidSyntaxError("message_extras expects :key name :value value", token=expr or tag)
        try:
            key = self.env.from_string(values["key"])
            value = self.env.from_string(values["value"])
        except LiquidSyntaxError as err:
            raise LiquidSyntaxError(f"message_extras: {err.message}", token=expr or tag) from err
        return MessageExtrasNode(tag, key, value)


BRAZE_TAGS: tuple[type[Tag], ...] = (
    AbortMessageTag,
    ConnectedContentTag,
    ContentBlocksTag,
    MessageExtrasTag,
    CheckedForTag,
    CheckedTablerowTag,
)
