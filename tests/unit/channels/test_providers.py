"""Provider adapters classify answers (retry or not) per the AWS API references, without network:
botocore's Stubber for SES/SNS, a FakeFetcher for webhooks."""

from __future__ import annotations

import random
from dataclasses import dataclass

import boto3
import pytest
from botocore.stub import Stubber
from engagekit.channels.ports import (
    Accepted,
    EmailRequest,
    PushRequest,
    Rejected,
    SmsRequest,
    Transient,
    WebhookRequest,
)
from engagekit.channels.providers import (
    HttpWebhookProvider,
    SesEmailProvider,
    SnsPushProvider,
    SnsSmsProvider,
)
from engagekit.channels.sender import BACKOFF_MAX_S, backoff_s
from engagekit.liquid import FakeFetcher, HttpResponse
from engagekit.liquid.errors import FetchFailed, FetchRefused, FetchTimeout


def client(service: str) -> object:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


EMAIL = EmailRequest(
    sender="Shop <a@shop.com>", to="u@x.com", subject="s", html="<p>h</p>", tags={"dispatch_id": "d"}
)


@dataclass
class Case:
    id: str
    code: str
    status: int
    kind: type


SES_ERRORS = [
    Case("throttled", "TooManyRequestsException", 429, Transient),
    Case("limit", "LimitExceededException", 400, Transient),
    Case("server", "InternalFailure", 500, Transient),
    Case("rejected", "MessageRejected", 400, Rejected),
    Case("not-verified", "MailFromDomainNotVerifiedException", 400, Rejected),
    Case("bad-request", "BadRequestException", 400, Rejected),
]


@pytest.mark.parametrize("case", SES_ERRORS, ids=lambda c: c.id)
def test_ses_errors_are_classified(case: Case) -> None:
    ses = client("sesv2")
    with Stubber(ses) as stub:
        stub.add_client_error("send_email", service_error_code=case.code, http_status_code=case.status)
        result = SesEmailProvider(ses, configuration_set="engagekit").send(EMAIL)
    assert isinstance(result, case.kind)


def test_ses_sends_tags_and_the_configuration_set() -> None:
    ses = client("sesv2")
    with Stubber(ses) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "m-1"},
            {
                "FromEmailAddress": "Shop <a@shop.com>",
                "Destination": {"ToAddresses": ["u@x.com"]},
                "Content": {
                    "Simple": {
                        "Subject": {"Data": "s", "Charset": "UTF-8"},
                        "Body": {"Html": {"Data": "<p>h</p>", "Charset": "UTF-8"}},
                    }
                },
                "EmailTags": [{"Name": "dispatch_id", "Value": "d"}],
                "ConfigurationSetName": "engagekit",
            },
        )
        assert SesEmailProvider(ses, configuration_set="engagekit").send(EMAIL) == Accepted("m-1")


def test_sms_errors_are_classified() -> None:
    sns = client("sns")
    with Stubber(sns) as stub:
        stub.add_client_error("publish", service_error_code="Throttled", http_status_code=400)
        stub.add_client_error("publish", service_error_code="InvalidParameter", http_status_code=400)
        stub.add_response("publish", {"MessageId": "s-1"})
        provider = SnsSmsProvider(sns)
        results = [provider.send(SmsRequest("+14155550100", "hi")) for _ in range(3)]
    assert [type(r) for r in results] == [Transient, Rejected, Accepted]


def test_push_resolves_platform_applications_by_name_and_caches_endpoints() -> None:
    sns = client("sns")
    app = "arn:aws:sns:us-east-1:123456789012:app/GCM/engagekit-shop"
    with Stubber(sns) as stub:
        stub.add_response(
            "list_platform_applications",
            {"PlatformApplications": [{"PlatformApplicationArn": app, "Attributes": {}}]},
        )
        stub.add_response("create_platform_endpoint", {"EndpointArn": "arn:endpoint/1"})
        stub.add_response("publish", {"MessageId": "p-1"})
        stub.add_response("publish", {"MessageId": "p-2"})
        provider = SnsPushProvider(sns)
        assert provider.platform("shop") == "android"
        first = provider.send(PushRequest("shop", "tok", "hello"))
        second = provider.send(PushRequest("shop", "tok", "again"))
        unknown = provider.send(PushRequest("other", "tok", "x"))
    assert (first, second) == (Accepted("p-1"), Accepted("p-2"))
    assert isinstance(unknown, Rejected)


def test_push_disabled_endpoint_is_rejected() -> None:
    sns = client("sns")
    app = "arn:aws:sns:us-east-1:123456789012:app/APNS/engagekit-ios"
    with Stubber(sns) as stub:
        stub.add_response(
            "list_platform_applications",
            {"PlatformApplications": [{"PlatformApplicationArn": app, "Attributes": {}}]},
        )
        stub.add_response("create_platform_endpoint", {"EndpointArn": "arn:endpoint/2"})
        stub.add_client_error("publish", service_error_code="EndpointDisabled", http_status_code=400)
        assert isinstance(SnsPushProvider(sns).send(PushRequest("ios", "tok", "hi")), Rejected)


@dataclass
class HookCase:
    id: str
    answer: HttpResponse | Exception
    kind: type


HOOKS = [
    HookCase("2xx", HttpResponse(204), Accepted),
    HookCase("429", HttpResponse(429), Transient),
    HookCase("503", HttpResponse(503), Transient),
    HookCase("404", HttpResponse(404), Rejected),
    HookCase("timeout", FetchTimeout("slow"), Transient),
    HookCase("connection", FetchFailed("refused"), Transient),
    HookCase("ssrf-guard", FetchRefused("private address"), Rejected),
]


@pytest.mark.parametrize("case", HOOKS, ids=lambda c: c.id)
def test_webhook_answers_are_classified(case: HookCase) -> None:
    fetcher = FakeFetcher()
    fetcher.add("POST", "https://hooks.example.com/x", case.answer)  # type: ignore[arg-type]
    result = HttpWebhookProvider(fetcher).send(
        WebhookRequest("POST", "https://hooks.example.com/x", {}, "{}", "d#webhook#u")
    )
    assert isinstance(result, case.kind)


def test_webhooks_carry_the_idempotency_key_and_a_json_content_type() -> None:
    fetcher = FakeFetcher()
    fetcher.add("POST", "https://hooks.example.com/x", HttpResponse(200))
    HttpWebhookProvider(fetcher).send(
        WebhookRequest("POST", "https://hooks.example.com/x", {"X-A": "1"}, "{}", "k-1")
    )
    [request] = fetcher.requests
    assert (
        request.headers["Idempotency-Key"] == "k-1" and request.headers["Content-Type"] == "application/json"
    )
    assert request.headers["X-A"] == "1"


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 10])
def test_backoff_is_jittered_under_an_exponential_ceiling(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(BACKOFF_MAX_S, 30 * 2 ** (attempt - 1))
    draws = [backoff_s(attempt, rng) for _ in range(200)]
    assert all(1 <= d <= ceiling for d in draws)
    assert len(set(draws)) > 10
