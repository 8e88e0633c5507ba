"""Decision roles are commercial judgements (docs/relationships.md): medical users see people, positions,
committees and seats, never the role in the decision — not on the committee page, the person page, Account
360's stakeholders card, nor in any stakeholders API answer; and they may not record one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openkam.core.errors import PermissionDenied
from openkam.stakeholders import services
from openkam.stakeholders.models import Position
from openkam.stakeholders.selectors import can_see_judgements

BASE = "/api/v1/stakeholders/"
JUDGES = ["kam", "kam2", "lead", "access", "compliance", "admin"]


@pytest.fixture
def seated(people):
    """Chen chairs the P&T committee as its decision maker (a judgement); Patel's past role was approver."""
    Position.objects.filter(pk=people.chen_chief.pk).update(committee_role="chair", role_in_decision="champion")
    return people


def test_who_sees_judgements(personas):
    assert {u for u in personas if can_see_judgements(personas[u])} == set(JUDGES)


@pytest.mark.parametrize("who", ["kam", "msl"])
def test_committee_page(web, world, seated, who):
    html = web(who).get(reverse("stakeholders:committee_detail", args=[seated.pt_committee.pk])).content.decode()
    assert "Ada Chen" in html and "Chair" in html  # the organisation: everyone sees the seat
    shown = "Champion" in html or "Role in decision" in html
    assert shown is (who == "kam")
    assert ('name="role_in_decision"' in html) is (who == "kam")  # medical seats people without a decision role


@pytest.mark.parametrize("who", ["kam", "msl", "compliance"])
def test_person_page(web, world, seated, who):
    html = web(who).get(reverse("stakeholders:detail", args=[seated.chen.pk])).content.decode()
    assert "Chief of Cardiology" in html
    assert ("Champion" in html) is (who != "msl")
    assert ("Role in decision" in html) is (who != "msl")


def test_person_page_history_hides_decision_role_changes(web, world, seated, personas):
    services.position_update(actor=personas["kam"], position=seated.chen_chief, role_in_decision="blocker")
    services.position_update(actor=personas["kam"], position=seated.chen_chief, title="Chief of Cardiology (acting)")
    url = reverse("stakeholders:detail", args=[seated.chen.pk])
    assert "blocker" in web("kam").get(url).content.decode()
    html = web("msl").get(url).content.decode()
    assert "blocker" not in html and "role_in_decision" not in html
    assert "Chief of Cardiology (acting)" in html  # the other changes stay


@pytest.mark.parametrize("who", ["kam", "msl"])
def test_account_360_and_positions_page(web, world, seated, who):
    client = web(who)
    for url in (
        reverse("accounts:detail", args=[world.hospital.pk]),
        reverse("accounts:positions", args=[world.hospital.pk]),
    ):
        html = client.get(url).content.decode()
        assert "Ada Chen" in html
        assert ("Role in decision" in html) is (who == "kam"), url
        assert ("Champion" in html) is (who == "kam"), url
        assert ("Approver" in html) is (who == "kam"), url  # Patel's vacated role


@pytest.mark.parametrize("who", ["kam", "msl", "access", "compliance"])
def test_api_hides_decision_roles_from_medical(api, world, seated, who):
    client = api(who)
    expected = "champion" if who != "msl" else None
    status, positions = client.get(f"{BASE}{seated.chen.pk}/positions")
    assert status == 200
    assert {p["id"]: p["role_in_decision"] for p in positions}[seated.chen_chief.pk] == expected
    status, seats = client.get(f"{BASE}committees/{seated.pt_committee.pk}/seats")
    assert status == 200 and [s["role_in_decision"] for s in seats] == [expected]
    assert seats[0]["committee_role"] == "chair"  # the seat itself is organisation


def test_medical_may_not_record_decision_roles(api, world, seated, personas):
    msl = api("msl")
    # a fact without a judgement is fine
    status, body = msl.post(
        f"{BASE}positions", {"stakeholder": seated.chen.pk, "account": world.hospital2.pk, "title": "Visiting"}
    )
    assert status == 201 and body["role_in_decision"] is None
    pos = Position.objects.get(pk=body["id"])
    assert pos.role_in_decision == "unknown"
    judged = {"stakeholder": seated.chen.pk, "account": world.hospital2.pk, "title": "Advisor"}
    status, body = msl.post(f"{BASE}positions", {**judged, "role_in_decision": "champion"})
    assert status == 403 and body["errors"][0]["field"] == "role_in_decision"
    # changing (or clearing) one: refused, nothing written; other changes go through
    status, body = msl.patch(f"{BASE}positions/{seated.chen_chief.pk}", {"role_in_decision": "unknown"})
    assert status == 403
    status, body = msl.patch(f"{BASE}positions/{seated.chen_chief.pk}", {"title": "Chief of Cardiology, MD"})
    assert status == 200 and body["role_in_decision"] is None
    assert Position.objects.get(pk=seated.chen_chief.pk).role_in_decision == "champion"
    status, body = msl.patch(
        f"{BASE}committees/{seated.pt_committee.pk}/seats/{seated.chen_chief.pk}", {"role_in_decision": "blocker"}
    )
    assert status == 403
    with pytest.raises(PermissionDenied):
        services.committee_member_add(
            actor=personas["msl"], committee=seated.pt_committee, stakeholder=seated.patel,
            account=world.hospital, role_in_decision="approver",
        )  # fmt: skip
    # the kam may
    status, body = api("kam").patch(f"{BASE}positions/{seated.chen_chief.pk}", {"role_in_decision": "blocker"})
    assert status == 200 and body["role_in_decision"] == "blocker"


def test_medical_forms_have_no_decision_role(web, world, seated):
    msl = web("msl")
    for url in (
        reverse("stakeholders:position_edit", args=[seated.chen_chief.pk]),
        reverse("stakeholders:position_add") + f"?stakeholder={seated.chen.pk}",
        reverse("stakeholders:position_add") + f"?account={world.hospital.pk}&mode=new",
    ):
        html = msl.get(url).content.decode()
        assert 'name="role_in_decision"' not in html, url
        assert 'name="title"' in html, url
    # saving the edit form keeps the decision role medical cannot see
    r = msl.post(
        reverse("stakeholders:position_edit", args=[seated.chen_chief.pk]),
        {"title": "Chief of Cardiology", "valid_from": "2020-01-01", "committee": seated.pt_committee.pk},
    )
    assert r.status_code == 302
    assert Position.objects.get(pk=seated.chen_chief.pk).role_in_decision == "champion"
    # seating a person on the committee page works without one
    at_dept = Position.objects.create(
        stakeholder=seated.patel, account=world.department, title="Cardiology pharmacist", valid_from="2025-01-01"
    )
    r = msl.post(
        reverse("stakeholders:committee_detail", args=[seated.pt_committee.pk]),
        {"position": at_dept.pk, "committee_role": "advisor"},
    )
    assert r.status_code == 302
    seat = Position.objects.get(committee=seated.pt_committee, stakeholder=seated.patel, valid_to__isnull=True)
    assert seat.role_in_decision == "unknown" and seat.committee_role == "advisor"
