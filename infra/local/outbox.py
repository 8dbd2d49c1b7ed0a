"""What the channels sent locally: SES mail, SNS SMS and SNS mobile push (platform endpoints) as moto
recorded them, content cards and in-app messages from the ``inbox`` table, plus messages the local
runtime records itself (webhooks go out over real HTTP and are not kept here).

Each entry: ``{"time": ISO UTC, "channel", "to", "summary", "detail": {...}}``, newest first.
"""

from __future__ import annotations

import threading
from typing import Any

from infra.local.lambdas import ACCOUNT_ID, REGION

_extra: list[dict[str, Any]] = []
_lock = threading.Lock()


def record(entry: dict[str, Any]) -> None:
    """Add a message the runtime observed (e.g. a webhook it delivered on loopback)."""
    with _lock:
        _extra.append(entry)


def clear() -> None:
    with _lock:
        _extra.clear()


def messages(channel: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The outbox, newest first, optionally of one channel."""
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    out: list[dict[str, Any]] = []
    ses = ses_backends[ACCOUNT_ID][REGION]
    for msg in getattr(ses, "sent_messages", []):
        body = getattr(msg, "body", None) or getattr(msg, "raw_data", "") or ""
        out.append(
            {
                "time": "",
                "channel": "email",
                "to": ", ".join(
                    getattr(msg, "destinations", {}).get("ToAddresses", [])
                    if isinstance(getattr(msg, "destinations", None), dict)
                    else []
                ),
                "summary": f"{getattr(msg, 'subject', '')} | {str(body)[:200]}",
                "detail": {
                    "id": getattr(msg, "id", ""),
                    "source": getattr(msg, "source", ""),
                    "subject": getattr(msg, "subject", ""),
                    "body": body,
                },
            }
        )
    sns = sns_backends[ACCOUNT_ID][REGION]
    for message_id, (phone, text) in getattr(sns, "sms_messages", {}).items():
        out.append(
            {
                "time": "",
                "channel": "sms",
                "to": phone,
                "summary": text,
                "detail": {"id": message_id, "body": text},
            }
        )
    for endpoint in getattr(sns, "platform_endpoints", {}).values():
        for message_id, text in getattr(endpoint, "messages", {}).items():
            out.append(
                {
                    "time": "",
                    "channel": "push",
                    "to": getattr(endpoint, "token", ""),
                    "summary": _push_summary(text),
                    "detail": {"id": message_id, "endpoint": getattr(endpoint, "arn", ""), "body": text},
                }
            )
    out.extend(_inbox_items())
    with _lock:
        out.extend(_extra)
    if channel:
        out = [m for m in out if m["channel"] == channel]
    return list(reversed(out))[:limit]


def _push_summary(text: str) -> str:
    """The alert of an SNS mobile-push message (JSON with a ``default`` key), else the text."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return text[:200]
    return str(data.get("default", text))[:200] if isinstance(data, dict) else text[:200]


def _inbox_items(table: str = "inbox") -> list[dict[str, Any]]:
    """Content cards and in-app messages in the ``inbox`` table (engagekit.channels.inbox)."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        found = dynamodb_backends[ACCOUNT_ID][REGION].get_table(table)
    except Exception:  # no inbox table in this manifest
        return []
    out: list[dict[str, Any]] = []
    for item in found.all_items():
        doc = item.to_json()["Attributes"]
        channel = doc.get("channel", {}).get("S", "content_card")
        out.append(
            {
                "time": "",
                "channel": channel,
                "to": doc.get("user_id", {}).get("S", ""),
                "summary": doc.get("payload", {}).get("S", "")[:200],
                "detail": {"card_id": doc.get("card_id", {}).get("S", "")},
            }
        )
    return out
