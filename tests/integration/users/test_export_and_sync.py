"""/users/export/ids and /users/track/sync through the local runtime (braze-api.md §1.1.4, §1.6)."""

from __future__ import annotations

from typing import Any

from infra.local.runtime import LocalPlatform
from tests.integration.users.conftest import export, track

T = "2026-03-01T10:00:00Z"


def post(platform: LocalPlatform, path: str, body: Any, status: int) -> dict[str, Any]:
    got, _, out = platform.request("POST", path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def test_export_fields_to_export_limits_the_projection(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "ex-1", "first_name": "F", "email": "ex1@example.com"}]})
    out = export(platform, external_ids=["ex-1"], fields_to_export=["first_name", "email"])
    assert out == {"message": "success", "users": [{"first_name": "F", "email": "ex1@example.com"}]}


def test_export_by_braze_id_email_and_phone(platform: LocalPlatform) -> None:
    track(
        platform,
        {"attributes": [{"external_id": "ex-2", "phone": "+1 (555) 555-0101", "email": "ex2@example.com"}]},
    )
    braze_id = export(platform, external_ids=["ex-2"])["users"][0]["braze_id"]
    for query in ({"braze_id": braze_id}, {"email_address": "EX2@example.com"}, {"phone": "+15555550101"}):
        [found] = export(platform, fields_to_export=["external_id"], **query)["users"]
        assert found == {"external_id": "ex-2"}


def test_export_request_validation(platform: LocalPlatform) -> None:
    out = post(
        platform,
        "/users/export/ids",
        {"external_ids": ["a"] * 30, "user_aliases": [{"alias_name": "n", "alias_label": "l"}] * 30},
        400,
    )
    assert out["message"] == "The max number of external_ids and aliases per request was exceeded"
    out = post(platform, "/users/export/ids", {"email_address": "a@b.co", "phone": "+15555550100"}, 400)
    assert out["message"] == "Only one of 'device_id', 'email_address' or 'phone' may be given"
    out = post(platform, "/users/export/ids", {"external_ids": ["a"], "fields_to_export": ["password"]}, 400)
    assert out["message"].startswith("Bad Request") and out["errors"][0]["field"] == "fields_to_export.0"
    assert post(platform, "/users/export/ids", {}, 400)["message"].startswith("Provide external_ids")


def test_track_sync_returns_the_resulting_slice(platform: LocalPlatform) -> None:
    out = post(
        platform,
        "/users/track/sync",
        {"attributes": [{"external_id": "sync-1", "fruit": "apple", "n": {"inc": 2}}]},
        201,
    )
    assert out == {
        "users": [{"external_id": "sync-1", "custom_attributes": {"fruit": "apple", "n": 2}}],
        "message": "success",
    }
    out = post(
        platform, "/users/track/sync", {"events": [{"external_id": "sync-1", "name": "e", "time": T}]}, 201
    )
    assert out["users"][0]["custom_events"] == [
        {"name": "e", "first": "2026-03-01T10:00:00.000Z", "last": "2026-03-01T10:00:00.000Z", "count": 1}
    ]
    body = {
        "purchases": [
            {
                "external_id": "sync-1",
                "product_id": "p",
                "currency": "USD",
                "price": 1,
                "quantity": 2,
                "time": T,
            }
        ]
    }
    out = post(platform, "/users/track/sync", body, 201)
    assert out["users"][0]["purchase_events"][0]["count"] == 2


def test_track_sync_takes_exactly_one_object(platform: LocalPlatform) -> None:
    body = {"attributes": [{"external_id": "s-a"}, {"external_id": "s-b"}]}
    out = post(platform, "/users/track/sync", body, 400)
    assert out["message"] == "/users/track/sync takes exactly one attributes, event or purchase object"


def test_stored_item_decodes_as_a_stream_image_would(platform: LocalPlatform) -> None:
    from engagekit.profiles.store import profile_from_image

    # given a profile written through the API
    track(platform, {"attributes": [{"external_id": "img-1", "first_name": "Img", "tags": ["a"]}]})
    braze_id = export(platform, external_ids=["img-1"])["users"][0]["braze_id"]
    # when its raw item (DynamoDB JSON, the shape of a stream NewImage) is decoded
    item = platform.client("dynamodb").get_item(TableName="profiles", Key={"user_id": {"S": braze_id}})[
        "Item"
    ]
    profile = profile_from_image(item)
    # then it is the profile, version included
    assert profile is not None
    assert (profile.external_id, profile.first_name, profile.custom_attributes) == (
        "img-1",
        "Img",
        {"tags": ["a"]},
    )
    assert profile.version == 1
    assert profile_from_image(None) is None
