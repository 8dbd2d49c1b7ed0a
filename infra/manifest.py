"""The manifest: every resource of engagekit, declared once.

The CDK app (``infra/cdk``) and the local runtime (``infra/local``) both read :data:`MANIFEST`.
To add a function: write ``functions/<name>/handler.py`` and add one :class:`Function` below with
its triggers and its grants. Environment variable names mean the same resource in every function
(the local runtime runs all functions in one process and checks this).
"""

from __future__ import annotations

from infra.spec import (
    Access,
    Bucket,
    DeliveryStream,
    EmailConfigurationSet,
    Function,
    Gsi,
    HttpTrigger,
    Key,
    Manifest,
    Queue,
    QueueTrigger,
    Ref,
    Route,
    ScheduleTrigger,
    StateMachine,
    StreamTrigger,
    Table,
)

# --- grants and environment shared by every HTTP function --------------------------------------
API_ENV: tuple[tuple[str, str | Ref], ...] = (
    ("API_KEYS_TABLE", Ref("table", "api_keys")),
    ("RATE_LIMITS_TABLE", Ref("table", "rate_limits")),
)
API_ACCESS: tuple[Access, ...] = (
    Access("table", "api_keys", "read_write"),
    Access("table", "rate_limits", "read_write"),
)

TABLES = (
    # API keys, stored only as SHA-256 hashes of the secret (braze-api.md §0: REST API keys).
    Table("api_keys", partition_key=Key("pk")),
    # Per-key fixed-window request counters (braze-api.md §9); items expire after their window.
    Table("rate_limits", partition_key=Key("pk"), ttl_attribute="expires_at"),
    # Walking skeleton: proves route -> table -> stream -> queue -> state machine -> Firehose.
    Table("skeleton", partition_key=Key("pk"), stream="NEW_AND_OLD_IMAGES", ttl_attribute="expires_at"),
    # User profiles: one item per user (JSON document + optimistic version); the stream feeds segments.
    Table("profiles", partition_key=Key("user_id"), stream="NEW_AND_OLD_IMAGES"),
    # Identity index: external_id / alias / email / phone -> user ids; email items hold address state.
    Table("identities", partition_key=Key("key")),
    # Segment memberships (engagekit.segments.membership): members sharded by f"{segment}#{shard:03d}",
    # per-shard counts (atomic ADD), and each user's set of segments.
    Table("memberships", partition_key=Key("pk"), sort_key=Key("sk")),
    # Segment definitions as PUT, state building/live, generation; "#version" token item (issue 4).
    Table("segments", partition_key=Key("pk")),
    # Per-(user, segment) timers at the instant membership flips; GSI "due" lets the sweep read only
    # due timers (hash tshard = crc32(user) % 16, range due = ISO UTC text).
    Table(
        "segment_timers",
        partition_key=Key("user_id"),
        sort_key=Key("segment_id"),
        gsis=(Gsi("due", partition_key=Key("tshard"), sort_key=Key("due"), projection="KEYS_ONLY"),),
    ),
    # Message templates and content blocks (issue 5): pk "template#<id>" / "content_block#<name>".
    Table("templates", partition_key=Key("pk")),
    # Connected Content basic-auth credentials (braze-api.md §5.4); apart so few functions can read them.
    Table("connected_content_credentials", partition_key=Key("name")),
)

QUEUES = (
    Queue("skeleton_work", visibility_timeout_s=60, max_receive_count=3),
    # On-failure destination of every stream mapping: records that failed all their retries.
    Queue("stream_failures", retention_s=14 * 86400),
)

BUCKETS = (Bucket("lake"),)

DELIVERY_STREAMS = (
    DeliveryStream(
        "currents",
        bucket="lake",
        prefix="currents/event_type=!{partitionKeyFromQuery:event_type}/date=!{timestamp:yyyy-MM-dd-HH}/",
        error_prefix="currents-errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd-HH}/",
        buffer_s=300,
        buffer_mib=64,
        partition_keys=(("event_type", ".event_type"),),
        deaggregation="JSON",
        append_delimiter=True,
    ),
)

STATE_MACHINES = (
    StateMachine(
        "skeleton_run",
        asl_file="infra/statemachines/skeleton_run.asl.json",
        substitutions=(("SkeletonTaskArn", Ref("function", "skeleton_task", "arn")),),
    ),
    # Segment jobs (issue 4): build (backfill) / drop / export, Map over parts, a page loop each.
    StateMachine(
        "segment_backfill",
        asl_file="infra/statemachines/segment_backfill.asl.json",
        substitutions=(("SegmentBackfillArn", Ref("function", "segment_backfill", "arn")),),
    ),
)

# --- user data API (issue 3) -------------------------------------------------------------------
USERS_ENV: tuple[tuple[str, str | Ref], ...] = (
    *API_ENV,
    ("PROFILES_TABLE", Ref("table", "profiles")),
    ("IDENTITIES_TABLE", Ref("table", "identities")),
    ("CURRENTS_STREAM", Ref("delivery_stream", "currents")),
)
USERS_WRITE_ACCESS: tuple[Access, ...] = (
    *API_ACCESS,
    Access("table", "profiles", "read_write"),
    Access("table", "identities", "read_write"),
    Access("delivery_stream", "currents", "put"),
)
USERS_FUNCTIONS = (
    Function(
        "users_track",
        "POST /users/track and /users/track/sync: attributes, events, purchases (braze-api.md §1.1).",
        memory_mb=512,
        timeout_s=29,
        environment=USERS_ENV,
        triggers=(HttpTrigger((Route("POST", "/users/track"), Route("POST", "/users/track/sync"))),),
        access=USERS_WRITE_ACCESS,
    ),
    Function(
        "users_api",
        "Identity endpoints: /users/identify, alias/new, alias/update, merge, delete, "
        "external_ids/* (§1.2-§1.5).",
        memory_mb=512,
        timeout_s=29,
        environment=USERS_ENV,
        triggers=(
            HttpTrigger(
                (
                    Route("POST", "/users/identify"),
                    Route("POST", "/users/alias/new"),
                    Route("POST", "/users/alias/update"),
                    Route("POST", "/users/merge"),
                    Route("POST", "/users/delete"),
                    Route("POST", "/users/external_ids/rename"),
                    Route("POST", "/users/external_ids/remove"),
                )
            ),
        ),
        access=USERS_WRITE_ACCESS,
    ),
    Function(
        "subscriptions",
        "Subscription groups and email state: /subscription/status/set, /subscription/user/status, "
        "/email/* (§8).",
        environment=USERS_ENV,
        triggers=(
            HttpTrigger(
                (
                    Route("POST", "/subscription/status/set"),
                    Route("GET", "/subscription/user/status"),
                    Route("POST", "/email/status"),
                    Route("GET", "/email/unsubscribes"),
                    Route("GET", "/email/hard_bounces"),
                )
            ),
        ),
        access=USERS_WRITE_ACCESS,
    ),
    Function(
        "users_export",
        "POST /users/export/ids (braze-api.md §1.6).",
        environment=USERS_ENV,
        triggers=(HttpTrigger((Route("POST", "/users/export/ids"),)),),
        access=(
            *API_ACCESS,
            Access("table", "profiles", "read"),
            Access("table", "identities", "read"),
        ),
    ),
)

# --- templates, content blocks, previews (issue 5) -----------------------------------------------
TEMPLATES_FUNCTIONS = (
    Function(
        "templates_api",
        "Templates, content blocks, Connected Content credentials and POST /templates/render previews.",
        memory_mb=512,
        timeout_s=29,
        environment=(
            *API_ENV,
            ("TEMPLATES_TABLE", Ref("table", "templates")),
            ("CONNECTED_CONTENT_CREDENTIALS_TABLE", Ref("table", "connected_content_credentials")),
            ("PROFILES_TABLE", Ref("table", "profiles")),
            ("IDENTITIES_TABLE", Ref("table", "identities")),
        ),
        triggers=(
            HttpTrigger(
                (
                    Route("POST", "/templates/render"),
                    Route("PUT", "/templates/{template_id}"),
                    Route("GET", "/templates/{template_id}"),
                    Route("PUT", "/content_blocks/{name}"),
                    Route("GET", "/content_blocks/{name}"),
                    Route("PUT", "/connected_content/credentials/{name}"),
                    Route("GET", "/connected_content/credentials/{name}"),
                    Route("DELETE", "/connected_content/credentials/{name}"),
                )
            ),
        ),
        access=(
            *API_ACCESS,
            Access("table", "templates", "read_write"),
            Access("table", "connected_content_credentials", "read_write"),
            Access("table", "profiles", "read"),
            Access("table", "identities", "read"),
        ),
    ),
)

FUNCTIONS = (
    Function(
        "health",
        "GET /health: liveness with the caller's key checked.",
        environment=API_ENV,
        triggers=(HttpTrigger((Route("GET", "/health"),)),),
        access=API_ACCESS,
    ),
    Function(
        "skeleton_api",
        "Walking skeleton: POST /skeleton/ping writes an item.",
        environment=(*API_ENV, ("SKELETON_TABLE", Ref("table", "skeleton"))),
        triggers=(HttpTrigger((Route("POST", "/skeleton/ping"), Route("GET", "/skeleton/ping/{ping_id}"))),),
        access=(*API_ACCESS, Access("table", "skeleton", "read_write")),
    ),
    Function(
        "skeleton_stream",
        "Walking skeleton: the table stream enqueues work.",
        environment=(("SKELETON_QUEUE_URL", Ref("queue", "skeleton_work", "url")),),
        triggers=(StreamTrigger("skeleton", batch_size=10, max_retries=2, on_failure="stream_failures"),),
        access=(Access("queue", "skeleton_work", "send"),),
    ),
    Function(
        "skeleton_worker",
        "Walking skeleton: the queue consumer starts the state machine and exports an event.",
        environment=(
            ("SKELETON_STATE_MACHINE_ARN", Ref("state_machine", "skeleton_run", "arn")),
            ("CURRENTS_STREAM", Ref("delivery_stream", "currents")),
        ),
        triggers=(QueueTrigger("skeleton_work", batch_size=10),),
        access=(
            Access("state_machine", "skeleton_run", "start"),
            Access("delivery_stream", "currents", "put"),
        ),
    ),
    Function(
        "skeleton_task",
        "Walking skeleton: the state machine's task marks the item done; a schedule counts ticks.",
        environment=(("SKELETON_TABLE", Ref("table", "skeleton")),),
        triggers=(ScheduleTrigger("skeleton_tick", rate_s=60, input_json='{"tick": true}'),),
        access=(Access("table", "skeleton", "read_write"),),
    ),
)

# --- segments (issue 4) -------------------------------------------------------------------------
SEGMENTS_ENV: tuple[tuple[str, str | Ref], ...] = (
    ("SEGMENTS_TABLE", Ref("table", "segments")),
    ("MEMBERSHIPS_TABLE", Ref("table", "memberships")),
    ("SEGMENT_TIMERS_TABLE", Ref("table", "segment_timers")),
    ("PROFILES_TABLE", Ref("table", "profiles")),
)
SEGMENTS_WORKER_ACCESS: tuple[Access, ...] = (
    Access("table", "memberships", "read_write"),
    Access("table", "segment_timers", "read_write"),
    Access("table", "profiles", "read"),
)
SEGMENTS_FUNCTIONS = (
    Function(
        "segments_api",
        "Segment definitions, /segments/list, /segments/details, members, /users/export/segment (§1.7).",
        memory_mb=512,
        timeout_s=29,
        environment=(
            *API_ENV,
            *SEGMENTS_ENV,
            ("SEGMENT_BACKFILL_STATE_MACHINE_ARN", Ref("state_machine", "segment_backfill", "arn")),
            ("SEGMENT_EXPORTS_BUCKET", Ref("bucket", "lake")),
        ),
        triggers=(
            HttpTrigger(
                (
                    Route("GET", "/segments/list"),
                    Route("GET", "/segments/details"),
                    Route("PUT", "/segments/{segment_id}"),
                    Route("GET", "/segments/{segment_id}"),
                    Route("DELETE", "/segments/{segment_id}"),
                    Route("GET", "/segments/{segment_id}/users"),
                    Route("POST", "/users/export/segment"),
                )
            ),
        ),
        access=(
            *API_ACCESS,
            Access("table", "segments", "read_write"),
            Access("table", "memberships", "read"),
            Access("table", "profiles", "read"),
            Access("state_machine", "segment_backfill", "start"),
        ),
    ),
    Function(
        "profile_stream",
        "Profiles stream: re-evaluates the segments a change can affect; memberships, counts, timers.",
        memory_mb=1024,
        timeout_s=60,
        environment=SEGMENTS_ENV,
        triggers=(StreamTrigger("profiles", batch_size=100, max_retries=5, on_failure="stream_failures"),),
        access=(Access("table", "segments", "read"), *SEGMENTS_WORKER_ACCESS),
    ),
    Function(
        "segment_timers",
        "Every 60 s: fires due segment timers (GSI query, no scan) so time-window memberships flip.",
        memory_mb=1024,
        timeout_s=55,
        environment=SEGMENTS_ENV,
        triggers=(ScheduleTrigger("segment_timers_sweep", rate_s=60),),
        access=(Access("table", "segments", "read"), *SEGMENTS_WORKER_ACCESS),
    ),
    Function(
        "segment_backfill",
        "segment_backfill state machine task: build / drop / export a segment, one page per call.",
        memory_mb=1024,
        timeout_s=300,
        environment=SEGMENTS_ENV,
        access=(
            Access("table", "segments", "read_write"),
            *SEGMENTS_WORKER_ACCESS,
            Access("bucket", "lake", "write"),
        ),
    ),
)

# --- campaigns and channels (issue 6) -----------------------------------------------------------
CAMPAIGNS_TABLES = (
    # Campaign and frequency-capping definitions and send ids: pk = kind, sk = id.
    Table("campaigns", partition_key=Key("pk"), sort_key=Key("sk")),
    # The send ledger (engagekit.campaigns.ledger): dispatches, one claim per (dispatch, step, user),
    # message summaries, receipts, rate windows; by_user = per-user send history for frequency caps.
    Table(
        "sends",
        partition_key=Key("pk"),
        sort_key=Key("sk"),
        ttl_attribute="expires_at",
        gsis=(Gsi("by_user", partition_key=Key("cap_user"), sort_key=Key("sent_at", "N")),),
    ),
    # Scheduled sends and held queue messages; the due index holds pending items only.
    Table(
        "schedules",
        partition_key=Key("pk"),
        ttl_attribute="expires_at",
        gsis=(Gsi("due", partition_key=Key("due_state"), sort_key=Key("due_at", "N")),),
    ),
    # Per-user inbox of content cards and in-app messages (expire with their time to live).
    Table("inbox", partition_key=Key("user_id"), sort_key=Key("card_id"), ttl_attribute="expires_at"),
)
SENDER_TIMEOUT_S = 60
CAMPAIGNS_QUEUES = (
    # One queue per channel: 250 recipients per message; visibility = 6 x the sender's timeout; a
    # claim's lease (180 s) ends before a redelivery, so a dead sender's recipients are taken over.
    *(
        Queue(f"send_{channel}", visibility_timeout_s=6 * SENDER_TIMEOUT_S, max_receive_count=5)
        for channel in ("email", "sms", "webhook", "push", "in_app")
    ),
    # SES configuration-set events (via SNS) for the ses_feedback consumer.
    Queue("ses_feedback", visibility_timeout_s=180, max_receive_count=5),
)
# The SES configuration set of every email send (send_email's SES_CONFIGURATION_SET names it): SES
# publishes its events to an SNS topic that delivers them to ses_feedback as SNS envelopes.
EMAIL_CONFIGURATION_SETS = (EmailConfigurationSet("engagekit", feedback_queue="ses_feedback"),)
CAMPAIGNS_STATE_MACHINES = (
    StateMachine(
        "send_run",
        asl_file="infra/statemachines/send_run.asl.json",
        substitutions=(("DispatchFunctionArn", Ref("function", "send_dispatch", "arn")),),
    ),
)
SEND_QUEUES_ENV: tuple[tuple[str, str | Ref], ...] = tuple(
    (f"SEND_{channel.upper()}_QUEUE_URL", Ref("queue", f"send_{channel}", "url"))
    for channel in ("email", "sms", "webhook", "push", "in_app")
)
CAMPAIGNS_ENV: tuple[tuple[str, str | Ref], ...] = (
    ("CAMPAIGNS_TABLE", Ref("table", "campaigns")),
    ("SENDS_TABLE", Ref("table", "sends")),
    ("SCHEDULES_TABLE", Ref("table", "schedules")),
    ("MEMBERSHIPS_TABLE", Ref("table", "memberships")),
    ("PROFILES_TABLE", Ref("table", "profiles")),
    ("IDENTITIES_TABLE", Ref("table", "identities")),
    ("CURRENTS_STREAM", Ref("delivery_stream", "currents")),
    *SEND_QUEUES_ENV,
)
CAMPAIGNS_ACCESS: tuple[Access, ...] = (
    Access("table", "campaigns", "read"),
    Access("table", "sends", "read_write"),
    Access("table", "schedules", "read_write"),
    Access("table", "memberships", "read"),
    Access("table", "profiles", "read_write"),
    Access("table", "identities", "read_write"),
    Access("delivery_stream", "currents", "put"),
    *(Access("queue", f"send_{c}", "send") for c in ("email", "sms", "webhook", "push", "in_app")),
)
SENDER_ENV: tuple[tuple[str, str | Ref], ...] = (
    ("SENDS_TABLE", Ref("table", "sends")),
    ("SCHEDULES_TABLE", Ref("table", "schedules")),
    ("CAMPAIGNS_TABLE", Ref("table", "campaigns")),
    ("PROFILES_TABLE", Ref("table", "profiles")),
    ("IDENTITIES_TABLE", Ref("table", "identities")),
    ("CURRENTS_STREAM", Ref("delivery_stream", "currents")),
    ("TEMPLATES_TABLE", Ref("table", "templates")),
    ("CONNECTED_CONTENT_CREDENTIALS_TABLE", Ref("table", "connected_content_credentials")),
)
SENDER_ACCESS: tuple[Access, ...] = (
    Access("table", "sends", "read_write"),
    Access("table", "schedules", "read_write"),
    Access("table", "campaigns", "read"),
    Access("table", "profiles", "read"),
    Access("table", "identities", "read"),
    Access("table", "templates", "read"),
    Access("table", "connected_content_credentials", "read"),
    Access("delivery_stream", "currents", "put"),
)


def _sender(
    channel: str, description: str, *extra_env: tuple[str, str | Ref], access: tuple[Access, ...] = ()
) -> Function:
    return Function(
        f"send_{channel}",
        description,
        memory_mb=512,
        timeout_s=SENDER_TIMEOUT_S,
        environment=(*SENDER_ENV, *extra_env),
        triggers=(QueueTrigger(f"send_{channel}", batch_size=10),),
        access=(*SENDER_ACCESS, Access("queue", f"send_{channel}", "consume"), *access),
    )


CAMPAIGNS_FUNCTIONS = (
    Function(
        "campaigns_api",
        "Campaign and frequency-capping definitions: PUT/GET /campaigns/{id}, /frequency_caps/{id}.",
        environment=(*API_ENV, ("CAMPAIGNS_TABLE", Ref("table", "campaigns"))),
        triggers=(
            HttpTrigger(
                (
                    Route("PUT", "/campaigns/{campaign_id}"),
                    Route("GET", "/campaigns/{campaign_id}"),
                    Route("PUT", "/frequency_caps/{cap_id}"),
                    Route("GET", "/frequency_caps/{cap_id}"),
                )
            ),
        ),
        access=(*API_ACCESS, Access("table", "campaigns", "read_write")),
    ),
    Function(
        "messaging_api",
        "Messaging API (§2): trigger/messages sends, send ids, schedules; GET /dispatches/{id}.",
        memory_mb=512,
        timeout_s=29,
        environment=(
            *API_ENV,
            *CAMPAIGNS_ENV,
            ("SEND_RUN_STATE_MACHINE_ARN", Ref("state_machine", "send_run", "arn")),
        ),
        triggers=(
            HttpTrigger(
                (
                    Route("POST", "/campaigns/trigger/send"),
                    Route("POST", "/messages/send"),
                    Route("POST", "/sends/id/create"),
                    Route("POST", "/messages/schedule/create"),
                    Route("POST", "/messages/schedule/update"),
                    Route("POST", "/messages/schedule/delete"),
                    Route("POST", "/campaigns/trigger/schedule/create"),
                    Route("POST", "/campaigns/trigger/schedule/update"),
                    Route("POST", "/campaigns/trigger/schedule/delete"),
                    Route("GET", "/dispatches/{dispatch_id}"),
                )
            ),
        ),
        access=(
            *API_ACCESS,
            *CAMPAIGNS_ACCESS,
            Access("table", "campaigns", "read_write"),
            Access("state_machine", "send_run", "start"),
        ),
    ),
    Function(
        "send_dispatch",
        "send_run task: resolve the audience, enqueue a unit (250 per message), seal, poll outcomes.",
        memory_mb=1024,
        timeout_s=900,
        environment=CAMPAIGNS_ENV,
        access=CAMPAIGNS_ACCESS,
    ),
    Function(
        "send_scheduler",
        "Every 60 s: fires due scheduled sends and re-enqueues due held messages (GSI query).",
        memory_mb=512,
        timeout_s=55,
        environment=(*CAMPAIGNS_ENV, ("SEND_RUN_STATE_MACHINE_ARN", Ref("state_machine", "send_run", "arn"))),
        triggers=(ScheduleTrigger("send_scheduler_tick", rate_s=60),),
        access=(*CAMPAIGNS_ACCESS, Access("state_machine", "send_run", "start")),
    ),
    _sender(
        "email",
        "Email sender: ledger claim, caps, quiet hours, Liquid, SES v2 with the configuration set.",
        ("SES_CONFIGURATION_SET", "engagekit"),
        access=(Access("ses", "*", "send_email"),),
    ),
    _sender(
        "sms",
        "SMS sender: ledger claim, group subscription, caps, quiet hours, Liquid, SNS SMS.",
        access=(Access("sns", "*", "publish"),),
    ),
    _sender(
        "webhook",
        "Webhook sender: HTTPS with one Idempotency-Key per recipient; SQS backoff with jitter.",
        ("SEND_WEBHOOK_QUEUE_URL", Ref("queue", "send_webhook", "url")),
    ),
    _sender(
        "push",
        "Push sender: SNS platform endpoints of the profile's push tokens.",
        access=(Access("sns", "*", "publish"),),
    ),
    _sender(
        "in_app",
        "Content cards and in-app messages: a keyed put in the user's inbox.",
        ("INBOX_TABLE", Ref("table", "inbox")),
        access=(Access("table", "inbox", "read_write"),),
    ),
    Function(
        "ses_feedback",
        "SES events (delivery, bounce, complaint, open, click) into profiles and Currents.",
        environment=(
            ("PROFILES_TABLE", Ref("table", "profiles")),
            ("IDENTITIES_TABLE", Ref("table", "identities")),
            ("CURRENTS_STREAM", Ref("delivery_stream", "currents")),
        ),
        triggers=(QueueTrigger("ses_feedback", batch_size=10),),
        access=(
            Access("table", "profiles", "read_write"),
            Access("table", "identities", "read_write"),
            Access("delivery_stream", "currents", "put"),
            Access("queue", "ses_feedback", "consume"),
        ),
    ),
    Function(
        "content_cards_api",
        "SDK-style inbox reads: GET /content_cards/sync and /in_app_messages/sync.",
        environment=(
            *API_ENV,
            ("INBOX_TABLE", Ref("table", "inbox")),
            ("PROFILES_TABLE", Ref("table", "profiles")),
            ("IDENTITIES_TABLE", Ref("table", "identities")),
        ),
        triggers=(HttpTrigger((Route("GET", "/content_cards/sync"), Route("GET", "/in_app_messages/sync"))),),
        access=(
            *API_ACCESS,
            Access("table", "inbox", "read"),
            Access("table", "identities", "read"),
            Access("table", "profiles", "read"),
        ),
    ),
)

MANIFEST = Manifest(
    tables=(*TABLES, *CAMPAIGNS_TABLES),
    queues=(*QUEUES, *CAMPAIGNS_QUEUES),
    buckets=BUCKETS,
    delivery_streams=DELIVERY_STREAMS,
    state_machines=(*STATE_MACHINES, *CAMPAIGNS_STATE_MACHINES),
    functions=(*FUNCTIONS, *USERS_FUNCTIONS, *TEMPLATES_FUNCTIONS, *SEGMENTS_FUNCTIONS, *CAMPAIGNS_FUNCTIONS),
    email_configuration_sets=EMAIL_CONFIGURATION_SETS,
)
MANIFEST.validate()
