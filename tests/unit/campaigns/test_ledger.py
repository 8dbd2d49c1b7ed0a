"""The ledger's claim rules, table-driven; the same table runs against DynamoDB (moto) in
tests/integration/campaigns/test_campaigns_api.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engagekit.campaigns.ledger import Entry, InMemoryLedger, Ledger, RecipientKey

NOW = 1_772_366_400.0  # 2026-03-01T12:00Z


@dataclass
class Case:
    id: str
    state: str | None  # what the entry is before the claim (None: absent)
    offset_s: float  # lease_until (claimed/calling) or until (deferred), relative to NOW
    won: bool


CLAIMS = [
    Case("absent", None, 0, True),
    Case("claimed-live-lease", "claimed", 60, False),
    Case("claimed-expired-lease", "claimed", -1, True),
    Case("calling-live-lease", "calling", 60, False),
    Case("calling-expired-is-ambiguous", "calling", -1, False),
    Case("sent", "sent", 0, False),
    Case("aborted", "aborted", 0, False),
    Case("failed", "failed", 0, False),
    Case("deferred-not-due", "deferred", 60, False),
    Case("deferred-due", "deferred", 0, True),
    Case("retry", "retry", 0, True),
]


def put_state(ledger: Ledger, key: RecipientKey, state: str | None, offset_s: float) -> None:
    """Bring ``key``'s entry into ``state`` through the ledger's own operations."""
    if state is None:
        return
    lease = NOW + (offset_s if state in ("claimed", "calling") else 600)
    [claimed] = ledger.claim([key], owner="first", msg="m1", now=NOW - 1_000, lease_until=lease)
    assert claimed.won
    if state == "calling":
        assert ledger.mark_calling([Entry(key, "calling", owner="first", msg="m1")], owner="first") == {key}
    elif state != "claimed":
        until = NOW + offset_s if state == "deferred" else None
        outcome = Entry(key, state, msg="m1", until=until, at=NOW - 900)  # type: ignore[arg-type]
        assert ledger.record([outcome], owner="first") == {key}


def check_claim(ledger: Ledger, case: Case, dispatch_id: str) -> None:
    key = RecipientKey(dispatch_id, "email", f"user-{case.id}")
    put_state(ledger, key, case.state, case.offset_s)
    [result] = ledger.claim([key], owner="second", msg="m2", now=NOW, lease_until=NOW + 180)
    assert result.won == case.won
    if not case.won:
        assert result.entry is not None and result.entry.state == case.state
        assert result.entry.msg == "m1"


@pytest.mark.parametrize("case", CLAIMS, ids=lambda c: c.id)
def test_claim_rules(case: Case) -> None:
    check_claim(InMemoryLedger(), case, "d1")


def check_take_over(ledger: Ledger, dispatch_id: str) -> None:
    key = RecipientKey(dispatch_id, "email", "ambiguous")
    put_state(ledger, key, "calling", -1)
    [refused] = ledger.claim([key], owner="second", msg="m2", now=NOW, lease_until=NOW + 180)
    assert refused.entry is not None
    assert ledger.take_over(refused.entry, owner="second", msg="m2", now=NOW, lease_until=NOW + 180)
    assert not ledger.take_over(refused.entry, owner="third", msg="m3", now=NOW, lease_until=NOW + 180)
    # only the new owner may write the outcome
    assert ledger.record([Entry(key, "failed", msg="m2", reason="x")], owner="first") == set()
    assert ledger.record([Entry(key, "failed", msg="m2", reason="x")], owner="second") == {key}


def test_an_ambiguous_entry_is_taken_over_once() -> None:
    check_take_over(InMemoryLedger(), "d2")


def check_history_and_rate(ledger: Ledger, dispatch_id: str) -> None:
    key = RecipientKey(dispatch_id, "email", "hist-user")
    ledger.claim([key], owner="o", msg="m", now=NOW, lease_until=NOW + 60)
    sent = Entry(
        key, "sent", msg="m", counts=True, channel="email", tags=("promo",), campaign_id="c", sent_at=NOW
    )
    ledger.record([sent], owner="o")
    [record] = ledger.history("hist-user", NOW - 1)
    assert (record.channel, record.tags, record.dispatch_id) == ("email", frozenset({"promo"}), dispatch_id)
    assert ledger.history("hist-user", NOW + 1) == []
    assert [ledger.reserve(f"{dispatch_id}-b", 1, 7, 10), ledger.reserve(f"{dispatch_id}-b", 1, 7, 10)] == [
        7,
        3,
    ]
    assert ledger.reserve(f"{dispatch_id}-b", 2, 7, 10) == 7


def test_history_index_and_rate_windows() -> None:
    check_history_and_rate(InMemoryLedger(), "d3")
