"""What the channels sent locally: SES mail and SNS SMS as moto recorded them, plus messages the
local runtime records for channels moto does not keep (webhooks, push, in-app).

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
    with _lock:
        out.extend(_extra)
    if channel:
        out = [m for m in out if m["channel"] == channel]
    return list(reversed(out))[:limit]
