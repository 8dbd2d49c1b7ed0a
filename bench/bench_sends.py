"""Send path benchmark (issue 6): a broadcast to 100,000 users, with fake providers.

What runs, and on what:

- **dispatch**: the real ``send_run`` state machine (``infra/statemachines/send_run.asl.json``) on
  moto's Step Functions interpreter in the local runtime, whose ``send_dispatch`` task is the real
  handler with its service installed over in-memory ports (memberships with 100,000 members in a
  segment, the ledger, counting SQS queues). State transitions are counted from the execution
  history (every ``*StateEntered`` event, which is what Step Functions Standard bills).
- **senders**: every queued message through the real send pipeline (``engagekit.channels.sender``:
  claim, profile read, subscription and cap checks, Liquid render of subject and body, calling
  mark, provider call, outcome, Currents events packed for Firehose) over in-memory stores and a
  counting fake SES, single-threaded, timed with the process CPU clock.

moto would be far too slow for 100,000 recipients (about 400 DynamoDB writes per second in
process, ``reference/local-aws.md``) and would measure moto, not engagekit; requests to AWS are
counted instead. SQS requests per 1,000 recipients count what the send costs on SQS: the
dispatcher's SendMessageBatch calls plus the Lambda event source's ReceiveMessage (up to 10
messages) and DeleteMessageBatch per batch of 10 messages.

Floors measured in the same run: Liquid alone (render subject + body per recipient, the
personalization cost no design avoids) and the Currents events alone (building and packing one
Send event per recipient).

Goals (issue 6): SQS requests per 1,000 recipients ≤ 2; state transitions per 1,000 recipients < 1.

Run: ``python -m bench.bench_sends`` (prints JSON); ``run()`` returns the same dict.
"""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import UTC, datetime
from typing import Any

from engagekit.campaigns.inmemory import World
from engagekit.campaigns.plan import RECIPIENTS_PER_MESSAGE
from engagekit.channels.fakes import FakeEmailProvider
from engagekit.clock import ManualClock, set_clock
from engagekit.currents.events import EmailSend, MessageIds, UserIds, message_event
from engagekit.currents.exporter import FakeFirehose, FirehoseExporter
from engagekit.domain.profile import Profile
from engagekit.liquid import Renderer, RenderRequest

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SUBJECT = "{{${first_name} | default: 'Hi'}}, your {{custom_attribute.${tier}}} offer"
BODY = "<p>Hello {{${first_name}}},</p>{% if custom_attribute.${tier} == 'gold' %}<p>20% off</p>{% endif %}"
SQS_GOAL = 2.0
TRANSITIONS_GOAL = 1.0


def build_world(users: int) -> tuple[World, list[Profile]]:
    """``users`` profiles (written straight to the fake store) in segment ``all``, and the campaign."""
    world = World(email=FakeEmailProvider(keep=False), firehose=FakeFirehose(keep=False))
    world.exporter = FirehoseExporter(world.firehose)
    world.users.exporter = world.exporter
    for sender in world.senders.values():
        sender.exporter = world.exporter
    profiles: list[Profile] = []
    for i in range(users):
        profile = Profile(
            user_id=f"{i:024x}",
            external_id=f"user-{i}",
            created_at=START,
            email=f"user-{i}@example.com",
            first_name=f"User{i}",
            custom_attributes={"tier": "gold" if i % 3 == 0 else "silver"},
        )
        world.profiles.save_profile(profile)
        world.memberships.add("all", profile.user_id)
        profiles.append(profile)
    world.campaign(
        "bench",
        {
            "name": "Bench",
            "segment_id": "all",
            "messages": {"email": {"from": "a@shop.com", "subject": SUBJECT, "body": BODY}},
        },
    )
    return world, profiles


def dispatch_on_moto(world: World, dispatch_id: str) -> dict[str, Any]:
    """Run the send_run state machine on moto with the send_dispatch task over ``world``'s ports.

    Returns the execution's transitions and timings; the senders run between the dispatch and the
    completion poll (``complete`` is called then).
    """
    from infra.local.runtime import LocalPlatform

    out: dict[str, Any] = {}
    with LocalPlatform(clock=ManualClock(START), serve_http=False, background=False) as platform:
        platform.registry.handler("send_dispatch")
        module = sys.modules["engagekit_functions.send_dispatch"]
        module.install(world.campaigns)
        sfn = platform.client("stepfunctions")
        arn = platform.refs[("state_machine", "send_run", "arn")]
        t0 = time.perf_counter()
        execution = sfn.start_execution(
            stateMachineArn=arn, name=dispatch_id, input=json.dumps({"dispatch_id": dispatch_id})
        )
        platform.run_until_idle(timeout_s=600)
        out["dispatch_wall_s"] = time.perf_counter() - t0
        out["senders"] = out_senders = send_all(world)
        t1 = time.perf_counter()
        for _ in range(20):
            if sfn.describe_execution(executionArn=execution["executionArn"])["status"] != "RUNNING":
                break
            platform.advance(300)
        out["completion_wall_s"] = time.perf_counter() - t1
        out["status"] = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
        events = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        out["state_transitions"] = sum(e["type"].endswith("StateEntered") for e in events)
        out["whole_run_wall_s"] = out["dispatch_wall_s"] + out_senders["wall_s"] + out["completion_wall_s"]
        module.install(None)
    return out


def send_all(world: World) -> dict[str, Any]:
    """Deliver every queued message to the email sender; CPU and wall time."""
    messages = len(world.queues.bodies.get("send_email", []))
    sqs_sends = world.queues.requests["send_email"]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    world.deliver()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"messages": messages, "send_message_batch_calls": sqs_sends, "cpu_s": cpu, "wall_s": wall}


def floors(profiles: list[Profile], n: int = 5_000) -> dict[str, float]:
    """Per-recipient cost of Liquid alone and of building + packing one Currents event alone."""
    renderer = Renderer()
    sample = profiles[:n]
    request = RenderRequest()
    t0 = time.process_time()
    for profile in sample:
        renderer.render(SUBJECT, profile, request)
        renderer.render(BODY, profile, request)
    render_s = (time.process_time() - t0) / len(sample)
    exporter = FirehoseExporter(FakeFirehose(keep=False))
    ids = MessageIds(campaign_id="bench", dispatch_id="d")
    t0 = time.process_time()
    for profile in sample:
        exporter.export(
            [message_event(EmailSend, UserIds.of(profile), ids, email_address=profile.email or "")]
        )
    exporter.flush()
    event_s = (time.process_time() - t0) / len(sample)
    return {"render_per_s": 1 / render_s, "currents_event_per_s": 1 / event_s}


def run(users: int = 100_000, moto: bool = True) -> dict[str, Any]:
    """The benchmark (module docstring). ``moto=False`` runs the send run's tasks in process (no
    state machine: no transition count) — for quick smoke runs."""
    clock = ManualClock(START)
    previous = set_clock(clock)
    try:
        t_build = time.perf_counter()
        world, profiles = build_world(users)
        build_s = time.perf_counter() - t_build
        dispatch_id = str(world.trigger({"campaign_id": "bench", "broadcast": True})["dispatch_id"])
        world.starter.started.clear()
        if moto:
            run_out = dispatch_on_moto(world, dispatch_id)
        else:
            t0 = time.perf_counter()
            from engagekit.campaigns import dispatch

            dispatch.run_inline(world.campaigns, dispatch_id)
            run_out = {"dispatch_wall_s": time.perf_counter() - t0, "state_transitions": None}
            run_out["senders"] = send_all(world)
            run_out["whole_run_wall_s"] = run_out["dispatch_wall_s"] + run_out["senders"]["wall_s"]
            run_out["status"] = "inline"
        status = world.status(dispatch_id)
        senders = run_out["senders"]
        messages = senders["messages"]
        batches = math.ceil(messages / 10)  # the event source's ReceiveMessage / DeleteMessageBatch
        sqs_requests = senders["send_message_batch_calls"] + 2 * batches
        ledger_requests = sum(world.ledger.requests.values())
        transitions = run_out["state_transitions"]
        result: dict[str, Any] = {
            "recipients": users,
            "target": status["target"],
            "outcomes": status["counts"],
            "provider_calls": world.email.calls,
            "duplicates": world.email.calls - world.email.accepted,
            "recipients_per_message": RECIPIENTS_PER_MESSAGE,
            "sqs_messages": messages,
            "sqs_requests": sqs_requests,
            "sqs_requests_per_1000": round(1000 * sqs_requests / users, 3),
            "sqs_goal_per_1000": SQS_GOAL,
            "state_transitions": transitions,
            "state_transitions_per_1000": round(1000 * transitions / users, 3) if transitions else None,
            "state_transitions_goal_per_1000": TRANSITIONS_GOAL,
            "execution_status": run_out["status"],
            "sender_recipients_per_s_per_core": round(users / senders["cpu_s"]),
            "sender_cpu_s": round(senders["cpu_s"], 2),
            "ledger_requests_per_recipient": round(ledger_requests / users, 3),
            "profile_reads_per_recipient": round(world.profiles.stats.reads / users, 4),
            "firehose_calls": world.firehose.calls,
            "dispatch_wall_s": round(run_out["dispatch_wall_s"], 2),
            "whole_run_wall_s": round(run_out["whole_run_wall_s"], 2),
            "setup_wall_s": round(build_s, 2),
            "floors": {k: round(v) for k, v in floors(profiles).items()},
        }
        result["sender_vs_render_floor"] = round(
            result["floors"]["render_per_s"] / max(1, result["sender_recipients_per_s_per_core"]), 2
        )
        return result
    finally:
        set_clock(previous)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
