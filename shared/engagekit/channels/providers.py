"""Provider adapters: SES v2 (email), SNS (SMS and push platform endpoints), HTTPS (webhooks).

Each takes an injectable client and creates the boto3 client lazily (``engagekit.aws``). Error
classification (what is retried) is per AWS API reference:

- SES ``SendEmail``: ``TooManyRequestsException``, ``LimitExceededException``, throttling and 5XX
  are transient; ``MessageRejected``, ``MailFromDomainNotVerifiedException``,
  ``AccountSuspendedException``, ``SendingPausedException``, ``BadRequestException`` reject.
- SNS ``Publish``: ``Throttled``, ``KMSThrottling``, ``InternalError`` and 5XX are transient;
  ``EndpointDisabled``, ``InvalidParameter``, ``OptedOut`` (SMS) reject.
- A *read* timeout after the request went out is ambiguous: SES and SNS have no idempotency
  token, so it is ``Rejected(unknown=True)`` (never sent twice); a connection failure is
  transient (nothing was sent).
- Webhooks: 2XX accepted; 429, 5XX, timeouts and connection failures transient (retrying is safe:
  the same ``Idempotency-Key`` goes with every attempt); any other status rejects.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from engagekit.channels.ports import (
    Accepted,
    EmailRequest,
    Platform,
    ProviderResult,
    PushRequest,
    Rejected,
    SmsRequest,
    Transient,
    WebhookRequest,
)
from engagekit.liquid.connected.http import Fetcher, HttpRequest
from engagekit.liquid.errors import FetchFailed, FetchRefused, FetchTimeout, FetchTooLarge

_TRANSIENT_CODES = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "KMSThrottling",
        "InternalError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
    }
)


def _client_error(exc: Exception) -> ProviderResult:
    """Classify a botocore ClientError / BotoCoreError (module docstring)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in _TRANSIENT_CODES or status >= 500 or status == 429:
            return Transient(f"{code}: {exc}", status or None)
        return Rejected(f"{code}: {exc}", status or None)
    if isinstance(exc, EndpointConnectionError):
        return Transient(f"connection failed: {exc}")
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        return Rejected(f"outcome unknown: {exc}", unknown=True)
    return Transient(f"{type(exc).__name__}: {exc}")


class _Lazy:
    def __init__(self, service: str, client: Any | None) -> None:
        self._service = service
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from engagekit import aws

            self._client = aws.client(self._service)
        return self._client


class SesEmailProvider(_Lazy):
    """Email through SES v2 ``SendEmail`` (Simple content: engagekit renders, braze-api.md §5).

    ``configuration_set`` names the SES configuration set whose event destination (SNS → SQS
    ``ses_feedback``) reports delivery, bounces, complaints, opens and clicks; the message tags
    identify the send in those events.
    """

    def __init__(self, client: Any | None = None, configuration_set: str | None = None) -> None:
        super().__init__("sesv2", client)
        self.configuration_set = configuration_set or None

    def send(self, email: EmailRequest) -> ProviderResult:
        from botocore.exceptions import BotoCoreError, ClientError

        body: dict[str, Any] = {"Html": {"Data": email.html, "Charset": "UTF-8"}}
        if email.text:
            body["Text"] = {"Data": email.text, "Charset": "UTF-8"}
        simple: dict[str, Any] = {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}
        if email.headers:
            simple["Headers"] = [{"Name": k, "Value": v} for k, v in email.headers.items()]
        params: dict[str, Any] = {
            "FromEmailAddress": email.sender,
            "Destination": {"ToAddresses": [email.to]},
            "Content": {"Simple": simple},
        }
        if email.reply_to:
            params["ReplyToAddresses"] = [email.reply_to]
        if email.tags:
            params["EmailTags"] = [{"Name": k, "Value": v} for k, v in email.tags.items()]
        if self.configuration_set:
            params["ConfigurationSetName"] = self.configuration_set
        try:
            out = self.client.send_email(**params)
        except (ClientError, BotoCoreError) as exc:
            return _client_error(exc)
        return Accepted(str(out.get("MessageId", "")))


class SnsSmsProvider(_Lazy):
    """SMS through SNS ``Publish(PhoneNumber=...)`` as transactional messages."""

    def __init__(self, client: Any | None = None) -> None:
        super().__init__("sns", client)

    def send(self, sms: SmsRequest) -> ProviderResult:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            out = self.client.publish(
                PhoneNumber=sms.to,
                Message=sms.body,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        except (ClientError, BotoCoreError) as exc:
            return _client_error(exc)
        return Accepted(str(out.get("MessageId", "")))


PLATFORM_OF_SNS: dict[str, Platform] = {
    "APNS": "ios",
    "APNS_SANDBOX": "ios",
    "GCM": "android",
    "ADM": "android",
    "BAIDU": "android",
}
APP_CACHE_S = 300.0


class SnsPushProvider(_Lazy):
    """Push through SNS mobile push: the platform application named ``engagekit-<app_id>``
    (created by the operator with the APNs/FCM credentials; the list is re-read every 5 minutes), one
    platform endpoint per token
    (``CreatePlatformEndpoint`` is idempotent for a token; endpoints cached per container), and
    ``Publish(TargetArn=endpoint, MessageStructure="json")`` with APNs and FCM payloads.
    """

    def __init__(self, client: Any | None = None, name_prefix: str = "engagekit-") -> None:
        super().__init__("sns", client)
        self._prefix = name_prefix
        self._apps: dict[str, tuple[str, Platform]] = {}
        self._apps_at = -1e18
        self._endpoints: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def _app(self, app_id: str) -> tuple[str, Platform] | None:
        with self._lock:
            if time.monotonic() - self._apps_at > APP_CACHE_S:
                apps: dict[str, tuple[str, Platform]] = {}
                for page in self.client.get_paginator("list_platform_applications").paginate():
                    for app in page.get("PlatformApplications", []):
                        arn = str(app["PlatformApplicationArn"])
                        _, _, rest = arn.partition(":app/")
                        sns_platform, _, name = rest.partition("/")
                        if name.startswith(self._prefix):
                            apps[name[len(self._prefix) :]] = (
                                arn,
                                PLATFORM_OF_SNS.get(sns_platform, "other"),
                            )
                self._apps, self._apps_at = apps, time.monotonic()
            return self._apps.get(app_id)

    def platform(self, app_id: str) -> Platform | None:
        found = self._app(app_id)
        return found[1] if found else None

    def send(self, push: PushRequest) -> ProviderResult:
        from botocore.exceptions import BotoCoreError, ClientError

        found = self._app(push.app_id)
        if found is None:
            return Rejected(f"no SNS platform application {self._prefix}{push.app_id}")
        arn = found[0]
        try:
            endpoint = self._endpoints.get((arn, push.token))
            if endpoint is None:
                endpoint = str(
                    self.client.create_platform_endpoint(PlatformApplicationArn=arn, Token=push.token)[
                        "EndpointArn"
                    ]
                )
                self._endpoints[(arn, push.token)] = endpoint
            apns: dict[str, Any] = {
                "aps": {"alert": {"title": push.title, "body": push.alert} if push.title else push.alert}
            }
            apns.update(push.extra)
            fcm = {"notification": {"title": push.title or "", "body": push.alert}, "data": dict(push.extra)}
            message = {"default": push.alert, "GCM": json.dumps(fcm)}
            message["APNS_SANDBOX" if "APNS_SANDBOX" in arn else "APNS"] = json.dumps(apns)
            out = self.client.publish(
                TargetArn=endpoint, Message=json.dumps(message), MessageStructure="json"
            )
        except (ClientError, BotoCoreError) as exc:
            return _client_error(exc)
        return Accepted(str(out.get("MessageId", "")))


WEBHOOK_TIMEOUT_S = 10.0
"""A webhook call gives up after 10 s (then it is retried: the idempotency key makes that safe)."""
WEBHOOK_MAX_RESPONSE = 64 * 1024


def webhook_fetcher(allowed_targets: str = "") -> Fetcher:
    """The webhook fetcher: the Connected Content SSRF guard, plus the ``ADDRESS:PORT`` items of
    ``allowed_targets`` (comma-separated, IPv4 or ``[IPv6]``) that an operator explicitly allows.

    Raises :class:`~engagekit.errors.ConfigError` for a malformed item.
    """
    import ipaddress

    from engagekit.errors import ConfigError
    from engagekit.liquid.connected.guard import UnsafeTestAllowlist, UrlGuard
    from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher

    items = [i.strip() for i in allowed_targets.split(",") if i.strip()]
    if not items:
        return Urllib3Fetcher()
    networks, ports = [], []
    for item in items:
        address, _, port = item.rpartition(":")
        try:
            networks.append(ipaddress.ip_network(address.strip("[]")))
            ports.append(int(port))
        except ValueError as exc:
            raise ConfigError(f"WEBHOOK_ALLOWED_TARGETS: {item!r} is not ADDRESS:PORT") from exc
    return Urllib3Fetcher(UrlGuard(unsafe_test_allowlist=UnsafeTestAllowlist(networks=networks, ports=ports)))


class HttpWebhookProvider:
    """Webhooks over a :class:`~engagekit.liquid.connected.http.Fetcher` — by default the urllib3
    fetcher with the Connected Content SSRF guard (http/https on ports 80 and 443 only; no private,
    loopback or metadata addresses; no redirects), since webhook URLs are rendered templates."""

    def __init__(self, fetcher: Fetcher | None = None, timeout_s: float = WEBHOOK_TIMEOUT_S) -> None:
        if fetcher is None:
            from engagekit.liquid.connected.urllib3_fetcher import Urllib3Fetcher

            fetcher = Urllib3Fetcher()
        self._fetcher = fetcher
        self._timeout = timeout_s

    def send(self, request: WebhookRequest) -> ProviderResult:
        headers = {"User-Agent": "engagekit-webhooks/1", **request.headers}
        headers["Idempotency-Key"] = request.idempotency_key
        if request.body is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        http = HttpRequest(
            method=request.method,
            url=request.url,
            headers=headers,
            body=request.body.encode() if request.body is not None else None,
            timeout_seconds=self._timeout,
            max_bytes=WEBHOOK_MAX_RESPONSE,
        )
        try:
            response = self._fetcher.fetch(http)
        except FetchRefused as exc:
            return Rejected(f"refused: {exc}")
        except (FetchTimeout, FetchFailed, FetchTooLarge) as exc:
            return Transient(str(exc))
        if 200 <= response.status < 300:
            return Accepted(str(response.status))
        if response.status == 429 or response.status >= 500:
            return Transient(f"HTTP {response.status}", response.status)
        return Rejected(f"HTTP {response.status}", response.status)
