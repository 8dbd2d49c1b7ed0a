"""What invokes the functions: the HTTP API routes, stream and queue event sources, schedules."""

from __future__ import annotations

import json
import re

import jsii
from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.cdk import constants as C
from infra.cdk import grants, nag
from infra.cdk.constructs.log_groups import log_group
from infra.cdk.errors import SynthError
from infra.cdk.registry import Resources
from infra.spec import Function, HttpTrigger, Manifest, QueueTrigger, Route, ScheduleTrigger, StreamTrigger

_POSITION = {
    "TRIM_HORIZON": lambda_.StartingPosition.TRIM_HORIZON,
    "LATEST": lambda_.StartingPosition.LATEST,
}
STREAM_LIST = grants.Wildcard("*", nag.STREAM_LIST_WILDCARD)
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
}
"""HTTP API access log line (JSON); no headers or bodies, so API keys and user data stay out."""


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """Access log settings of an HTTP API stage (a jsii interface, so a small class, not a dict)."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, fmt: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = fmt

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def route_id(route: Route) -> str:
    """The construct id of a route: ``"GET /ping/{ping_id}"`` -> ``"GET_ping_{ping_id}"``."""
    return re.sub(r"[^A-Za-z0-9{}+]+", "_", route.route_key).rstrip("_")


def schedule_minutes(trigger: ScheduleTrigger) -> int:
    """``rate_s`` in whole minutes; raises :class:`SynthError` otherwise (EventBridge rate unit)."""
    if trigger.rate_s < 60 or trigger.rate_s % 60:
        raise SynthError(f"schedule {trigger.name}: rate_s={trigger.rate_s} is not a whole number of minutes")
    return trigger.rate_s // 60


class Triggers(Construct):
    """Wires every function's triggers from the manifest.

    - ``HttpTrigger``: one HTTP API (v2) with a ``$default`` auto-deployed stage and JSON access
      logs; each route its own Lambda integration (payload format 2.0) and invoke permission.
    - ``StreamTrigger``: a DynamoDB event source mapping with batch size, retries, bisect on error,
      ``ReportBatchItemFailures`` and the SQS on-failure destination.
    - ``QueueTrigger``: an SQS event source mapping with batch size, batching window and
      ``ReportBatchItemFailures``.
    - ``ScheduleTrigger``: an EventBridge rule ``rate(N minutes)`` with the constant input.
    The HTTP API exists only when some function declares a route.
    """

    def __init__(self, scope: Construct, construct_id: str, manifest: Manifest, resources: Resources) -> None:
        super().__init__(scope, construct_id)
        self.api: apigwv2.HttpApi | None = None
        self.wildcards: dict[str, list[grants.Wildcard]] = {}
        """Resource wildcards the event sources granted, by function name, to acknowledge."""
        routes = manifest.routes()
        if routes:
            self._http(routes, resources)
        schedules = Construct(self, C.SCHEDULES)
        for spec in manifest.functions:
            fn = resources.functions[spec.name]
            for trigger in spec.triggers:
                if isinstance(trigger, StreamTrigger):
                    failure = resources.queues[trigger.on_failure] if trigger.on_failure else None
                    fn.add_event_source(
                        sources.DynamoEventSource(
                            resources.tables[trigger.table],
                            starting_position=_POSITION[trigger.starting_position],
                            batch_size=trigger.batch_size,
                            retry_attempts=trigger.max_retries,
                            bisect_batch_on_error=True,
                            report_batch_item_failures=True,
                            on_failure=sources.SqsDlq(failure) if failure else None,
                        )
                    )
                    self.wildcards.setdefault(spec.name, []).append(STREAM_LIST)
                elif isinstance(trigger, QueueTrigger):
                    window = trigger.max_batching_window_s
                    fn.add_event_source(
                        sources.SqsEventSource(
                            resources.queues[trigger.queue],
                            batch_size=trigger.batch_size,
                            max_batching_window=Duration.seconds(window) if window else None,
                            report_batch_item_failures=True,
                        )
                    )
                elif isinstance(trigger, ScheduleTrigger):
                    events.Rule(
                        schedules,
                        trigger.name,
                        description=f"engagekit schedule {trigger.name} -> {spec.name}",
                        schedule=events.Schedule.rate(Duration.minutes(schedule_minutes(trigger))),
                        targets=[
                            targets.LambdaFunction(
                                fn, event=events.RuleTargetInput.from_object(json.loads(trigger.input_json))
                            )
                        ],
                    )
                elif not isinstance(trigger, HttpTrigger):
                    raise SynthError(f"function {spec.name}: unsupported trigger {trigger!r}")

    def _http(self, routes: list[tuple[Route, Function]], resources: Resources) -> None:
        api = apigwv2.HttpApi(
            self,
            C.HTTP_API,
            description="engagekit REST API (Braze wire format)",
            create_default_stage=False,
        )
        access_logs = log_group(self, C.HTTP_ACCESS_LOGS)
        stage = apigwv2.HttpStage(
            self,
            C.HTTP_STAGE,
            http_api=api,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        for route, spec in routes:
            rid = route_id(route)
            http_route = apigwv2.HttpRoute(
                self,
                rid,
                http_api=api,
                route_key=apigwv2.HttpRouteKey.with_(route.path, apigwv2.HttpMethod[route.method]),
                integration=integrations.HttpLambdaIntegration(
                    f"{rid}Integration",
                    resources.functions[spec.name],
                    payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
                ),
            )
            nag.acknowledge(http_route, nag.HTTP_API_AUTH_IN_HANDLER)
        CfnOutput(self, C.OUTPUT_API_URL, value=stage.url)
        self.api = api
