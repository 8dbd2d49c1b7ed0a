"""Queue messages: packing recipients by count and size, content keys, SendMessageBatch grouping,
the plan snapshot codec, audience units."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from engagekit.campaigns.audience import units_for
from engagekit.campaigns.definitions import Messages
from engagekit.campaigns.plan import (
    MAX_MESSAGE_BYTES,
    RECIPIENTS_PER_MESSAGE,
    Audience,
    DispatchPlan,
    SendBatch,
    batch_key,
    pack,
)
from engagekit.campaigns.queues import calls
from engagekit.errors import ValidationError


@dataclass
class PackCase:
    id: str
    recipients: int
    props_bytes: int
    messages: int


PACKS = [
    PackCase("one", 1, 0, 1),
    PackCase("exactly-one-message", RECIPIENTS_PER_MESSAGE, 0, 1),
    PackCase("one-more", RECIPIENTS_PER_MESSAGE + 1, 0, 2),
    PackCase("ten-thousand", 10_000, 0, 40),
    PackCase("large-properties-split-by-size", 50, 40_000, 9),
]


@pytest.mark.parametrize("case", PACKS, ids=lambda c: c.id)
def test_packing(case: PackCase) -> None:
    props = {"blob": "x" * case.props_bytes} if case.props_bytes else None
    recipients = [(f"user-{i}", props) for i in range(case.recipients)]
    batches = list(pack("d", "email", recipients))
    assert len(batches) == case.messages
    assert [uid for b in batches for uid, _ in b.recipients] == [uid for uid, _ in recipients]
    assert all(len(b.encode().encode()) <= MAX_MESSAGE_BYTES for b in batches)


def test_a_recipient_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ValidationError):
        list(pack("d", "email", [("u", {"blob": "x" * MAX_MESSAGE_BYTES})]))


def test_batch_keys_depend_on_content_only() -> None:
    assert batch_key("d", "email", ["a", "b"]) == batch_key("d", "email", ["a", "b"])
    assert batch_key("d", "email", ["a", "b"]) != batch_key("d", "sms", ["a", "b"])
    assert batch_key("d", "email", ["a"], salt="hold") != batch_key("d", "email", ["a"])


def test_send_batches_round_trip() -> None:
    batch = SendBatch("d", "email", "k", (("a", {"x": 1}), ("b", None)), {"a": 2})
    assert SendBatch.decode(batch.encode()) == batch
    with pytest.raises(ValueError):
        SendBatch.decode(json.dumps({"v": 9}))


def test_send_message_batch_calls_take_ten_entries_and_stay_under_the_size_limit() -> None:
    assert [len(c) for c in calls(["x"] * 25)] == [10, 10, 5]
    big = "y" * (100 * 1024)
    assert [len(c) for c in calls([big] * 5)] == [2, 2, 1]


def test_plans_round_trip_compressed() -> None:
    plan = DispatchPlan(
        dispatch_id="d",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        source="campaign",
        campaign_id="c",
        messages=Messages.model_validate({"email": {"from": "a@b.co", "body": "x" * 100_000}}),
        audience=Audience(kind="segment", segment_id="s"),
    )
    data = plan.encode()
    assert len(data) < 5_000
    assert DispatchPlan.decode(data) == plan
    assert plan.steps() == ["email"] and plan.channel("email") == "email"


def test_audience_units() -> None:
    assert [u.name for u in units_for(Audience(kind="segment", segment_id="s"))][:2] == ["seg-000", "seg-001"]
    assert len(units_for(Audience(kind="all"))) == 16
    assert units_for(Audience(kind="recipients")) == []
