"""Accounts API per role: who sees what, who may change what, and the error shapes (404/403/422/400)."""

from __future__ import annotations

import pytest

from openkam.accounts.api import router
from tests.accounts.conftest import BAD_NPI, GOOD_NPI

pytestmark = pytest.mark.django_db
BEACON = {"Beacon Health System", "Beacon General Hospital", "Beacon North Hospital", "Cardiology"}


def names(body):
    return {a["name"] for a in body["items"]}


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("kam", BEACON),
        ("msl", BEACON),
        ("kam2", {"Harbor Medical Center"}),
        ("compliance", BEACON | {"Harbor Medical Center"}),
    ],
)
def test_list_shows_only_what_the_caller_may_see(world, api, username, expected):
    status, body = api(username).get("accounts/")
    assert status == 200
    assert names(body) == expected and body["count"] == len(expected)


def test_list_filters_search_and_paginates(world, api):
    kam = api("kam")
    _, body = kam.get("accounts/?type=hospital")
    assert names(body) == {"Beacon General Hospital", "Beacon North Hospital"}
    _, body = kam.get("accounts/?q=cardio")
    assert names(body) == {"Cardiology"}
    _, body = kam.get(f"accounts/?parent={world.idn.pk}")
    assert names(body) == {"Beacon General Hospital", "Beacon North Hospital"}
    _, body = kam.get(f"accounts/?owner={world.users['kam'].pk}")
    assert body["count"] == 0
    _, body = kam.get("accounts/?page_size=2&page=2")
    assert body["count"] == 4 and [a["name"] for a in body["items"]] == ["Beacon North Hospital", "Cardiology"]
    idn = next(a for a in kam.get("accounts/")[1]["items"] if a["name"] == "Beacon Health System")
    assert idn["children_count"] == 2 and idn["type"] == "idn"


def test_bad_filter_is_422_naming_the_parameter(world, api):
    status, body = api("kam").get("accounts/?type=castle")
    assert status == 422 and body["errors"][0]["field"] == "type"


def test_get_is_404_out_of_scope(world, api):
    status, body = api("kam").get(f"accounts/{world.idn.pk}")
    assert status == 200 and body["name"] == "Beacon Health System"
    status, body = api("kam2").get(f"accounts/{world.idn.pk}")
    assert status == 404 and body["code"] == "account_not_found"
    assert api("kam").get("accounts/999999")[0] == 404
    assert api("msl").get(f"accounts/{world.hospital.pk}")[0] == 200


def test_create_per_role_and_field_errors(world, api):
    status, body = api("kam").post("accounts/", {"name": "Riverside Clinic", "type": "clinic", "npi": GOOD_NPI})
    assert status == 201 and body["npi"] == GOOD_NPI
    assert api("kam").get(f"accounts/{body['id']}")[0] == 200
    status, body = api("msl").post("accounts/", {"name": "X", "type": "clinic"})
    assert status == 403 and body["code"] == "account_create_forbidden"
    status, body = api("compliance").post("accounts/", {"name": "X", "type": "clinic"})
    assert status == 403 and body["code"] == "read_only_role"
    status, body = api("kam").post("accounts/", {"name": "X", "type": "clinic", "npi": BAD_NPI})
    assert status == 422 and body["errors"][0]["field"] == "npi" and "check digit" in body["message"]
    status, body = api("kam").post("accounts/", {"type": "clinic"})
    assert status == 422 and body["errors"][0]["field"] == "name"
    status, body = api("kam").post("accounts/", {"name": "X", "type": "clinic", "parent_id": world.other_account.pk})
    assert status == 422 and body["errors"][0]["field"] == "parent_id"
    status, body = api("kam").post(
        "accounts/", {"name": "Radiology", "type": "department", "parent_id": world.hospital.pk}
    )
    assert status == 201 and body["parent_id"] == world.hospital.pk and body["depth"] == 2


def test_patch_only_changes_what_is_sent(world, api):
    status, body = api("kam").patch(f"accounts/{world.hospital.pk}", {"city": "Boston", "kam_level": "key"})
    assert (
        status == 200
        and body["city"] == "Boston"
        and body["kam_level"] == "key"
        and body["name"] == "Beacon General Hospital"
    )
    assert api("compliance").patch(f"accounts/{world.hospital.pk}", {"city": "X"})[0] == 403
    assert api("kam2").patch(f"accounts/{world.hospital.pk}", {"city": "X"})[0] == 404
    status, body = api("kam").patch(f"accounts/{world.hospital.pk}", {"ccn": "1-2"})
    assert status == 422 and body["errors"][0]["field"] == "ccn"
    status, body = api("kam").patch(f"accounts/{world.hospital.pk}", {"status": "archived"})
    assert status == 422 and body["errors"][0]["field"] == "status"


def test_move_refuses_a_cycle_with_400(world, api):
    status, body = api("kam").post(f"accounts/{world.hospital.pk}/move", {"parent_id": world.department.pk})
    assert status == 400 and body["code"] == "hierarchy_cycle" and "cycle" in body["message"]
    status, body = api("kam").post(f"accounts/{world.department.pk}/move", {"parent_id": world.hospital2.pk})
    assert status == 200 and body["parent_id"] == world.hospital2.pk
    status, body = api("admin").post(f"accounts/{world.hospital.pk}/move", {"parent_id": None})
    assert status == 200 and body["parent_id"] is None and body["depth"] == 0
    assert api("kam2").post(f"accounts/{world.idn.pk}/move", {"parent_id": None})[0] == 404
    assert api("compliance").post(f"accounts/{world.idn.pk}/move", {"parent_id": None})[0] == 403


def test_children(world, api):
    status, body = api("msl").get(f"accounts/{world.idn.pk}/children")
    assert status == 200 and names(body) == {"Beacon General Hospital", "Beacon North Hospital"}
    assert api("kam2").get(f"accounts/{world.idn.pk}/children")[0] == 404


def test_team_add_list_end(world, api):
    kam = api("kam")
    lead = world.users["lead"]
    status, body = kam.get(f"accounts/{world.idn.pk}/team")
    assert status == 200 and {m["user_name"] for m in body} >= {"Kim Kam", "Mia Msl"}
    status, member = kam.post(
        f"accounts/{world.hospital.pk}/team",
        {"user_id": lead.pk, "role": "executive_sponsor", "start_date": "2025-02-01"},
    )
    assert status == 201 and member["is_current"] and member["function"] == "commercial"
    status, body = kam.post(f"accounts/{world.hospital.pk}/team", {"user_id": lead.pk, "role": "executive_sponsor"})
    assert status == 400 and body["code"] == "team_member_duplicate"
    status, body = kam.post(f"accounts/{world.hospital.pk}/team", {"user_id": 999999, "role": "kam"})
    assert status == 422 and body["errors"][0]["field"] == "user_id"
    status, body = kam.post(f"accounts/{world.hospital.pk}/team", {"user_id": lead.pk, "role": "boss"})
    assert status == 422 and body["errors"][0]["field"] == "role"
    assert api("compliance").post(f"accounts/{world.hospital.pk}/team", {"user_id": lead.pk})[0] == 403
    assert api("kam2").post(f"accounts/{world.hospital.pk}/team", {"user_id": lead.pk})[0] == 404
    assert api("kam2").get(f"accounts/{world.hospital.pk}/team")[0] == 404

    end_url = f"accounts/{world.hospital.pk}/team/{member['id']}/end"
    status, body = kam.post(end_url, {"end_date": "2099-01-01", "reason": "planned hand-over"})
    assert status == 200 and body["end_date"] == "2099-01-01" and body["is_current"]
    status, body = kam.post(end_url)
    assert status == 200 and not body["is_current"]
    status, body = kam.post(end_url)
    assert status == 400 and body["code"] == "team_member_already_ended"
    assert kam.post(f"accounts/{world.hospital2.pk}/team/{member['id']}/end")[0] == 404


def test_affiliations_add_list_end(world, api):
    kam = api("kam")
    _, gpo = kam.post("accounts/", {"name": "Premier", "type": "gpo"})
    status, aff = kam.post(
        f"accounts/{world.hospital.pk}/affiliations",
        {"to_account_id": gpo["id"], "type": "gpo_member", "start_date": "2024-01-01"},
    )
    assert status == 201 and aff["to_account_name"] == "Premier" and aff["is_current"]
    status, body = kam.get(f"accounts/{gpo['id']}/affiliations")
    assert status == 200 and [a["from_account_name"] for a in body] == ["Beacon General Hospital"]
    status, body = kam.post(
        f"accounts/{world.hospital.pk}/affiliations", {"to_account_id": world.other_account.pk, "type": "network"}
    )
    assert status == 422 and body["errors"][0]["field"] == "to_account_id"
    status, body = kam.post(f"accounts/{world.hospital.pk}/affiliations", {"to_account_id": gpo["id"], "type": "x"})
    assert status == 422 and body["errors"][0]["field"] == "type"
    assert api("compliance").post(f"accounts/affiliations/{aff['id']}/end")[0] == 403
    assert api("kam2").post(f"accounts/affiliations/{aff['id']}/end")[0] == 404
    status, body = kam.post(f"accounts/affiliations/{aff['id']}/end")
    assert status == 200 and not body["is_current"]
    assert kam.post(f"accounts/affiliations/{aff['id']}/end")[0] == 400


def test_every_operation_declares_its_error_responses():
    for path, path_view in router.path_operations.items():
        for op in path_view.operations:
            codes = set(op.response_models)
            assert {401, 404} <= codes, (path, op.methods)
            if op.methods != ["GET"]:
                assert {400, 403, 404, 422} <= codes, (path, op.methods)


def test_hostile_input_is_a_4xx_never_a_500(world, api):
    kam = api("kam")
    huge = 2**64
    assert kam.get(f"accounts/{huge}")[0] == 404
    assert kam.get(f"accounts/{huge}/team")[0] == 404
    assert kam.post(f"accounts/affiliations/{huge}/end")[0] == 404
    status, body = kam.post(f"accounts/{world.idn.pk}/team", {"user_id": huge, "role": "kam"})
    assert status == 422 and body["errors"][0]["field"] == "user_id"
    status, body = kam.post("accounts/", {"name": "Bad\x00Name", "type": "clinic"})
    assert status == 422 and body["errors"][0]["field"] == "name"
    status, body = kam.patch(f"accounts/{world.idn.pk}", {"city": "Bos\x00ton"})
    assert status == 422 and body["errors"][0]["field"] == "city"
    status, body = kam.get("accounts/?q=%00beacon&country=U%00")
    assert status == 200
    status, body = kam.post(f"accounts/{world.idn.pk}/move", {"parent_id": None, "reason": "x\x00y"})
    assert status == 200  # the reason is stored without the NUL character
