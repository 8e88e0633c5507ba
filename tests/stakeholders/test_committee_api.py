"""Committee scope and seats in the API (``/api/v1/stakeholders/committees``), per role."""

from __future__ import annotations

import pytest

from openkam.stakeholders.models import Committee, CommitteeScopeAccount, Position

BASE = "/api/v1/stakeholders/"


def _committee(kam, account_id: int, **extra):
    status, body = kam.post(
        f"{BASE}committees", {"account": account_id, "name": "Beacon System P&T", "kind": "p_and_t", **extra}
    )
    assert status == 201, body
    return body


def test_scope_create_update_and_read(api, world, people):
    kam = api("kam")
    body = _committee(kam, world.idn.pk)
    assert body["scope"] == "subtree" and body["scope_accounts"] == []
    body = _committee(kam, world.idn.pk, scope="selected", scope_accounts=[world.hospital.pk])
    cid = body["id"]
    assert body["scope"] == "selected" and body["scope_accounts"] == [world.hospital.pk]
    listed = {c["id"]: c for c in kam.get(f"{BASE}committees?account={world.idn.pk}")[1]["items"]}
    assert listed[cid]["scope_accounts"] == [world.hospital.pk] and listed[cid]["scope"] == "selected"

    status, body = kam.patch(f"{BASE}committees/{cid}", {"scope_accounts": [world.hospital.pk, world.hospital2.pk]})
    assert status == 200 and sorted(body["scope_accounts"]) == sorted([world.hospital.pk, world.hospital2.pk])
    status, body = kam.patch(f"{BASE}committees/{cid}", {"scope": "account"})
    assert status == 200 and body["scope"] == "account" and body["scope_accounts"] == []
    assert not CommitteeScopeAccount.objects.filter(committee_id=cid).exists()

    # bad input: an account outside the hierarchy, an unknown scope
    status, body = kam.patch(
        f"{BASE}committees/{cid}", {"scope": "selected", "scope_accounts": [world.other_account.pk]}
    )
    assert status == 422 and body["errors"][0]["field"] == "scope_accounts"
    assert Committee.objects.get(pk=cid).scope == "account"
    bad = {"account": world.idn.pk, "name": "X", "kind": "p_and_t", "scope": "all"}
    status, body = kam.post(f"{BASE}committees", bad)
    assert status == 422


def test_seat_unseat_and_scope_errors(api, world, people):
    kam = api("kam")
    scope = {"scope": "selected", "scope_accounts": [world.hospital.pk]}
    cid = _committee(kam, world.idn.pk, name="Beacon VAC", kind="value_analysis", **scope)["id"]

    status, seat = kam.post(
        f"{BASE}committees/{cid}/seats",
        {"stakeholder": people.chen.pk, "account": world.hospital.pk, "committee_role": "chair",
         "role_in_decision": "decision_maker", "valid_from": "2025-02-01"},
    )  # fmt: skip
    assert status == 201, seat
    assert seat["committee_role"] == "chair" and seat["is_current"] and seat["valid_from"] == "2025-02-01"
    assert seat["stakeholder_id"] == people.chen.pk and seat["account_name"] == "Beacon General Hospital"

    # a membership outside the committee's scope: refused with a clear message, nothing written
    before = Position.objects.count()
    status, body = kam.post(
        f"{BASE}committees/{cid}/seats", {"stakeholder": people.patel.pk, "account": world.hospital2.pk}
    )
    assert status == 422 and body["code"] == "committee_other_account" and "outside the scope" in body["message"]
    assert body["errors"][0]["field"] == "committee"
    assert Position.objects.count() == before
    # a second current seat for the same person
    status, body = kam.post(f"{BASE}committees/{cid}/seats", {"stakeholder": people.chen.pk})
    assert status == 400 and body["code"] == "already_member"
    # a bad seat role
    status, body = kam.post(f"{BASE}committees/{cid}/seats", {"stakeholder": people.patel.pk, "committee_role": "king"})
    assert status == 422

    # narrowing the scope away from a current member is refused, nothing written
    status, body = kam.patch(f"{BASE}committees/{cid}", {"scope": "account"})
    assert status == 422 and body["code"] == "members_out_of_scope"
    assert Committee.objects.get(pk=cid).scope == "selected"

    # change the seat, list, unseat
    status, body = kam.patch(f"{BASE}committees/{cid}/seats/{seat['id']}", {"committee_role": "vice_chair"})
    assert status == 200 and body["committee_role"] == "vice_chair"
    status, seats = kam.get(f"{BASE}committees/{cid}/seats")
    assert status == 200 and [s["id"] for s in seats] == [seat["id"]]
    status, body = kam.post(f"{BASE}committees/{cid}/seats/{seat['id']}/end", {"valid_to": "2025-12-31"})
    assert status == 200 and body["valid_to"] == "2025-12-31" and body["is_current"] is False
    assert kam.get(f"{BASE}committees/{cid}/seats?include_ended=false")[1] == []
    # the former member no longer blocks a narrower scope
    status, body = kam.patch(f"{BASE}committees/{cid}", {"scope": "account"})
    assert status == 200

    # a position of another committee is not a seat of this one
    status, body = kam.post(f"{BASE}committees/{cid}/seats/{people.chen_chief.pk}/end", {})
    assert status == 404 and body["code"] == "seat_not_found"


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [("kam", 200, 201), ("lead", 200, 201), ("msl", 200, 201), ("access", 200, 201), ("compliance", 200, 403),
     ("admin", 200, 201), ("kam2", 404, 404)],
)  # fmt: skip
def test_seats_per_role(api, world, people, role, read, write):
    cid = people.pt_committee.pk
    client = api(role)
    status, body = client.get(f"{BASE}committees/{cid}/seats")
    assert status == read, body
    if read == 200:
        assert [s["stakeholder_id"] for s in body] == [people.chen.pk]
    status, body = client.post(
        f"{BASE}committees/{cid}/seats",
        {"stakeholder": people.patel.pk, "account": world.hospital.pk, "committee_role": "advisor"},
    )
    assert status == write, body
    status, body = client.post(f"{BASE}committees/{cid}/seats/{people.chen_chief.pk}/end", {})
    assert status == (200 if write == 201 else write), body
    status, body = client.patch(f"{BASE}committees/{cid}", {"scope": "account"})
    assert status == (200 if write == 201 else write), body
