"""Stakeholder pages: list with filters, the person's page (positions current and vacated, consent badges,
history), the forms (create with a first position, add/end a position, edit, committees) and the pickers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openkam.stakeholders import selectors
from openkam.stakeholders.models import Committee, Position, Stakeholder
from openkam.stakeholders.views import account_url
from tests import factories as f

from .conftest import CARDIOLOGY, bad_check_digit, make_npi

pytestmark = pytest.mark.django_db


def text(resp) -> str:
    return resp.content.decode()


# --- list -------------------------------------------------------------------------------------------
def test_list_shows_visible_people_with_current_primary_role(web, people):
    resp = web("kam").get(reverse("stakeholders:list"))
    assert resp.status_code == 200
    html = text(resp)
    assert "Dr. Ada Chen, MD" in html and "Ravi Patel, PharmD" in html and "Harbor" not in html
    assert "Chief of Cardiology" in html and "Beacon General Hospital" in html
    assert "Clinical Pharmacist" in html and "Director of Pharmacy" not in html  # the ended role is not current
    assert 'data-testid="flag-privacy"' in html  # Patel's privacy restriction is visible in the list
    assert 'data-testid="stakeholder-new"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=chen", {"Chen"}),
        (f"specialty={CARDIOLOGY}", {"Chen"}),
        ("kind=pharmacist", {"Patel"}),
        ("account={hospital2}", {"Patel"}),
        ("account={idn}", {"Chen", "Patel"}),
        ("q=nobody", set()),
    ],
)
def test_list_filters(web, world, people, query, expected):
    query = query.format(hospital2=world.hospital2.pk, idn=world.idn.pk)
    html = text(web("kam").get(reverse("stakeholders:list") + "?" + query))
    names = {"Chen": "Dr. Ada Chen, MD", "Patel": "Ravi Patel, PharmD"}
    shown = {short for short, full in names.items() if full in html}
    assert shown == expected
    if not expected:
        assert "Nobody matches these filters" in html


def test_list_of_an_invisible_account_falls_back_to_everyone_visible(web, world, people):
    html = text(web("kam").get(reverse("stakeholders:list") + f"?account={world.other_account.pk}"))
    assert "not on your book" in html and "Ada Chen" in html


def test_list_is_paginated_with_constant_queries(web, world):
    client = web("kam")
    url = reverse("stakeholders:list")
    for _ in range(3):
        f.PositionFactory(account=world.hospital, is_primary=True)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(27):
        f.PositionFactory(account=world.hospital, is_primary=True, stakeholder__npi="")
    with CaptureQueriesContext(connection) as ten:
        resp = client.get(url)
    assert len(ten) == len(one)
    assert "Page 1 of 2" in text(resp)


def test_compliance_sees_everyone_but_no_write_buttons(web, people):
    html = text(web("compliance").get(reverse("stakeholders:list")))
    assert "Hana Harbor" in html and 'data-testid="stakeholder-new"' not in html
    html = text(web("compliance").get(reverse("stakeholders:detail", args=[people.chen.pk])))
    assert "Chief of Cardiology" in html and 'data-testid="position-add"' not in html and "End position" not in html


# --- person page ------------------------------------------------------------------------------------
def test_person_page_shows_positions_consent_and_history(web, people):
    resp = web("kam").get(reverse("stakeholders:detail", args=[people.patel.pk]))
    assert resp.status_code == 200
    html = text(resp)
    assert "Clinical Pharmacist" in html and "Director of Pharmacy" in html
    assert "vacated since 06/30/2024" in html
    assert 'data-testid="alert-privacy"' in html and "Privacy restricted" in html
    assert 'data-testid="history"' in html
    assert "{% block" not in html


def test_person_page_consent_badges(web, people):
    html = text(web("kam").get(reverse("stakeholders:detail", args=[people.chen.pk])))
    assert "Consents to be contacted" in html and "Consents to email" in html and "recorded 03/01/2025" in html
    assert 'data-testid="alert-dnc"' not in html
    Stakeholder.objects.filter(pk=people.chen.pk).update(do_not_contact=True, consent_contact=False)
    html = text(web("kam").get(reverse("stakeholders:detail", args=[people.chen.pk])))
    assert 'data-testid="alert-dnc"' in html and 'data-testid="badge-dnc"' in html


def test_person_out_of_scope_is_404(web, people):
    assert web("kam2").get(reverse("stakeholders:detail", args=[people.chen.pk])).status_code == 404
    assert web("kam").get(reverse("stakeholders:edit", args=[people.harbor.pk])).status_code == 404


# --- create a person with a first position ----------------------------------------------------------
def new_person_post(world, **kw):
    data = {
        "first_name": "Grace", "last_name": "Hopper", "credentials": "MD", "kind": "physician",
        "npi": make_npi(88), "specialty": CARDIOLOGY, "country": "us", "consent_contact": "on",
        "title": "Head of Interventional Cardiology", "role_in_decision": "champion", "valid_from": "2026-01-15",
    }  # fmt: skip
    data.update(kw)
    return data


def test_kam_adds_a_new_person_from_an_account(web, world):
    url = reverse("stakeholders:position_add") + f"?account={world.hospital.pk}&mode=new"
    client = web("kam")
    html = text(client.get(url))
    assert "Add a stakeholder at Beacon General Hospital" in html and 'data-testid="fixed-account"' in html
    resp = client.post(url, new_person_post(world, account=world.hospital.pk))
    assert resp.status_code == 302 and resp["Location"] == account_url(world.hospital.pk)  # back to the account
    s = Stakeholder.objects.get(last_name="Hopper")
    assert s.country == "US" and s.specialty_id == CARDIOLOGY
    p = Position.objects.get(stakeholder=s)
    assert (p.account_id, p.is_primary, p.valid_from) == (world.hospital.pk, True, dt.date(2026, 1, 15))


def test_bad_npi_shows_the_error_next_to_the_field_and_writes_nothing(web, world):
    url = reverse("stakeholders:create")
    resp = web("kam").post(url, new_person_post(world, account=world.hospital.pk, npi=bad_check_digit(make_npi(88))))
    assert resp.status_code == 200
    html = text(resp)
    assert 'data-testid="error-npi"' in html and "check digit" in html
    assert not Stakeholder.objects.exists()
    assert "Cardiovascular Disease" in html  # the chosen specialty is still selected


def test_create_from_the_list_goes_to_the_new_person(web, world):
    resp = web("kam").post(reverse("stakeholders:create"), new_person_post(world, account=world.hospital.pk))
    s = Stakeholder.objects.get(last_name="Hopper")
    assert resp["Location"] == reverse("stakeholders:detail", args=[s.pk])


def test_create_page_account_picker_and_invisible_account(web, world):
    client = web("kam")
    html = text(client.get(reverse("stakeholders:create")))
    assert 'data-testid="picker-account"' in html and "Beacon General Hospital" in html
    assert "Harbor Medical Center" not in html
    resp = client.post(reverse("stakeholders:create"), new_person_post(world, account=world.other_account.pk))
    assert resp.status_code == 200 and 'data-testid="error-account"' in text(resp)
    assert not Stakeholder.objects.exists()


def test_compliance_cannot_open_write_pages(web, world, people):
    c = web("compliance")
    assert c.get(reverse("stakeholders:create")).status_code == 403
    assert c.get(reverse("stakeholders:position_add") + f"?stakeholder={people.chen.pk}").status_code == 403
    assert (
        c.post(
            reverse("stakeholders:position_end", args=[people.chen_chief.pk]), {"valid_to": "2026-05-01"}
        ).status_code
        == 403
    )
    people.chen_chief.refresh_from_db()
    assert people.chen_chief.valid_to is None


# --- positions --------------------------------------------------------------------------------------
def test_add_a_position_for_a_person(web, world, people):
    client = web("msl")
    url = reverse("stakeholders:position_add") + f"?stakeholder={people.chen.pk}"
    html = text(client.get(url))
    assert 'data-testid="fixed-stakeholder"' in html and "Dr. Ada Chen, MD" in html
    resp = client.post(
        url,
        {"stakeholder": people.chen.pk, "account": world.department.pk, "title": "Heart failure lead",
         "role_in_decision": "influencer", "valid_from": "2026-02-01"},
    )  # fmt: skip
    assert resp.status_code == 302 and resp["Location"] == reverse("stakeholders:detail", args=[people.chen.pk])
    assert Position.objects.filter(
        stakeholder=people.chen, account=world.department, title="Heart failure lead"
    ).exists()


def test_add_an_existing_person_at_an_account(web, world, people):
    client = web("kam")
    url = reverse("stakeholders:position_add") + f"?account={world.hospital2.pk}"
    html = text(client.get(url))
    assert "Dr. Ada Chen, MD" in html  # people on the book are offered
    resp = client.post(
        url,
        {
            "stakeholder": people.chen.pk,
            "account": world.hospital2.pk,
            "title": "",
            "valid_from": "2026-02-01",
            "role_in_decision": "unknown",
        },
    )
    assert resp.status_code == 200 and 'data-testid="error-title"' in text(resp)
    resp = client.post(
        url,
        {
            "stakeholder": people.chen.pk,
            "account": world.hospital2.pk,
            "title": "Consultant",
            "valid_from": "2026-02-01",
            "role_in_decision": "unknown",
        },
    )
    assert resp.status_code == 302
    assert Position.objects.filter(stakeholder=people.chen, account=world.hospital2).exists()


def test_end_a_position_and_see_the_role_vacated(web, people):
    client = web("kam")
    url = reverse("stakeholders:position_end", args=[people.chen_chief.pk])
    resp = client.post(url, {"valid_to": "2019-01-01"})
    assert resp.status_code == 422 and 'data-testid="error-valid_to"' in text(resp)
    resp = client.post(url, {"valid_to": "2026-04-30", "reason": "retired"}, follow=True)
    html = text(resp)
    assert "vacated since 04/30/2026" in html and 'data-testid="position-past"' in html
    people.chen_chief.refresh_from_db()
    assert people.chen_chief.valid_to == dt.date(2026, 4, 30)


def test_edit_position_and_person(web, world, people):
    client = web("kam")
    resp = client.post(
        reverse("stakeholders:position_edit", args=[people.chen_chief.pk]),
        {"title": "Chair of Cardiology", "role_in_decision": "approver", "committee": "", "valid_from": "2020-01-01"},
    )
    assert resp.status_code == 302
    people.chen_chief.refresh_from_db()
    assert (people.chen_chief.title, people.chen_chief.committee_id) == ("Chair of Cardiology", None)
    data = {"first_name": "Ada", "last_name": "Chen-Li", "kind": "physician", "country": "US", "npi": people.chen.npi,
            "specialty": CARDIOLOGY, "consent_contact": "on"}  # fmt: skip
    resp = client.post(reverse("stakeholders:edit", args=[people.chen.pk]), data)
    assert resp.status_code == 302
    assert Stakeholder.objects.get(pk=people.chen.pk).last_name == "Chen-Li"
    data["npi"] = people.harbor.npi
    resp = client.post(reverse("stakeholders:edit", args=[people.chen.pk]), data)
    assert resp.status_code == 200 and "already has NPI" in text(resp)


# --- committees -------------------------------------------------------------------------------------
def test_committee_create_and_edit(web, world):
    client = web("kam")
    url = reverse("stakeholders:committee_create") + f"?account={world.hospital.pk}"
    assert "New committee at Beacon General Hospital" in text(client.get(url))
    resp = client.post(url, {"name": "Value Analysis", "kind": "value_analysis", "meeting_cadence": "Monthly"})
    assert resp.status_code == 302
    c = Committee.objects.get(name="Value Analysis")
    resp = client.post(reverse("stakeholders:committee_edit", args=[c.pk]), {"name": "VAC", "kind": "value_analysis"})
    assert resp.status_code == 302
    c.refresh_from_db()
    assert c.name == "VAC"
    assert web("kam2").get(url).status_code == 404
    assert web("kam").get(reverse("stakeholders:committee_create")).status_code == 404


# --- pickers and the Account 360 partial ------------------------------------------------------------
def test_pickers(web, world, people):
    client = web("kam")
    opts = text(client.get(reverse("stakeholders:options", args=["specialty"]) + "?q=cardiovascular"))
    assert f'value="{CARDIOLOGY}"' in opts and "matches" in opts
    opts = text(client.get(reverse("stakeholders:options", args=["specialty"]) + f"?q=xyzzy&specialty={CARDIOLOGY}"))
    assert "no match" in opts and f'value="{CARDIOLOGY}" selected' in opts  # the current choice is kept
    opts = text(client.get(reverse("stakeholders:options", args=["stakeholder"]) + "?q=a"))
    assert "Ada Chen" in opts and "Harbor" not in opts
    opts = text(client.get(reverse("stakeholders:options", args=["account"]) + "?q=north"))
    assert "Beacon North Hospital" in opts and "Beacon General" not in opts
    opts = text(client.get(reverse("stakeholders:options", args=["committee"]) + f"?account={world.department.pk}"))
    assert "Beacon General P&amp;T" in opts
    opts = text(web("kam2").get(reverse("stakeholders:options", args=["committee"]) + f"?account={world.hospital.pk}"))
    assert "P&amp;T" not in opts
    assert client.get(reverse("stakeholders:options", args=["users"])).status_code == 404
    # ids are never rendered with thousands separators
    big = f.StakeholderFactory(pk=123456, first_name="Bo", last_name="Big")
    f.PositionFactory(stakeholder=big, account=world.hospital)
    opts = text(client.get(reverse("stakeholders:options", args=["stakeholder"]) + "?q=big&stakeholder=123456"))
    assert 'value="123456" selected' in opts
    assert "/stakeholders/positions/add/?stakeholder=123456" in text(
        client.get(reverse("stakeholders:detail", args=[123456]))
    )


def test_account_positions_partial_shows_vacated_roles(world, people):
    kam = world.users["kam"]
    html = render_to_string(
        "stakeholders/components/account_positions.html",
        {
            "positions": selectors.account_positions(actor=kam, account=world.hospital),
            "account": world.hospital,
            "can_write": True,
        },
    )
    assert "Chief of Cardiology" in html and "Director of Pharmacy" in html
    assert "vacated since 06/30/2024" in html
    assert f"?account={world.hospital.pk}" in html


def test_person_page_queries_do_not_grow_with_positions(web, world, people):
    client = web("kam")
    url = reverse("stakeholders:detail", args=[people.chen.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(9):
        committee = f.CommitteeFactory(account=world.hospital2, name=f"Committee {n}")
        f.PositionFactory(stakeholder=people.chen, account=world.hospital2, title=f"Role {n}", committee=committee)
    with CaptureQueriesContext(connection) as ten:
        resp = client.get(url)
    assert text(resp).count('data-testid="position-current"') == 10
    assert len(ten) == len(one)
