"""Braze's filters give the documented outputs (braze-api.md §5.2, §5.6, §5.7)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

import pytest
from engagekit.clock import ManualClock
from engagekit.liquid import Rendered, Renderer, SyntaxProblem


@dataclass
class Case:
    name: str
    template: str
    expected: str
    data: dict[str, Any] = field(default_factory=dict)


def render(renderer: Renderer, case: Case) -> object:
    from engagekit.liquid import RenderRequest

    return renderer.render(case.template, None, RenderRequest(extras=case.data))


ENCODING = [
    Case("md5", "{{'hey' | md5}}", "6057f13c496ecf7fd777ceb9e79ae285"),
    Case("sha1", "{{'hey' | sha1}}", "7f550a9f4c44173a37664d938f1355f0f92a47a7"),
    Case("sha2", "{{'hey' | sha2}}", "fa690b82061edfd2852629aeba8a8977b57e40fcb77d1a7a28b26cba62591204"),
    Case("sha2 with a size", "{{'hey' | sha2: 512}}", hashlib.sha512(b"hey").hexdigest()),
    Case("base64_encode", "{{'blah' | base64_encode}}", "YmxhaA=="),
    Case("base64 alias", "{{'blah' | base64}}", "YmxhaA=="),
    Case(
        "hmac_sha1_hex", "{{'hey' | hmac_sha1_hex: 'secret_key'}}", "2a3969bed25bfeefb00aca4063eb9590b4df8f0e"
    ),
    Case(
        "hmac_sha1 (old name)",
        "{{'hey' | hmac_sha1: 'secret_key'}}",
        "2a3969bed25bfeefb00aca4063eb9590b4df8f0e",
    ),
    Case("hmac_sha1_base64", "{{'hey' | hmac_sha1_base64: 'secret_key'}}", "KjlpvtJb/u+wCspAY+uVkLTfjw4="),
    Case(
        "hmac_sha256_hex",
        "{{'hey' | hmac_sha256_hex: 'secret_key'}}",
        "8df897f8da3d7992fe57c8dbc6f27578cfbf2dcc4d0fbb4000b8c924841d508e",
    ),
    Case(
        "hmac_sha256 (Shopify name, hex)",
        "{{'hey' | hmac_sha256: 'secret_key'}}",
        "8df897f8da3d7992fe57c8dbc6f27578cfbf2dcc4d0fbb4000b8c924841d508e",
    ),
    Case(
        "hmac_sha256_base64",
        "{{'hey' | hmac_sha256_base64: 'secret_key'}}",
        "jfiX+No9eZL+V8jbxvJ1eM+/LcxND7tAALjJJIQdUI4=",
    ),
    Case(  # no documented example; the oracle is Python's hmac module
        "hmac_sha512",
        "{{'hey' | hmac_sha512: 'secret_key'}}",
        hmac.new(b"secret_key", b"hey", "sha512").hexdigest(),
    ),
    Case("md5 of nil is md5 of empty", "{{ nothing | md5 }}", "d41d8cd98f00b204e9800998ecf8427e"),
]

URL = [
    Case("url_escape", "{{'hey<>hi' | url_escape}}", "hey%3C%3Ehi"),
    Case("url_escape keeps reserved characters", "{{'a b/c?d=e&f' | url_escape}}", "a%20b/c?d=e&f"),
    Case("url_param_escape", "{{'hey<&>hi' | url_param_escape}}", "hey%3C%26%3Ehi"),
    Case("url_param_escape escapes slashes and spaces", "{{'a b/c' | url_param_escape}}", "a%20b%2Fc"),
    Case("url_encode", "{{ 'google search' | url_encode }}", "google+search"),
]

DATA = [
    Case("property_accessor", "{{hash | property_accessor: 'a'}}", "42", {"hash": {"a": 42, "b": 0}}),
    Case(
        "property_accessor with a templated key",
        "{{hash | property_accessor: k}}",
        "0",
        {"hash": {"a": 42, "b": 0}, "k": "b"},
    ),
    Case("property_accessor missing key", "[{{hash | property_accessor: 'z'}}]", "[]", {"hash": {"a": 1}}),
    Case(
        "json_escape quotes and backslash",
        "{{ s | json_escape }}",
        'say \\"hi\\" \\\\ ok',
        {"s": 'say "hi" \\ ok'},
    ),
    Case("json_escape newline", "{{ s | json_escape }}", "a\\nb", {"s": "a\nb"}),
    Case("json_parse then access", "{% assign d = s | json_parse %}{{ d.a[1] }}", "2", {"s": '{"a":[1,2]}'}),
    Case("as_json_string", "{{ d | as_json_string }}", '{"a":[1,"x"]}', {"d": {"a": [1, "x"]}}),
]

NUMBERS = [
    Case("number_with_delimiter", "{{ 123456 | number_with_delimiter }}", "123,456"),
    Case("number_with_delimiter float", "{{ 1234567.891 | number_with_delimiter }}", "1,234,567.891"),
    Case("number_with_delimiter negative", "{{ -1234 | number_with_delimiter }}", "-1,234"),
    Case("number_with_delimiter non-number unchanged", "{{ 'abc' | number_with_delimiter }}", "abc"),
    Case("money does not shift decimals", "${{ 145 | money }}", "$145.00"),
    Case("money keeps the trailing zero", "{{ 17.8 | money }}", "17.80"),
    Case("money after divided_by", "${{ 145 | divided_by: 100.00 | money }}", "$1.45"),
    Case(
        "money with plus: 0 on a string",
        "{% assign v = '350000.25' | plus: 0 %}{{ v | money }}",
        "350,000.25",
    ),
    Case("divided_by integers floors", "{{15 | divided_by: 2}}", "7"),
    Case("divided_by a float", "{{15 | divided_by: 2.0}}", "7.5"),
]

DEFAULTS = [
    Case("default on nil", "{{ x | default: 'Valued User' }}", "Valued User", {"x": None}),
    Case("default on undefined", "{{ nope | default: 'Valued User' }}", "Valued User"),
    Case("default on empty string", "{{ x | default: 'd' }}", "d", {"x": ""}),
    Case("default keeps a blank string", "[{{ x | default: 'd' }}]", "[ ]", {"x": " "}),
    Case("default on false", "{{ x | default: 'd' }}", "d", {"x": False}),
    Case(
        "default allow_false keeps false", "{{ x | default: 'd', allow_false: true }}", "false", {"x": False}
    ),
    Case("default on empty array", "{{ x | default: 'd' }}", "d", {"x": []}),
    Case("default on empty object", "{{ x | default: 'd' }}", "d", {"x": {}}),
    Case("default keeps zero", "{{ x | default: 'd' }}", "0", {"x": 0}),
    Case("no default renders blank", "[{{ x }}]", "[]", {"x": None}),
]

DATES = [
    Case(
        "date strftime (errata §11.6)", "{{ d | date: '%b %d' }}", "Jun 03", {"d": "2021-06-03 17:13:41 UTC"}
    ),
    Case("date %s is epoch seconds", "{{ d | date: '%s' }}", "1622740421", {"d": "2021-06-03 17:13:41 UTC"}),
    Case(
        "date from ISO 8601",
        "{{ d | date: '%Y-%m-%d %H:%M' }}",
        "2021-08-04 09:00",
        {"d": "2021-08-04T09:00:00Z"},
    ),
    Case("date from epoch number", "{{ 0 | date: '%Y' }}", "1970"),
    Case(
        "date now uses the engagekit clock", "{{ 'now' | date: '%Y-%m-%d %H:%M:%S' }}", "2026-03-15 17:13:41"
    ),
    Case("date now as a number", "{{ 'now' | date: '%H' | plus: 0 }}", "17"),
    Case("now variable uses the engagekit clock", "{{ now | date: '%Y' }}", "2026"),
    Case("date of a non-date is unchanged", "{{ 'soon' | date: '%Y' }}", "soon"),
    Case("date milliseconds", "{{ d | date: '%L' }}", "250", {"d": "2021-06-03T17:13:41.250Z"}),
    Case(
        "time_zone then date",
        "{{ d | time_zone: 'America/Los_Angeles' | date: '%a %b %e %T' }}",
        "Wed Aug  4 02:00:00",
        {"d": "2021-08-04 9:00:00 UTC"},
    ),
    Case(
        "timezone alias", "{{ d | timezone: 'Asia/Tokyo' | date: '%H' }}", "18", {"d": "2021-08-04T09:00:00Z"}
    ),
    Case(
        "time_zone offset",
        "{{ d | time_zone: '-0500' | date: '%H:%M %z' }}",
        "04:00 -0500",
        {"d": "2021-08-04T09:00:00Z"},
    ),
    Case(
        "time_zone from the user's zone",
        "{{ 'now' | time_zone: tz | date: '%H:%M' }}",
        "10:13",
        {"tz": "America/Los_Angeles"},
    ),
    Case(
        "time_zone output prints like Ruby",
        "{{ d | time_zone: 'UTC' }}",
        "2021-08-04 09:00:00 +0000",
        {"d": "2021-08-04T09:00:00Z"},
    ),
    Case(
        "unknown zone stays UTC",
        "{{ d | time_zone: 'Mars/Base' | date: '%H' }}",
        "09",
        {"d": "2021-08-04T09:00:00Z"},
    ),
]

STANDARD = [
    Case("upcase", '{{"Big Sale" | upcase}}', "BIG SALE"),
    Case("chained filters", '{{ "Big Sale" | upcase | remove: "BIG" }}', " SALE"),
    Case(
        "join/first/last", "{{ t | join: ',' }} {{ t | first }} {{ t | last }}", "a,b a b", {"t": ["a", "b"]}
    ),
    Case("size", "{{ t | size }}", "2", {"t": ["a", "b"]}),
    Case(
        "map and uniq",
        "{{ p | map: 'k' | uniq | join: '' }}",
        "xy",
        {"p": [{"k": "x"}, {"k": "y"}, {"k": "x"}]},
    ),
    Case("where", "{{ p | where: 'k', 'y' | size }}", "1", {"p": [{"k": "x"}, {"k": "y"}]}),
    Case("truncate", "{{ 'Ground control to Major Tom.' | truncate: 20 }}", "Ground control to..."),
    Case("capitalize", "{{ 'hello WORLD' | capitalize }}", "Hello world"),
    Case("round and at_least", "{{ 4.567 | round: 2 }} {{ 1 | at_least: 5 }}", "4.57 5"),
]

ALL = ENCODING + URL + DATA + NUMBERS + DEFAULTS + DATES + STANDARD


@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_filter_gives_documented_output(case: Case, renderer: Renderer, manual_clock: ManualClock) -> None:
    result = render(renderer, case)

    assert result == Rendered(text=case.expected)


def test_unknown_filter_is_a_syntax_error_with_position(renderer: Renderer) -> None:
    result = renderer.render("Hello\n{{ x | camelize }}", None)

    assert result == SyntaxProblem(message="unknown filter 'camelize'", line=2, column=8)


def test_hmac_without_a_key_aborts(renderer: Renderer) -> None:
    result = renderer.render("{{ 'x' | hmac_sha256_hex }}", None)

    assert not isinstance(result, Rendered)
