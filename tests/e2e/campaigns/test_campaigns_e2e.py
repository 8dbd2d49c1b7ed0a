"""Campaigns and channels over real HTTP on the local runtime (background pump, scaled clock), in
calendar order: the clock starts on 2026-03-07 and only moves forward (quiet hours across New
York's spring-forward on 2026-03-08, frequency caps across midnight in Los Angeles on 2026-03-10).

Covers every messaging endpoint and channel, per-recipient trigger properties, attributes applied
before rendering, recipient dedupe, abort_message outcomes, and the chaos cases with injected faults
(zero duplicates, zero missing, target = sent + aborted + capped + failed).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from engagekit.campaigns.ledger import ClaimResult
from engagekit.channels import service as channels
from engagekit.channels.service import SenderSettings, build_sender
from engagekit.clock import ScaledClock
from engagekit.config import load_settings
from engagekit.segments.membership import MembershipStore

from infra.local.runtime import LocalPlatform
from tests.e2e.conftest import Http

START = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
EMAIL = {
    "from": "Shop <news@shop.com>",
    "subject": "Hi {{${first_name}}}",
    "body": "<p>{{${first_name}}}</p>",
}


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(clock=ScaledClock(1.0, start=START), api_port=0, aws_port=0) as running:
        aws = boto3.client(
            "sesv2",
            endpoint_url=running.aws_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        aws.create_email_identity(EmailIdentity="shop.com")
        yield running


@pytest.fixture(scope="module")
def http(platform: LocalPlatform) -> Http:
    assert platform.api_key
    return Http(platform.api_url, platform.api_key)


def ok(http: Http, method: str, path: str, body: Any = None, status: int = 201) -> dict[str, Any]:
    got, _, out = http.call(method, path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def wait_for(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def outbox(http: Http, channel: str) -> list[dict[str, Any]]:
    out = http.call(
        "GET", "/_local/outbox", headers={"x-engagekit-query": f"channel={channel}&limit=100000"}
    )[2]
    return list(out["messages"])


def done(http: Http, dispatch_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def complete() -> bool:
        code, _, out = http.call("GET", f"/dispatches/{dispatch_id}")
        if code == 404:  # a schedule that has not fired yet
            return False
        assert code == 200, out
        found.update(out)
        return found["status"] == "complete"

    wait_for(complete)
    return found


def track(http: Http, *attributes: dict[str, Any]) -> None:
    objects = list(attributes)
    for start in range(0, len(objects), 75):
        ok(http, "POST", "/users/track", {"attributes": objects[start : start + 75]})


def braze_ids(http: Http, external_ids: list[str]) -> list[str]:
    out: list[str] = []
    for start in range(0, len(external_ids), 50):
        users = ok(
            http, "POST", "/users/export/ids", {"external_ids": external_ids[start : start + 50]}, status=200
        )
        out += [u["braze_id"] for u in users["users"]]
    return out


def advance_to(platform: LocalPlatform, when: datetime) -> None:
    step = (when - platform.clock.now()).total_seconds()
    assert step >= 0, "the clock only moves forward"
    platform.clock.advance(step)  # type: ignore[attr-defined]


# --- definitions and campaign triggers ------------------------------------------------------------


def test_campaign_definitions_over_http(http: Http) -> None:
    body = {"name": "E2E", "tags": ["promo"], "messages": {"email": EMAIL}}
    assert ok(http, "PUT", "/campaigns/e2e-def", body, status=201)["version"] == 1
    assert ok(http, "GET", "/campaigns/e2e-def", status=200)["messages"] == body["messages"]
    rule = {"channel": "any", "limit": 3, "window": {"amount": 1, "unit": "weeks"}}
    assert ok(http, "PUT", "/frequency_caps/e2e-rule", rule, status=201)["limit"] == 3
    assert ok(http, "GET", "/frequency_caps/e2e-rule", status=200)["window"] == rule["window"]
    assert http.call("GET", "/campaigns/nope")[0] == 404


def test_engagekit_apply_manages_campaigns_and_caps(
    platform: LocalPlatform, http: Http, tmp_path: Any
) -> None:
    from engagekit.cli import app
    from typer.testing import CliRunner

    files = [
        {
            "kind": "frequency_cap",
            "id": "e2e-apply-cap",
            "channel": "sms",
            "limit": 1,
            "window": {"amount": 2, "unit": "days"},
        },
        {
            "kind": "campaign",
            "id": "e2e-apply",
            "name": "Applied",
            "tags": ["a"],
            "messages": {"email": EMAIL},
        },
    ]
    (tmp_path / "defs.json").write_text(json.dumps(files))
    env = {"ENGAGEKIT_API_URL": platform.api_url, "ENGAGEKIT_API_KEY": platform.api_key or ""}
    first = CliRunner().invoke(app, ["apply", str(tmp_path)], env=env)
    assert first.exit_code == 0, first.output
    assert ok(http, "GET", "/campaigns/e2e-apply", status=200)["tags"] == ["a"]
    assert ok(http, "GET", "/frequency_caps/e2e-apply-cap", status=200)["limit"] == 1
    again = CliRunner().invoke(app, ["apply", str(tmp_path)], env=env)
    assert again.exit_code == 0, again.output
    assert ok(http, "GET", "/campaigns/e2e-apply", status=200)["version"] == 1


def test_trigger_send_properties_attributes_dedupe_and_abort(http: Http) -> None:
    track(
        http,
        {"external_id": "t-ann", "email": "t-ann@example.com", "first_name": "Ann"},
        {"external_id": "t-bob", "email": "t-bob@example.com", "first_name": "Bob"},
        {"external_id": "t-cat", "email": "t-cat@example.com", "first_name": "Cat"},
    )
    body = (
        "{% if custom_attribute.${vip} != true %}{% abort_message('not vip') %}{% endif %}"
        "{{${first_name}}}: {{api_trigger_properties.${deal}}}"
    )
    ok(
        http,
        "PUT",
        "/campaigns/e2e-trig",
        {"name": "T", "messages": {"email": {**EMAIL, "body": body}}},
        status=201,
    )
    out = ok(
        http,
        "POST",
        "/campaigns/trigger/send",
        {
            "campaign_id": "e2e-trig",
            "trigger_properties": {"deal": "10%"},
            "recipients": [
                {
                    "external_user_id": "t-ann",
                    "trigger_properties": {"deal": "25%"},
                    "attributes": {"vip": True},
                },
                {"external_user_id": "t-bob", "attributes": {"vip": True, "first_name": "Robert"}},
                {"email": "t-ann@example.com"},
                {"external_user_id": "t-cat"},
            ],
        },
    )
    got = done(http, out["dispatch_id"])
    assert got["target"] == 3 and got["counts"] == {"sent": 2, "aborted": 1}
    mails = {m["to"]: m["detail"]["body"] for m in outbox(http, "email") if m["to"].startswith("t-")}
    assert mails == {"t-ann@example.com": "Ann: 25%", "t-bob@example.com": "Robert: 10%"}


def test_broadcast_to_a_segment_runs_the_send_run(platform: LocalPlatform, http: Http) -> None:
    ids = [f"b-{i}" for i in range(30)]
    track(http, *({"external_id": x, "email": f"{x}@example.com"} for x in ids))
    members = MembershipStore(platform.refs[("table", "memberships", "name")])
    for uid in braze_ids(http, ids[:20]):
        members.add("e2e-seg", uid)
    ok(
        http,
        "PUT",
        "/campaigns/e2e-b",
        {"name": "B", "segment_id": "e2e-seg", "messages": {"email": EMAIL}},
        status=201,
    )
    out = ok(http, "POST", "/campaigns/trigger/send", {"campaign_id": "e2e-b", "broadcast": True})
    got = done(http, out["dispatch_id"])
    assert got["target"] == 20 and got["counts"] == {"sent": 20}


# --- /messages/send on every channel ------------------------------------------------------------------


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _Receive)


class _Receive(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        self.server.calls.append(
            {"path": self.path, "key": self.headers.get("Idempotency-Key"), "body": body}
        )
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


def test_messages_send_reaches_every_channel(platform: LocalPlatform, http: Http) -> None:
    from tests.integration.campaigns.conftest import loopback_webhooks

    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    channels.install("send_webhook", loopback_webhooks(receiver.server_address[1]))
    sns = boto3.client(
        "sns",
        endpoint_url=platform.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    sns.create_platform_application(
        Name="engagekit-e2e-app", Platform="GCM", Attributes={"PlatformCredential": "k"}
    )
    try:
        track(
            http,
            {
                "external_id": "m-all",
                "first_name": "Mo",
                "email": "m-all@example.com",
                "phone": "+14155550199",
                "subscription_groups": [
                    {"subscription_group_id": "e2e-sms", "subscription_state": "subscribed"}
                ],
                "push_tokens": [{"app_id": "e2e-app", "token": "fcm-e2e"}],
            },
        )
        out = ok(
            http,
            "POST",
            "/messages/send",
            {
                "external_user_ids": ["m-all"],
                "messages": {
                    "email": EMAIL,
                    "sms": {"subscription_group_id": "e2e-sms", "body": "SMS for {{${first_name}}}"},
                    "webhook": {
                        "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
                        "body": '{"u": "{{${user_id}}}"}',
                    },
                    "android_push": {"alert": "Push for {{${first_name}}}"},
                    "content_card": {"title": "Card", "description": "For {{${first_name}}}"},
                    "in_app_message": {"message": "Hello {{${first_name}}}"},
                },
            },
        )
        got = done(http, out["dispatch_id"])
        assert got["counts"] == {"sent": 6}
        assert [m["summary"] for m in outbox(http, "sms") if m["to"] == "+14155550199"] == ["SMS for Mo"]
        assert [m["summary"] for m in outbox(http, "push") if m["to"] == "fcm-e2e"] == ["Push for Mo"]
        assert [json.loads(c["body"]) for c in receiver.calls] == [{"u": "m-all"}]
        assert receiver.calls[0]["key"].startswith(out["dispatch_id"])
        cards = ok(http, "GET", "/content_cards/sync?external_id=m-all", status=200)["cards"]
        assert [c["description"] for c in cards] == ["For Mo"]
        iams = ok(http, "GET", "/in_app_messages/sync?external_id=m-all", status=200)["in_app_messages"]
        assert [m["message"] for m in iams] == ["Hello Mo"]
    finally:
        channels.install("send_webhook", None)
        receiver.shutdown()


def test_send_ids_and_schedules(platform: LocalPlatform, http: Http) -> None:
    ok(http, "PUT", "/campaigns/e2e-s", {"name": "S", "messages": {"email": EMAIL}}, status=201)
    assert (
        ok(http, "POST", "/sends/id/create", {"campaign_id": "e2e-s", "send_id": "e2e-send"})["send_id"]
        == "e2e-send"
    )
    track(http, {"external_id": "s-1", "email": "s-1@example.com"})
    when = "2026-03-07T21:00:00Z"
    first = ok(
        http,
        "POST",
        "/campaigns/trigger/schedule/create",
        {
            "campaign_id": "e2e-s",
            "send_id": "e2e-send",
            "recipients": [{"external_user_id": "s-1"}],
            "schedule": {"time": when},
        },
    )
    second = ok(
        http,
        "POST",
        "/messages/schedule/create",
        {"external_user_ids": ["s-1"], "messages": {"email": EMAIL}, "schedule": {"time": when}},
    )
    ok(
        http,
        "POST",
        "/messages/schedule/update",
        {"schedule_id": second["schedule_id"], "schedule": {"time": "2026-03-07T22:00:00Z"}},
    )
    third = ok(
        http,
        "POST",
        "/messages/schedule/create",
        {"external_user_ids": ["s-1"], "messages": {"email": EMAIL}, "schedule": {"time": when}},
    )
    ok(http, "POST", "/messages/schedule/delete", {"schedule_id": third["schedule_id"]})
    advance_to(platform, datetime(2026, 3, 7, 21, 1, tzinfo=UTC))
    assert done(http, first["dispatch_id"])["counts"] == {"sent": 1}
    assert len([m for m in outbox(http, "email") if m["to"] == "s-1@example.com"]) == 1
    advance_to(platform, datetime(2026, 3, 7, 22, 1, tzinfo=UTC))
    assert done(http, second["dispatch_id"])["counts"] == {"sent": 1}
    assert http.call("GET", f"/dispatches/{third['dispatch_id']}")[0] == 404


# --- time: quiet hours across DST, frequency caps across the user's midnight ----------------------------


def test_quiet_hours_hold_across_the_dst_change(platform: LocalPlatform, http: Http) -> None:
    track(http, {"external_id": "q-ny", "email": "q-ny@example.com", "time_zone": "America/New_York"})
    quiet = {"start": "22:00", "end": "08:00", "fallback": "hold"}
    ok(
        http,
        "PUT",
        "/campaigns/e2e-q",
        {"name": "Q", "quiet_hours": quiet, "messages": {"email": EMAIL}},
        status=201,
    )
    advance_to(platform, datetime(2026, 3, 8, 4, 0, tzinfo=UTC))  # 23:00 EST, Mar 7
    out = ok(
        http,
        "POST",
        "/campaigns/trigger/send",
        {"campaign_id": "e2e-q", "recipients": [{"external_user_id": "q-ny"}]},
    )
    wait_for(
        lambda: (
            ok(http, "GET", f"/dispatches/{out['dispatch_id']}", status=200)["counts"].get("deferred") == 1
        )
    )
    # 08:00 local is 12:00Z after the change to EDT (13:00Z with the old offset)
    advance_to(platform, datetime(2026, 3, 8, 11, 58, tzinfo=UTC))
    time.sleep(0.5)
    assert [m for m in outbox(http, "email") if m["to"] == "q-ny@example.com"] == []
    advance_to(platform, datetime(2026, 3, 8, 12, 1, tzinfo=UTC))
    assert done(http, out["dispatch_id"])["counts"] == {"sent": 1, "deferred": 1}


def test_frequency_caps_across_campaigns_on_the_users_calendar_days(
    platform: LocalPlatform, http: Http
) -> None:
    rule = {"channel": "email", "tag": "e2e-cap", "limit": 1, "window": {"amount": 1, "unit": "days"}}
    ok(http, "PUT", "/frequency_caps/e2e-daily", rule, status=201)
    track(
        http,
        {"external_id": "c-utc", "email": "c-utc@example.com"},
        {"external_id": "c-la", "email": "c-la@example.com", "time_zone": "America/Los_Angeles"},
    )
    for name in ("e2e-cap-a", "e2e-cap-b"):
        ok(
            http,
            "PUT",
            f"/campaigns/{name}",
            {"name": name, "tags": ["e2e-cap"], "messages": {"email": EMAIL}},
            status=201,
        )
    recipients = [{"external_user_id": "c-utc"}, {"external_user_id": "c-la"}]
    advance_to(platform, datetime(2026, 3, 10, 6, 59, tzinfo=UTC))  # 23:59 PDT on Mar 9 in LA
    first = ok(
        http, "POST", "/campaigns/trigger/send", {"campaign_id": "e2e-cap-a", "recipients": recipients}
    )
    assert done(http, first["dispatch_id"])["counts"] == {"sent": 2}
    advance_to(platform, datetime(2026, 3, 10, 7, 1, tzinfo=UTC))  # 00:01 PDT on Mar 10
    second = ok(
        http, "POST", "/campaigns/trigger/send", {"campaign_id": "e2e-cap-b", "recipients": recipients}
    )
    assert done(http, second["dispatch_id"])["counts"] == {"sent": 1, "capped": 1}
    mails = Counter(m["to"] for m in outbox(http, "email") if m["to"].startswith("c-"))
    assert mails == {"c-utc@example.com": 1, "c-la@example.com": 2}


# --- chaos ---------------------------------------------------------------------------------------------

CHAOS_N = 24


class CrashAfterClaim:
    def __init__(self, inner: Any) -> None:
        self.inner, self.crashes = inner, 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def claim(self, keys: Any, **kw: Any) -> list[ClaimResult]:
        out: list[ClaimResult] = self.inner.claim(keys, **kw)
        if self.crashes and any(r.won for r in out):
            self.crashes -= 1
            raise RuntimeError("sender died after its claim")
        return out


def chaos_dispatch(platform: LocalPlatform, http: Http, name: str) -> str:
    ids = [f"{name}-{i}" for i in range(CHAOS_N)]
    track(http, *({"external_id": x, "email": f"{x}@example.com"} for x in ids))
    members = MembershipStore(platform.refs[("table", "memberships", "name")])
    for uid in braze_ids(http, ids):
        members.add(name, uid)
    ok(
        http,
        "PUT",
        f"/campaigns/{name}",
        {"name": name, "segment_id": name, "messages": {"email": EMAIL}},
        status=201,
    )
    return str(
        ok(http, "POST", "/campaigns/trigger/send", {"campaign_id": name, "broadcast": True})["dispatch_id"]
    )


def assert_exactly_once(platform: LocalPlatform, http: Http, name: str, dispatch_id: str) -> None:
    def settled() -> bool:
        got = ok(http, "GET", f"/dispatches/{dispatch_id}", status=200)
        if got["status"] != "complete":
            platform.clock.advance(361)  # type: ignore[attr-defined]
            return False
        return True

    wait_for(settled, timeout_s=40)
    got = ok(http, "GET", f"/dispatches/{dispatch_id}", status=200)
    mails = Counter(m["to"] for m in outbox(http, "email") if m["to"].startswith(f"{name}-"))
    assert len(mails) == CHAOS_N and set(mails.values()) == {1}
    terminal = sum(got["counts"].get(k, 0) for k in ("sent", "aborted", "capped", "failed"))
    assert got["target"] == CHAOS_N == terminal


def test_chaos_every_message_delivered_twice(platform: LocalPlatform, http: Http) -> None:
    mapping = next(q for q in platform.queues if q.function == "send_email")
    original = mapping._invoke
    mapping._invoke = lambda fn, ev: (original(fn, ev), original(fn, ev))[1]
    try:
        assert_exactly_once(platform, http, "x-dup", chaos_dispatch(platform, http, "x-dup"))
    finally:
        mapping._invoke = original


def test_chaos_sender_crash_after_claim(platform: LocalPlatform, http: Http) -> None:
    svc = build_sender("send_email", load_settings(SenderSettings))
    crashing = CrashAfterClaim(svc.ledger)
    svc = replace(svc, ledger=crashing)
    channels.install("send_email", svc)
    try:
        assert_exactly_once(platform, http, "x-crash", chaos_dispatch(platform, http, "x-crash"))
        assert crashing.crashes == 0
    finally:
        channels.install("send_email", None)


def test_chaos_two_dispatchers(platform: LocalPlatform, http: Http) -> None:
    dispatch_id = chaos_dispatch(platform, http, "x-two")
    platform.client("stepfunctions").start_execution(
        stateMachineArn=platform.refs[("state_machine", "send_run", "arn")],
        name=f"{dispatch_id}-2",
        input=json.dumps({"dispatch_id": dispatch_id}),
    )
    assert_exactly_once(platform, http, "x-two", dispatch_id)
