"""The send pipeline every channel sender runs for one queue message (a :class:`SendBatch`).

For the message's recipients, in order:

1. **claim** each ``(dispatch_id, step, user_id)`` in the ledger with a conditional write, before
   anything else (:mod:`engagekit.campaigns.ledger` has the states and the rules for dead senders);
   recipients already finished by this message are only re-reported (same event ids), others'
   are skipped, live claims of another sender make the message retry later;
2. read the claimed users' profiles (BatchGetItem, 100 a request);
3. decide per user: deleted profile → aborted ``user_deleted``; ``in_local_time`` not reached →
   deferred; re-eligibility → aborted ``not_reeligible``; address and subscription state (§8) →
   aborted ``invalid_address``/``not_subscribed``; quiet hours in the user's zone → deferred
   (``hold``) or aborted ``quiet_hours``; global frequency caps (calendar days in the user's zone)
   → capped; render every Liquid field (one :class:`~engagekit.liquid.Renderer` per container):
   ``abort_message`` → aborted ``liquid_abort_message``, Connected Content ``:retry`` → deferred;
4. the campaign **rate limit** (messages per minute and channel) grants a number of sends; the rest
   wait for the next minute (aborted ``rate_limited`` once 72 hours late, braze-api.md §4);
5. in groups of :data:`CALL_GROUP`: mark the recipients ``calling`` (with the frequency-cap
   history fields), **call the provider** for each, write the group's outcomes, then the
   re-eligibility receipts of the recipients that were ``sent`` (only a sent message uses up a
   user's eligibility; failures, aborts, caps and holds do not);
6. write every outcome (``sent``, ``failed``, ``retry``, ``deferred``, ``aborted``, ``capped``), put
   deferred users in a held message (back on the queue when due, by the scheduler), export the
   Currents events of the outcomes and, when the message is finished, its summary.

The message is reported failed (SQS redelivers it after its visibility timeout) when a recipient
is busy or must be retried; :class:`RetryLater` carries the visibility to set (webhook backoff).
After the last attempt, transient failures are recorded as terminal ``failed`` outcomes and the
message is failed once more so SQS moves it to the queue's DLQ (redriving it later is harmless: the
ledger has the outcomes).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from engagekit import clock
from engagekit.campaigns.definitions import CAPPED_CHANNELS, FrequencyCapRule
from engagekit.campaigns.ledger import Entry, Ledger, RecipientKey
from engagekit.campaigns.plan import QUEUE_OF_CHANNEL, DispatchPlan, Recipient, SendBatch, batch_key
from engagekit.campaigns.rules import (
    DEFAULT_ZONE,
    applicable,
    capped_by,
    local_send_instant,
    longest_window,
    quiet_until,
    zone,
)
from engagekit.campaigns.schedules import Hold, ScheduleStore
from engagekit.campaigns.store import CachedDefinitions
from engagekit.channels.adapters import (
    ChannelAdapter,
    Delivery,
    Prepared,
    Refusal,
    SendContext,
    abort_type_of,
    message_ids,
    render_fields,
)
from engagekit.currents.events import CurrentsEvent, UserIds
from engagekit.currents.exporter import CurrentsExporter
from engagekit.domain.profile import Profile
from engagekit.errors import EngagekitError
from engagekit.liquid import Aborted, CampaignInfo, Renderer, RenderRequest, Retry, SyntaxProblem
from engagekit.profiles.store import ProfileStore

logger = logging.getLogger(__name__)

LEASE_S = 180.0
"""A claim's lease, seconds: longer than a sender's Lambda timeout (60 s) with margin, shorter than
its queue's visibility timeout (360 s), so a redelivered message finds a dead sender's lease
expired and takes over."""
MAX_ATTEMPTS = 5
"""Deliveries of a message before a transient failure becomes terminal (the queues'
``maxReceiveCount``: the last attempt's failure is recorded before SQS moves it to the DLQ)."""
LOCAL_TIME_GRACE_S = 15 * 60
"""A local-time send whose local instant passed more than this before the dispatch was created is
aborted (``local_time_passed``) rather than sent late."""
RATE_LIMIT_GIVE_UP_S = 72 * 3600
"""Messages delayed 72 hours by a rate limit are aborted (braze-api.md §4)."""
CALL_GROUP = 25
"""Recipients marked ``calling`` (and their outcomes written) per group of provider calls: a sender
that dies during the calls leaves at most this many recipients ambiguous."""
BACKOFF_BASE_S = 30
BACKOFF_MAX_S = 900
"""Webhook retries wait ``uniform(0, min(900, 30 * 2**(attempt-1)))`` seconds (full jitter)."""


class RetryLater(EngagekitError):
    """The message must be delivered again later; ``visibility_s`` when the sender chose the delay."""

    def __init__(self, message: str, visibility_s: int | None = None) -> None:
        super().__init__(message)
        self.visibility_s = visibility_s


@dataclass
class SenderConfig:
    lease_s: float = LEASE_S
    max_attempts: int = MAX_ATTEMPTS
    company_zone: str = DEFAULT_ZONE
    backoff: bool = False
    """Set the message's visibility to an exponential backoff with jitter on retry (webhooks)."""
    call_group: int = CALL_GROUP


class PlanCache:
    """Dispatch plans by id, read from the ledger once per container (LRU of ``size``)."""

    def __init__(self, ledger: Ledger, size: int = 256) -> None:
        self._ledger = ledger
        self._size = size
        self._plans: OrderedDict[str, DispatchPlan] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, dispatch_id: str) -> DispatchPlan:
        with self._lock:
            plan = self._plans.get(dispatch_id)
            if plan is not None:
                self._plans.move_to_end(dispatch_id)
                return plan
        record = self._ledger.get_dispatch(dispatch_id)
        if record is None:
            raise RetryLater(f"dispatch {dispatch_id} is not recorded (yet)")
        with self._lock:
            self._plans[dispatch_id] = record.plan
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        return record.plan


@dataclass
class SenderService:
    """One sender function's ports (one per container). ``adapters`` by channel."""

    adapters: Mapping[str, ChannelAdapter]
    ledger: Ledger
    profiles: ProfileStore
    definitions: CachedDefinitions
    renderer: Renderer
    exporter: CurrentsExporter
    schedules: ScheduleStore
    config: SenderConfig = field(default_factory=SenderConfig)
    plans: PlanCache = field(init=False)

    def __post_init__(self) -> None:
        self.plans = PlanCache(self.ledger)


@dataclass
class Report:
    """What one message produced: outcome counts of its recipients (owned by it), events, flags."""

    counts: Counter[str] = field(default_factory=Counter)
    events: list[CurrentsEvent] = field(default_factory=list)
    busy: int = 0
    retry: int = 0
    skipped: int = 0
    exhausted: int = 0
    """Transient failures made terminal on the last attempt: the message then goes to the DLQ."""

    @property
    def finished(self) -> bool:
        return not self.busy and not self.retry


def _cap_rules(svc: SenderService) -> list[FrequencyCapRule]:
    return [FrequencyCapRule.model_validate(d.body) for d in svc.definitions.list("frequency_cap")]


def _epoch(at: datetime) -> float:
    return at.timestamp()


class _Run:
    """The state of processing one message (see the module docstring for the steps)."""

    def __init__(self, svc: SenderService, batch: SendBatch, receive_count: int) -> None:
        self.svc = svc
        self.batch = batch
        self.attempt = max(1, receive_count)
        self.plan = svc.plans.get(batch.dispatch_id)
        self.step = batch.step
        self.message = self.plan.message(batch.step)
        self.channel = self.plan.channel(batch.step)
        self.adapter = svc.adapters[self.channel]
        self.now = clock.now()
        self.now_s = _epoch(self.now)
        self.owner = secrets.token_hex(8)
        self.report = Report()
        self.outcomes: list[Entry] = []
        self.written: set[RecipientKey] = set()
        self._flushed_ids: set[int] = set()
        self.deferred: dict[float, list[Recipient]] = {}
        self.render_attempts: dict[str, int] = {}
        self.properties = {uid: tp for uid, tp in batch.recipients}
        self.profiles: dict[str, Profile] = {}
        self.ids = message_ids(self.plan)

    # --- context helpers --------------------------------------------------------------------------
    def key(self, user_id: str) -> RecipientKey:
        return RecipientKey(self.batch.dispatch_id, self.step, user_id)

    def ctx(self, key: RecipientKey) -> SendContext:
        profile = self.profiles.get(key.user_id)
        user = UserIds.of(profile) if profile else UserIds(key.user_id)
        return SendContext(key, self.plan, user, self.ids, self.now, self.attempt)

    def tz_of(self, profile: Profile) -> Any:
        return zone(profile.time_zone, self.svc.config.company_zone)

    def outcome(self, key: RecipientKey, state: str, **fields: Any) -> None:
        self.outcomes.append(Entry(key, state, msg=self.batch.key, at=self.now_s, **fields))  # type: ignore[arg-type]

    def abort(self, key: RecipientKey, abort_type: str, reason: str, address: str | None = None) -> None:
        state = "capped" if abort_type == "frequency_capped" else "aborted"
        self.outcome(key, state, abort_type=abort_type, reason=reason, address=address)

    def defer(self, key: RecipientKey, until: datetime) -> None:
        due = max(_epoch(until), self.now_s)
        self.outcome(key, "deferred", until=due)
        self.deferred.setdefault(due, []).append((key.user_id, self.properties.get(key.user_id)))

    # --- 1. claim ---------------------------------------------------------------------------------
    def claim(self) -> list[RecipientKey]:
        svc, now_s = self.svc, self.now_s
        lease = now_s + svc.config.lease_s
        keys = [self.key(uid) for uid, _ in self.batch.recipients]
        won: list[RecipientKey] = []
        owned_done: list[Entry] = []
        for result in svc.ledger.claim(
            keys, owner=self.owner, msg=self.batch.key, now=now_s, lease_until=lease
        ):
            entry = result.entry
            if result.won:
                won.append(result.key)
            elif entry is None:
                self.report.busy += 1
            elif entry.terminal:
                if entry.msg == self.batch.key:
                    owned_done.append(entry)
                else:
                    self.report.skipped += 1
            elif entry.state == "deferred":
                if entry.msg == self.batch.key:
                    self.report.counts["deferred"] += 1
            elif entry.state == "calling" and (entry.lease_until or 0) < now_s:
                self._ambiguous(entry, won, lease)
            else:
                self.report.busy += 1
        self.owned_done = owned_done
        return won

    def _ambiguous(self, entry: Entry, won: list[RecipientKey], lease: float) -> None:
        """A dead sender left ``entry`` in ``calling``: retry if the provider is idempotent, else
        fail it (``outcome_unknown``) — never risk a second message."""
        taken = self.svc.ledger.take_over(
            entry, owner=self.owner, msg=self.batch.key, now=self.now_s, lease_until=lease
        )
        if not taken:
            self.report.busy += 1
            return
        if self.adapter.retry_safe:
            won.append(entry.key)
            return
        self.outcome(
            entry.key,
            "failed",
            reason="outcome_unknown: the sender stopped during the provider call",
            address=entry.address,
        )

    # --- 3. decide --------------------------------------------------------------------------------
    def decide(self, won: list[RecipientKey]) -> list[tuple[RecipientKey, Prepared]]:
        svc, plan = self.svc, self.plan
        capped = plan.counts_toward_caps and self.channel in CAPPED_CHANNELS
        rules = applicable(_cap_rules(svc), self.channel, plan.tags) if capped else []
        reel = plan.reeligibility if plan.source == "campaign" and plan.campaign_id else None
        receipts = svc.ledger.receipts(plan.campaign_id or "", [k.user_id for k in won]) if reel else {}
        ready: list[tuple[RecipientKey, Prepared]] = []
        for key in won:
            profile = self.profiles.get(key.user_id)
            if profile is None:
                self.abort(key, "user_deleted", "the user no longer exists")
                continue
            tz = self.tz_of(profile)
            if plan.local_time is not None:
                at = local_send_instant(plan.local_time, tz)
                if at < plan.created_at - timedelta(seconds=LOCAL_TIME_GRACE_S):
                    self.abort(
                        key, "local_time_passed", f"{plan.local_time} had passed in {profile.time_zone}"
                    )
                    continue
                if at > self.now:
                    self.defer(key, at)
                    continue
            if reel is not None:
                last = receipts.get(key.user_id)
                if (
                    last is not None
                    and last.dispatch_id != plan.dispatch_id
                    and (not reel.enabled or self.now_s - last.at < reel.after_s)
                ):
                    self.abort(key, "not_reeligible", "the user already received this campaign")
                    continue
            address = self.adapter.check(profile, plan, self.step, self.message)
            if isinstance(address, Refusal):
                self.abort(key, address.abort_type, address.reason)
                continue
            if plan.quiet_hours is not None and self.channel in CAPPED_CHANNELS:
                until = quiet_until(plan.quiet_hours, self.now, tz)
                if until is not None:
                    if plan.quiet_hours.fallback == "hold":
                        self.defer(key, until)
                    else:
                        self.abort(key, "quiet_hours", "inside the user's quiet hours", address)
                    continue
            if rules:
                since = longest_window(rules, self.now, tz)
                history = svc.ledger.history(key.user_id, _epoch(since)) if since else []
                rule = capped_by(rules, history, self.now, tz)
                if rule is not None:
                    self.abort(
                        key,
                        "frequency_capped",
                        f"frequency cap: {rule.limit} {rule.channel} per "
                        f"{rule.window.amount} {rule.window.unit}",
                        address,
                    )
                    continue
            prepared = self.render(key, profile, address)
            if prepared is not None:
                ready.append((key, prepared))
        return ready

    def render(self, key: RecipientKey, profile: Profile, address: str) -> Prepared | None:
        templates = self.adapter.templates(self.message, self.svc.renderer)
        if isinstance(templates, Refusal):
            self.abort(key, templates.abort_type, templates.reason, address)
            return None
        props = {**self.plan.trigger_properties, **(self.properties.get(key.user_id) or {})}
        attempt = self.batch.render_attempts.get(key.user_id, 0)
        request = RenderRequest(
            trigger_properties=props,
            campaign=CampaignInfo(
                api_id=self.plan.campaign_id,
                name=self.plan.campaign_name,
                dispatch_id=self.plan.dispatch_id,
                message_name=self.step,
                message_api_id=self.step,
            ),
            attempt=attempt,
        )
        result = render_fields(self.svc.renderer, templates, profile, request)
        if isinstance(result, dict):
            extras = result.pop("__extras__", None)
            return Prepared(address, result, {"json": extras} if extras else {})
        if isinstance(result, Aborted):
            self.abort(key, abort_type_of(result), result.reason or "{% abort_message %} called", address)
        elif isinstance(result, Retry):
            self.render_attempts[key.user_id] = attempt + 1
            self.defer(key, self.now + timedelta(seconds=result.delay_seconds))
        elif isinstance(result, SyntaxProblem):
            self.abort(
                key, "render_error", f"{result.message} (line {result.line}, column {result.column})", address
            )
        else:
            self.abort(key, "render_error", "unexpected render result", address)
        return None

    # --- 4. rate limit ----------------------------------------------------------------------------
    def rate_limit(self, ready: list[tuple[RecipientKey, Prepared]]) -> list[tuple[RecipientKey, Prepared]]:
        limit = self.plan.rate_limit_per_minute
        if not limit or not ready:
            return ready
        bucket = f"{self.plan.campaign_id or self.plan.dispatch_id}#{self.channel}"
        window = int(self.now_s // 60)
        granted = self.svc.ledger.reserve(bucket, window, len(ready), limit)
        late = (self.now - self.plan.created_at).total_seconds() > RATE_LIMIT_GIVE_UP_S
        for key, prepared in ready[granted:]:
            if late:
                self.abort(
                    key, "rate_limited", "delayed 72 hours by the campaign's rate limit", prepared.address
                )
            else:
                self.defer(key, datetime.fromtimestamp((window + 1) * 60, UTC))
        return ready[:granted]

    # --- 5. call ----------------------------------------------------------------------------------
    def call(self, ready: list[tuple[RecipientKey, Prepared]]) -> None:
        """Call the provider in groups of ``config.call_group``: mark the group ``calling``, call,
        write its outcomes. A sender dying mid-group leaves at most one group ambiguous."""
        size = self.svc.config.call_group
        for start in range(0, len(ready), size):
            first = len(self.outcomes)
            self._call_group(ready[start : start + size])
            self._flush(self.outcomes[first:])

    def _call_group(self, ready: list[tuple[RecipientKey, Prepared]]) -> None:
        svc, plan = self.svc, self.plan
        counts = plan.counts_toward_caps and self.channel in CAPPED_CHANNELS
        marks = [
            Entry(
                key,
                "calling",
                owner=self.owner,
                msg=self.batch.key,
                address=prepared.address,
                counts=counts,
                channel=self.channel,
                tags=tuple(plan.tags),
                campaign_id=plan.campaign_id,
                sent_at=self.now_s,
            )
            for key, prepared in ready
        ]
        owned = svc.ledger.mark_calling(marks, owner=self.owner) if marks else set()
        for key, prepared in ready:
            if key not in owned:
                self.report.busy += 1
                continue
            delivery = self.adapter.deliver(self.ctx(key), self.message, prepared)
            self._delivered(key, delivery, counts)

    def _delivered(self, key: RecipientKey, delivery: Delivery, counts: bool) -> None:
        address = delivery.address
        if delivery.outcome == "sent":
            self.outcome(
                key,
                "sent",
                provider_id=delivery.provider_id,
                address=address,
                counts=counts,
                channel=self.channel,
                tags=tuple(self.plan.tags),
                campaign_id=self.plan.campaign_id,
                sent_at=self.now_s,
            )
        elif delivery.outcome == "retry" and self.attempt < self.svc.config.max_attempts:
            self.outcome(key, "retry", reason=delivery.reason, address=address)
        else:
            reason = delivery.reason or "failed"
            if delivery.outcome == "retry":
                reason = f"{reason} (after {self.attempt} attempts)"
                self.report.exhausted += 1
            self.outcome(key, "failed", reason=reason, address=address)

    # --- 6. record --------------------------------------------------------------------------------
    def hold(self) -> None:
        queue = QUEUE_OF_CHANNEL[self.channel]
        for due, recipients in sorted(self.deferred.items()):
            ids = [uid for uid, _ in recipients]
            key = batch_key(self.batch.dispatch_id, self.step, ids, salt=f"hold:{self.batch.key}:{due}")
            attempts = {u: n for u, n in self.render_attempts.items() if u in ids}
            body = SendBatch(self.batch.dispatch_id, self.step, key, tuple(recipients), attempts).encode()
            self.svc.schedules.put_hold(Hold(key, queue, body, datetime.fromtimestamp(due, UTC)))

    def _flush(self, entries: list[Entry]) -> None:
        """Write ``entries`` (outcomes of this run) to the ledger; remember which were written;
        then write the re-eligibility receipts of those that were ``sent``."""
        if entries:
            written = self.svc.ledger.record(entries, owner=self.owner)
            self.written |= written
            self._receipts([e for e in entries if e.key in written])
        self._flushed_ids.update(id(e) for e in entries)

    def _receipts(self, entries: Sequence[Entry]) -> None:
        """Record that the users of the ``sent`` entries received the campaign (re-eligibility).

        Only a ``sent`` outcome is a receipt: a failed, bounced, aborted, capped or deferred attempt
        does not use up the user's eligibility (Braze counts a user as having received a campaign
        when a message was sent, braze-api.md §4 "Re-eligibility"). Written after the outcome, so a
        sender dying in between leaves the entry ``sent`` with this message as its ``msg``: the
        redelivery re-reports it (:meth:`record`) and writes the receipt then (idempotent put).
        """
        plan = self.plan
        if plan.source != "campaign" or not plan.campaign_id or plan.reeligibility is None:
            return
        by_at: dict[float, list[str]] = {}
        for entry in entries:
            if entry.state == "sent":
                by_at.setdefault(entry.at if entry.at is not None else self.now_s, []).append(
                    entry.key.user_id
                )
        for at, users in sorted(by_at.items()):
            self.svc.ledger.put_receipts(plan.campaign_id, users, at, plan.dispatch_id)

    def record(self) -> None:
        self.hold()
        self._flush([e for e in self.outcomes if id(e) not in self._flushed_ids])
        for entry in self.outcomes:
            if entry.key not in self.written:
                self.report.busy += 1
                continue
            self._report(entry, fresh=True)
        for entry in self.owned_done:
            self._report(entry, fresh=False)
        self._receipts(self.owned_done)

    def _report(self, entry: Entry, *, fresh: bool) -> None:
        ctx = self.ctx(entry.key)
        adapter, report = self.adapter, self.report
        if entry.state == "retry":
            report.retry += 1
            report.events.extend(adapter.failure_events(ctx, entry, terminal=False))
            return
        report.counts[entry.state] += 1
        if entry.state == "sent":
            report.events.extend(adapter.sent_events(ctx, entry))
        elif entry.state in ("aborted", "capped"):
            event = adapter.abort_event(ctx, entry)
            if event is not None:
                report.events.append(event)
        elif entry.state == "failed":
            report.events.extend(adapter.failure_events(ctx, entry, terminal=True))

    def finish(self) -> Report:
        svc, report = self.svc, self.report
        if report.events:
            svc.exporter.export(report.events)
            svc.exporter.flush()
        if report.finished:
            counts = {k: v for k, v in report.counts.items() if v}
            svc.ledger.put_summary(self.batch.dispatch_id, self.batch.key, counts)
        return report


def process(svc: SenderService, batch: SendBatch, receive_count: int = 1) -> Report:
    """Run the pipeline (module docstring) for one queue message; returns its report.

    Raises :class:`RetryLater` when the message must come back (busy recipients, transient provider
    failures); ledger, profile-store and Currents errors propagate (the message is redelivered and
    the ledger makes the retry safe).
    """
    run = _Run(svc, batch, receive_count)
    won = run.claim()
    loaded = [k.user_id for k in won] + [e.key.user_id for e in run.owned_done]
    run.profiles = svc.profiles.get_profiles(loaded, consistent=False) if loaded else {}
    ready = run.decide(won)
    ready = run.rate_limit(ready)
    if ready:
        run.call(ready)
    run.record()
    report = run.finish()
    if not report.finished:
        visibility = backoff_s(run.attempt) if svc.config.backoff and report.retry else None
        raise RetryLater(
            f"{report.busy} recipients busy, {report.retry} to retry in message {batch.key}", visibility
        )
    if report.exhausted:
        # every outcome is recorded (the dispatch can complete); failing the record once more moves
        # the message to its DLQ (SQS redrive at maxReceiveCount) for operators to inspect
        raise RetryLater(f"{report.exhausted} recipients failed after the last attempt: to the DLQ", 1)
    return report


def backoff_s(attempt: int, rng: random.Random | None = None) -> int:
    """Visibility before retry ``attempt + 1``: full jitter over ``min(900, 30 * 2**(attempt-1))`` s,
    at least 1 s (AWS Architecture Blog, "Exponential Backoff And Jitter")."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    return max(1, int((rng or random).uniform(0, ceiling)))


def process_all(svc: SenderService, bodies: Sequence[tuple[str, int]]) -> tuple[list[Report], list[int]]:
    """Process ``(body, receive_count)`` messages in order (tests and the bench); returns the
    reports and the indexes of messages that must be retried."""
    reports: list[Report] = []
    failed: list[int] = []
    for i, (body, count) in enumerate(bodies):
        try:
            reports.append(process(svc, SendBatch.decode(body), count))
        except RetryLater:
            failed.append(i)
    return reports, failed
