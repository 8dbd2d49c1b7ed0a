"""``/campaigns/trigger/send`` recipients' ``attributes`` errors name the recipient (braze-api.md §2.1)."""

from __future__ import annotations

from infra.local.runtime import LocalPlatform
from tests.integration.campaigns.conftest import EMAIL, ok, track


def test_invalid_recipient_attributes_point_at_the_recipient_and_nothing_is_applied(
    platform: LocalPlatform,
) -> None:
    track(platform, *({"external_id": f"ra-{i}", "first_name": f"N{i}"} for i in range(3)))
    ok(platform, "PUT", "/campaigns/ra-c", {"name": "RA", "messages": {"email": EMAIL}}, status=201)
    recipients = [
        {"external_user_id": "ra-0"},
        {"external_user_id": "ra-1", "attributes": {"first_name": "Changed"}},
        {"external_user_id": "ra-2", "attributes": {"dob": "bad"}},
    ]
    code, _, out = platform.request(
        "POST", "/campaigns/trigger/send", {"campaign_id": "ra-c", "recipients": recipients}
    )
    assert code == 400
    assert out["message"] == "Bad Request: invalid recipients"
    [error] = out["errors"]
    assert (error["input_array"], error["index"]) == ("recipients", 2)
    assert error["type"].startswith("attributes: 'dob' must be a date")
    # the valid recipient's attributes were not applied either
    code, _, got = platform.request(
        "POST", "/users/export/ids", {"external_ids": ["ra-1"], "fields_to_export": ["first_name"]}
    )
    assert code == 200 and got["users"] == [{"first_name": "N1"}]
