"""Definition use cases: ``PUT/GET /campaigns/{campaign_id}`` and ``PUT/GET /frequency_caps/{id}``.

A PUT validates the body (the models of :mod:`engagekit.campaigns.definitions`, plus every Liquid
field parsed with the send-time environment so a syntax error is a 400 now, not an abort at send
time), and stores it. PUTting the same body again changes nothing (``engagekit apply`` is
idempotent); GET returns ``{"id", **body, "created_at", "updated_at", "version"}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from liquid.exceptions import LiquidError

from engagekit.campaigns.definitions import (
    ID_PATTERN,
    MAX_CAP_RULES,
    CampaignDefinition,
    FrequencyCapRule,
    Messages,
    strip_server_fields,
)
from engagekit.campaigns.store import DefinitionStore, Kind
from engagekit.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from engagekit.liquid import Renderer


def _check_id(ident: str, what: str) -> None:
    if not ID_PATTERN.match(ident):
        raise ValidationError(f"{what} must be 1 to 128 letters, digits, '_', '.', ':' or '-'")


def _body(ident: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return strip_server_fields(body, ident)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def liquid_errors(messages: Messages, renderer: Renderer) -> list[dict[str, object]]:
    """Syntax errors of every Liquid field of ``messages`` (a campaign's or an inline
    ``/messages/send`` body's), parsed with the send-time environment of ``renderer``.

    Returns ``[{"type": "Liquid syntax error: ...", "field": "messages.<step>.<path>", "line",
    "column"}]`` (line and column 1-based), empty when everything parses.
    """
    # Here, not at the top: the scheduler imports this module (via messaging) but never renders.
    from engagekit.liquid.render import syntax_problem

    errors: list[dict[str, object]] = []
    for step, message in messages.steps():
        for path, source in message.templates():
            try:
                renderer.parse(source)
            except LiquidError as err:
                problem = syntax_problem(err, "", source)
                errors.append(
                    {
                        "type": f"Liquid syntax error: {problem.message}",
                        "field": f"messages.{step}.{path}",
                        "line": problem.line,
                        "column": problem.column,
                    }
                )
    return errors


def check_liquid(messages: Messages, renderer: Renderer) -> None:
    """Refuse messages whose Liquid does not parse: the one check of ``PUT /campaigns`` and the
    messaging API's inline messages (``/messages/send``, its schedules).

    Raises ValidationError (400, ``errors`` as :func:`liquid_errors`): Braze answers a fatal error
    with a 400 and sends nothing (braze-api.md §2).
    """
    errors = liquid_errors(messages, renderer)
    if errors:
        raise ValidationError("Bad Request: a message template does not parse", errors=errors)


def put_campaign(
    campaign_id: str, body: dict[str, Any], store: DefinitionStore, renderer: Renderer
) -> tuple[dict[str, Any], bool]:
    """Validate and store a campaign; returns (GET body, whether it was created).

    ``created`` is True only when no campaign had this id (the API answers 201 then, 200 for an
    update or an unchanged PUT, like ``PUT /segments`` and ``PUT /templates``).

    Raises ValidationError (400) for an invalid id, body or Liquid syntax (pydantic's
    ValidationError for shape errors is mapped to 400 by the API layer).
    """
    _check_id(campaign_id, "campaign_id")
    clean = _body(campaign_id, body)
    campaign = CampaignDefinition.model_validate(clean)
    check_liquid(campaign.messages, renderer)
    stored, changed = store.put("campaign", campaign_id, clean)
    return stored.as_response(), changed and stored.version == 1


def get_definition(kind: Kind, ident: str, store: DefinitionStore) -> dict[str, Any]:
    """The stored definition as GET returns it; NotFoundError (404) when absent."""
    stored = store.get(kind, ident)
    if stored is None:
        raise NotFoundError(f"no {kind.replace('_', ' ')} {ident!r}")
    return stored.as_response()


def put_frequency_cap(
    rule_id: str, body: dict[str, Any], store: DefinitionStore
) -> tuple[dict[str, Any], bool]:
    """Validate and store a global frequency-capping rule (at most 10, braze-api.md §4); returns
    (GET body, whether it was created: 201 then, else 200).

    Raises ValidationError (400) for an invalid id or body, or an 11th rule.
    """
    _check_id(rule_id, "frequency cap id")
    clean = _body(rule_id, body)
    FrequencyCapRule.model_validate(clean)
    others = [d for d in store.list("frequency_cap") if d.id != rule_id]
    if len(others) >= MAX_CAP_RULES:
        raise ValidationError(f"a workspace has at most {MAX_CAP_RULES} frequency-capping rules")
    stored, changed = store.put("frequency_cap", rule_id, clean)
    return stored.as_response(), changed and stored.version == 1
