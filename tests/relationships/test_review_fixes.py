"""Regression tests for the 2026-11-22 review of the relationship pages: read-only roles, committee findings at a
member hospital, places named with their hospital, findings that say what is true, locale dates, filters, and
"… and N more" findings that can be listed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from openkam.accounts import services as account_services
from openkam.core.errors import PermissionDenied
from openkam.relationships import selectors, services
from openkam.stakeholders.models import CommitteeRole, Position
from tests import factories as f

pytestmark = pytest.mark.django_db


def text(resp: Any) -> str:
    return re.sub(r"\s+", " ", resp.content.decode())


# --- item 8: read-only roles ----------------------------------------------------------------------------------
def test_compliance_person_panel_is_read_only(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:person", args=[w.idn.pk, mapped.chief.pk])
    body = text(web("compliance").get(url, HTTP_HX_REQUEST="true"))
    assert 'data-testid="assessment-readonly"' in body and "Decision maker" in body and "Key opinion" in body
    assert "<form" not in body and "<select" not in body and "<textarea" not in body and "<input" not in body
    assert "hx-post" not in body
    kam = text(web("kam").get(url, HTTP_HX_REQUEST="true"))
    assert 'data-testid="assessment-form"' in kam and 'data-testid="assessment-readonly"' not in kam


def test_compliance_cannot_post_from_the_panel(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:person", args=[w.idn.pk, mapped.cfo.pk])
    resp = web("compliance").post(url, {"decision_role": "champion"}, HTTP_HX_REQUEST="true")
    assert resp.status_code in (403, 422)
    with pytest.raises(PermissionDenied):
        services.assessment_record(
            actor=w.users["compliance"], account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk, decision_role="champion"
        )


def test_succeed_page_refuses_read_only_role_on_get_and_post(mapped: Any, web: Any) -> None:
    w = mapped.w
    url = reverse("relationships:succeed", args=[w.idn.pk, mapped.chief_pos.pk])
    client = web("compliance")
    resp = client.get(url)
    assert resp.status_code == 403 and "succeed-form" not in text(resp)
    before = Position.objects.count()
    assert client.post(url, {"stakeholder": mapped.fellow.pk, "valid_from": "2026-01-01"}).status_code == 403
    assert Position.objects.count() == before
    assert web("kam2").get(url).status_code == 404  # out of scope stays a 404
    assert web("kam").get(url).status_code == 200


# --- item 4: a committee deciding for a member hospital, its members at the IDN -------------------------------
def _committee_findings(actor: Any, account_id: int) -> list[dict[str, Any]]:
    cov = selectors.relationship_coverage(actor=actor, account_id=account_id)
    return [x for x in cov["findings"] if x["code"] == "committee_no_decision_maker"]


def test_committee_members_at_the_idn_count_at_a_member_hospital(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    # the system P&T sits at the IDN; its decision maker (seat role) is seated there, not on the hospital's map
    assert _committee_findings(kam, w.hospital.pk) == []
    council = f.CommitteeFactory(account=w.idn, name="Procurement Council")
    f.PositionFactory(stakeholder=mapped.cfo, account=w.idn, title="Member, Procurement Council", committee=council,
                      committee_role="member", role_in_decision="unknown")  # fmt: skip
    found = _committee_findings(kam, w.hospital2.pk)
    assert [x["committee_id"] for x in found] == [council.pk]
    assert "(1 current members)" in found[0]["text"] and "none of its members is mapped" not in found[0]["text"]
    assert found[0]["url"] == reverse("stakeholders:committee_detail", args=[council.pk])
    # the member (off this hospital's map) is assessed as decision maker at the IDN: the committee is covered
    services.assessment_record(actor=kam, account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk,
                               decision_role="decision_maker", stance=-1, influence=5)  # fmt: skip
    assert _committee_findings(kam, w.hospital2.pk) == []


def test_committee_without_members_says_we_know_none(mapped: Any, web: Any) -> None:
    w = mapped.w
    empty = f.CommitteeFactory(account=w.idn, name="Value Analysis Committee")
    found = _committee_findings(w.users["kam"], w.hospital.pk)
    assert len(found) == 1 and found[0]["members"] == 0
    assert "Value Analysis Committee" in found[0]["text"] and "we know none of its members" in found[0]["text"]
    assert found[0]["url"] == reverse("stakeholders:committee_detail", args=[empty.pk])
    body = text(web("kam").get(reverse("relationships:account_panel", args=[w.hospital.pk])))
    assert "we know none of its members" in body and "none of its members is mapped" not in body


def test_committee_finding_queries_stay_constant(mapped: Any, web: Any) -> None:
    w = mapped.w
    client = web("kam")
    url = reverse("relationships:coverage", args=[w.hospital.pk])
    council = f.CommitteeFactory(account=w.idn, name="Procurement Council")

    def seat(n: int) -> None:
        for i in range(n):
            s = f.StakeholderFactory()
            f.PositionFactory(stakeholder=s, account=w.idn, title=f"Member {i}", committee=council,
                              committee_role="member", role_in_decision="unknown")  # fmt: skip

    seat(1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    seat(10)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


# --- item 1: a department is named with its hospital ----------------------------------------------------------
def test_places_are_named_with_their_hospital(mapped: Any, web: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    account_services.account_create(actor=w.users["admin"], name="Cardiology", type="department", parent=w.hospital2)
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    chief = next(n for n in m["nodes"] if n["id"] == mapped.chief.pk)
    assert chief["account"] == "Cardiology · Beacon General Hospital"
    names = [d["name"] for d in m["departments"]]
    assert names[:2] == ["Beacon General Hospital", "Cardiology · Beacon General Hospital"]
    assert names[2:] == ["Beacon North Hospital", "Cardiology · Beacon North Hospital"]  # together, not by depth
    # the vacated role and its finding
    mapped.chief_pos.valid_to = timezone.localdate() - dt.timedelta(days=3)
    mapped.chief_pos.save()
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    assert [v["account"] for v in m["vacancies"]] == ["Cardiology · Beacon General Hospital"]
    cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk, map_data=m)
    left = [x["text"] for x in cov["findings"] if x["code"] == "key_person_left"]
    assert left and "at Cardiology · Beacon General Hospital on" in left[0]
    page = text(web("kam").get(reverse("relationships:map", args=[w.idn.pk])))
    assert f'<option value="{w.department.pk}">Cardiology · Beacon General Hospital</option>' in page
    # a department's committee in the committees tab
    f.CommitteeFactory(account=w.department, name="Cardiology protocol board")
    m = selectors.relationship_map(actor=kam, account_id=w.idn.pk)
    board = next(c for c in m["committees"] if c["name"] == "Cardiology protocol board")
    assert board["account"] == "Cardiology · Beacon General Hospital"


def test_successor_candidates_one_list_by_last_name_with_their_place(mapped: Any, web: Any) -> None:
    w = mapped.w
    resp = web("kam").get(reverse("relationships:succeed", args=[w.idn.pk, mapped.chief_pos.pk]))
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', resp.content.decode())
    people = [(int(v), label) for v, label in options if int(v) in {mapped.pharm.pk, mapped.cfo.pk, mapped.fellow.pk}]
    assert [p for p, _l in people] == sorted(
        [mapped.pharm.pk, mapped.cfo.pk, mapped.fellow.pk],
        key=lambda pk: {mapped.pharm.pk: "pharma", mapped.cfo.pk: "money", mapped.fellow.pk: "fellow"}[pk],
    )
    fellow = dict(people)[mapped.fellow.pk]
    assert fellow.endswith("Attending Physician · Cardiology · Beacon General Hospital")
    assert mapped.chief.pk not in {int(v) for v, _l in options}  # the former holder is not a candidate


# --- item 6: a weak relationship is not "none" ----------------------------------------------------------------
def test_weak_relationship_findings_say_only_weak(mapped: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    for i in range(4):  # the CFO becomes the hub of the network
        s = f.StakeholderFactory(last_name=f"Analyst{i}")
        f.PositionFactory(stakeholder=s, account=w.hospital2, title="Analyst", is_primary=True)
        services.link_create(actor=kam, from_stakeholder_id=s.pk, to_stakeholder_id=mapped.cfo.pk, kind="reports_to")

    def texts() -> dict[str, str]:
        cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk)
        hidden = next(x["text"] for x in cov["findings"] if x.get("stakeholder_id") == mapped.cfo.pk
                      and x["code"] == "hidden_influencer")  # fmt: skip
        domain = next(x["text"] for x in cov["findings"] if x["code"] == "domain_no_relationship"
                      and x["domain_id"] == mapped.domains["financial"])  # fmt: skip
        return {"hidden": hidden, "domain": domain}

    before = texts()
    assert "none of our team has a relationship" in before["hidden"]
    assert "no relationship with anyone in the Financial domain" in before["domain"]
    services.strength_set(actor=kam, account_id=w.idn.pk, stakeholder_id=mapped.cfo.pk, user_id=kam.pk, current=1)
    after = texts()  # still findings (weak does not count), but they say what is true
    assert "only a weak relationship" in after["hidden"] and "none of our team" not in after["hidden"]
    assert "only weak relationships in the Financial domain" in after["domain"]


# --- item 12: dates, seat roles and links read naturally in the reader's language -----------------------------
def test_finding_and_vacancy_dates_use_the_short_locale_format(mapped: Any, web: Any) -> None:
    w = mapped.w
    left = timezone.localdate() - dt.timedelta(days=3)
    mapped.chief_pos.valid_to = left
    mapped.chief_pos.save()
    with translation.override("de"):
        m = selectors.relationship_map(actor=w.users["kam"], account_id=w.idn.pk)
        cov = selectors.relationship_coverage(actor=w.users["kam"], account_id=w.idn.pk, map_data=m)
    text_left = next(x["text"] for x in cov["findings"] if x["code"] == "key_person_left")
    assert left.strftime("%d.%m.%Y") in text_left and left.isoformat() not in text_left
    assert m["vacancies"][0]["since"] == left.isoformat()  # data and API keep ISO
    body = text(web("kam").get(reverse("relationships:map", args=[w.idn.pk]) + "?view=vacancies"))
    assert left.strftime("%m/%d/%Y") in body and f"on {left.isoformat()}" not in body
    assert f'"since": "{left.isoformat()}"' not in body  # the graph's tooltip too


def test_person_panel_seat_role_and_link_sentences(mapped: Any, web: Any) -> None:
    w = mapped.w
    client = web("kam")
    chief = text(client.get(reverse("relationships:person", args=[w.idn.pk, mapped.chief.pk]), HTTP_HX_REQUEST="true"))
    assert "Beacon System P&amp;T (Voting member)" in chief and "(member)" not in chief
    assert (
        f"{mapped.fellow} reports to this person" in chief.replace("&#x27;", "'") or "reports to this person" in chief
    )
    fellow = text(
        client.get(reverse("relationships:person", args=[w.idn.pk, mapped.fellow.pk]), HTTP_HX_REQUEST="true")
    )
    assert "Reports to " in fellow and "this person reports" not in fellow
    with translation.override("de"):
        card = selectors.stakeholder_card(actor=w.users["kam"], account_id=w.idn.pk, stakeholder_id=mapped.chief.pk)
        seat = card["node"]["committees"][0]
        assert seat["role"] == "member" and seat["role_label"] == str(CommitteeRole.MEMBER.label)


# --- item 2: filters --------------------------------------------------------------------------------------------
def test_vacancies_follow_the_filter_and_the_page_says_what_covers_the_whole_account(mapped: Any, web: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    mapped.chief_pos.valid_to = timezone.localdate() - dt.timedelta(days=3)
    mapped.chief_pos.save()
    here = selectors.relationship_map(
        actor=kam, account_id=w.idn.pk, filters=selectors.MapFilters(department=w.department.pk)
    )
    elsewhere = selectors.relationship_map(
        actor=kam, account_id=w.idn.pk, filters=selectors.MapFilters(department=w.hospital2.pk)
    )
    on_committee = selectors.relationship_map(
        actor=kam, account_id=w.idn.pk, filters=selectors.MapFilters(committee=mapped.committee.pk)
    )
    assert len(here["vacancies"]) == 1 and elsewhere["vacancies"] == [] and on_committee["vacancies"] == []
    client = web("kam")
    data = client.get(reverse("relationships:map_data", args=[w.idn.pk]) + f"?department={w.hospital2.pk}").json()
    assert data["vacancies"] == []
    data = client.get(reverse("relationships:map_data", args=[w.idn.pk]) + f"?department={w.department.pk}").json()
    assert len(data["vacancies"]) == 1
    page = text(client.get(reverse("relationships:map", args=[w.idn.pk]) + f"?department={w.hospital2.pk}"))
    assert 'data-testid="whole-account-note"' in page and 'data-testid="findings-whole-account"' in page
    assert "vacated role" not in page.split('data-testid="map-count"')[1].split("</p>")[0]
    assert 'data-testid="whole-account-note"' not in text(client.get(reverse("relationships:map", args=[w.idn.pk])))


# --- item 5: "… and N more like this" lists them -----------------------------------------------------------------
def test_more_findings_line_leads_to_the_full_list(mapped: Any, web: Any, api: Any) -> None:
    w = mapped.w
    kam = w.users["kam"]
    for i in range(8):  # key people never reached: more than six findings of one kind
        s = f.StakeholderFactory(last_name=f"Key{i}")
        f.PositionFactory(stakeholder=s, account=w.hospital2, title="Head of Unit", is_primary=True)
        services.assessment_record(actor=kam, account_id=w.idn.pk, stakeholder_id=s.pk, decision_role="influencer",
                                   influence=5)  # fmt: skip
    cov = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk)
    total = cov["summary"]["finding_counts"]["key_person_not_reached"]
    assert total > selectors.MAX_PER_CODE
    more = next(x for x in cov["findings"] if x["code"] == "key_person_not_reached" and x.get("more"))
    assert more["url"] == reverse("relationships:map", args=[w.idn.pk]) + "?finding=key_person_not_reached#findings"
    full = selectors.relationship_coverage(actor=kam, account_id=w.idn.pk, expand="key_person_not_reached")
    listed = [x for x in full["findings"] if x["code"] == "key_person_not_reached"]
    assert len(listed) == total and not any(x.get("more") for x in listed)
    page = web("kam").get(more["url"].split("#")[0]).content.decode()
    assert page.count('data-code="key_person_not_reached"') == total and 'data-testid="findings-expanded"' in page
    status, body = api("kam").get(f"relationships/accounts/{w.idn.pk}/coverage?finding=key_person_not_reached")
    assert status == 200 and body["expanded"] == "key_person_not_reached"
    assert sum(1 for x in body["findings"] if x["code"] == "key_person_not_reached") == total
