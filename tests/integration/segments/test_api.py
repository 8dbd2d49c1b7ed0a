"""The segments API on the local runtime: definitions (PUT/GET/DELETE), Braze's /segments/list and
/segments/details, members paging, validation errors naming the bad node, permissions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from engagekit.auth import KeyStore

from infra.local.runtime import LocalPlatform
from infra.spec import Ref
from tests.integration.segments.helpers import members, put, track

PLAN = {"custom_attribute": {"custom_attribute_name": "plan", "comparison": "equals", "value": "pro"}}
SCORE = {"custom_attribute": {"custom_attribute_name": "score", "comparison": "greater_than", "value": 5}}


def get(platform: LocalPlatform, path: str) -> tuple[int, Any]:
    status, _, out = platform.request("GET", path)
    return status, out


def test_put_creates_and_get_returns_the_definition_as_put(platform: LocalPlatform) -> None:
    # given an existing matching user
    track(platform, {"attributes": [{"external_id": "api-1", "plan": "pro", "score": 9}]})
    body = {
        "name": "Pro users",
        "filter": {
            "AND": [
                PLAN,
                {"NOT": {"custom_attribute": {"custom_attribute_name": "x", "comparison": "exists"}}},
            ]
        },
    }
    # when the segment is PUT
    status, _, created = platform.request("PUT", "/segments/api-pro", body)
    # then it is created, building, and GET returns name and filter exactly as PUT
    assert status == 201 and created["state"] == "building" and created["generation"] == 1
    platform.run_until_idle()
    status, got = get(platform, "/segments/api-pro")
    assert status == 200
    assert {k: got[k] for k in ("id", "name", "filter")} == {"id": "api-pro", **body}
    assert (got["state"], got["size"]) == ("live", 1)
    assert got["live_at"] is not None


def test_put_of_the_same_definition_changes_nothing(platform: LocalPlatform) -> None:
    # given a live segment
    first = put(platform, "api-same", SCORE, name="Same")
    platform.run_until_idle()
    # when the same body is PUT again
    status, _, again = platform.request("PUT", "/segments/api-same", {"name": "Same", "filter": SCORE})
    # then 200, same generation and update time, still live
    assert status == 200
    assert (again["generation"], again["updated_at"], again["state"]) == (1, first["updated_at"], "live")


def test_a_name_change_keeps_the_generation_and_a_filter_change_rebuilds(platform: LocalPlatform) -> None:
    # given a live segment with a member
    track(
        platform,
        {"attributes": [{"external_id": "api-r1", "score": 9}, {"external_id": "api-r2", "score": 1}]},
    )
    put(platform, "api-rebuild", SCORE)
    platform.run_until_idle()
    assert {"api-r1"} <= members(platform, "api-rebuild")
    # when only the name changes, then nothing is rebuilt
    renamed = put(platform, "api-rebuild", SCORE, name="Renamed")
    assert (renamed["name"], renamed["generation"], renamed["state"]) == ("Renamed", 1, "live")
    # when the filter changes, then a new generation builds and the members follow the new filter
    low = {"custom_attribute": {"custom_attribute_name": "score", "comparison": "less_than", "value": 2}}
    edited = put(platform, "api-rebuild", low, name="Renamed")
    assert (edited["generation"], edited["state"]) == (2, "building")
    platform.run_until_idle()
    found = members(platform, "api-rebuild")
    assert "api-r2" in found and "api-r1" not in found
    assert get(platform, "/segments/api-rebuild")[1]["state"] == "live"


# a PUT /segments/api-bad body whose first problem is named by path
@dataclass
class Bad:
    name: str
    body: Any
    starts_with: str
    segment_id: str = "api-bad"


BAD = [
    Bad(
        "unknown comparison deep in a tree",
        {
            "name": "n",
            "filter": {
                "AND": [
                    PLAN,
                    {
                        "custom_attribute": {
                            "custom_attribute_name": "plan",
                            "comparison": "equal",
                            "value": "x",
                        }
                    },
                ]
            },
        },
        "filter.AND[1].custom_attribute.comparison",
    ),
    Bad(
        "window over 30 days",
        {
            "name": "n",
            "filter": {
                "custom_event": {
                    "custom_event_name": "e",
                    "comparison": "greater_than",
                    "value": 1,
                    "days": 31,
                }
            },
        },
        "filter.custom_event.days",
    ),
    Bad("missing name", {"filter": PLAN}, "name"),
    Bad("unknown top-level field", {"name": "n", "filter": PLAN, "tags": []}, "tags"),
    Bad("filter not an object", {"name": "n", "filter": []}, "filter"),
    Bad("self reference", {"name": "n", "filter": {"segment": {"segment_id": "api-bad"}}}, "filter"),
    Bad("reserved id", {"name": "n", "filter": PLAN}, "segment_id", segment_id="list"),
    Bad(
        "id with a slash-free but invalid character",
        {"name": "n", "filter": PLAN},
        "segment_id",
        segment_id="bad#id",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_an_invalid_definition_is_a_400_naming_the_bad_node(platform: LocalPlatform, case: Bad) -> None:
    status, _, out = platform.request("PUT", f"/segments/{case.segment_id.replace('#', '%23')}", case.body)
    assert status == 400, out
    assert out["message"].startswith(case.starts_with), out["message"]


def test_a_definition_closing_a_cycle_is_refused(platform: LocalPlatform) -> None:
    # given a -> b
    put(platform, "api-cyc-b", PLAN)
    put(platform, "api-cyc-a", {"segment": {"segment_id": "api-cyc-b"}})
    # when b is edited to reference a
    status, _, out = platform.request(
        "PUT", "/segments/api-cyc-b", {"name": "b", "filter": {"segment": {"segment_id": "api-cyc-a"}}}
    )
    # then 400 names the loop, and b is unchanged
    assert status == 400 and "cycle" in out["message"] and "api-cyc-a" in out["message"]
    assert get(platform, "/segments/api-cyc-b")[1]["filter"] == PLAN


def test_delete_removes_the_definition_and_its_members(platform: LocalPlatform) -> None:
    # given a segment with a member, referenced by another
    track(platform, {"attributes": [{"external_id": "api-del", "plan": "pro"}]})
    put(platform, "api-del", PLAN)
    put(platform, "api-del-ref", {"NOT": {"segment": {"segment_id": "api-del"}}})
    platform.run_until_idle()
    assert "api-del" in members(platform, "api-del")
    # when it is deleted while referenced, then 409 names the referencing segment
    status, _, out = platform.request("DELETE", "/segments/api-del")
    assert status == 409 and "api-del-ref" in out["message"]
    # when the reference goes first, then the delete is accepted and the segment is gone
    assert platform.request("DELETE", "/segments/api-del-ref")[0] == 202
    assert platform.request("DELETE", "/segments/api-del")[0] == 202
    assert get(platform, "/segments/api-del")[0] == 404
    platform.run_until_idle()
    assert get(platform, "/segments/api-del")[0] == 404
    assert "api-del" not in {s["id"] for s in get(platform, "/segments/list?page=0")[1]["segments"]}
    # and a new segment with that id starts from nobody
    recreated = put(platform, "api-del", SCORE)
    assert (recreated["generation"], recreated["size"]) == (1, 0)
    assert platform.request("DELETE", "/segments/api-unknown")[0] == 404


def test_list_and_details_have_brazes_shapes(platform: LocalPlatform) -> None:
    put(platform, "api-list-1", PLAN, name="First")
    platform.advance(1)
    put(platform, "api-list-2", PLAN, name="Second")
    # when listed oldest first and newest first
    status, asc = get(platform, "/segments/list")
    _, desc = get(platform, "/segments/list?page=0&sort_direction=desc")
    # then every item is {id, name, analytics_tracking_enabled, tags}, ordered by creation
    assert status == 200 and asc["message"] == "success"
    assert set(asc["segments"][0]) == {"id", "name", "analytics_tracking_enabled", "tags"}
    ids = [s["id"] for s in asc["segments"]]
    assert ids.index("api-list-1") < ids.index("api-list-2")
    assert [s["id"] for s in desc["segments"]] == ids[::-1]
    assert get(platform, "/segments/list?page=1")[1]["segments"] == []
    assert get(platform, "/segments/list?page=-1")[0] == 400
    assert get(platform, "/segments/list?sort_direction=up")[0] == 400
    # details
    status, details = get(platform, "/segments/details?segment_id=api-list-2")
    assert status == 200
    assert set(details) == {
        "message",
        "created_at",
        "updated_at",
        "name",
        "description",
        "text_description",
        "tags",
        "teams",
    }
    assert details["name"] == "Second" and details["created_at"].endswith("Z")
    assert get(platform, "/segments/details")[0] == 400
    assert get(platform, "/segments/details?segment_id=api-nope")[0] == 404


def test_members_are_paged_with_a_cursor(platform: LocalPlatform) -> None:
    # given 7 members
    track(platform, {"attributes": [{"external_id": f"api-page-{i}", "cohort": "p7"} for i in range(7)]})
    put(
        platform,
        "api-page",
        {"custom_attribute": {"custom_attribute_name": "cohort", "comparison": "equals", "value": "p7"}},
    )
    platform.run_until_idle()
    # when walked 2 at a time, then every member comes exactly once
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        status, page = get(platform, f"/segments/api-page/users?limit=2&cursor={cursor}")
        assert status == 200 and len(page["users"]) <= 2
        seen += [u["external_id"] for u in page["users"]]
        cursor = page["next_cursor"] or ""
        if not cursor:
            break
    assert sorted(seen) == sorted(f"api-page-{i}" for i in range(7))
    assert get(platform, "/segments/api-page/users?limit=0")[0] == 400
    assert get(platform, "/segments/api-page/users?cursor=@@@")[0] == 400
    assert get(platform, "/segments/api-none/users")[0] == 404


@dataclass
class Grant:
    name: str
    method: str
    path: str
    permission: str


GRANTS = [
    Grant("put needs segments.write", "PUT", "/segments/api-perm", "segments.write"),
    Grant("delete needs segments.write", "DELETE", "/segments/api-perm", "segments.write"),
    Grant("get needs segments.details", "GET", "/segments/api-perm", "segments.details"),
    Grant(
        "details needs segments.details", "GET", "/segments/details?segment_id=api-perm", "segments.details"
    ),
    Grant("list needs segments.list", "GET", "/segments/list", "segments.list"),
    Grant("users need segments.users", "GET", "/segments/api-perm/users", "segments.users"),
    Grant("export needs users.export.segment", "POST", "/users/export/segment", "users.export.segment"),
]


@pytest.mark.parametrize("grant", GRANTS, ids=lambda g: g.name)
def test_each_route_needs_its_permission(platform: LocalPlatform, grant: Grant) -> None:
    keys = KeyStore(platform.resolve(Ref("table", "api_keys")))
    others = {g.permission for g in GRANTS} - {grant.permission}
    without = keys.create("without", others).secret
    status, _, out = platform.request(
        grant.method, grant.path, {"segment_id": "api-perm"} if grant.method == "POST" else None, key=without
    )
    assert status == 403 and grant.permission in out["message"]
    with_it = keys.create("with", {grant.permission}).secret
    status, _, _ = platform.request(
        grant.method,
        grant.path,
        {"name": "p", "filter": PLAN} if grant.method == "PUT" else None,
        key=with_it,
    )
    assert status != 403
