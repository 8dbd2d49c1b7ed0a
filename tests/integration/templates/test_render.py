"""``POST /templates/render`` on the local platform: real profiles from the profile store, stored
templates and content blocks through the DynamoDB-backed stores, cache invalidation when a definition
changes, abort reasons, syntax error positions and Connected Content credentials (docs/liquid.md)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.liquid import FakeFetcher, HttpResponse, Rendered, Renderer
from engagekit.liquid.syntax import MAX_TEMPLATE_BYTES
from engagekit.templates import CachedTemplates
from engagekit.templates.dynamo import DynamoTemplateRepository

from infra.local.runtime import LocalPlatform
from infra.spec import Ref
from tests.integration.templates.conftest import call, render, service_of, track_user


@pytest.fixture(scope="module", autouse=True)
def users(platform: LocalPlatform) -> None:
    """Ann (with custom attributes and a purchase) and an alias-only user."""
    track_user(
        platform,
        "r-ann",
        first_name="Ann",
        home_city="Leeds",
        tier="gold",
        pets=[{"name": "Rex"}, {"name": "Tom"}],
    )
    call(
        platform,
        "POST",
        "/users/track",
        {
            "purchases": [
                {
                    "external_id": "r-ann",
                    "product_id": "shoe",
                    "currency": "USD",
                    "price": 30.0,
                    "time": "2026-02-27T10:00:00Z",
                }
            ],
            "attributes": [
                {
                    "user_alias": {"alias_name": "anon-7", "alias_label": "web"},
                    "_update_existing_only": False,
                    "first_name": "Guest",
                }
            ],
        },
        201,
    )


@dataclass
class RenderCase:
    name: str
    body: dict[str, Any]
    text: str


RENDERS = [
    RenderCase(
        "profile_attributes",
        {"template": "Hi {{${first_name}}} from {{${city}}}", "external_id": "r-ann"},
        "Hi Ann from Leeds",
    ),
    RenderCase(
        "custom_attribute_array",
        {
            "template": "{% assign ps = {{custom_attribute.${pets}}} %}"
            "{% for p in ps %}{{p.name}}{% unless forloop.last %}, {% endunless %}{% endfor %}",
            "external_id": "r-ann",
        },
        "Rex, Tom",
    ),
    RenderCase(
        "aggregates",
        {"template": "{{purchases.${count}}} for {{purchases.${revenue}}}", "external_id": "r-ann"},
        "1 for 30.0",
    ),
    RenderCase(
        "trigger_properties",
        {"template": "code {{api_trigger_properties.${coupon}}}", "trigger_properties": {"coupon": "SAVE10"}},
        "code SAVE10",
    ),
    RenderCase(
        "context_fills_entry_properties",
        {"template": "{{context.${a}}}/{{canvas_entry_properties.${a}}}", "context": {"a": 1}},
        "1/1",
    ),
    RenderCase(
        "explicit_entry_properties",
        {
            "template": "{{context.${a}}}/{{canvas_entry_properties.${b}}}",
            "context": {"a": 1},
            "canvas_entry_properties": {"b": 2},
        },
        "1/2",
    ),
    RenderCase(
        "event_properties",
        {"template": "{{event_properties.${sku}}}", "event_properties": {"sku": "A1"}},
        "A1",
    ),
    RenderCase(
        "user_alias",
        {"template": "Hi {{${first_name}}}", "user_alias": {"alias_name": "anon-7", "alias_label": "web"}},
        "Hi Guest",
    ),
    RenderCase("no_user_renders_blank", {"template": "Hi {{${first_name} | default: 'there'}}"}, "Hi there"),
    RenderCase(
        "now_is_the_platform_clock", {"template": "{{'now' | date: '%Y-%m-%d %H:%M'}}"}, "2026-03-01 12:00"
    ),
]


@pytest.mark.parametrize("case", RENDERS, ids=lambda c: c.name)
def test_render_returns_the_text(platform: LocalPlatform, case: RenderCase) -> None:
    answer = render(platform, **case.body)
    assert (answer["message"], answer["status"], answer["text"]) == ("success", "rendered", case.text)


def test_render_by_braze_id_reads_the_same_profile(platform: LocalPlatform) -> None:
    users = call(
        platform, "POST", "/users/export/ids", {"external_ids": ["r-ann"], "fields_to_export": ["braze_id"]}
    )
    braze_id = users["users"][0]["braze_id"]
    assert render(platform, template="{{${user_id}}}", braze_id=braze_id)["text"] == "r-ann"


@dataclass
class AbortCase:
    name: str
    body: dict[str, Any]
    reason: str
    kind: str


ABORTS = [
    AbortCase(
        "abort_with_reason",
        {
            "template": "{% if ${first_name} == 'Ann' %}{% abort_message('no Anns') %}{% endif %}x",
            "external_id": "r-ann",
        },
        "no Anns",
        "abort_message",
    ),
    AbortCase(
        "abort_without_reason",
        {"template": "{% abort_message() %}"},
        "{% abort_message %} called",
        "abort_message",
    ),
    AbortCase(
        "strict_undefined",
        {"template": "{{ coupon_code }}", "strict": True},
        "undefined variable: 'coupon_code' is undefined",
        "undefined_variable",
    ),
    AbortCase(
        "loop_limit",
        {"template": "{% for i in (1..300) %}{% for j in (1..300) %}{% endfor %}{% endfor %}"},
        "loop iteration limit reached",
        "resource_limit",
    ),
    AbortCase(
        "missing_credential",
        {"template": "{% connected_content https://api.example.com/x :basic_auth nobody %}"},
        "basic auth credential 'nobody' does not exist",
        "connected_content",
    ),
]


@pytest.mark.parametrize("case", ABORTS, ids=lambda c: c.name)
def test_render_reports_why_a_message_is_aborted(platform: LocalPlatform, case: AbortCase) -> None:
    answer = render(platform, **case.body)
    assert (answer["status"], answer["abort_kind"]) == ("aborted", case.kind)
    assert case.reason in answer["reason"]
    assert "text" not in answer


def test_lax_render_of_an_undefined_variable_is_blank(platform: LocalPlatform) -> None:
    assert render(platform, template="[{{ coupon_code }}]")["text"] == "[]"


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [("ok\n\n   {% if true %}", 3, 17), ("{{ 'a' | nope }}", 1, 10), ("x\n{% for %}", 2, 4)],
    ids=["unclosed_block", "unknown_filter", "bad_for"],
)
def test_render_of_a_syntax_error_is_400_with_line_and_column(
    platform: LocalPlatform, source: str, line: int, column: int
) -> None:
    [error] = render(platform, 400, template=source)["errors"]
    assert (error["type"], error["line"], error["column"]) == ("syntax_error", line, column)


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"template_id": "r-none"}, 404, "no template"),
        ({"template": "x", "external_id": "r-nobody"}, 404, "no user with external_id 'r-nobody'"),
        ({"template": "x", "template_id": "r-x"}, 400, "schema"),
        ({"external_id": "r-ann"}, 400, "schema"),
        ({"template": "x", "external_id": "r-ann", "braze_id": "b"}, 400, "schema"),
        ({"template": "x", "trigger_properties": {"k": "v" * 52_000}}, 400, "schema"),
    ],
    ids=[
        "unknown_template",
        "unknown_user",
        "two_templates",
        "no_template",
        "two_users",
        "properties_over_50kb",
    ],
)
def test_render_refuses_bad_requests(
    platform: LocalPlatform, body: dict[str, Any], status: int, says: str
) -> None:
    assert says in render(platform, status, **body)["message"]


def test_a_stored_template_renders_its_content_blocks_from_the_store(platform: LocalPlatform) -> None:
    call(platform, "PUT", "/content_blocks/r-sig", {"content": "{{${first_name}}}'s team"}, 201)
    call(platform, "PUT", "/content_blocks/r-footer", {"content": "-- {{content_blocks.${r-sig}}}"}, 201)
    call(
        platform,
        "PUT",
        "/templates/r-mail",
        {"template": "Hi {{${first_name}}}\n{{content_blocks.${r-footer}}}"},
        201,
    )
    answer = render(platform, template_id="r-mail", external_id="r-ann")
    assert answer["text"] == "Hi Ann\n-- Ann's team"
    stored = call(platform, "GET", "/templates/r-mail")
    assert (answer["template_id"], answer["version"]) == ("r-mail", stored["version"])


def test_a_third_level_of_content_blocks_renders_nothing(platform: LocalPlatform) -> None:
    call(platform, "PUT", "/content_blocks/r-l3", {"content": "three"}, 201)
    call(platform, "PUT", "/content_blocks/r-l2", {"content": "two[{{content_blocks.${r-l3}}}]"}, 201)
    call(platform, "PUT", "/content_blocks/r-l1", {"content": "one[{{content_blocks.${r-l2}}}]"}, 201)
    assert render(platform, template="{{content_blocks.${r-l1}}}")["text"] == "one[two[]]"


def test_updating_a_block_or_template_changes_the_next_render_and_parses_once_per_version(
    platform: LocalPlatform,
) -> None:
    call(platform, "PUT", "/content_blocks/r-promo", {"content": "10% off"}, 201)
    call(platform, "PUT", "/templates/r-offer", {"template": "Today: {{content_blocks.${r-promo}}}"}, 201)
    parses = service_of(platform).renderer.cache
    assert render(platform, template_id="r-offer")["text"] == "Today: 10% off"
    before = parses.parses
    assert render(platform, template_id="r-offer")["text"] == "Today: 10% off"
    assert parses.parses == before  # warm: nothing parsed again

    call(platform, "PUT", "/content_blocks/r-promo", {"content": "20% off"}, 200)
    assert render(platform, template_id="r-offer")["text"] == "Today: 20% off"
    assert parses.parses == before + 2  # the new block version (PUT check + loader), nothing else

    call(platform, "PUT", "/templates/r-offer", {"template": "Now: {{content_blocks.${r-promo}}}"}, 200)
    assert render(platform, template_id="r-offer")["text"] == "Now: 20% off"


def test_a_sender_container_sees_a_change_within_its_cache_ttl(platform: LocalPlatform) -> None:
    """Another container (a channel sender) caches records for 30 s; the PUT is seen after that."""
    call(platform, "PUT", "/templates/r-ttl", {"template": "first"}, 201)
    sender = CachedTemplates(DynamoTemplateRepository(platform.resolve(Ref("table", "templates"))), 30.0)
    renderer = Renderer(sender)

    def sent() -> str:
        stored = sender.get_template("r-ttl")
        assert stored is not None
        result = renderer.render(stored, None)
        assert isinstance(result, Rendered)
        return result.text

    assert sent() == "first"
    call(platform, "PUT", "/templates/r-ttl", {"template": "second"}, 200)
    platform.advance(29)
    assert sent() == "first"
    platform.advance(2)
    assert sent() == "second"


@pytest.fixture
def fake_http(platform: LocalPlatform) -> Iterator[FakeFetcher]:
    """The container's Connected Content client talks to a fake endpoint for the test."""
    client = service_of(platform).renderer.connected
    assert client is not None
    original, fake = client.fetcher, FakeFetcher()
    client.fetcher = fake
    try:
        yield fake
    finally:
        client.fetcher = original


def test_basic_auth_uses_the_stored_credential_until_it_is_deleted(
    platform: LocalPlatform, fake_http: FakeFetcher
) -> None:
    url = "https://partner.example.com/offer"
    fake_http.add(
        "GET",
        url,
        HttpResponse(200, json.dumps({"title": "Spring"}).encode(), {"content-type": "application/json"}),
    )
    template = (
        f"{{% connected_content {url} :basic_auth r-partner :no_cache :save offer %}}{{{{offer.title}}}}"
    )
    call(
        platform,
        "PUT",
        "/connected_content/credentials/r-partner",
        {"username": "acme", "password": "s3"},
        201,
    )

    answer = render(platform, template=template)
    assert answer.get("text") == "Spring", answer
    sent = fake_http.requests[-1].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"acme:s3").decode()

    call(platform, "DELETE", "/connected_content/credentials/r-partner")
    answer = render(platform, template=template)
    assert (answer["status"], answer["abort_kind"]) == ("aborted", "connected_content")


def test_connected_content_to_a_metadata_address_is_refused_with_a_warning(platform: LocalPlatform) -> None:
    answer = render(platform, template="[{% connected_content http://169.254.169.254/latest/meta-data %}]")
    assert answer["text"] == "[]"
    assert any("metadata" in w for w in answer["warnings"])


def test_message_extras_are_returned(platform: LocalPlatform) -> None:
    answer = render(platform, template="{% message_extras :key tier :value gold %}ok")
    assert answer["message_extras"] == {"tier": "gold"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{" * 5000, "expected '}}', found end of file"),
        ("{{${" * 3000, "expected '}}', found end of file"),
        ("{%" * 5000, "missing tag name or closing delimiter"),
    ],
    ids=["open_output_x5000", "open_output_attr_x3000", "open_tag_x5000"],
)
def test_render_of_adversarial_source_is_a_prompt_400(
    platform: LocalPlatform, source: str, message: str
) -> None:
    """These sources took minutes in the old backtracking lexer; now they are plain syntax errors."""
    [error] = render(platform, 400, template=source)["errors"]
    assert (error["type"], error["message"]) == ("syntax_error", message)


def test_render_of_an_oversized_source_is_400_naming_the_cap(platform: LocalPlatform) -> None:
    out = render(platform, 400, template="a" * (MAX_TEMPLATE_BYTES + 1))
    assert str(MAX_TEMPLATE_BYTES) in json.dumps(out)
