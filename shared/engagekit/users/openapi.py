"""The OpenAPI 3.1 document of the user data API, generated from its pydantic models.

``docs/openapi.json`` is this document; regenerate it with ``python -m engagekit.users.openapi``
(a test fails when the checked-in file is stale). Each :class:`Operation` names its route, Braze
permission, request (body or query) model, response model and success status.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from engagekit.users import models as m
from engagekit.users.subscriptions import EmailListQuery, UserStatusQuery


@dataclass(frozen=True)
class Operation:
    """One route: ``request`` is the body model (POST) or the query model (GET)."""

    method: Literal["GET", "POST"]
    path: str
    summary: str
    permission: str
    request: type[BaseModel]
    response: type[BaseModel]
    status: int
    reference: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("POST", "/users/track", "Record attributes, events and purchases", "users.track",
              m.TrackRequest, m.TrackResponse, 201, "braze-api.md §1.1"),
    Operation("POST", "/users/track/sync", "Record one object and return the resulting profile slice",
              "users.track.sync", m.TrackRequest, m.TrackSyncResponse, 201, "braze-api.md §1.1.4"),
    Operation("POST", "/users/identify", "Identify alias-, email- or phone-only users", "users.identify",
              m.IdentifyRequest, m.IdentifyResponse, 201, "braze-api.md §1.2"),
    Operation("POST", "/users/alias/new", "Create aliases", "users.alias.new",
              m.AliasNewRequest, m.AliasNewResponse, 201, "braze-api.md §1.3"),
    Operation("POST", "/users/alias/update", "Rename aliases", "users.alias.update",
              m.AliasUpdateRequest, m.Message, 202, "braze-api.md §1.3"),
    Operation("POST", "/users/delete", "Delete users", "users.delete",
              m.DeleteRequest, m.DeleteResponse, 202, "braze-api.md §1.4"),
    Operation("POST", "/users/merge", "Merge users", "users.merge",
              m.MergeRequest, m.Message, 202, "braze-api.md §1.5"),
    Operation("POST", "/users/external_ids/rename", "Rename external ids", "users.external_ids.rename",
              m.RenameRequest, m.RenameResponse, 202, "braze-api.md §1.7"),
    Operation("POST", "/users/external_ids/remove", "Remove deprecated external ids",
              "users.external_ids.remove", m.RemoveRequest, m.RemoveResponse, 202, "braze-api.md §1.7"),
    Operation("POST", "/users/export/ids", "Export users by identifier", "users.export.ids",
              m.ExportIdsRequest, m.ExportIdsResponse, 200, "braze-api.md §1.6"),
    Operation("POST", "/subscription/status/set", "Set a subscription group's state",
              "subscription.status.set", m.SubscriptionStatusSetRequest, m.Message, 201, "braze-api.md §8"),
    Operation("GET", "/subscription/user/status", "Users' subscription group states",
              "subscription.groups.get", UserStatusQuery, m.UserStatusResponse, 200, "braze-api.md §8"),
    Operation("POST", "/email/status", "Set addresses' global email state", "email.status",
              m.EmailStatusRequest, m.Message, 201, "braze-api.md §8"),
    Operation("GET", "/email/unsubscribes", "Addresses unsubscribed in a date range", "email.unsubscribe",
              EmailListQuery, m.EmailListResponse, 200, "braze-api.md §8"),
    Operation("GET", "/email/hard_bounces", "Addresses hard bounced in a date range", "email.hard_bounces",
              EmailListQuery, m.EmailListResponse, 200, "braze-api.md §8"),
)  # fmt: skip

_ERRORS = {
    "400": "Bad request: {message, errors?} naming the problem",
    "401": "Unauthorized: missing or unknown key",
    "403": "Access Denied: the key lacks the permission",
    "429": "Rate Limited",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict) of every operation in :data:`OPERATIONS`."""
    inputs = [(op.request, "validation") for op in OPERATIONS if op.method == "POST"]
    outputs = [(op.response, "serialization") for op in OPERATIONS] + [(m.Message, "serialization")]
    refs, top = models_json_schema(
        [*inputs, *outputs],  # type: ignore[list-item]
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {
            str(op.status): {
                "description": "success",
                "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
            }
        }
        for code, text in _ERRORS.items():
            responses[code] = {
                "description": text,
                "content": {"application/json": {"schema": refs[(m.Message, "serialization")]}},
            }
        operation: dict[str, Any] = {
            "operationId": op.path.strip("/").replace("/", "_") + f"_{op.method.lower()}",
            "summary": op.summary,
            "description": f"{op.reference}. Permission: `{op.permission}`.",
            "security": [{"bearer": []}],
            "responses": responses,
        }
        if op.method == "POST":
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.request, "validation")]}},
            }
        else:
            query_schema = op.request.model_json_schema()
            operation["parameters"] = [
                {"name": name, "in": "query", "required": False, "schema": spec}
                for name, spec in query_schema["properties"].items()
            ]
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "engagekit user data API",
            "version": "1",
            "description": "Braze-compatible /users/*, /subscription/* and /email/* endpoints. "
            "See docs/users-api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def render() -> str:
    """The document as the JSON text checked in at ``docs/openapi.json`` (sorted keys, 2-space indent)."""
    return json.dumps(build_openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Print the document (``python -m engagekit.users.openapi > docs/openapi.json``)."""
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
