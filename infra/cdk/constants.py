"""Every construct id and fixed setting of the CDK app, in one place.

Construct ids are part of each resource's CloudFormation logical id and of its ``aws:cdk:path``
metadata: renaming one replaces the resource on the next deploy. Manifest resources live at
``<STACK_ID>/<GROUP>/<manifest name>`` so tests find them by path without hard-coding names.
"""

from __future__ import annotations

from typing import Final

STACK_ID: Final = "EngagekitStack"
STACK_DESCRIPTION: Final = (
    "engagekit: an open customer engagement platform (generated from infra/manifest.py)"
)

# --- one group construct per capability; a manifest resource's id is its manifest name ---------
TABLES: Final = "Tables"
QUEUES: Final = "Queues"
BUCKETS: Final = "Buckets"
DELIVERY_STREAMS: Final = "DeliveryStreams"
STATE_MACHINES: Final = "StateMachines"
FUNCTIONS: Final = "Functions"
TRIGGERS: Final = "Triggers"
ANALYTICS: Final = "Analytics"  # Glue + Athena over the Currents lake (derived, constructs/analytics.py)
EMAIL: Final = "Email"  # SES configuration sets, their SNS topics and KMS keys (constructs/email.py)

# --- children of a manifest resource's construct ---------------------------------------------
DLQ_SUFFIX: Final = "-dlq"  # a queue's DLQ is the sibling construct "<name>-dlq" (spec.Queue.dlq_name)
ACCESS_LOGS_BUCKET: Final = "AccessLogs"  # S3 server access log target of every manifest bucket
ROLE: Final = "Role"
LOG_GROUP: Final = "Logs"
LOG_STREAM: Final = "DeliveryErrors"
LAYER: Final = "SharedLayer"
HTTP_API: Final = "HttpApi"
HTTP_STAGE: Final = "DefaultStage"
HTTP_ACCESS_LOGS: Final = "AccessLogs"
SCHEDULES: Final = "Schedules"
GLUE_DATABASE: Final = "Database"  # Analytics/Database; its tables are Analytics/Tables/<family>
GLUE_TABLES: Final = "Tables"
ATHENA_RESULTS_BUCKET: Final = "Results"  # Analytics/Results: the workgroup's query results
ATHENA_WORKGROUP: Final = "WorkGroup"
EMAIL_CONFIGURATION_SET: Final = "ConfigurationSet"  # Email/<name>/ConfigurationSet
EMAIL_EVENT_DESTINATION: Final = "Feedback"  # Email/<name>/ConfigurationSet/Feedback: SNS destination
EMAIL_EVENTS_TOPIC: Final = "Events"  # Email/<name>/Events: the SNS topic SES publishes to
EMAIL_EVENTS_KEY: Final = "EventsKey"  # Email/<name>/EventsKey: the topic's KMS key

# --- defaults set once for every function (AWS Lambda settings) ------------------------------
LAMBDA_HANDLER: Final = "handler.handler"  # functions/<name>/handler.py exposes handler(event, context)
FIREHOSE_RETRY_S: Final = 300  # Firehose retries S3 delivery for this long before the error prefix

# --- the Currents query layer (constructs/analytics.py) ---------------------------------------
CURRENTS_STREAM: Final = "currents"  # the manifest delivery stream the Glue tables read
CURRENTS_RETENTION_DAYS: Final = 400  # lake objects under the stream's prefix: 13 months, year over year
CURRENTS_ERRORS_RETENTION_DAYS: Final = 30  # Firehose error-prefix objects (records it could not deliver)
ATHENA_RESULTS_RETENTION_DAYS: Final = 30  # query results are re-computable
INCOMPLETE_UPLOADS_DAYS: Final = 1  # abort multipart uploads left incomplete
ATHENA_BYTES_SCANNED_CUTOFF: Final = 100 * 2**30  # per query: 100 GiB (about 0.50 USD at 5 USD/TB)
ATHENA_ENGINE_VERSION: Final = "Athena engine version 3"

# --- CloudFormation outputs -------------------------------------------------------------------
OUTPUT_API_URL: Final = "ApiUrl"
OUTPUT_CURRENTS_DATABASE: Final = "CurrentsDatabase"
OUTPUT_ATHENA_WORKGROUP: Final = "AthenaWorkGroup"

# --- CDK feature flags the app depends on (set in code so tests and the CLI agree) -----------
FEATURE_FLAGS: Final = {
    # server access logs are granted by a bucket policy on the log bucket, not the legacy ACL
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # every resource carries Metadata "aws:cdk:path" (the cdk CLI sets this too): tests find
    # manifest resources by construct path, not by generated logical id
    "aws:cdk:enable-path-metadata": True,
}
