"""Stored definitions over the API: templates, content blocks and Connected Content credentials are
PUT idempotently, read back as PUT, refused with line and column when they do not parse, and guarded
by their own permissions (docs/liquid.md "API")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.auth import KeyStore

from infra.local.runtime import LocalPlatform
from infra.spec import Ref
from tests.integration.templates.conftest import call


def test_put_then_get_returns_the_template_as_put_with_server_fields(platform: LocalPlatform) -> None:
    definition = {"template": "Hi {{${first_name}}}", "description": "welcome email", "tags": ["onboarding"]}
    created = call(platform, "PUT", "/templates/def-welcome", definition, 201)
    got = call(platform, "GET", "/templates/def-welcome")
    assert {k: got[k] for k in definition} == definition
    assert got["id"] == "def-welcome"
    assert got["version"] == created["version"] and len(got["version"]) == 16
    assert got["created_at"] == got["updated_at"] == "2026-03-01T12:00:00.000Z"


def test_a_repeated_put_changes_nothing_and_a_new_source_a_new_version(platform: LocalPlatform) -> None:
    first = call(platform, "PUT", "/templates/def-idem", {"template": "v1"}, 201)
    platform.advance(60)
    again = call(platform, "PUT", "/templates/def-idem", {"template": "v1"}, 200)
    assert (again["version"], again["updated_at"]) == (first["version"], first["updated_at"])
    changed = call(platform, "PUT", "/templates/def-idem", {"template": "v2"}, 200)
    got = call(platform, "GET", "/templates/def-idem")
    assert changed["version"] != first["version"] and got["version"] == changed["version"]
    assert got["created_at"] != got["updated_at"]


def test_content_blocks_are_put_and_read_with_brazes_field_names(platform: LocalPlatform) -> None:
    call(platform, "PUT", "/content_blocks/def-footer", {"content": "-- the team", "tags": ["footer"]}, 201)
    got = call(platform, "GET", "/content_blocks/def-footer")
    assert (got["id"], got["content"], got["tags"], got["description"]) == (
        "def-footer",
        "-- the team",
        ["footer"],
        None,
    )


def test_templates_and_content_blocks_are_stored_in_the_templates_table(platform: LocalPlatform) -> None:
    call(platform, "PUT", "/templates/def-stored", {"template": "t"}, 201)
    call(platform, "PUT", "/content_blocks/def-stored", {"content": "b"}, 201)
    table = platform.resolve(Ref("table", "templates"))
    dynamodb = platform.client("dynamodb")
    for pk, source in (("template#def-stored", "t"), ("content_block#def-stored", "b")):
        item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}})["Item"]
        assert item["source"]["S"] == source


@dataclass
class SyntaxCase:
    name: str
    source: str
    line: int
    column: int
    message: str


SYNTAX_CASES = [
    SyntaxCase("unclosed_if", "Hi\n{% if ${first_name} %}yes", 2, 26, "expected tag endif"),
    SyntaxCase("unknown_filter", "line one\nline two {{ x | shout }}", 2, 17, "unknown filter 'shout'"),
    SyntaxCase("unknown_tag", "a\nb\n  {% promotion('x') %}", 3, 6, "unexpected tag 'promotion'"),
    SyntaxCase("unclosed_output", "Dear {{${first_name}", 1, 6, "expected"),
    SyntaxCase("stray_endfor", "{% endfor %}", 1, 4, "unexpected tag 'endfor'"),
]


@pytest.mark.parametrize("case", SYNTAX_CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("kind", ["templates", "content_blocks"])
def test_put_refuses_a_syntax_error_with_line_and_column(
    platform: LocalPlatform, kind: str, case: SyntaxCase
) -> None:
    field = "template" if kind == "templates" else "content"
    ident = f"def-bad-{case.name}"
    body = call(platform, "PUT", f"/{kind}/{ident}", {field: case.source}, 400)
    [error] = body["errors"]
    assert (error["type"], error["line"], error["column"]) == ("syntax_error", case.line, case.column)
    assert case.message in error["message"]
    assert f"line {case.line}, column {case.column}" in body["message"]
    call(platform, "GET", f"/{kind}/{ident}", status=404)  # nothing was stored


def test_a_bad_put_leaves_the_stored_version_in_place(platform: LocalPlatform) -> None:
    stored = call(platform, "PUT", "/templates/def-keep", {"template": "good"}, 201)
    call(platform, "PUT", "/templates/def-keep", {"template": "{% if %}"}, 400)
    assert call(platform, "GET", "/templates/def-keep")["version"] == stored["version"]


@dataclass
class BadRequest:
    name: str
    method: str
    path: str
    body: Any
    status: int
    says: str


BAD_REQUESTS = [
    BadRequest("reserved_id", "PUT", "/templates/render", {"template": "x"}, 400, "reserved"),
    BadRequest("bad_id_chars", "PUT", "/templates/a%20b", {"template": "x"}, 400, "letters, digits"),
    BadRequest("id_too_long", "PUT", "/templates/" + "a" * 101, {"template": "x"}, 400, "1 to 100"),
    BadRequest("no_source", "PUT", "/templates/def-x", {"description": "d"}, 400, "schema"),
    BadRequest("unknown_field", "PUT", "/templates/def-x", {"template": "x", "body": "y"}, 400, "schema"),
    BadRequest("template_too_big", "PUT", "/templates/def-x", {"template": "x" * 262_145}, 400, "schema"),
    BadRequest("block_over_50kb", "PUT", "/content_blocks/def-x", {"content": "x" * 51_201}, 400, "schema"),
    BadRequest("empty_tag", "PUT", "/content_blocks/def-x", {"content": "x", "tags": [""]}, 400, "schema"),
    BadRequest("unknown_template", "GET", "/templates/def-none", None, 404, "no template"),
    BadRequest("unknown_block", "GET", "/content_blocks/def-none", None, 404, "no content block"),
    BadRequest(
        "colon_username",
        "PUT",
        "/connected_content/credentials/c",
        {"username": "a:b", "password": "p"},
        400,
        "schema",
    ),
    BadRequest(
        "unknown_credential", "DELETE", "/connected_content/credentials/def-none", None, 404, "no Connected"
    ),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=lambda c: c.name)
def test_bad_requests_are_4xx_with_a_reason(platform: LocalPlatform, case: BadRequest) -> None:
    body = call(platform, case.method, case.path, case.body, case.status)
    assert case.says in body["message"] or case.says in json.dumps(body.get("errors"))


def test_a_credential_is_stored_but_its_password_is_never_returned(platform: LocalPlatform) -> None:
    secret = "pa55-very-secret-word"
    put = call(
        platform,
        "PUT",
        "/connected_content/credentials/def-partner",
        {"username": "acme", "password": secret},
        201,
    )
    got = call(platform, "GET", "/connected_content/credentials/def-partner")
    assert secret not in json.dumps(put) and secret not in json.dumps(got)
    assert (got["id"], got["username"]) == ("def-partner", "acme")
    table = platform.resolve(Ref("table", "connected_content_credentials"))
    item = platform.client("dynamodb").get_item(TableName=table, Key={"name": {"S": "def-partner"}})["Item"]
    assert item["password"]["S"] == secret
    call(platform, "DELETE", "/connected_content/credentials/def-partner")
    call(platform, "GET", "/connected_content/credentials/def-partner", status=404)


@dataclass
class PermissionCase:
    name: str
    method: str
    path: str
    body: Any
    permission: str


PERMISSIONS = [
    PermissionCase("render", "POST", "/templates/render", {"template": "x"}, "templates.render"),
    PermissionCase("put_template", "PUT", "/templates/def-perm", {"template": "x"}, "templates.update"),
    PermissionCase("get_template", "GET", "/templates/def-perm", None, "templates.info"),
    PermissionCase("put_block", "PUT", "/content_blocks/def-perm", {"content": "x"}, "content_blocks.update"),
    PermissionCase("get_block", "GET", "/content_blocks/def-perm", None, "content_blocks.info"),
    PermissionCase(
        "put_credential",
        "PUT",
        "/connected_content/credentials/def-perm",
        {"username": "u", "password": "p"},
        "connected_content.credentials.update",
    ),
    PermissionCase(
        "get_credential",
        "GET",
        "/connected_content/credentials/def-perm",
        None,
        "connected_content.credentials.info",
    ),
    PermissionCase(
        "delete_credential",
        "DELETE",
        "/connected_content/credentials/def-perm",
        None,
        "connected_content.credentials.delete",
    ),
]


@pytest.fixture(scope="module")
def keys(platform: LocalPlatform) -> dict[str, str]:
    """Keys that hold exactly one permission each, by permission, plus ``users.track`` alone."""
    store = KeyStore(platform.resolve(Ref("table", "api_keys")))
    wanted = {case.permission for case in PERMISSIONS} | {"users.track"}
    return {permission: store.create(f"only {permission}", {permission}).secret for permission in wanted}


@pytest.mark.parametrize("case", PERMISSIONS, ids=lambda c: c.name)
def test_each_route_needs_its_own_permission(
    platform: LocalPlatform, keys: dict[str, str], case: PermissionCase
) -> None:
    denied = call(platform, case.method, case.path, case.body, 403, key=keys["users.track"])
    assert case.permission in denied["message"]
    status, _, _ = platform.request(case.method, case.path, case.body, key=keys[case.permission])
    assert status != 403
