"""Webhook message events (braze-api.md §6 table; Abort, Failure from CE)."""

from __future__ import annotations

from typing import Literal

from engagekit.currents.events.base import _Abort, _DispatchedEvent


class WebhookSend(_DispatchedEvent):
    """``users.messages.webhook.Send``: the webhook request was made."""

    VIEW = "webhook_sends"
    event_type: Literal["users.messages.webhook.Send"] = "users.messages.webhook.Send"
    message_extras: str | None = None


class WebhookFailure(_DispatchedEvent):
    """``users.messages.webhook.Failure``: the endpoint failed; ``is_terminal`` when no retry follows.

    ``webhook_duration`` is milliseconds; ``content_length`` bytes of the response.
    """

    VIEW = "webhook_failures"
    event_type: Literal["users.messages.webhook.Failure"] = "users.messages.webhook.Failure"
    endpoint_url: str | None = None
    host: str | None = None
    url_path: str | None = None
    http_status_code: int | None = None
    content_length: int | None = None
    raw_response: str | None = None
    retry_count: int | None = None
    is_terminal: bool | None = None
    webhook_duration: int | None = None
    webhook_failure_source: str | None = None


class WebhookAbort(_Abort, _DispatchedEvent):
    """``users.messages.webhook.Abort``: the send was stopped before the request."""

    VIEW = "webhook_aborts"
    event_type: Literal["users.messages.webhook.Abort"] = "users.messages.webhook.Abort"
