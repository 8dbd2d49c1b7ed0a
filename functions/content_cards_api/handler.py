"""SDK-style inbox reads: ``GET /content_cards/sync`` and ``GET /in_app_messages/sync``
(?external_id= or ?braze_id=); thin handler over engagekit.channels.cards."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from engagekit.api import make_resolver, require
from engagekit.channels import cards
from engagekit.channels.inbox import DynamoInbox
from engagekit.config import FunctionSettings, load_settings
from engagekit.observability import logger, metrics, tracer
from engagekit.profiles.store import DynamoProfileStore

app = make_resolver()
_ports: dict[str, Any] = {}


class Settings(FunctionSettings):
    inbox_table: str
    profiles_table: str
    identities_table: str


def ports() -> tuple[DynamoProfileStore, DynamoInbox]:
    if not _ports:
        settings = load_settings(Settings)
        _ports["store"] = DynamoProfileStore(settings.profiles_table, settings.identities_table)
        _ports["inbox"] = DynamoInbox(settings.inbox_table)
    return _ports["store"], _ports["inbox"]


def _query() -> cards.SyncQuery:
    return cards.SyncQuery.model_validate(app.current_event.query_string_parameters or {})


@app.get("/content_cards/sync", middlewares=[require("content_cards.sync")])
def content_cards() -> dict[str, Any]:
    store, inbox = ports()
    return cards.sync(_query(), store, inbox, "content_card")


@app.get("/in_app_messages/sync", middlewares=[require("content_cards.sync")])
def in_app_messages() -> dict[str, Any]:
    store, inbox = ports()
    return cards.sync(_query(), store, inbox, "in_app")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
