"""Braze's attribute syntax on top of python-liquid's lexer (braze-api.md §5.1).

Braze writes attributes as ``{{${first_name}}}`` and ``{{custom_attribute.${zip code}}}``, and lets
a tag expression wrap values in output braces: ``{% if {{custom_attribute.${x}}} == 1 %}`` is
``{% if custom_attribute.${x} == 1 %}``. Standard Liquid can not lex either (``}}}`` ends the output
statement one brace early). This module is a drop-in tokenizer for
:meth:`liquid.Environment.tokenizer`: it lexes with python-liquid's own lexer loop and rules, with
an output rule that accepts ``${...}`` and one level of nested ``{{...}}``, then rewrites every
expression token to standard Liquid before python-liquid's tag parsers see it:

=================================  ====================================
Braze                              standard Liquid
=================================  ====================================
``${first_name}``                  ``first_name``
``custom_attribute.${zip code}``   ``custom_attribute["zip code"]``
``custom_attribute.${a.b}``        ``custom_attribute["a.b"]`` (the namespace resolves dotted keys)
``{{ x }}`` inside a tag           ``x``
``{{content_blocks.${name}}}``     ``{% content_blocks name %}`` (a tag, so the block renders in place)
=================================  ====================================

Expression tokens keep their start index in the original source, so syntax errors still point at
the right line. Tags whose arguments are Liquid *templates* (``connected_content``,
``message_extras``) keep their ``{{ }}``; ``${...}`` is rewritten inside them too.

This relies on ``liquid.lex._tokenize_template`` from python-liquid 2.3.6 (pinned in
requirements.lock); ``tests/unit/liquid`` pins the behaviour.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import Final, cast

from liquid.exceptions import LiquidSyntaxError
from liquid.lex import _tokenize_template
from liquid.token import TOKEN_CONTENT, TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG, Token

CONTENT_BLOCK_TAG: Final = "content_blocks"
"""The tag an output statement ``{{content_blocks.${name}}}`` is turned into."""

TEMPLATE_ARGUMENT_TAGS: Final = frozenset({"connected_content", "message_extras"})
"""Tags whose arguments are Liquid templates: ``{{ }}`` is kept, only ``${...}`` is rewritten."""

_VERBATIM_TAGS: Final = frozenset({"#", "comment", "raw", "doc", "abort_message", CONTENT_BLOCK_TAG})

_ATTR = r"\$\{[^}]*\}"
_NESTED_OUTPUT = r"\{\{(?>" + _ATTR + r"|(?!\}\})[\s\S])*\}\}"

_RAW = r"\{%-?\s*raw\s*(?P<rsr>-?)%\}(?P<raw>.*?)\{%-?\s*endraw\s*(?P<rsr_e>-?)%\}"
_DOC = r"\{%-?\s*doc\s*(?P<lsd>-?)%\}(?P<doc>.*?)\{%-?\s*enddoc\s*(?P<rsd>-?)%\}"
_OUTPUT = (
    r"\{\{-?\s*"
    rf"(?P<stmt>(?>{_ATTR}|{_NESTED_OUTPUT}|(?!-?\}}\}})[\s\S])*(?<!\s))\s*"
    r"(?P<rss>-?)\}\}"
)
_TAG = r"\{%-?\s*(?P<name>#|\w+)\s*(?P<expr>(?:(?!-?%\})[\s\S])*(?<!\s))\s*(?P<rst>-?)%\}"
_CONTENT = r".+?(?=((\{%|\{\{)(?P<rstrip>-?))|$)"

RULES: Final = re.compile(  # the specification _Lexer implements; never run on user input
    "|".join(
        f"(?P<{name}>{pattern})"
        for name, pattern in (
            ("RAW", _RAW),
            ("DOC", _DOC),
            (TOKEN_OUTPUT, _OUTPUT),
            ("TAG", _TAG),
            (TOKEN_CONTENT, _CONTENT),
        )
    ),
    re.DOTALL,
)

_SCAN = re.compile(
    r"""(?P<quoted>'[^']*'|"[^"]*")"""
    r"|(?P<dot>\.)?\$\{(?P<name>[^}]*)\}"
    r"|(?P<open>\{\{-?)"
    r"|(?P<close>-?\}\})"
)
MAX_TEMPLATE_BYTES: Final = 256 * 1024
"""UTF-8 bytes of template source :func:`tokenize` accepts (engagekit's cap; braze-api.md §5.9 publishes
none for message bodies, only 50 KB per Content Block, §5.5). Larger sources are a syntax error
before any lexing, so a template can never cost more than a bounded, linear amount of lexing work."""


class _Occurrences:
    """Sorted start indexes of a pattern's matches in ``source``; ``next(i)`` is the first >= i.

    Built once with one C-speed ``finditer`` pass (O(n)); each lookup is a bisection (O(log n)), so a
    scanner that asks "is there a closing delimiter after i?" at every position stays O(n log n).
    """

    __slots__ = ("_ends", "_pattern", "_source", "_starts")

    def __init__(self, pattern: re.Pattern[str], source: str) -> None:
        self._pattern = pattern
        self._source = source
        self._starts: list[int] | None = None
        self._ends: list[int] = []

    def _load(self) -> list[int]:
        if self._starts is None:
            self._starts = []
            for match in self._pattern.finditer(self._source):
                self._starts.append(match.start())
                self._ends.append(match.end())
        return self._starts

    def next(self, index: int) -> int:
        """The first match start >= ``index``, or -1."""
        starts = self._load()
        at = bisect_left(starts, index)
        return starts[at] if at < len(starts) else -1

    def next_span(self, index: int) -> tuple[int, int] | None:
        """``(start, end)`` of the first match starting at or after ``index``, or None."""
        starts = self._load()
        at = bisect_left(starts, index)
        return (starts[at], self._ends[at]) if at < len(starts) else None


_CLOSE_BRACE = re.compile(r"\}")
_TAG_CLOSE = re.compile(r"%\}")
_DELIMITER = re.compile(r"\{(?=[{%])")
_ENDRAW = re.compile(r"\{%-?\s*endraw\s*(?P<r>-?)%\}")
_ENDDOC = re.compile(r"\{%-?\s*enddoc\s*(?P<r>-?)%\}")
_RAW_OPEN = re.compile(r"\{%-?\s*raw\s*(?P<r>-?)%\}")
_DOC_OPEN = re.compile(r"\{%-?\s*doc\s*(?P<r>-?)%\}")
_TAG_OPEN = re.compile(r"\{%-?\s*(?P<name>#|\w+)\s*")
_OUTPUT_OPEN = re.compile(r"\{\{-?")
_SPACE = re.compile(r"\s*")
_INTERESTING = re.compile(r"[-${}]")


class _Match:
    """The part of :class:`re.Match` python-liquid's lexer loop reads (``lastgroup``, ``group``,
    ``start``, ``end``)."""

    __slots__ = ("_groups", "_source", "_span", "lastgroup")

    def __init__(
        self, kind: str, source: str, span: tuple[int, int], groups: dict[str, tuple[int, int] | None]
    ) -> None:
        self.lastgroup = kind
        self._source = source
        self._span = span
        self._groups = groups

    def _group_span(self, name: str | int) -> tuple[int, int] | None:
        return self._span if name == 0 else self._groups.get(str(name))

    def group(self, name: str | int = 0) -> str | None:
        span = self._group_span(name)
        return None if span is None else self._source[span[0] : span[1]]

    def start(self, name: str | int = 0) -> int:
        span = self._group_span(name)
        return -1 if span is None else span[0]

    def end(self, name: str | int = 0) -> int:
        span = self._group_span(name)
        return -1 if span is None else span[1]


class _Lexer:
    """A linear-time scanner equivalent to matching :data:`RULES` with ``finditer``.

    :data:`RULES` is the specification (python-liquid's rules with Braze's output statement), but a
    backtracking engine needs up to cubic time on inputs like ``"{{" * n`` (every ``{{`` starts an
    output attempt that scans to the end, and inside it every ``{{`` starts a nested attempt that
    scans to the end again). This scanner makes the same decisions deterministically: "where does the
    statement starting here stop?" depends only on the position, so it is memoised per position, and
    "is there a closing delimiter after here?" is answered from precomputed occurrence lists.
    ``tests/unit/liquid/test_liquid_syntax.py`` checks it against :data:`RULES` on random inputs.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.n = len(source)
        self.braces = _Occurrences(_CLOSE_BRACE, source)
        self.tag_closes = _Occurrences(_TAG_CLOSE, source)
        self.delimiters = _Occurrences(_DELIMITER, source)
        self.endraws = _Occurrences(_ENDRAW, source)
        self.enddocs = _Occurrences(_ENDDOC, source)
        self.nested_memo: dict[int, int] = {}
        self.outer_memo: dict[int, int] = {}
        self.steps = 0
        """Scanner steps taken (positions examined); linear in ``len(source)`` (tests assert it)."""

    def _attr_end(self, index: int) -> int:
        """End of ``${...}`` at ``index`` (``\\$\\{[^}]*\\}``), or -1."""
        if not self.source.startswith("${", index):
            return -1
        close = self.braces.next(index + 2)
        return -1 if close < 0 else close + 1

    def _walk(self, index: int, memo: dict[int, int], *, outer: bool) -> int:
        source, n = self.source, self.n
        path: list[int] = []
        result = -1
        while True:
            found = _INTERESTING.search(source, index)
            index = found.start() if found else n
            self.steps += 1
            if index in memo:
                result = memo[index]
                break
            if index >= n:
                break
            path.append(index)
            char = source[index]
            if char == "$":
                end = self._attr_end(index)
                if end >= 0:
                    index = end
                    continue
            elif char == "{":
                if outer and source.startswith("{{", index):
                    end = self._nested_end(index + 2)
                    if end >= 0:
                        index = end
                        continue
            elif char == "}":
                if source.startswith("}}", index):
                    result = index if outer else index + 2
                    break
            elif outer and source.startswith("-}}", index):
                result = index
                break
            index += 1
        for position in path:
            memo[position] = result
        return result

    def _nested_end(self, index: int) -> int:
        """End (after ``}}``) of the nested output whose body starts at ``index``, or -1."""
        return self._walk(index, self.nested_memo, outer=False)

    def _output_stop(self, index: int) -> int:
        """Where the output statement body starting at ``index`` stops (at ``-}}``/``}}``), or -1."""
        return self._walk(index, self.outer_memo, outer=True)

    def _rstrip(self, start: int, stop: int) -> int:
        source = self.source
        while stop > start and source[stop - 1].isspace():
            stop -= 1
            self.steps += 1
        return stop

    def _output(self, pos: int) -> _Match | None:
        source = self.source
        opened = _OUTPUT_OPEN.match(source, pos)
        assert opened is not None
        first = opened.end()
        body = _SPACE.match(source, first)
        assert body is not None
        stop = self._output_stop(body.end())
        if stop < 0:
            return None
        end_stmt = self._rstrip(body.end(), stop)
        start_stmt = body.end() if end_stmt > body.end() else first
        if end_stmt == body.end():
            end_stmt = first
        dash = source.startswith("-", stop)
        end = stop + (3 if dash else 2)
        groups: dict[str, tuple[int, int] | None] = {
            "stmt": (start_stmt, end_stmt),
            "rss": (stop, stop + 1) if dash else (stop, stop),
        }
        return _Match(TOKEN_OUTPUT, source, (pos, end), groups)

    def _block(self, pos: int, kind: str, opener: re.Pattern[str], closers: _Occurrences) -> _Match | None:
        opened = opener.match(self.source, pos)
        if opened is None:
            return None
        span = closers.next_span(opened.end())
        if span is None:
            return None
        body = "raw" if kind == "RAW" else "doc"
        strip = "rsr" if kind == "RAW" else "rsd"
        groups: dict[str, tuple[int, int] | None] = {body: (opened.end(), span[0]), strip: opened.span("r")}
        return _Match(kind, self.source, (pos, span[1]), groups)

    def _tag(self, pos: int) -> _Match | None:
        source = self.source
        opened = _TAG_OPEN.match(source, pos)
        if opened is None:
            return None
        expr_start = opened.end()
        close = self.tag_closes.next(expr_start)
        if close < 0:
            return None
        stop = close - 1 if close - 1 >= expr_start and source[close - 1] == "-" else close
        end_expr = self._rstrip(expr_start, stop)
        if end_expr == expr_start:
            expr_start = end_expr = opened.end("name")
        dash = stop < close
        groups: dict[str, tuple[int, int] | None] = {
            "name": opened.span("name"),
            "expr": (expr_start, end_expr),
            "rst": (stop, stop + 1) if dash else (close, close),
        }
        return _Match("TAG", source, (pos, close + 2), groups)

    def _content(self, pos: int) -> _Match:
        source, n = self.source, self.n
        delimiter = self.delimiters.next(pos + 1)
        stop = n
        rstrip: tuple[int, int] | None = None
        if n - 1 > pos and source.endswith("\n"):
            stop = n - 1
        if 0 <= delimiter < stop:
            stop = delimiter
            dash = source.startswith("-", delimiter + 2)
            rstrip = (delimiter + 2, delimiter + 3) if dash else (delimiter + 2, delimiter + 2)
        return _Match(TOKEN_CONTENT, source, (pos, stop), {"rstrip": rstrip})

    def _match(self, pos: int) -> _Match:
        source = self.source
        if source.startswith("{%", pos):
            match = (
                self._block(pos, "RAW", _RAW_OPEN, self.endraws)
                or self._block(pos, "DOC", _DOC_OPEN, self.enddocs)
                or self._tag(pos)
            )
            if match is not None:
                return match
        elif source.startswith("{{", pos):
            match = self._output(pos)
            if match is not None:
                return match
        return self._content(pos)

    def finditer(self, source: str) -> Iterator[_Match]:
        """What ``RULES.finditer(source)`` yields, in linear time (``source`` is this lexer's)."""
        assert source is self.source
        pos = 0
        while pos < self.n:
            match = self._match(pos)
            self.steps += 1
            yield match
            pos = match.end()


_SCAN_START = re.compile(r"""[-'"$.{}]""")
_IDENTIFIER = re.compile(r"[A-Za-z_][\w-]*")
_CONTENT_BLOCK_REF = re.compile(r"""\s*content_blocks\[(?P<q>["'])(?P<name>.*)(?P=q)\]\s*""")
_FIRST_WORD = re.compile(r"\s*(\w+|#)")


def _key(name: str) -> str:
    if '"' not in name:
        return f'["{name}"]'
    if "'" not in name:
        return f"['{name}']"
    raise ValueError(f"attribute name {name!r} can not contain both kinds of quote")


def translate_expression(expression: str, *, keep_output_braces: bool = False) -> str:
    """Rewrite Braze attribute syntax in one tag or output expression to standard Liquid.

    ``${name}`` becomes ``name`` (or ``["name"]`` when it is not an identifier), ``.${name}``
    becomes ``["name"]``; unless ``keep_output_braces``, ``{{`` and ``}}`` are dropped (braze-api.md
    §5.1: brackets are optional inside tags). Quoted strings are left alone.

    Raises:
        ValueError: an attribute name contains both ``'`` and ``"``.
    """
    if "${" not in expression and "{{" not in expression:
        return expression

    # Equivalent to ``_SCAN.sub`` (the specification), scanned so that an unclosed quote or ``${``
    # repeated many times costs O(n log n), not O(n^2): "is there a closing X after here?" comes
    # from occurrence lists instead of a regex attempt that runs to the end of the expression.
    braces = _Occurrences(_CLOSE_BRACE, expression)
    quotes = {"'": _Occurrences(re.compile("'"), expression), '"': _Occurrences(re.compile('"'), expression)}
    pieces: list[str] = []
    done = 0
    index = 0
    while (found := _SCAN_START.search(expression, index)) is not None:
        index = found.start()
        char = expression[index]
        end = -1
        replacement: str | None = None
        if char in quotes:
            close = quotes[char].next(index + 1)
            if close >= 0:
                index = close + 1
                continue
        elif char in ".$":
            dot = char == "."
            attr = index + 1 if dot else index
            if expression.startswith("${", attr) and (close := braces.next(attr + 2)) >= 0:
                name = expression[attr + 2 : close].strip()
                end = close + 1
                replacement = _key(name) if dot or not _IDENTIFIER.fullmatch(name) else name
        elif expression.startswith("{{", index):
            end = index + (3 if expression.startswith("-", index + 2) else 2)
        elif expression.startswith("}}", index):
            end = index + 2
        elif expression.startswith("-}}", index):
            end = index + 3
        if end < 0:
            index += 1
            continue
        if replacement is None and not keep_output_braces:
            replacement = ""
        if replacement is not None:
            pieces.append(expression[done:index])
            pieces.append(replacement)
            done = end
        index = end
    pieces.append(expression[done:])
    return "".join(pieces)


def _translate_liquid_tag(expression: str) -> str:
    """Translate each line of a ``{% liquid %}`` tag according to the tag that starts the line."""
    lines = []
    for line in expression.split("\n"):
        match = _FIRST_WORD.match(line)
        word = match.group(1) if match else ""
        if word in _VERBATIM_TAGS:
            lines.append(line)
        else:
            lines.append(translate_expression(line, keep_output_braces=word in TEMPLATE_ARGUMENT_TAGS))
    return "\n".join(lines)


def _rewrite(token: Token, tag: str | None) -> Token:
    try:
        if tag in _VERBATIM_TAGS:
            return token
        if tag == "liquid":
            value = _translate_liquid_tag(token.value)
        else:
            value = translate_expression(token.value, keep_output_braces=tag in TEMPLATE_ARGUMENT_TAGS)
    except ValueError as err:
        raise LiquidSyntaxError(str(err), token=token) from err
    return token if value == token.value else token._replace(value=value)


def check_size(source: str) -> None:
    """Refuse a template source over :data:`MAX_TEMPLATE_BYTES` UTF-8 bytes (engagekit's cap).

    Raises:
        liquid.exceptions.LiquidSyntaxError: the source is too large (position: line 1, column 1).
    """
    # A str of more than MAX bytes has at least MAX / 4 characters; only encode when it could be over.
    if len(source) * 4 > MAX_TEMPLATE_BYTES and len(source.encode()) > MAX_TEMPLATE_BYTES:
        raise LiquidSyntaxError(
            f"template is over {MAX_TEMPLATE_BYTES} bytes",
            token=Token(TOKEN_EOF, "", start_index=0, source=source),
        )


def tokenize(source: str) -> Iterator[Token]:
    """Lex ``source`` (a Braze Liquid template) into python-liquid tokens with standard expressions.

    Raises:
        liquid.exceptions.LiquidSyntaxError: unclosed tags/outputs, an unusable attribute name, or a
            source over :data:`MAX_TEMPLATE_BYTES` (checked before lexing).

    Lexing is O(n log n) in ``len(source)`` on any input (:class:`_Lexer`).
    """
    check_size(source)
    pending_output: Token | None = None
    tag: str | None = None
    lexer = _Lexer(source)
    for token in _tokenize_template(source, cast("re.Pattern[str]", lexer)):
        kind = token.kind
        if kind == TOKEN_OUTPUT:
            pending_output = token
            continue
        if kind == TOKEN_EXPRESSION:
            if pending_output is not None:
                output, pending_output = pending_output, None
                rewritten = _rewrite(token, None)
                block = _CONTENT_BLOCK_REF.fullmatch(rewritten.value)
                if block is not None:
                    yield Token(TOKEN_TAG, CONTENT_BLOCK_TAG, output.start_index, source)
                    yield rewritten._replace(value=block.group("name"))
                else:
                    yield output
                    yield rewritten
                continue
            yield _rewrite(token, tag)
            continue
        if kind == TOKEN_TAG:
            tag = token.value
        yield token


def tokenizer() -> Callable[[str], Iterator[Token]]:
    """The tokenizer factory :class:`engagekit.liquid.environment.BrazeEnvironment` returns."""
    return tokenize
