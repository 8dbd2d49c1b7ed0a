"""The one place logger, tracer and metrics are created; every handler imports these.

Handlers stack the same decorators in the same order::

    @logger.inject_lambda_context(correlation_id_path=...)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event, context): ...

Service name, level and sampling come from Powertools' own environment variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_TRACE_DISABLED``,
``POWERTOOLS_METRICS_NAMESPACE``), set per target by the CDK app or the local runtime.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A function that adds no metric of its own is normal; Powertools warns on every invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service="engagekit")
tracer = Tracer(service="engagekit")
metrics = Metrics(namespace="engagekit", service="engagekit")
