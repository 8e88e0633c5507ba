"""Stakeholders API per role: kam sees Beacon people, kam2 gets 404, compliance 403 on writes, msl reads and
adds positions; bad fields are 422 naming the field and rule; lists are paginated and scoped."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.stakeholders.models import Position, Stakeholder
from tests import factories as f

from .conftest import CARDIOLOGY, bad_check_digit, make_npi

pytestmark = pytest.mark.django_db
BASE = "stakeholders/"


def new_person(world, **kw):
    data = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "credentials": "MD",
        "npi": make_npi(77),
        "specialty": CARDIOLOGY,
        "account": world.hospital.pk,
        "title": "Head of Cardiology",
        "role_in_decision": "champion",
    }
    data.update(kw)
    return data


# --- reads ------------------------------------------------------------------------------------------
def test_kam_lists_beacon_people_with_their_current_primary_role(api, people):
    status, body = api("kam").get(BASE)
    assert status == 200
    assert body["count"] == 2
    rows = {r["last_name"]: r for r in body["items"]}
    assert set(rows) == {"Chen", "Patel"}
    assert rows["Chen"]["primary_position"] == {
        "id": people.chen_chief.pk, "title": "Chief of Cardiology",
        "account_id": people.chen_chief.account_id, "account_name": "Beacon General Hospital",
    }  # fmt: skip
    assert rows["Patel"]["primary_position"]["title"] == "Clinical Pharmacist"  # the ended role is not current
    assert rows["Chen"]["specialty"]["code"] == CARDIOLOGY
    assert rows["Patel"]["privacy_restricted"] is True


def test_kam2_sees_only_harbor_and_gets_404_for_beacon(api, people):
    status, body = api("kam2").get(BASE)
    assert [r["last_name"] for r in body["items"]] == ["Harbor"]
    for path in (f"{BASE}{people.chen.pk}", f"{BASE}{people.chen.pk}/positions"):
        status, body = api("kam2").get(path)
        assert status == 404 and body["code"] == "stakeholder_not_found"
    assert api("kam2").get(f"{BASE}?account={people.chen_chief.account_id}")[0] == 404
    assert api("kam").get(f"{BASE}99999999")[0] == 404


def test_msl_and_compliance_read(api, people):
    status, body = api("msl").get(f"{BASE}{people.chen.pk}")
    assert status == 200 and body["display_name"] == "Dr. Ada Chen, MD" and body["npi"] == people.chen.npi
    status, body = api("compliance").get(BASE)
    assert body["count"] == 3


def test_list_filters(api, world, people):
    kam = api("kam")
    assert [r["last_name"] for r in kam.get(f"{BASE}?q=ada chen")[1]["items"]] == ["Chen"]
    assert [r["last_name"] for r in kam.get(f"{BASE}?q={people.chen.npi[:6]}")[1]["items"]] == ["Chen"]
    assert [r["last_name"] for r in kam.get(f"{BASE}?specialty={CARDIOLOGY}")[1]["items"]] == ["Chen"]
    assert [r["last_name"] for r in kam.get(f"{BASE}?kind=pharmacist")[1]["items"]] == ["Patel"]
    assert [r["last_name"] for r in kam.get(f"{BASE}?account={world.hospital2.pk}")[1]["items"]] == ["Patel"]
    assert {r["last_name"] for r in kam.get(f"{BASE}?account={world.idn.pk}")[1]["items"]} == {"Chen", "Patel"}
    status, body = kam.get(f"{BASE}?kind=wizard")
    assert status == 422 and body["errors"][0]["field"] == "kind"


def test_list_is_paginated_with_constant_queries(api, world):
    def build(n):
        for _ in range(n):
            f.PositionFactory(account=world.hospital, is_primary=True)

    kam = api("kam")
    build(3)
    kam.get(f"{BASE}?page_size=100")  # warm up (token lookup caches nothing, but keep it symmetric)
    with CaptureQueriesContext(connection) as one:
        status, body = kam.get(f"{BASE}?page_size=100")
    assert status == 200 and body["count"] == 3
    build(27)
    with CaptureQueriesContext(connection) as ten:
        status, body = kam.get(f"{BASE}?page_size=100")
    assert body["count"] == 30 and len(body["items"]) == 30
    assert len(ten) == len(one)
    status, body = kam.get(f"{BASE}?page=2&page_size=20")
    assert body["count"] == 30 and len(body["items"]) == 10


def test_positions_of_a_person_show_vacated_roles(api, people):
    status, body = api("kam").get(f"{BASE}{people.patel.pk}/positions")
    assert status == 200
    assert [(p["title"], p["is_current"], p["vacated_since"]) for p in body] == [
        ("Clinical Pharmacist", True, None),
        ("Director of Pharmacy", False, "2024-06-30"),
    ]


def test_positions_at_accounts_out_of_scope_stay_hidden(api, world, people):
    f.PositionFactory(stakeholder=people.chen, account=world.other_account, title="Visiting cardiologist")
    titles = [p["title"] for p in api("kam").get(f"{BASE}{people.chen.pk}/positions")[1]]
    assert titles == ["Chief of Cardiology"]
    titles = [p["title"] for p in api("kam2").get(f"{BASE}{people.chen.pk}/positions")[1]]
    assert titles == ["Visiting cardiologist"]


def test_specialty_search(api):
    status, body = api("msl").get(f"{BASE}specialties?q=cardiovascular disease")
    assert status == 200 and CARDIOLOGY in [s["code"] for s in body["items"]]
    status, body = api("kam").get(f"{BASE}specialties?q={CARDIOLOGY.lower()}")
    assert body["items"][0]["code"] == CARDIOLOGY
    assert api("kam").get(f"{BASE}specialties")[1]["count"] == 883


# --- writes -----------------------------------------------------------------------------------------
def test_kam_creates_a_person_with_a_first_position(api, world):
    status, body = api("kam").post(BASE, new_person(world, reason="met at ACC"))
    assert status == 201, body
    assert body["primary_position"]["title"] == "Head of Cardiology"
    assert body["specialty"]["display_name"]
    s = Stakeholder.objects.get(pk=body["id"])
    assert Position.objects.get(stakeholder=s).role_in_decision == "champion"
    assert api("msl").get(f"{BASE}{s.pk}")[0] == 200
    assert api("kam2").get(f"{BASE}{s.pk}")[0] == 404


def test_bad_npi_check_digit_is_422_naming_npi_and_rule(api, world):
    status, body = api("kam").post(BASE, new_person(world, npi=bad_check_digit(make_npi(77))))
    assert status == 422
    assert body["errors"] == [{"field": "npi", "code": "npi_check_digit", "message": body["errors"][0]["message"]}]
    assert "check digit" in body["message"]
    assert not Stakeholder.objects.exists()


def test_duplicate_npi_is_422_on_npi(api, world, people):
    status, body = api("kam").post(BASE, new_person(world, npi=people.chen.npi))
    assert status == 422 and body["errors"][0]["field"] == "npi" and body["errors"][0]["code"] == "npi_duplicate"
    status, body = api("kam").patch(f"{BASE}{people.patel.pk}", {"npi": people.chen.npi})
    assert status == 422 and body["errors"][0]["code"] == "npi_duplicate"


def test_schema_errors_are_422_naming_the_field(api, world):
    data = new_person(world)
    del data["title"]
    status, body = api("kam").post(BASE, data)
    assert status == 422 and body["errors"][0]["field"] == "title"
    status, body = api("kam").post(BASE, new_person(world, consent_date="yesterday"))
    assert status == 422 and body["errors"][0]["field"] == "consent_date"


def test_create_at_an_invisible_account_is_404(api, world):
    status, _ = api("kam").post(BASE, new_person(world, account=world.other_account.pk))
    assert status == 404
    assert not Stakeholder.objects.exists()


def test_compliance_gets_403_on_every_write(api, world, people):
    c = api("compliance")
    assert c.post(BASE, new_person(world))[0] == 403
    assert c.patch(f"{BASE}{people.chen.pk}", {"phone": "1"})[0] == 403
    pos = {"stakeholder": people.chen.pk, "account": world.hospital2.pk, "title": "X"}
    assert c.post(f"{BASE}positions", pos)[0] == 403
    assert c.patch(f"{BASE}positions/{people.chen_chief.pk}", {"title": "X"})[0] == 403
    status, body = c.post(f"{BASE}positions/{people.chen_chief.pk}/end", {})
    assert status == 403 and body["code"] == "read_only_role"
    assert c.post(f"{BASE}committees", {"account": world.hospital.pk, "name": "X", "kind": "other"})[0] == 403
    assert c.patch(f"{BASE}committees/{people.pt_committee.pk}", {"name": "X"})[0] == 403
    people.chen_chief.refresh_from_db()
    assert people.chen_chief.valid_to is None


def test_patch_person(api, people):
    status, body = api("kam").patch(
        f"{BASE}{people.chen.pk}", {"do_not_contact": True, "consent_contact": False, "consent_email": False}
    )
    assert status == 200 and body["do_not_contact"] is True and body["consent_contact"] is False
    status, body = api("kam").patch(f"{BASE}{people.chen.pk}", {"specialty": None, "first_name": None})
    assert status == 200 and body["specialty"] is None and body["first_name"] == "Ada"  # null = unchanged
    assert api("kam2").patch(f"{BASE}{people.chen.pk}", {"phone": "1"})[0] == 404


def test_msl_adds_a_position_and_kam_ends_it(api, world, people):
    status, body = api("msl").post(
        f"{BASE}positions",
        {"stakeholder": people.chen.pk, "account": world.department.pk, "title": "HF program lead",
         "valid_from": "2026-02-01"},
    )  # fmt: skip
    assert status == 201, body
    assert body["is_current"] is True and body["account_name"] == "Cardiology"
    assert body["role_in_decision"] is None  # a commercial judgement: not shown to medical
    pid = body["id"]
    status, body = api("kam").post(f"{BASE}positions/{pid}/end", {"valid_to": "2026-01-01"})
    assert status == 422 and body["errors"][0]["field"] == "valid_to"
    status, body = api("kam").post(f"{BASE}positions/{pid}/end", {"valid_to": "2026-03-31", "reason": "moved"})
    assert status == 200 and body["valid_to"] == "2026-03-31"
    assert body["is_current"] is False and body["vacated_since"] == "2026-03-31"
    status, body = api("kam").post(f"{BASE}positions/{pid}/end", {})
    assert status == 400 and body["code"] == "position_already_ended"
    assert api("kam2").post(f"{BASE}positions/{people.chen_chief.pk}/end", {})[0] == 404


def test_position_update_and_bad_committee(api, world, people):
    kam = api("kam")
    status, body = kam.patch(f"{BASE}positions/{people.chen_chief.pk}", {"role_in_decision": "champion"})
    assert status == 200 and body["role_in_decision"] == "champion" and body["committee_name"] == "Beacon General P&T"
    other = f.CommitteeFactory(account=world.hospital2, name="North VAC")
    status, body = kam.patch(f"{BASE}positions/{people.chen_chief.pk}", {"committee": other.pk})
    assert status == 422 and body["errors"][0]["field"] == "committee"
    status, body = kam.patch(f"{BASE}positions/{people.chen_chief.pk}", {"role_in_decision": "boss"})
    assert status == 422 and body["errors"][0]["field"] == "role_in_decision"


def test_committees(api, world, people):
    kam = api("kam")
    status, body = kam.post(
        f"{BASE}committees",
        {"account": world.hospital2.pk, "name": "North Value Analysis", "kind": "value_analysis",
         "meeting_cadence": "Monthly", "next_meeting": "2026-07-14"},
    )  # fmt: skip
    assert status == 201, body
    cid = body["id"]
    status, body = kam.get(f"{BASE}committees?account={world.idn.pk}&include_descendants=true")
    assert status == 200
    counts = {c["name"]: c["member_count"] for c in body["items"]}
    assert counts == {"Beacon General P&T": 1, "North Value Analysis": 0}
    assert kam.get(f"{BASE}committees?account={world.hospital.pk}")[1]["count"] == 1
    assert kam.get(f"{BASE}committees/{cid}")[1]["account_name"] == "Beacon North Hospital"
    status, body = kam.patch(f"{BASE}committees/{cid}", {"next_meeting": None, "name": "North VAC"})
    assert status == 200 and body["next_meeting"] is None and body["name"] == "North VAC"
    assert api("kam2").get(f"{BASE}committees/{cid}")[0] == 404
    assert api("kam2").get(f"{BASE}committees?account={world.idn.pk}")[0] == 404
    assert api("kam2").get(f"{BASE}committees")[1]["count"] == 0
    status, body = kam.post(f"{BASE}committees", {"account": world.hospital.pk, "name": "X", "kind": "club"})
    assert status == 422 and body["errors"][0]["field"] == "kind"
