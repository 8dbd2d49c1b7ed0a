"""Exactly once on the in-memory path, under injected faults: duplicates, crashes, provider errors,
two dispatchers. Every test ends with zero duplicates, zero missing, and
target = sent + aborted + capped + failed. The same suite runs on moto in tests/integration."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from engagekit.campaigns import dispatch
from engagekit.campaigns.inmemory import World
from engagekit.campaigns.ledger import ClaimResult, Entry, InMemoryLedger, RecipientKey
from engagekit.campaigns.queues import FakeSendQueues
from engagekit.channels.ports import Accepted, Rejected, Transient, WebhookRequest
from engagekit.channels.sender import CALL_GROUP, LEASE_S
from engagekit.clock import ManualClock

from tests.unit.campaigns.conftest import campaign, users

N = 600  # a broadcast over 16 membership shards: 16 queue messages of about 37 recipients


class Crash(Exception):
    """A sender dying (Lambda timeout, OOM, host loss)."""


class CrashingLedger(InMemoryLedger):
    """Crashes the sender right after its claim (``after_claim``) or after the calling mark
    (``after_calling``, i.e. during the provider call), ``times`` times."""

    def __init__(self, inner: InMemoryLedger, *, after_claim: int = 0, after_calling: int = 0) -> None:
        self.__dict__.update(inner.__dict__)
        self.after_claim = after_claim
        self.after_calling = after_calling
        self.stranded = 0

    def claim(self, keys: Iterable[RecipientKey], **kw: Any) -> list[ClaimResult]:
        out = super().claim(keys, **kw)
        if self.after_claim and any(r.won for r in out):
            self.after_claim -= 1
            self.stranded += sum(r.won for r in out)
            raise Crash("died after the claim, before any provider call")
        return out

    def mark_calling(self, entries: Iterable[Entry], *, owner: str) -> set[RecipientKey]:
        out = super().mark_calling(entries, owner=owner)
        if self.after_calling and out:
            self.after_calling -= 1
            self.stranded += len(out)
            raise Crash("died during the provider calls")
        return out


def install_ledger(world: World, ledger: InMemoryLedger) -> None:
    world.ledger = ledger
    world.campaigns.ledger = ledger
    for sender in world.senders.values():
        sender.ledger = ledger
        sender.plans._ledger = ledger  # type: ignore[attr-defined]


def broadcast(world: World, n: int = N, channel: str = "email") -> str:
    ids = users(world, *(f"u{i:04d}" for i in range(n)))
    for uid in ids:
        world.memberships.add("all", uid)
    messages: dict[str, Any] = {"email": {"from": "a@shop.com", "subject": "Hi", "body": "x"}}
    if channel == "webhook":
        messages = {"webhook": {"url": "https://hooks.example.com/{{${user_id}}}"}}
    world.campaign("c1", campaign(segment_id="all", messages=messages))
    return str(world.trigger({"campaign_id": "c1", "broadcast": True})["dispatch_id"])


def settle(world: World, clock: ManualClock, rounds: int = 8) -> None:
    for _ in range(rounds):
        world.deliver()
        clock.advance(LEASE_S + 1)


def assert_exactly_once(world: World, dispatch_id: str, sent_to: list[str], n: int = N) -> dict[str, int]:
    """Zero duplicates, zero missing, target = terminal outcomes; returns the counts."""
    per_address = Counter(sent_to)
    assert max(per_address.values(), default=0) <= 1, "a recipient got two messages"
    status = world.status(dispatch_id)
    counts = status["counts"]
    terminal = sum(counts.get(k, 0) for k in ("sent", "aborted", "capped", "failed"))
    assert status["target"] == n == terminal, status
    assert counts.get("sent", 0) == len(per_address)
    entries = [e for k, e in world.ledger.entries.items() if k.dispatch_id == dispatch_id]
    assert len(entries) == n and all(e.terminal for e in entries), "a recipient has no outcome"
    sends = Counter(
        e.user_id
        for e in world.events("users.messages.email.Send") + world.events("users.messages.webhook.Send")
    )
    assert max(sends.values(), default=0) <= 1, "two Send events for one recipient"
    assert len(sends) == counts.get("sent", 0)
    return dict(counts)


def test_every_message_delivered_twice(world: World, clock: ManualClock) -> None:
    dispatch_id = broadcast(world)
    world.deliver(duplicate=True)
    counts = assert_exactly_once(world, dispatch_id, [e.to for e in world.email.sent])
    assert counts == {"sent": N}
    assert world.email.calls == N


def test_a_crash_after_the_claim_is_retried_safely_once_the_lease_expires(
    world: World, clock: ManualClock
) -> None:
    ledger = CrashingLedger(world.ledger, after_claim=2)
    install_ledger(world, ledger)
    dispatch_id = broadcast(world)
    world.deliver()
    assert ledger.stranded > 0
    assert world.email.calls == N - ledger.stranded  # two messages died holding their claims
    world.deliver()  # redelivered before the lease expires: busy, nothing sent twice
    assert world.email.calls == N - ledger.stranded
    settle(world, clock)
    assert assert_exactly_once(world, dispatch_id, [e.to for e in world.email.sent]) == {"sent": N}


def test_a_crash_during_the_provider_call_never_resends_email(world: World, clock: ManualClock) -> None:
    ledger = CrashingLedger(world.ledger, after_calling=1)
    install_ledger(world, ledger)
    dispatch_id = broadcast(world)
    settle(world, clock)
    counts = assert_exactly_once(world, dispatch_id, [e.to for e in world.email.sent])
    assert ledger.stranded > 0
    assert counts == {"sent": N - ledger.stranded, "failed": ledger.stranded}
    reasons = {e.reason for e in world.ledger.entries.values() if e.state == "failed"}
    assert reasons == {"outcome_unknown: the sender stopped during the provider call"}


def test_a_crash_during_the_provider_call_resends_webhooks_with_the_same_key(
    world: World, clock: ManualClock
) -> None:
    keys: list[str] = []

    def endpoint(req: WebhookRequest) -> Any:
        keys.append(req.idempotency_key)  # the receiver got the request...
        if len(keys) == 10:
            raise Crash("...and the sender died before reading the response")
        return Accepted("200")

    world.webhook.script = endpoint
    dispatch_id = broadcast(world, channel="webhook")
    settle(world, clock)
    calls = Counter(keys)
    # the crashed group's recipients (at most one call group) were called again — webhooks are
    # retry-safe — with the very same keys, so a receiver deduping on Idempotency-Key acts once per
    # recipient; nobody outside that group was called twice
    again = [n for n in calls.values() if n > 1]
    assert set(again) == {2} and 0 < len(again) <= CALL_GROUP
    assert len(calls) == N
    status = world.status(dispatch_id)
    assert status["target"] == N and status["counts"] == {"sent": N}


def test_provider_5xx_in_the_middle_of_a_batch_retries_only_the_failures(
    world: World, clock: ManualClock
) -> None:
    calls = Counter[str]()

    def answer(req: Any) -> Any:
        calls[req.to] += 1
        if calls[req.to] == 1 and int(req.to[1:5]) % 7 == 3:
            return Transient("503 Service Unavailable", 503)
        return Accepted("id")

    world.email.script = answer
    dispatch_id = broadcast(world)
    settle(world, clock)
    assert assert_exactly_once(world, dispatch_id, [e.to for e in world.email.sent]) == {"sent": N}
    retried = {a for a, n in calls.items() if n == 2}
    assert retried == {f"u{i:04d}@example.com" for i in range(N) if i % 7 == 3}
    assert max(calls.values()) == 2


def test_a_provider_rejection_is_a_terminal_failure(world: World, clock: ManualClock) -> None:
    world.email.script = lambda req: Rejected("MessageRejected: Email address is not verified.")
    dispatch_id = broadcast(world, n=10)
    settle(world, clock)
    assert world.status(dispatch_id)["counts"] == {"failed": 10}
    assert len(world.events("users.messages.email.Bounce")) == 10


def test_transient_failures_become_terminal_after_the_last_attempt(world: World, clock: ManualClock) -> None:
    world.email.script = lambda req: Transient("Throttling")
    dispatch_id = broadcast(world, n=5)
    settle(world, clock)
    status = world.status(dispatch_id)
    assert status["counts"] == {"failed": 5} and status["status"] == "complete"
    assert world.email.calls == 5 * world.max_receive


def test_two_dispatchers_for_one_dispatch(world: World, clock: ManualClock) -> None:
    dispatch_id = broadcast(world)
    world.run_started()
    once = len(world.queues.bodies["send_email"])
    dispatch.run_inline(world.campaigns, dispatch_id)  # a second execution for the same dispatch
    assert len(world.queues.bodies["send_email"]) == 2 * once
    world.deliver()
    counts = assert_exactly_once(world, dispatch_id, [e.to for e in world.email.sent])
    assert counts == {"sent": N} and world.deliveries["send_email"] == 2 * once


class DyingQueues(FakeSendQueues):
    """SQS sends that kill the dispatcher after ``after`` calls (once)."""

    def __init__(self, inner: FakeSendQueues, after: int) -> None:
        self.__dict__.update(inner.__dict__)
        self.after = after

    def send(self, queue: str, bodies: Any) -> None:
        if self.after == 0:
            self.after = -1
            raise Crash("dispatcher died")
        super().send(queue, bodies)
        self.after -= 1


def test_a_dispatcher_crash_and_restart_halfway(world: World, clock: ManualClock) -> None:
    ids = users(world, *(f"u{i:04d}" for i in range(N)))
    for uid in ids:
        world.memberships.add("all", uid)
    world.campaign("c1", campaign(segment_id="all"))
    world.queues = world.campaigns.queues = DyingQueues(world.queues, after=8)  # type: ignore[assignment]
    dispatch_id = str(world.trigger({"campaign_id": "c1", "broadcast": True})["dispatch_id"])
    with pytest.raises(Crash):
        world.run_started()
    world.deliver()  # what was enqueued before the crash goes out
    assert 0 < world.email.calls < N
    dispatch.run_inline(world.campaigns, dispatch_id)  # the restart enqueues everything again
    settle(world, clock)
    assert assert_exactly_once(world, dispatch_id, [e.to for e in world.email.sent]) == {"sent": N}
