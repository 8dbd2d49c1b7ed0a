"""Exactly once on the local runtime (moto DynamoDB, SQS, Step Functions, SES), under injected faults:
every SQS message delivered twice, a sender crash after its ledger claim and before the provider
call, provider 5xx in the middle of a batch, two dispatchers for one dispatch, a dispatcher crash
and restart halfway. Each ends with zero duplicates, zero missing, target = sent + aborted +
capped + failed, and the send run SUCCEEDED."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from engagekit.campaigns.ledger import ClaimResult
from engagekit.channels import service as channels
from engagekit.channels.adapters import EmailAdapter
from engagekit.channels.ports import EmailRequest, ProviderResult, Transient
from engagekit.channels.service import SenderSettings, build_sender
from engagekit.config import load_settings
from engagekit.segments.membership import MembershipStore

from infra.local.runtime import LocalPlatform
from tests.integration.campaigns.conftest import (
    EMAIL,
    emails,
    executions,
    handler_module,
    ok,
    status,
    track,
    verify_sender,
)

N = 40
VISIBILITY_S = 361  # the send queues' visibility timeout (360 s) has passed, and so has the 180 s lease


class Crash(Exception):
    """A sender or dispatcher dying."""


class Wrapped:
    """Delegates everything to ``inner`` except what a subclass overrides."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CrashAfterClaim(Wrapped):
    def __init__(self, inner: Any, times: int) -> None:
        super().__init__(inner)
        self.times = times
        self.stranded = 0

    def claim(self, keys: Any, **kw: Any) -> list[ClaimResult]:
        out: list[ClaimResult] = self.inner.claim(keys, **kw)
        if self.times and any(r.won for r in out):
            self.times -= 1
            self.stranded += sum(r.won for r in out)
            raise Crash("sender died after its claim, before the provider call")
        return out


class FlakySes(Wrapped):
    """SES answering 503 to every 4th address the first time."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.seen: Counter[str] = Counter()

    def send(self, email: EmailRequest) -> ProviderResult:
        self.seen[email.to] += 1
        if self.seen[email.to] == 1 and int(email.to.split("-")[-1].split("@")[0]) % 4 == 0:
            return Transient("ServiceUnavailable: 503", 503)
        result: ProviderResult = self.inner.send(email)
        return result


class DyingQueues(Wrapped):
    def __init__(self, inner: Any, after: int) -> None:
        super().__init__(inner)
        self.after = after

    def send(self, queue: str, bodies: Any) -> None:
        if self.after == 0:
            self.after = -1
            raise Crash("dispatcher died halfway")
        self.inner.send(queue, bodies)
        self.after -= 1


def prepare(platform: LocalPlatform, name: str) -> str:
    """N users in segment ``name`` and a campaign ``name`` targeting it; returns the campaign id."""
    verify_sender(platform)
    track(platform, *({"external_id": f"{name}-{i}", "email": f"{name}-{i}@example.com"} for i in range(N)))
    members = MembershipStore(platform.refs[("table", "memberships", "name")])
    for start in range(0, N, 50):  # /users/export/ids takes 50 ids
        ids = [f"{name}-{i}" for i in range(start, min(N, start + 50))]
        for user in ok(platform, "POST", "/users/export/ids", {"external_ids": ids}, status=200)["users"]:
            members.add(name, user["braze_id"])
    ok(
        platform,
        "PUT",
        f"/campaigns/{name}",
        {"name": name, "segment_id": name, "messages": {"email": EMAIL}},
        status=201,
    )
    return name


def broadcast(platform: LocalPlatform, campaign_id: str) -> str:
    return str(
        ok(platform, "POST", "/campaigns/trigger/send", {"campaign_id": campaign_id, "broadcast": True})[
            "dispatch_id"
        ]
    )


def settle(platform: LocalPlatform, dispatch_id: str, rounds: int = 8) -> dict[str, Any]:
    platform.run_until_idle()
    for _ in range(rounds):
        got = status(platform, dispatch_id)
        runs = [e for e in executions(platform) if e["name"] == dispatch_id]
        if got["status"] == "complete" and runs and all(r["status"] == "SUCCEEDED" for r in runs):
            return got
        platform.advance(VISIBILITY_S)
    raise AssertionError(f"dispatch {dispatch_id} did not settle: {status(platform, dispatch_id)}")


def assert_exactly_once(platform: LocalPlatform, name: str, dispatch_id: str) -> dict[str, int]:
    got = settle(platform, dispatch_id)
    per_address = Counter(m["to"] for m in emails() if m["to"].startswith(f"{name}-"))
    assert max(per_address.values()) == 1, "a recipient got two emails"
    assert len(per_address) == N, f"missing: {N - len(per_address)}"
    counts: dict[str, int] = got["counts"]
    assert got["target"] == N == sum(counts.get(k, 0) for k in ("sent", "aborted", "capped", "failed"))
    return counts


@pytest.fixture
def sender_installed() -> Iterator[None]:
    yield
    channels.install("send_email", None)


def email_sender(**changes: Any) -> Any:
    svc = build_sender("send_email", load_settings(SenderSettings))
    return replace(svc, **changes) if changes else svc


def test_every_sqs_message_delivered_twice(platform: LocalPlatform) -> None:
    name = prepare(platform, "dup")
    mapping = next(q for q in platform.queues if q.function == "send_email")
    original = mapping._invoke
    calls = Counter[str]()

    def twice(function: str, event: Any) -> Any:
        calls["batches"] += 1
        original(function, event)
        return original(function, event)

    mapping._invoke = twice
    try:
        dispatch_id = broadcast(platform, name)
        assert assert_exactly_once(platform, name, dispatch_id) == {"sent": N}
    finally:
        mapping._invoke = original
    assert calls["batches"] > 0


def test_sender_crash_after_claim_before_provider_call(
    platform: LocalPlatform, sender_installed: None
) -> None:
    name = prepare(platform, "crash")
    svc = email_sender()
    crashing = CrashAfterClaim(svc.ledger, times=3)
    svc.ledger = crashing  # type: ignore[assignment]
    svc.plans._ledger = crashing  # type: ignore[attr-defined]
    channels.install("send_email", svc)
    dispatch_id = broadcast(platform, name)
    platform.run_until_idle()
    assert crashing.stranded > 0
    assert len([m for m in emails() if m["to"].startswith("crash-")]) == N - crashing.stranded
    assert assert_exactly_once(platform, name, dispatch_id) == {"sent": N}


def test_provider_5xx_in_the_middle_of_a_batch(platform: LocalPlatform, sender_installed: None) -> None:
    name = prepare(platform, "flaky")
    svc = email_sender()
    adapter = svc.adapters["email"]
    assert isinstance(adapter, EmailAdapter)
    flaky = FlakySes(adapter.provider)
    adapter.provider = flaky  # type: ignore[assignment]
    channels.install("send_email", svc)
    dispatch_id = broadcast(platform, name)
    assert assert_exactly_once(platform, name, dispatch_id) == {"sent": N}
    assert sorted(n for n in flaky.seen.values() if n > 1) == [2] * (N // 4)


def test_two_dispatchers_for_the_same_dispatch(platform: LocalPlatform) -> None:
    name = prepare(platform, "twice")
    dispatch_id = broadcast(platform, name)
    sfn = platform.client("stepfunctions")
    sfn.start_execution(
        stateMachineArn=platform.refs[("state_machine", "send_run", "arn")],
        name=f"{dispatch_id}-again",
        input=f'{{"dispatch_id": "{dispatch_id}"}}',
    )
    assert assert_exactly_once(platform, name, dispatch_id) == {"sent": N}
    again = [e for e in executions(platform) if e["name"] == f"{dispatch_id}-again"]
    platform.advance(VISIBILITY_S)
    assert [e["status"] for e in again] and sfn.describe_execution(executionArn=again[0]["executionArn"])[
        "status"
    ] == "SUCCEEDED"


def test_dispatcher_crash_and_restart_halfway(platform: LocalPlatform) -> None:
    name = prepare(platform, "restart")
    module = handler_module(platform, "send_dispatch")
    svc = module.service()
    module.install(replace(svc, queues=DyingQueues(svc.queues, after=5)))
    try:
        dispatch_id = broadcast(platform, name)
        assert assert_exactly_once(platform, name, dispatch_id) == {"sent": N}
        history = platform.client("stepfunctions").get_execution_history(
            executionArn=next(e for e in executions(platform) if e["name"] == dispatch_id)["executionArn"],
            maxResults=1000,
        )["events"]
        assert any(e["type"] == "TaskFailed" or e["type"] == "LambdaFunctionFailed" for e in history)
    finally:
        module.install(None)
