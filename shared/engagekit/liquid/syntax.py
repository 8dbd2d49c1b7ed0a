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
from collections.abc import Callable, Iterator
from typing import Final

from liquid.exceptions import LiquidSyntaxError
from liquid.lex import _tokenize_template
from liquid.token import TOKEN_CONTENT, TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG, Token

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

RULES: Final = re.compile(
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

    def replace(match: re.Match[str]) -> str:
        if match.group("quoted") is not None:
            return match.group(0)
        name = match.group("name")
        if name is not None:
            name = name.strip()
            if match.group("dot") or not _IDENTIFIER.fullmatch(name):
                return _key(name)
            return name
        return match.group(0) if keep_output_braces else ""

    return _SCAN.sub(replace, expression)


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


def tokenize(source: str) -> Iterator[Token]:
    """Lex ``source`` (a Braze Liquid template) into python-liquid tokens with standard expressions.

    Raises:
        liquid.exceptions.LiquidSyntaxError: unclosed tags/outputs, or an unusable attribute name.
    """
    pending_output: Token | None = None
    tag: str | None = None
    for token in _tokenize_template(source, RULES):
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
