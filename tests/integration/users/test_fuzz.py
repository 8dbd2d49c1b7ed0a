"""Property: no request to the user data API, valid or not, gets a 5xx (ARCHITECTURE: bad input).

Requests are generated from docs/openapi.json (with mutations) and sent in process through the
local runtime; hostile raw bodies (invalid JSON, NaN, huge numbers, deep nesting, bad UTF-8) are
sent as well. A 2xx must carry a JSON object; a 4xx must carry a Braze-style ``message``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from infra.local.runtime import LocalPlatform
from tests.integration.users.schema_strategies import from_schema

DOC = json.loads((Path(__file__).resolve().parents[3] / "docs" / "openapi.json").read_text())
DEFS: dict[str, Any] = DOC["components"]["schemas"]
OPERATIONS = [
    (method.upper(), path, op) for path, item in DOC["paths"].items() for method, op in item.items()
]
EXAMPLES = 1200


def _request(method: str, path: str, op: dict[str, Any]) -> st.SearchStrategy[tuple[str, str, Any]]:
    if method == "POST":
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        return from_schema(schema, DEFS, mutate=True).map(lambda body: (method, path, body))
    params = {p["name"]: from_schema(p["schema"], DEFS, mutate=True) for p in op["parameters"]}
    return st.fixed_dictionaries({}, optional=params).map(
        lambda q: (method, f"{path}?{urlencode({k: _text(v) for k, v in q.items()})}", None)
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


REQUESTS = st.one_of([_request(m, p, op) for m, p, op in OPERATIONS])


def _check(status: int, body: Any, what: Any) -> None:
    assert status < 500, (status, body, what)
    assert isinstance(body, dict), (status, body, what)
    if status >= 400:
        assert isinstance(body.get("message"), str) and body["message"], (status, body, what)


@given(REQUESTS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_get_a_5xx(platform: LocalPlatform, req: tuple[str, str, Any]) -> None:
    method, path, body = req
    status, _, out = platform.request(method, path, body)
    _check(status, out, req)


HOSTILE = [
    b"{not json",
    b"[1, 2]",
    b'"a string"',
    b'{"attributes": NaN}',
    b'{"events": [{"external_id": "x", "name": "e", "time": "2026-03-01", "properties": {"v": Infinity}}]}',
    b'{"attributes": [{"external_id": "x", "n": 1' + b"0" * 5000 + b"}]}",
    b'{"attributes": [{"external_id": "x", "n": 1e400}]}',
    b'{"attributes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b'{"attributes": [{"external_id": "x", "o": ' + b'{"a":' * 200 + b"1" + b"}" * 200 + b"}]}",
    b"\xff\xfe\x00garbage",
    # identifiers past DynamoDB's key size: 600 four-byte characters
    json.dumps(
        {
            "attributes": [{"external_id": "\U0001f600" * 600}],
            "external_ids": ["\U0001f600" * 600],
            "aliases_to_identify": [
                {"external_id": "\U0001f600" * 600, "user_alias": {"alias_name": "n", "alias_label": "l"}}
            ],
        },
        ensure_ascii=False,
    ).encode(),
]
BAD_UTF8 = b'{"attributes": [{"external_id": "\xc3\x28"}]}'


@pytest.mark.parametrize("path", ["/users/track", "/users/identify", "/users/export/ids", "/email/status"])
@pytest.mark.parametrize("raw", HOSTILE, ids=lambda raw: raw[:24].decode(errors="replace"))
def test_hostile_bodies_get_a_4xx(platform: LocalPlatform, path: str, raw: bytes) -> None:
    status, _, out = platform.request("POST", path, raw)
    _check(status, out, raw[:80])
    assert status == 400


def test_invalid_utf8_is_never_a_5xx(platform: LocalPlatform) -> None:
    # the HTTP edge decodes with replacement characters, so this may be accepted, never a 5xx
    status, _, out = platform.request("POST", "/users/track", BAD_UTF8)
    _check(status, out, BAD_UTF8)
