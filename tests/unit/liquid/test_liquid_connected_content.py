"""connected_content options, responses, caching and retries (braze-api.md §5.4), with a fake fetcher."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import pytest
from engagekit.clock import ManualClock
from engagekit.domain.profile import Profile
from engagekit.liquid import (
    Aborted,
    BasicAuthCredential,
    FakeFetcher,
    FetchFailed,
    FetchTimeout,
    HttpRequest,
    HttpResponse,
    InMemoryCredentialStore,
    Rendered,
    Renderer,
    RenderRequest,
    Retry,
    StaticResolver,
    SyntaxProblem,
    UrlGuard,
)

API = "https://api.example.com/v1"


def json_response(data: object, status: int = 200) -> HttpResponse:
    return HttpResponse(status, json.dumps(data).encode(), {"content-type": "application/json"})


def text_response(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status, text.encode(), {"content-type": "text/plain; charset=utf-8"})


@dataclass
class Case:
    name: str
    template: str
    route: HttpResponse
    expected: object
    url: str = API
    method: str = "GET"
    request: RenderRequest = field(default_factory=RenderRequest)


RESPONSES = [
    Case(
        "JSON goes to `connected` with the status code",
        "{% connected_content " + API + " %}{{connected.name}} {{connected.__http_status_code__}}",
        json_response({"name": "Ada"}),
        Rendered(text="Ada 200"),
    ),
    Case(
        ":save names the variable",
        "{% connected_content " + API + " :save weather %}{{weather.today[0]}}",
        json_response({"today": ["Clear"]}),
        Rendered(text="Clear"),
    ),
    Case(
        "JSON array is saved without a status key",
        "{% connected_content " + API + " :save items %}{{items | size}}:{{items.__http_status_code__}}",
        json_response([1, 2, 3]),
        Rendered(text="3:"),
    ),
    Case(
        "text is inserted in place of the tag",
        "[{% connected_content " + API + " %}]",
        text_response("Trivia of the day"),
        Rendered(text="[Trivia of the day]"),
    ),
    Case(
        "scalar JSON is text",
        "[{% connected_content " + API + " %}]",
        text_response("42"),
        Rendered(text="[42]"),
    ),
    Case(
        "404 renders nothing",
        "[{% connected_content " + API + " %}]",
        text_response("missing", 404),
        Rendered(text="[]", warnings=("connected_content: 404 from the endpoint, nothing inserted",)),
    ),
    Case(
        "a non-200 JSON body drives the documented abort pattern",
        "{% connected_content " + API + " :save result %}"
        "{% if result.__http_status_code__ != 200 %}"
        "{% abort_message('Connected Content returned a non-200 status code') %}{% endif %}",
        json_response({"error": "nope"}, 403),
        Aborted(reason="Connected Content returned a non-200 status code"),
    ),
    Case(
        "a redirect is not followed",
        "[{% connected_content " + API + " %}]",
        HttpResponse(302, b"", {"location": "http://169.254.169.254/"}),
        Rendered(text="[]", warnings=("connected_content: 302 from the endpoint, nothing inserted",)),
    ),
    Case(
        "5XX without :retry renders nothing",
        "[{% connected_content " + API + " %}]",
        text_response("oops", 502),
        Rendered(text="[]", warnings=("connected_content: 502 from api.example.com",)),
    ),
    Case(
        "5XX with :retry asks for a retry with backoff",
        "{% connected_content " + API + " :retry %}",
        text_response("oops", 500),
        Retry(reason="connected_content: 500 from api.example.com", delay_seconds=20.0),
        request=RenderRequest(attempt=2),
    ),
    Case(
        "5XX with :retry after five retries aborts",
        "{% connected_content " + API + " :retry %}",
        text_response("oops", 500),
        Aborted(
            reason="connected_content: 500 from api.example.com (after 5 retries)", kind="connected_content"
        ),
        request=RenderRequest(attempt=5),
    ),
    Case(
        "previews do not retry",
        "[{% connected_content " + API + " :retry %}]",
        text_response("oops", 500),
        Rendered(text="[]", warnings=("connected_content: 500 from api.example.com",)),
        request=RenderRequest(preview=True),
    ),
    Case(
        "the URL is Liquid",
        "{% connected_content https://api.example.com/u/{{${user_id} | url_param_escape}}?c={{${city}}}"
        " :save u %}{{u.ok}}",
        json_response({"ok": "yes"}),
        Rendered(text="yes"),
        url="https://api.example.com/u/user-42?c=Portland",
    ),
    Case(
        "multi-line tag with options on their own lines",
        "{% connected_content\n    " + API + "\n    :method post\n    :body a=1\n    :save r\n%}{{r.ok}}",
        json_response({"ok": 1}),
        Rendered(text="1"),
        method="POST",
    ),
]


@pytest.mark.parametrize("case", RESPONSES, ids=[c.name for c in RESPONSES])
def test_response_handling(case: Case, renderer: Renderer, fetcher: FakeFetcher, profile: Profile) -> None:
    fetcher.add(case.method, case.url, case.route)

    result = renderer.render(case.template, profile, case.request)

    assert result == case.expected


@dataclass
class RequestCase:
    name: str
    template: str
    method: str
    headers: dict[str, str]
    body: bytes | None = None


REQUESTS = [
    RequestCase(
        "GET sends JSON content type and any Accept",
        "{% connected_content " + API + " %}",
        "GET",
        {"Content-Type": "application/json", "Accept": "*/*"},
    ),
    RequestCase(
        ":content_type sets Content-Type and Accept",
        "{% connected_content " + API + " :content_type text/csv %}",
        "GET",
        {"Content-Type": "text/csv", "Accept": "text/csv"},
    ),
    RequestCase(
        "POST defaults to a form body",
        "{% connected_content " + API + " :method post :body key1=value1&key2=value2 %}",
        "POST",
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"},
        b"key1=value1&key2=value2",
    ),
    RequestCase(
        "POST form body is JSON-encoded with a JSON content type",
        "{% connected_content "
        + API
        + " :method post :body key1=value1&key2={{${first_name}}} :content_type application/json %}",
        "POST",
        {"Content-Type": "application/json", "Accept": "application/json"},
        b'{"key1":"value1","key2":"Janet"}',
    ),
    RequestCase(
        "inline JSON body without spaces",
        "{% connected_content "
        + API
        + ' :method post :body {"foo":"bar","baz":"{{1|plus:1}}"} :content_type application/json %}',
        "POST",
        {"Content-Type": "application/json"},
        b'{"foo":"bar","baz":"2"}',
    ),
    RequestCase(
        "body from capture may contain spaces",
        '{% capture postbody %}{"foo": "bar", "baz": "{{ 1 | plus: 1 }}"}{% endcapture %}'
        "{% connected_content " + API + " :method post :body {{postbody}} :content_type application/json %}",
        "POST",
        {"Content-Type": "application/json"},
        b'{"foo": "bar", "baz": "2"}',
    ),
    RequestCase(
        ":headers JSON with Liquid, across lines",
        "{% connected_content "
        + API
        + ' :headers {\n  "X-App-Id": "app-1",\n  "X-User": "{{${user_id}}}"\n} %}',
        "GET",
        {"X-App-Id": "app-1", "X-User": "user-42"},
    ),
    RequestCase(
        "method is case-insensitive",
        "{% connected_content " + API + " :method POST %}",
        "POST",
        {},
    ),
    RequestCase(
        "a user agent is always sent",
        "{% connected_content " + API + " %}",
        "GET",
        {"User-Agent": "engagekit-connected-content/1"},
    ),
]


@pytest.mark.parametrize("case", REQUESTS, ids=[c.name for c in REQUESTS])
def test_request_is_built_from_the_options(
    case: RequestCase, renderer: Renderer, fetcher: FakeFetcher, profile: Profile
) -> None:
    fetcher.add(case.method, API, json_response({}))

    renderer.render(case.template, profile)

    [sent] = fetcher.requests
    assert sent.method == case.method
    assert {k: sent.headers.get(k) for k in case.headers} == case.headers
    if case.body is not None:
        assert sent.body == case.body


class TestBasicAuth:
    def test_stored_credential_becomes_an_authorization_header(
        self, renderer: Renderer, fetcher: FakeFetcher, credentials: InMemoryCredentialStore
    ) -> None:
        credentials.put("partner_api", BasicAuthCredential("user", "s3cret"))
        fetcher.add("GET", API, json_response({}))

        renderer.render("{% connected_content " + API + " :basic_auth partner_api %}", None)

        expected = "Basic " + base64.b64encode(b"user:s3cret").decode()
        assert fetcher.requests[0].headers["Authorization"] == expected

    def test_deleted_credential_aborts_without_calling(
        self, renderer: Renderer, fetcher: FakeFetcher
    ) -> None:
        result = renderer.render("{% connected_content " + API + " :basic_auth gone %}", None)

        assert result == Aborted(
            reason="connected_content: basic auth credential 'gone' does not exist", kind="connected_content"
        )
        assert fetcher.requests == []


@dataclass
class CacheCase:
    name: str
    options: str
    method: str
    advance_seconds: float
    expected_calls: int


CACHING = [
    CacheCase("GET is cached", "", "GET", 0, 1),
    CacheCase("GET cache lasts 5 minutes", "", "GET", 299, 1),
    CacheCase("GET cache expires after 5 minutes", "", "GET", 300, 2),
    CacheCase(":cache_max_age extends the cache", ":cache_max_age 900", "GET", 899, 1),
    CacheCase(":cache_max_age below 5 minutes is raised to 5 minutes", ":cache_max_age 60", "GET", 120, 1),
    CacheCase(":cache_max_age above 4 hours is capped", ":cache_max_age 99999", "GET", 14_400, 2),
    CacheCase(":no_cache disables caching", ":no_cache", "GET", 0, 2),
    CacheCase("POST is not cached", ":method post", "POST", 0, 2),
    CacheCase("POST with :cache_max_age is cached", ":method post :cache_max_age 600", "POST", 0, 1),
]


@pytest.mark.parametrize("case", CACHING, ids=[c.name for c in CACHING])
def test_caching(
    case: CacheCase, renderer: Renderer, fetcher: FakeFetcher, manual_clock: ManualClock
) -> None:
    fetcher.add(case.method, API, json_response({"v": 1}))
    template = "{% connected_content " + API + " " + case.options + " :save r %}{{r.v}}"

    first = renderer.render(template, None)
    manual_clock.advance(case.advance_seconds)
    second = renderer.render(template, None)

    assert first == second == Rendered(text="1")
    assert len(fetcher.requests) == case.expected_calls


def test_error_responses_are_not_cached(renderer: Renderer, fetcher: FakeFetcher) -> None:
    fetcher.add("GET", API, text_response("down", 503))

    renderer.render("{% connected_content " + API + " %}", None)
    renderer.render("{% connected_content " + API + " %}", None)

    assert len(fetcher.requests) == 2


def test_cache_key_includes_headers_so_users_do_not_share_responses(
    renderer: Renderer, fetcher: FakeFetcher
) -> None:
    fetcher.add("GET", API, lambda req: json_response({"u": req.headers["X-User"]}))
    template = "{% connected_content " + API + ' :headers {"X-User": "{{u}}"} :save r %}{{r.u}}'

    first = renderer.render(template, None, RenderRequest(extras={"u": "a"}))
    second = renderer.render(template, None, RenderRequest(extras={"u": "b"}))

    assert (first, second) == (Rendered(text="a"), Rendered(text="b"))


@dataclass
class FailureCase:
    name: str
    error: Exception


FAILURES = [
    FailureCase("timeout", FetchTimeout("api.example.com: no response within 2.0s")),
    FailureCase("network failure", FetchFailed("api.example.com: connection refused")),
]


@pytest.mark.parametrize("case", FAILURES, ids=[c.name for c in FAILURES])
def test_network_failures_retry_with_retry_option(
    case: FailureCase, renderer: Renderer, fetcher: FakeFetcher
) -> None:
    fetcher.add("GET", API, case.error)  # type: ignore[arg-type]

    result = renderer.render("{% connected_content " + API + " :retry %}", None)

    assert result == Retry(reason=f"connected_content: {case.error}", delay_seconds=5.0)


def test_unhealthy_host_is_paused_for_a_minute(
    renderer: Renderer, fetcher: FakeFetcher, manual_clock: ManualClock
) -> None:
    fetcher.add("GET", API, text_response("down", 500))
    template = "{% connected_content " + API + " %}"
    for _ in range(5):
        renderer.render(template, None)

    paused = renderer.render(template, None)
    calls_while_paused = len(fetcher.requests)
    manual_clock.advance(60)
    renderer.render(template, None)

    assert paused == Rendered(
        text="", warnings=("connected_content: host api.example.com is paused after repeated failures",)
    )
    assert calls_while_paused == 5
    assert len(fetcher.requests) == 6


def test_refused_target_inserts_nothing_and_warns(store: object, profile: Profile) -> None:
    from engagekit.liquid import ConnectedContentClient

    guard = UrlGuard(resolver=StaticResolver({"internal.example.com": ["10.0.0.5"]}))
    fetcher = FakeFetcher(guard=guard)
    renderer = Renderer(connected=ConnectedContentClient(fetcher))

    result = renderer.render("[{% connected_content http://internal.example.com/admin :retry %}]", profile)

    assert result == Rendered(
        text="[]",
        warnings=(
            "connected_content: internal.example.com resolves to a refused address: "
            "10.0.0.5 is a private address",
        ),
    )


def test_oversized_response_inserts_nothing(renderer: Renderer, fetcher: FakeFetcher) -> None:
    fetcher.add("GET", API, text_response("x" * (1_048_576 + 1)))

    result = renderer.render("[{% connected_content " + API + " %}]", None)

    assert result == Rendered(text="[]", warnings=("connected_content: response over 1048576 bytes",))


def test_two_second_timeout_and_one_megabyte_cap_are_requested(
    renderer: Renderer, fetcher: FakeFetcher
) -> None:
    fetcher.add("GET", API, json_response({}))

    renderer.render("{% connected_content " + API + " %}", None)

    sent: HttpRequest = fetcher.requests[0]
    assert (sent.timeout_seconds, sent.max_bytes) == (2.0, 1_048_576)


def test_without_a_client_nothing_is_inserted() -> None:
    result = Renderer().render("[{% connected_content " + API + " %}]", None)

    assert result == Rendered(
        text="[]", warnings=("connected_content: no HTTP client configured, nothing inserted",)
    )


@dataclass
class SyntaxCase:
    name: str
    template: str
    message: str


SYNTAX = [
    SyntaxCase("no URL", "{% connected_content %}", "connected_content needs a URL"),
    SyntaxCase(
        "bad method",
        "{% connected_content " + API + " :method put %}",
        "connected_content: :method must be get or post, not 'put'",
    ),
    SyntaxCase(
        "bad save name",
        "{% connected_content " + API + " :save 1x %}",
        "connected_content: :save needs a variable name, not '1x'",
    ),
    SyntaxCase(
        "headers not JSON",
        "{% connected_content " + API + " :headers nope %}",
        "connected_content: :headers must be a JSON object",
    ),
    SyntaxCase(
        "flag with a value",
        "{% connected_content " + API + " :retry 3 %}",
        "connected_content: :retry takes no value",
    ),
    SyntaxCase(
        "unknown option",
        "{% connected_content " + API + " :bogus 1 %}",
        "connected_content: expected a URL and :options, found 'https://api.example.com/v1 :bogus 1'",
    ),
    SyntaxCase(
        "cache age not a number",
        "{% connected_content " + API + " :cache_max_age soon %}",
        "connected_content: :cache_max_age needs seconds",
    ),
]


@pytest.mark.parametrize("case", SYNTAX, ids=[c.name for c in SYNTAX])
def test_tag_syntax_errors(case: SyntaxCase, renderer: Renderer) -> None:
    result = renderer.render(case.template, None)

    assert isinstance(result, SyntaxProblem)
    assert result.message == case.message
    assert result.line == 1


def test_connected_content_inside_a_liquid_tag(
    renderer: Renderer, fetcher: FakeFetcher, profile: Profile
) -> None:
    fetcher.add("GET", API + "?u=user-42", json_response({"n": 5}))

    result = renderer.render(
        "{% liquid\nconnected_content " + API + "?u={{${user_id}}} :save r\necho r.n\n%}", profile
    )

    assert result == Rendered(text="5")
