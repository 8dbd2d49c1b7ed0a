"""Segment regexes can not pin a CPU: searched with ``regex`` under a timeout, refused when invalid.

A timed-out search is "no match" and is logged once per compiled comparison (docs/segments.md
"Regex safety"). The evil inputs below backtrack for hours under Python's ``re``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.segments import InvalidFilterError, evaluate, parse_filter
from engagekit.segments import comparisons as cmp

from tests.unit.segments.conftest import T0, make_profile


def _leaf(comparison: str, value: object, data_type: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"custom_attribute_name": "attr", "comparison": comparison, "value": value}
    if data_type:
        body["data_type"] = data_type
    return {
        "AND": [
            {"custom_attribute": {"custom_attribute_name": "x", "comparison": "exists"}},
            {"custom_attribute": body},
        ]
    }


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cmp, "REGEX_TIMEOUT_SECONDS", 0.01)


@dataclass
class Case:
    name: str
    comparison: str
    pattern: str
    stored: Any
    expected: bool


# "(a|aa)+$" against 60 "a"s and "!" needs ~fib(60) steps in any backtracking engine, so the search
# always times out; "(a+)+$" is the tester's pattern (regex prunes it, re does not).
EVIL = [
    Case("nested quantifier, matches_regex", "matches_regex", "(a+)+$", "a" * 40 + "!", False),
    Case("nested quantifier, does_not_match_regex", "does_not_match_regex", "(a+)+$", "a" * 40 + "!", True),
    Case("ambiguous alternation times out: no match", "matches_regex", "(a|aa)+$", "a" * 60 + "!", False),
    Case(
        "ambiguous alternation times out: does_not_match_regex is true",
        "does_not_match_regex",
        "(a|aa)+$",
        "a" * 60 + "!",
        True,
    ),
    Case("array element times out: no match", "matches_regex", "(a|aa)+$", ["b", "a" * 60 + "!"], False),
    Case("the same pattern still matches a benign value", "matches_regex", "(a|aa)+$", "xaaaa", True),
]


@pytest.mark.parametrize("case", EVIL, ids=[c.name for c in EVIL])
def test_evil_patterns_return_instead_of_backtracking(case: Case) -> None:
    profile = make_profile(custom_attributes={"x": 1, "attr": case.stored})
    tree = parse_filter(_leaf(case.comparison, case.pattern))

    assert evaluate(tree, profile, T0) is case.expected


def test_a_timeout_is_logged_once_per_compiled_comparison(caplog: pytest.LogCaptureFixture) -> None:
    tree = parse_filter(_leaf("matches_regex", "(a|aa)+$"))
    profile = make_profile(custom_attributes={"x": 1, "attr": "a" * 60 + "!"})

    with caplog.at_level(logging.WARNING, logger=cmp.__name__):
        results = [evaluate(tree, profile, T0) for _ in range(3)]

    assert results == [False, False, False]
    timeouts = [r for r in caplog.records if "timed out" in r.getMessage()]
    assert len(timeouts) == 1
    assert timeouts[0].__dict__["pattern"] == "(a|aa)+$"


@dataclass
class BadCase:
    name: str
    pattern: object
    message: str


BAD = [
    BadCase("does not compile", "(", "invalid regular expression"),
    BadCase("unknown group reference", r"\9", "invalid regular expression"),
    BadCase("over the length cap", "a" * (cmp.MAX_REGEX_CHARS + 1), f"longer than {cmp.MAX_REGEX_CHARS}"),
    BadCase("empty", "", "non-empty regular expression"),
    BadCase("not a string", 5, "non-empty regular expression"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.name for c in BAD])
@pytest.mark.parametrize("comparison", ["matches_regex", "does_not_match_regex"])
def test_bad_patterns_are_refused_at_definition_naming_the_node(case: BadCase, comparison: str) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        parse_filter(_leaf(comparison, case.pattern))

    assert case.message in str(raised.value)
    assert raised.value.path.startswith("filter.AND[1]")


def test_a_pattern_at_the_length_cap_is_accepted() -> None:
    tree = parse_filter(_leaf("matches_regex", "a" * cmp.MAX_REGEX_CHARS))

    assert evaluate(tree, make_profile(custom_attributes={"x": 1, "attr": "b"}), T0) is False
