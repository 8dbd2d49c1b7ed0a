"""Authentication at the API edge (braze-api.md §0): Bearer keys, the legacy ``api_key`` field,
401 for unknown or revoked keys, 403 ``Access Denied`` for a missing permission; keys stored hashed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engagekit.api import make_resolver, require
from engagekit.auth import KeyStore, hash_secret

from infra.local.http_api import build_event, to_http
from infra.local.lambdas import LambdaContext
from infra.local.runtime import LocalPlatform
from infra.manifest import MANIFEST
from infra.spec import Ref, Route

HAS_TRACK = any(route.path == "/users/track" for route, _ in MANIFEST.routes())


def store(platform: LocalPlatform) -> KeyStore:
    return KeyStore(platform.resolve(Ref("table", "api_keys")))


def call_guarded(secret: str | None, permission: str) -> tuple[int, dict[str, str], Any]:
    """POST /guarded on a resolver whose only route requires ``permission``, in process."""
    app = make_resolver()

    @app.post("/guarded", middlewares=[require(permission)])
    def guarded() -> dict[str, str]:
        return {"message": "success"}

    headers = {"content-type": "application/json"}
    if secret is not None:
        headers["authorization"] = f"Bearer {secret}"
    event = build_event(Route("POST", "/guarded"), {}, "POST", "/guarded", "", headers, b"{}", "127.0.0.1")
    status, out_headers, raw = to_http(app.resolve(event, LambdaContext("guarded", 128, 10)))
    return status, out_headers, json.loads(raw)


def test_unknown_key_is_401_unauthorized(platform: LocalPlatform) -> None:
    status, _, body = platform.request("GET", "/health", key="ek_" + "z" * 43)
    assert status == 401 and body["message"].startswith("Unauthorized")


def test_missing_key_is_401_naming_the_bearer_header(platform: LocalPlatform) -> None:
    status, _, body = platform.request("GET", "/health", key="")
    assert status == 401 and "Authorization: Bearer" in body["message"]


def test_missing_permission_is_403_access_denied(platform: LocalPlatform) -> None:
    secret = store(platform).create("export only", {"users.export.ids"}).secret
    status, headers, body = call_guarded(secret, "users.track")
    assert status == 403 and body["message"].startswith("Access Denied")
    assert "users.track" in body["message"]
    # the key is authenticated, so the rate-limit headers are there
    assert "X-RateLimit-Remaining" in headers


def test_held_permission_and_wildcard_pass(platform: LocalPlatform) -> None:
    scoped = store(platform).create("tracker", {"users.track"}).secret
    wildcard = store(platform).create("admin", {"*"}).secret
    assert call_guarded(scoped, "users.track")[:1] == (200,)
    assert call_guarded(wildcard, "users.track")[:1] == (200,)


@pytest.mark.skipif(not HAS_TRACK, reason="/users/track is not in the manifest yet")
def test_users_track_without_its_permission_is_403(platform: LocalPlatform) -> None:
    secret = store(platform).create("export only", {"users.export.ids"}).secret
    status, _, body = platform.request("POST", "/users/track", {"attributes": []}, key=secret)
    assert status == 403 and body["message"].startswith("Access Denied")


def test_legacy_api_key_in_the_json_body_is_accepted(platform: LocalPlatform) -> None:
    secret = store(platform).create("legacy body", {"*"}).secret
    status, _, body = platform.request("POST", "/skeleton/ping", {"api_key": secret, "id": "auth-1"}, key="")
    assert (status, body["id"]) == (201, "auth-1")


def test_legacy_api_key_in_the_query_is_accepted(platform: LocalPlatform) -> None:
    secret = store(platform).create("legacy query", {"*"}).secret
    assert platform.request("GET", f"/health?api_key={secret}", key="")[0] == 200


def test_wrong_legacy_api_key_is_401(platform: LocalPlatform) -> None:
    body = {"api_key": "ek_" + "q" * 43, "id": "auth-2"}
    assert platform.request("POST", "/skeleton/ping", body, key="")[0] == 401


def test_revoked_key_is_401_at_once(platform: LocalPlatform) -> None:
    new = store(platform).create("to revoke", {"*"})
    assert platform.request("GET", "/health", key=new.secret)[0] == 200
    store(platform).revoke(new.key.key_id)
    status, _, body = platform.request("GET", "/health", key=new.secret)
    assert status == 401 and "revoked" in body["message"]


def test_keys_are_random_shown_once_and_stored_only_as_hashes(platform: LocalPlatform) -> None:
    first = store(platform).create("hashed", {"users.track"})
    second = store(platform).create("hashed", {"users.track"})
    assert first.secret != second.secret
    assert first.secret.startswith("ek_") and len(first.secret) == 46
    items = platform.client("dynamodb").scan(TableName="api_keys")["Items"]
    raw = json.dumps(items)
    assert first.secret not in raw and first.secret[3:] not in raw
    assert hash_secret(first.secret) in {i["pk"]["S"] for i in items}
    assert first.key.key_id == hash_secret(first.secret)[:12]


def test_lookup_finds_the_key_only_for_its_exact_secret(platform: LocalPlatform) -> None:
    new = store(platform).create("exact", {"users.track"})
    assert store(platform).lookup(new.secret) == new.key
    assert store(platform).lookup(new.secret[:-1]) is None
    assert store(platform).lookup(new.secret + "x") is None
