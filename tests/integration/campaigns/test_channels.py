"""Every channel on the local runtime: SES v2, SNS SMS, SNS push endpoints, the inbox, HTTPS webhooks
to a loopback server (retries with backoff on the platform clock, DLQ after the last try), and SES
feedback back into profiles and Currents."""

from __future__ import annotations

import json
from typing import Any

from engagekit.channels import service as channels

from infra.local import outbox
from infra.local.runtime import LocalPlatform
from tests.integration.campaigns.conftest import (
    EMAIL,
    Hook,
    currents,
    emails,
    loopback_webhooks,
    ok,
    status,
    track,
    verify_sender,
)


def send(platform: LocalPlatform, users: list[str], messages: dict[str, Any]) -> str:
    out = ok(platform, "POST", "/messages/send", {"external_user_ids": users, "messages": messages})
    platform.run_until_idle()
    return str(out["dispatch_id"])


def test_sms_goes_out_through_sns_to_subscribed_phones(platform: LocalPlatform) -> None:
    group = {"subscription_group_id": "sms-g", "subscription_state": "subscribed"}
    track(
        platform,
        {"external_id": "sms-1", "phone": "+14155550101", "subscription_groups": [group]},
        {"external_id": "sms-2", "phone": "+14155550102"},
    )
    dispatch_id = send(
        platform, ["sms-1", "sms-2"], {"sms": {"subscription_group_id": "sms-g", "body": "Hi {{${user_id}}}"}}
    )
    sent = [(m["to"], m["summary"]) for m in outbox.messages("sms")]
    assert ("+14155550101", "Hi sms-1") in sent and not any(to == "+14155550102" for to, _ in sent)
    assert status(platform, dispatch_id)["counts"] == {"sent": 1, "aborted": 1}
    [abort] = [e for e in currents(platform, "users.messages.sms.Abort") if e["dispatch_id"] == dispatch_id]
    assert abort["abort_type"] == "not_subscribed"


def test_push_goes_to_sns_platform_endpoints_of_the_users_tokens(platform: LocalPlatform) -> None:
    sns = platform.client("sns")
    sns.create_platform_application(
        Name="engagekit-shop-ios", Platform="APNS", Attributes={"PlatformCredential": "x"}
    )
    sns.create_platform_application(
        Name="engagekit-shop-android", Platform="GCM", Attributes={"PlatformCredential": "x"}
    )
    track(
        platform,
        {
            "external_id": "push-1",
            "push_tokens": [
                {"app_id": "shop-ios", "token": "a" * 64},
                {"app_id": "shop-android", "token": "fcm-1"},
            ],
        },
        {"external_id": "push-2"},
    )
    dispatch_id = send(
        platform, ["push-1", "push-2"], {"apple_push": {"alert": "Sale for {{${user_id}}}", "title": "Shop"}}
    )
    pushed = [m for m in outbox.messages("push") if m["to"] == "a" * 64]
    assert [m["summary"] for m in pushed] == ["Sale for push-1"]
    assert not any(m["to"] == "fcm-1" for m in outbox.messages("push"))
    payload = json.loads(json.loads(pushed[0]["detail"]["body"])["APNS"])
    assert payload["aps"]["alert"] == {"title": "Shop", "body": "Sale for push-1"}
    assert status(platform, dispatch_id)["counts"] == {"sent": 1, "aborted": 1}


def test_in_app_messages_land_in_the_inbox(platform: LocalPlatform) -> None:
    track(platform, {"external_id": "iam-1", "first_name": "Ivy"})
    send(platform, ["iam-1"], {"in_app_message": {"message": "Welcome {{${first_name}}}"}})
    out = ok(platform, "GET", "/in_app_messages/sync?external_id=iam-1", status=200)
    assert [m["message"] for m in out["in_app_messages"]] == ["Welcome Ivy"]


def test_webhooks_retry_5xx_with_backoff_and_the_same_idempotency_key(
    platform: LocalPlatform, hook: Hook
) -> None:
    channels.install("send_webhook", loopback_webhooks(hook.server_address[1]))
    try:
        track(platform, {"external_id": "hook-1"})
        hook.script = [500, 429]
        dispatch_id = send(
            platform,
            ["hook-1"],
            {
                "webhook": {
                    "url": f"{hook.url}/users/{{{{${{user_id}}}}}}",
                    "body": '{"id": "{{${user_id}}}"}',
                }
            },
        )
        assert [r["status"] for r in hook.requests] == [500]
        platform.advance(31)  # first backoff: at most 30 s (full jitter)
        assert [r["status"] for r in hook.requests] == [500, 429]
        platform.advance(61)  # second: at most 60 s
        assert [r["status"] for r in hook.requests] == [500, 429, 200]
        keys = {r["headers"]["Idempotency-Key"] for r in hook.requests}
        assert keys == {f"{dispatch_id}#webhook#{hook_user(platform)}"}
        assert hook.requests[-1]["path"] == "/users/hook-1" and json.loads(hook.requests[-1]["body"]) == {
            "id": "hook-1"
        }
        assert status(platform, dispatch_id)["counts"] == {"sent": 1}
        failures = [
            e for e in currents(platform, "users.messages.webhook.Failure") if e["dispatch_id"] == dispatch_id
        ]
        assert sorted(e["http_status_code"] for e in failures) == [429, 500]
        assert not any(e["is_terminal"] for e in failures)
    finally:
        channels.install("send_webhook", None)


def hook_user(platform: LocalPlatform) -> str:
    out = ok(platform, "POST", "/users/export/ids", {"external_ids": ["hook-1"]}, status=200)
    return str(out["users"][0]["braze_id"])


def test_webhooks_stop_after_the_last_try_and_the_message_goes_to_the_dlq(
    platform: LocalPlatform, hook: Hook
) -> None:
    channels.install("send_webhook", loopback_webhooks(hook.server_address[1]))
    try:
        track(platform, {"external_id": "hook-dead"})
        hook.requests.clear()
        hook.script = [503] * 10
        dispatch_id = send(platform, ["hook-dead"], {"webhook": {"url": f"{hook.url}/dead"}})
        for _ in range(6):
            platform.advance(901)
        assert [r["status"] for r in hook.requests] == [503] * 5
        got = status(platform, dispatch_id)
        assert got["counts"] == {"failed": 1} and got["status"] == "complete"
        failures = [
            e for e in currents(platform, "users.messages.webhook.Failure") if e["dispatch_id"] == dispatch_id
        ]
        assert [e["is_terminal"] for e in sorted(failures, key=lambda e: e["retry_count"])] == [False] * 4 + [
            True
        ]
        sqs = platform.client("sqs")
        dlq = platform.refs[("queue", "send_webhook-dlq", "url")]
        assert (
            int(
                sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
                    "Attributes"
                ]["ApproximateNumberOfMessages"]
            )
            == 1
        )
        hook.script = []
    finally:
        channels.install("send_webhook", None)


def ses_event(kind: str, address: str, dispatch_id: str, user_id: str, **detail: Any) -> str:
    event = {
        "eventType": kind,
        "mail": {
            "messageId": f"m-{dispatch_id}",
            "source": "news@shop.com",
            "destination": [address],
            "tags": {"dispatch_id": [dispatch_id], "user_id": [user_id], "step": ["email"]},
            "timestamp": "2026-03-01T12:00:00Z",
        },
        kind.lower(): detail,
    }
    return json.dumps({"Type": "Notification", "Message": json.dumps(event)})


def test_ses_feedback_updates_profiles_and_currents(platform: LocalPlatform) -> None:
    # the runtime publishes SES events for mail sent with the configuration set (SES's mailbox
    # simulator addresses bounce or complain); opens and clicks are put on the queue as SNS would
    verify_sender(platform)
    track(
        platform,
        {"external_id": "fb-ok", "email": "fb-ok@example.com"},
        {"external_id": "fb-bounce", "email": "bounce@simulator.amazonses.com"},
        {"external_id": "fb-spam", "email": "complaint@simulator.amazonses.com"},
    )
    dispatch_id = send(platform, ["fb-ok", "fb-bounce", "fb-spam"], {"email": EMAIL})
    users = ok(platform, "POST", "/users/export/ids", {"external_ids": ["fb-ok"]}, status=200)["users"]
    sqs = platform.client("sqs")
    queue = platform.refs[("queue", "ses_feedback", "url")]
    opened = [
        ses_event(
            "Open", "fb-ok@example.com", dispatch_id, users[0]["braze_id"], timestamp="2026-03-01T12:05:00Z"
        ),
        ses_event(
            "Click",
            "fb-ok@example.com",
            dispatch_id,
            users[0]["braze_id"],
            timestamp="2026-03-01T12:06:00Z",
            link="https://shop.com/x",
        ),
    ]
    for body in opened + opened:  # SNS delivers at least once: a repeat exports the same ids
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    platform.run_until_idle()

    def who(kind: str) -> list[str]:
        found = currents(platform, f"users.messages.email.{kind}")
        return sorted(e["external_user_id"] for e in found if e["dispatch_id"] == dispatch_id)

    assert who("Send") == ["fb-bounce", "fb-ok", "fb-spam"]
    assert who("Delivery") == ["fb-ok", "fb-spam"]
    assert who("Bounce") == ["fb-bounce"]
    assert who("MarkAsSpam") == ["fb-spam"]
    assert who("Open") == ["fb-ok"] and who("Click") == ["fb-ok"]
    # the hard bounce marks the address; the complaint restricts fb-spam to transactional email
    again = send(platform, ["fb-ok", "fb-bounce", "fb-spam"], {"email": EMAIL})
    aborts = {
        e["external_user_id"]: e["abort_type"]
        for e in currents(platform, "users.messages.email.Abort")
        if e["dispatch_id"] == again
    }
    assert aborts == {"fb-bounce": "invalid_address", "fb-spam": "not_subscribed"}
    assert len(emails("fb-ok@example.com")) == 2
