"""Identity endpoints through the local runtime: identify, aliases, merge, rename/remove, delete
(braze-api.md §1.2-§1.5, §8)."""

from __future__ import annotations

from typing import Any

from engagekit.users.identities import (
    ALIAS_SAME_NAME,
    REMOVE_CURRENT,
    RENAME_NOT_CURRENT,
    RENAME_SAME_ID,
    RENAME_TAKEN,
)

from infra.local.runtime import LocalPlatform
from tests.integration.users.conftest import export, service_of, track, user

T = "2026-03-01T10:00:00Z"


def post(platform: LocalPlatform, path: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    got, _, out = platform.request("POST", path, body)
    assert got == status, out
    assert isinstance(out, dict)
    return out


def alias(name: str, label: str = "anon") -> dict[str, str]:
    return {"alias_name": name, "alias_label": label}


def test_identify_merges_alias_only_profile_into_identified_user(platform: LocalPlatform) -> None:
    # given an alias-only profile with events and attributes, and an identified user
    a = alias("id-anon-1")
    track(
        platform,
        {"attributes": [{"user_alias": a, "_update_existing_only": False, "fav": "x", "first_name": "Anon"}]},
    )
    track(platform, {"events": [{"user_alias": a, "name": "browse", "time": T}]})
    track(
        platform,
        {
            "attributes": [{"external_id": "id-known", "first_name": "Known"}],
            "events": [{"external_id": "id-known", "name": "browse", "time": "2026-02-01T00:00:00Z"}],
        },
    )
    # when the alias is identified as the known user
    out = post(
        platform,
        "/users/identify",
        {"aliases_to_identify": [{"external_id": "id-known", "user_alias": a}]},
        201,
    )
    # then one alias was processed
    assert out == {"aliases_processed": 1, "message": "success"}
    got = user(platform, "id-known")
    # and attributes only on the anonymous profile were copied, the user's own kept
    assert got["first_name"] == "Known" and got["custom_attributes"] == {"fav": "x"}
    # and event counts were summed with first = min, last = max
    assert got["custom_events"] == [
        {
            "name": "browse",
            "first": "2026-02-01T00:00:00.000Z",
            "last": "2026-03-01T10:00:00.000Z",
            "count": 2,
        }
    ]
    # and the alias now names the identified user; the anonymous profile is gone
    assert got["user_aliases"] == [a]
    [by_alias] = export(platform, user_aliases=[a])["users"]
    assert by_alias["external_id"] == "id-known"


def test_identify_without_existing_external_id_adds_it_to_the_aliased_user(platform: LocalPlatform) -> None:
    a = alias("id-anon-2")
    track(platform, {"attributes": [{"user_alias": a, "_update_existing_only": False, "n": 1}]})
    post(
        platform,
        "/users/identify",
        {"aliases_to_identify": [{"external_id": "id-new", "user_alias": a}]},
        201,
    )
    got = user(platform, "id-new")
    assert got["custom_attributes"] == {"n": 1} and got["user_aliases"] == [a]


def test_identify_refuses_when_identified_user_has_alias_with_same_label(platform: LocalPlatform) -> None:
    a, b = alias("id-anon-3", "device"), alias("id-anon-4", "device")
    track(platform, {"attributes": [{"user_alias": a, "_update_existing_only": False}]})
    track(platform, {"attributes": [{"user_alias": b, "_update_existing_only": False}]})
    post(
        platform,
        "/users/identify",
        {"aliases_to_identify": [{"external_id": "id-label", "user_alias": a}]},
        201,
    )
    out = post(
        platform,
        "/users/identify",
        {"aliases_to_identify": [{"external_id": "id-label", "user_alias": b}]},
        201,
    )
    assert out["aliases_processed"] == 0
    assert "already has an alias with this label" in out["errors"][0]["type"]
    assert len(export(platform, user_aliases=[b])["users"]) == 1


def test_identify_by_email_with_prioritization(platform: LocalPlatform) -> None:
    # given an email-only profile
    track(platform, {"attributes": [{"email": "idem@example.com", "first_name": "Mail"}]})
    body = {
        "emails_to_identify": [
            {
                "external_id": "id-mail",
                "email": "idem@example.com",
                "prioritization": ["unidentified", "most_recently_updated"],
            }
        ]
    }
    out = post(platform, "/users/identify", body, 201)
    assert out["emails_processed"] == 1
    assert user(platform, "id-mail")["first_name"] == "Mail"


def test_alias_new_adds_to_user_or_creates_alias_only_profile(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "al-user"}]})
    body = {
        "user_aliases": [
            {"external_id": "al-user", "alias_name": "crm-1", "alias_label": "crm"},
            {"alias_name": "lonely", "alias_label": "crm"},
            {"external_id": "al-nobody", "alias_name": "x", "alias_label": "crm"},
        ]
    }
    out = post(platform, "/users/alias/new", body, 201)
    assert out["aliases_processed"] == 2
    assert out["errors"] == [
        {"type": "no user with external_id 'al-nobody'", "input_array": "user_aliases", "index": 2}
    ]
    assert user(platform, "al-user")["user_aliases"] == [alias("crm-1", "crm")]
    [lonely] = export(platform, user_aliases=[alias("lonely", "crm")])["users"]
    assert "external_id" not in lonely
    # a second creation of the same alias is refused
    again = post(
        platform, "/users/alias/new", {"user_aliases": [{"alias_name": "lonely", "alias_label": "crm"}]}, 201
    )
    assert again["aliases_processed"] == 0 and again["errors"][0]["type"] == "this alias already exists"


def test_alias_update_renames_the_alias(platform: LocalPlatform) -> None:
    track(
        platform, {"attributes": [{"user_alias": alias("old-name", "upd"), "_update_existing_only": False}]}
    )
    body = {
        "alias_updates": [{"alias_label": "upd", "old_alias_name": "old-name", "new_alias_name": "new-name"}]
    }
    assert post(platform, "/users/alias/update", body, 202) == {"message": "success"}
    assert export(platform, user_aliases=[alias("old-name", "upd")])["users"] == []
    [got] = export(platform, user_aliases=[alias("new-name", "upd")])["users"]
    assert got["user_aliases"] == [alias("new-name", "upd")]


def test_alias_update_to_the_same_name_is_an_error_and_keeps_the_lookup(platform: LocalPlatform) -> None:
    a = alias("same-name", "upd-same")
    track(platform, {"attributes": [{"user_alias": a, "_update_existing_only": False, "n": 1}]})
    body = {
        "alias_updates": [
            {"alias_label": "upd-same", "old_alias_name": "same-name", "new_alias_name": "same-name"}
        ]
    }
    out = post(platform, "/users/alias/update", body, 202)
    assert out == {
        "message": "success",
        "errors": [{"type": ALIAS_SAME_NAME, "input_array": "alias_updates", "index": 0}],
    }
    [got] = export(platform, user_aliases=[a])["users"]
    assert got["user_aliases"] == [a] and got["custom_attributes"] == {"n": 1}


def test_merge_folds_purchases_and_keeps_target_attributes(platform: LocalPlatform) -> None:
    # given two identified users with purchases and conflicting attributes
    for ext, price, color in (("m-old", 2.0, "red"), ("m-keep", 3.0, "blue")):
        track(
            platform,
            {
                "attributes": [{"external_id": ext, "color": color, f"only_{ext}": True}],
                "purchases": [
                    {"external_id": ext, "product_id": "p", "currency": "USD", "price": price, "time": T}
                ],
            },
        )
    body = {
        "merge_updates": [
            {"identifier_to_merge": {"external_id": "m-old"}, "identifier_to_keep": {"external_id": "m-keep"}}
        ]
    }
    assert post(platform, "/users/merge", body, 202) == {"message": "success"}
    got = user(platform, "m-keep")
    assert got["custom_attributes"] == {"color": "blue", "only_m-keep": True, "only_m-old": True}
    assert got["purchases"][0]["count"] == 2 and got["total_revenue"] == 5.0
    # and the merged user is gone
    assert export(platform, external_ids=["m-old"])["invalid_user_ids"] == ["m-old"]


def test_merge_rejects_malformed_identifiers(platform: LocalPlatform) -> None:
    body = {
        "merge_updates": [
            {"identifier_to_merge": {"email": "a@b.co"}, "identifier_to_keep": {"external_id": "x"}}
        ]
    }
    out = post(platform, "/users/merge", body, 400)
    assert out["message"] == "'email' identifiers need a 'prioritization'"
    out = post(platform, "/users/merge", {"merge_updates": "nope"}, 400)
    assert out["message"].startswith("Bad Request")


def test_rename_keeps_old_id_until_removed(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "rn-old", "n": 1}]})
    body = {"external_id_renames": [{"current_external_id": "rn-old", "new_external_id": "rn-new"}]}
    out = post(platform, "/users/external_ids/rename", body, 202)
    assert out == {"message": "success", "external_ids": ["rn-old"], "rename_errors": []}
    # both ids name the user until the old one is removed
    assert user(platform, "rn-new")["external_id"] == "rn-new"
    assert export(platform, external_ids=["rn-old"])["users"][0]["external_id"] == "rn-new"
    out = post(platform, "/users/external_ids/remove", {"external_ids": ["rn-old", "rn-new"]}, 202)
    assert out["removed_ids"] == ["rn-old"]
    assert out["removal_errors"] == [["rn-new", REMOVE_CURRENT]]
    assert export(platform, external_ids=["rn-old"])["invalid_user_ids"] == ["rn-old"]


def test_rename_to_a_taken_id_is_an_error(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "rn-a"}, {"external_id": "rn-b"}]})
    body = {"external_id_renames": [{"current_external_id": "rn-a", "new_external_id": "rn-b"}]}
    out = post(platform, "/users/external_ids/rename", body, 202)
    assert out["rename_errors"] == [["rn-a", RENAME_TAKEN]]


def rename(platform: LocalPlatform, current: str, new: str) -> dict[str, Any]:
    body = {"external_id_renames": [{"current_external_id": current, "new_external_id": new}]}
    return post(platform, "/users/external_ids/rename", body, 202)


def profiles_with_external_id(platform: LocalPlatform, external_id: str) -> list[str]:
    store = service_of(platform, "users_api").store
    return [p.user_id for p in store.scan_profiles() if p.external_id == external_id]


def test_rename_back_to_a_deprecated_id_is_refused_and_remove_keeps_the_current_id(
    platform: LocalPlatform,
) -> None:
    # given r1 renamed to r2 (r1 deprecated)
    track(platform, {"attributes": [{"external_id": "rb-r1", "n": 1}]})
    assert rename(platform, "rb-r1", "rb-r2")["external_ids"] == ["rb-r1"]
    # when renaming back to the deprecated r1: an error item, nothing changes
    out = rename(platform, "rb-r2", "rb-r1")
    assert out == {"message": "success", "external_ids": [], "rename_errors": [["rb-r2", RENAME_TAKEN]]}
    got = user(platform, "rb-r2", "external_id")
    assert got["external_id"] == "rb-r2"
    # and removing r1 removes the deprecated id only
    out = post(platform, "/users/external_ids/remove", {"external_ids": ["rb-r1"]}, 202)
    assert out == {"message": "success", "removed_ids": ["rb-r1"], "removal_errors": []}
    assert export(platform, external_ids=["rb-r1"]) == {
        "message": "success",
        "users": [],
        "invalid_user_ids": ["rb-r1"],
    }
    assert user(platform, "rb-r2", "custom_attributes")["custom_attributes"] == {"n": 1}
    # and tracking r1 now creates one fresh profile; r2 still names the original
    track(platform, {"attributes": [{"external_id": "rb-r1", "m": 2}]})
    assert len(profiles_with_external_id(platform, "rb-r1")) == 1
    assert len(profiles_with_external_id(platform, "rb-r2")) == 1


def test_removing_the_current_id_after_rename_round_trip_is_an_error(platform: LocalPlatform) -> None:
    # given r1 -> r2 and the refused r2 -> r1, then r2 -> r3 (r1, r2 deprecated; r3 current)
    track(platform, {"attributes": [{"external_id": "rt-r1"}]})
    rename(platform, "rt-r1", "rt-r2")
    assert rename(platform, "rt-r2", "rt-r1")["rename_errors"] == [["rt-r2", RENAME_TAKEN]]
    assert rename(platform, "rt-r2", "rt-r3")["external_ids"] == ["rt-r2"]
    # when removing the current id and a deprecated one
    out = post(platform, "/users/external_ids/remove", {"external_ids": ["rt-r3", "rt-r2"]}, 202)
    # then only the deprecated one goes; the current one still finds the single profile
    assert out["removed_ids"] == ["rt-r2"]
    assert out["removal_errors"] == [["rt-r3", REMOVE_CURRENT]]
    assert user(platform, "rt-r3", "external_id") == {"external_id": "rt-r3"}
    assert user(platform, "rt-r1", "external_id") == {"external_id": "rt-r3"}
    track(platform, {"attributes": [{"external_id": "rt-r3", "k": 1}]})
    assert len(profiles_with_external_id(platform, "rt-r3")) == 1


def test_rename_to_the_same_id_is_an_error_and_remove_then_refuses(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "ss-s1", "n": 1}]})
    out = rename(platform, "ss-s1", "ss-s1")
    assert out == {"message": "success", "external_ids": [], "rename_errors": [["ss-s1", RENAME_SAME_ID]]}
    out = post(platform, "/users/external_ids/remove", {"external_ids": ["ss-s1"]}, 202)
    assert out == {"message": "success", "removed_ids": [], "removal_errors": [["ss-s1", REMOVE_CURRENT]]}
    assert user(platform, "ss-s1", "custom_attributes")["custom_attributes"] == {"n": 1}
    track(platform, {"attributes": [{"external_id": "ss-s1", "n": 2}]})
    assert len(profiles_with_external_id(platform, "ss-s1")) == 1


def test_rename_of_a_deprecated_id_is_an_error(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "rd-a"}]})
    rename(platform, "rd-a", "rd-b")
    out = rename(platform, "rd-a", "rd-c")
    assert out["external_ids"] == [] and out["rename_errors"] == [["rd-a", RENAME_NOT_CURRENT]]
    assert export(platform, external_ids=["rd-c"])["invalid_user_ids"] == ["rd-c"]


def test_rename_to_another_users_deprecated_id_is_an_error(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "ro-a"}, {"external_id": "ro-x"}]})
    rename(platform, "ro-a", "ro-b")
    assert rename(platform, "ro-x", "ro-a")["rename_errors"] == [["ro-x", RENAME_TAKEN]]
    assert user(platform, "ro-a", "external_id") == {"external_id": "ro-b"}


def test_delete_removes_profile_identities_and_emits_event(platform: LocalPlatform) -> None:
    svc = service_of(platform, "users_api")
    deleted: list[str] = []
    svc.deletion_hooks.append(lambda profile: deleted.append(profile.user_id))
    try:
        a = alias("del-alias", "crm")
        track(platform, {"attributes": [{"external_id": "del-me", "email": "del@example.com"}]})
        post(platform, "/users/alias/new", {"user_aliases": [{"external_id": "del-me", **a}]}, 201)
        braze_id = user(platform, "del-me")["braze_id"]
        out = post(platform, "/users/delete", {"external_ids": ["del-me", "nobody"]}, 202)
        assert out == {"deleted": 1, "message": "success"}
        # every identifier is gone
        assert export(platform, external_ids=["del-me"])["invalid_user_ids"] == ["del-me"]
        assert export(platform, user_aliases=[a])["users"] == []
        assert export(platform, email_address="del@example.com")["users"] == []
        # the hook ran and the external id can be used again for a new user
        assert deleted == [braze_id]
        track(platform, {"attributes": [{"external_id": "del-me", "n": 1}]})
        assert user(platform, "del-me")["braze_id"] != braze_id
    finally:
        svc.deletion_hooks.clear()


def test_delete_by_email_is_skipped_when_ambiguous(platform: LocalPlatform) -> None:
    track(platform, {"attributes": [{"external_id": "amb-1", "email": "amb@example.com"}]})
    platform.advance(1)  # amb-2 is the most recently updated
    track(platform, {"attributes": [{"external_id": "amb-2", "email": "amb@example.com"}]})
    body = {"email_addresses": [{"email": "amb@example.com", "prioritization": ["identified"]}]}
    assert post(platform, "/users/delete", body, 202)["deleted"] == 0
    body = {
        "email_addresses": [
            {"email": "amb@example.com", "prioritization": ["identified", "most_recently_updated"]}
        ]
    }
    assert post(platform, "/users/delete", body, 202)["deleted"] == 1
    left = export(platform, external_ids=["amb-1", "amb-2"])
    assert [u["external_id"] for u in left["users"]] == ["amb-1"]


def test_delete_limits(platform: LocalPlatform) -> None:
    out = post(platform, "/users/delete", {"external_ids": [f"x{i}" for i in range(51)]}, 400)
    assert out["message"].startswith("Bad Request")
    out = post(platform, "/users/delete", {"external_ids": ["a"] * 30, "braze_ids": ["b"] * 30}, 400)
    assert out["message"] == "a single request may not contain more than 50 identifiers"
