"""Account pages: list, Account 360, forms (create, edit, move, team, affiliations) and constant query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openkam.accounts import services
from openkam.accounts.models import Account, AccountAffiliation, AccountTeamMember
from tests import factories as f
from tests.accounts.conftest import BAD_NPI, GOOD_NPI, build_showcase, populate

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def html(resp) -> str:
    return resp.content.decode()


# --- list -----------------------------------------------------------------------------------------
def test_list_shows_the_book_with_levels_and_child_counts(world, web):
    services.account_update(actor=world.users["admin"], account=world.idn, kam_level="strategic", ccn="220071")
    resp = web("kam").get("/accounts/")
    assert resp.status_code == 200
    body = html(resp)
    assert "Beacon General Hospital" in body and "Harbor Medical Center" not in body
    assert "badge badge-level-strategic" in body and "220071" in body
    assert 'data-testid="children-count">2<' in body  # the IDN's two hospitals
    assert 'data-testid="account-create"' in body


def test_list_search_and_filters(world, web):
    services.account_update(actor=world.users["admin"], account=world.hospital2, npi=GOOD_NPI, city="Salem")
    c = web("kam")
    body = html(c.get("/accounts/", {"q": GOOD_NPI}))
    assert body.count('data-testid="account-row"') == 1 and "Beacon North Hospital" in body
    body = html(c.get("/accounts/", {"q": "salem"}))
    assert "Beacon North Hospital" in body
    body = html(c.get("/accounts/", {"type": "department"}))
    assert body.count('data-testid="account-row"') == 1 and "Cardiology" in body
    body = html(c.get("/accounts/", {"q": "no such place"}))
    assert "No account matches your search" in body


def test_list_paginates(world, web):
    for i in range(30):
        f.AccountFactory(name=f"Clinic {i:02d}", parent=world.idn, ancestors=[world.idn.pk], depth=1)
    c = web("kam")
    first = html(c.get("/accounts/"))
    assert first.count('data-testid="account-row"') == 25 and "Page 1 of 2" in first
    second = html(c.get("/accounts/", {"page": 2}))
    assert second.count('data-testid="account-row"') == 34 - 25


def test_empty_book_says_what_to_do_and_read_only_roles_get_no_create_button(personas, web):
    body = html(web("kam").get("/accounts/"))
    assert "No accounts on your book yet" in body and "Create the first account" in body
    body = html(web("msl").get("/accounts/"))
    assert "ask your lead" in body.lower() and 'data-testid="account-create"' not in body
    assert 'data-testid="account-create"' not in html(web("compliance").get("/accounts/"))


# --- Account 360 ----------------------------------------------------------------------------------
def test_account_360_shows_hierarchy_team_stakeholders_plans_interactions(world, web):
    build_showcase(world)
    resp = web("kam").get(f"/accounts/{world.idn.pk}/")
    assert resp.status_code == 200
    body = html(resp)
    assert "Beacon General Hospital" in body and 'data-testid="child-row"' in body
    assert "Kim Kam" in body and "Vizient" in body
    assert "via Cardiology" in body and "Dr. Lucia Romero, MD" in body
    assert body.count('data-testid="vacated"') == 1  # Dr. Nyberg left
    assert "Beacon 2026 strategic account plan" in body and "Heart-failure pathway review" in body
    assert "System P&amp;T Committee" in body
    assert f"/accounts/new/?parent={world.idn.pk}" in body  # ids are never localised ("1,234")
    kpis = resp.context["kpi"]
    assert kpis == {"descendants": 5, "stakeholders": 7, "open_plans": 2, "interactions_90d": 4}
    general = next(c for c in resp.context["children"] if c.pk == world.hospital.pk)
    assert (general.descendant_count, general.stakeholder_count, general.open_plan_count) == (2, 4, 1)
    assert [a.name for a in resp.context["ancestors"]] == []
    history = web("kam").get(f"/accounts/{world.idn.pk}/history/", **HTMX)  # the tab, fetched when opened
    assert [e.pgh_label for e in history.context["history"]].count("insert") >= 1
    assert "<html" not in html(history) and 'data-testid="history"' in html(history)


def test_account_360_history_tab_is_fetched_when_opened_and_scoped(world, web):
    services.account_update(actor=world.users["admin"], account=world.idn, kam_level="strategic", reason="QBR")
    f.AccountAffiliationFactory(from_account=world.idn, to_account=world.hospital2, type="network")
    page = html(web("kam").get(f"/accounts/{world.idn.pk}/"))
    assert f'hx-get="/accounts/{world.idn.pk}/history/"' in page and 'data-testid="history"' not in page
    tab = web("kam").get(f"/accounts/{world.idn.pk}/history/", **HTMX)
    models = {e.pgh_obj_model for e in tab.context["history"]}
    assert {"accounts.Account", "accounts.AccountTeamMember"} <= models
    assert "kam_level" in html(tab) and "QBR" in html(tab)
    assert "<html" in html(web("kam").get(f"/accounts/{world.idn.pk}/history/"))  # without JavaScript: a page
    assert web("kam2").get(f"/accounts/{world.idn.pk}/history/").status_code == 404


def test_account_360_shows_who_covers_a_child_through_its_parent(world, web):
    body = html(web("kam").get(f"/accounts/{world.department.pk}/"))
    assert 'data-testid="team-inherited"' in body and "via Beacon Health System" in body and "Kim Kam" in body
    assert "No one is on this account" not in body


def test_account_360_is_404_out_of_scope_and_hides_invisible_ancestors(world, web):
    assert web("kam2").get(f"/accounts/{world.idn.pk}/").status_code == 404
    f.AccountTeamMemberFactory(account=world.department, user=world.users["kam2"], start_date=dt.date(2025, 1, 1))
    body = html(web("kam2").get(f"/accounts/{world.department.pk}/"))
    assert "Beacon General Hospital" not in body and "Beacon Health System" not in body


def test_medical_reader_sees_no_commercial_interactions_and_no_edit_for_compliance(world, web):
    f.InteractionFactory(
        account=world.hospital, subject="Pricing talk", classification="commercial", created_by=world.users["kam"]
    )
    f.InteractionFactory(
        account=world.hospital, subject="MoA exchange", classification="medical", created_by=world.users["msl"]
    )
    msl = html(web("msl").get(f"/accounts/{world.idn.pk}/"))
    assert "MoA exchange" in msl and "Pricing talk" not in msl
    kam = html(web("kam").get(f"/accounts/{world.idn.pk}/"))
    assert "Pricing talk" in kam and "MoA exchange" not in kam
    compliance = html(web("compliance").get(f"/accounts/{world.idn.pk}/"))
    assert "Pricing talk" in compliance and 'data-testid="account-edit"' not in compliance
    assert 'data-testid="team-add-toggle"' not in compliance


def _detail_queries(web, account) -> int:
    client = web("kam")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/accounts/{account.pk}/").status_code == 200
    return len(ctx.captured_queries)


def test_account_360_query_count_does_not_grow_with_children_stakeholders_or_interactions(world, web):
    f.AccountAffiliationFactory(from_account=world.idn, to_account=world.hospital2, type="network")
    populate(world, 1)
    at_1x = _detail_queries(web, world.idn)
    made = populate(world, 10)
    for h in made["hospitals"][:5]:
        f.AccountTeamMemberFactory(account=world.idn, user=f.UserFactory(), start_date=dt.date(2025, 1, 1))
        f.AccountAffiliationFactory(from_account=world.idn, to_account=h, type="referral")
    at_10x = _detail_queries(web, world.idn)
    assert at_10x == at_1x, (at_1x, at_10x)
    assert at_1x <= 30


def test_account_360_weight_does_not_grow_with_users_or_the_book(world, web):
    """Account 360 carries no add form: "Add" fetches it (GET team/add, affiliations/add). The team form
    offers a first page of people and a search box (core:people_options); the affiliation form lists no
    account until the user searches (accounts:options)."""

    def add(start: int, n: int) -> None:
        for i in range(start, start + n):
            f.UserFactory(username=f"colleague{i:03d}", first_name="Colleague", last_name=f"{i:03d}")
            f.AccountFactory(name=f"Book account {i:03d}", owner=world.users["kam"])

    c = web("kam")
    team_url, aff_url = f"/accounts/{world.idn.pk}/team/add/", f"/accounts/{world.idn.pk}/affiliations/add/"
    add(0, 25)  # more people than the first page already
    page = html(c.get(f"/accounts/{world.idn.pk}/"))
    assert 'data-testid="team-add-form"' not in page and f'hx-get="{team_url}"' in page
    assert 'data-testid="affiliation-add-form"' not in page and f'hx-get="{aff_url}"' in page
    team_form, aff_form = html(c.get(team_url, **HTMX)), html(c.get(aff_url, **HTMX))
    add(25, 100)
    assert html(c.get(f"/accounts/{world.idn.pk}/")).count("<option") == page.count("<option")
    assert html(c.get(team_url, **HTMX)).count("<option") == team_form.count("<option") <= 40
    assert 'data-testid="picker-user_id"' in team_form and "/people/options/?field=user_id" in team_form
    assert "<html" not in team_form and 'data-testid="team-add-form"' in team_form
    assert html(c.get(aff_url, **HTMX)).count("<option") == aff_form.count("<option") <= 10  # affiliation types
    assert 'data-testid="picker-to_account_id"' in aff_form and "Book account" not in aff_form
    assert "<html" in html(c.get(team_url))  # without JavaScript: a page with the form
    assert web("compliance").get(team_url).status_code == 403
    assert web("kam2").get(aff_url).status_code == 404


def test_list_query_count_does_not_grow_with_accounts(world, web):
    populate(world, 1)
    client = web("kam")
    with CaptureQueriesContext(connection) as small:
        client.get("/accounts/")
    populate(world, 10)
    with CaptureQueriesContext(connection) as big:
        client.get("/accounts/")
    assert len(big.captured_queries) == len(small.captured_queries) <= 12


# --- create / edit / move -------------------------------------------------------------------------
def test_create_form_shows_a_bad_npi_next_to_the_field_and_writes_nothing(personas, web):
    c = web("kam")
    assert c.get("/accounts/new/").status_code == 200
    resp = c.post(
        "/accounts/new/",
        {
            "name": "Riverside Clinic",
            "type": "clinic",
            "country": "US",
            "kam_level": "basic",
            "status": "active",
            "npi": BAD_NPI,
        },
    )
    assert resp.status_code == 200
    assert 'data-testid="error-npi"' in html(resp) and "check digit" in html(resp)
    assert not Account.objects.filter(name="Riverside Clinic").exists()
    resp = c.post(
        "/accounts/new/",
        {
            "name": "Riverside Clinic",
            "type": "clinic",
            "country": "US",
            "kam_level": "basic",
            "status": "active",
            "npi": GOOD_NPI,
        },
    )
    acct = Account.objects.get(name="Riverside Clinic")
    assert resp.status_code == 302 and resp["Location"] == f"/accounts/{acct.pk}/"


def test_create_child_prefills_the_parent_and_places_it(world, web):
    c = web("kam")
    resp = c.get("/accounts/new/", {"parent": world.hospital.pk})
    assert resp.context["form"].initial["parent_id"] == world.hospital.pk
    c.post(
        "/accounts/new/",
        {
            "name": "Radiology",
            "type": "department",
            "country": "US",
            "kam_level": "basic",
            "status": "active",
            "parent_id": world.hospital.pk,
        },
    )
    assert Account.objects.get(name="Radiology").parent_id == world.hospital.pk


def test_medical_and_compliance_cannot_open_the_create_form(personas, web):
    assert web("msl").get("/accounts/new/").status_code == 403
    assert web("compliance").get("/accounts/new/").status_code == 403


def test_edit_saves_with_reason_and_compliance_is_refused(world, web):
    c = web("kam")
    data = {
        "name": "Beacon General",
        "type": "hospital",
        "country": "US",
        "kam_level": "key",
        "status": "active",
        "city": "Boston",
        "reason": "rebrand",
    }
    resp = c.post(f"/accounts/{world.hospital.pk}/edit/", data)
    assert resp.status_code == 302
    world.hospital.refresh_from_db()
    assert world.hospital.name == "Beacon General" and world.hospital.kam_level == "key"
    assert web("compliance").get(f"/accounts/{world.hospital.pk}/edit/").status_code == 403
    assert web("kam2").get(f"/accounts/{world.hospital.pk}/edit/").status_code == 404


def test_move_form_refuses_a_cycle_with_a_clear_message(world, web):
    c = web("kam")
    resp = c.post(f"/accounts/{world.hospital.pk}/move/", {"parent_id": world.department.pk})
    assert resp.status_code == 200 and "would make the hierarchy a cycle" in html(resp)
    resp = c.post(f"/accounts/{world.department.pk}/move/", {"parent_id": world.hospital2.pk, "reason": "reorg"})
    assert resp.status_code == 302
    world.department.refresh_from_db()
    assert world.department.parent_id == world.hospital2.pk


def test_account_options_lists_only_visible_accounts(world, web):
    body = html(web("kam").get("/accounts/options/", {"q": "o"}))
    assert "Beacon North Hospital" in body and "Harbor" not in body
    body = html(web("kam").get("/accounts/options/", {"exclude": world.hospital.pk}))
    assert "Cardiology" not in body and "Beacon General Hospital" not in body


# --- team and affiliations ------------------------------------------------------------------------
def test_team_add_in_place_with_htmx_and_errors_on_the_form(world, web):
    c = web("kam")
    lead = world.users["lead"]
    url = f"/accounts/{world.hospital.pk}/team/add/"
    resp = c.post(url, {"user_id": lead.pk, "role": "executive_sponsor", "start_date": "2025-01-01"}, **HTMX)
    assert resp.status_code == 200 and "Lena Lead added to the team." in html(resp)
    assert "<html" not in html(resp)  # a partial
    resp = c.post(url, {"user_id": lead.pk, "role": "executive_sponsor"}, **HTMX)
    assert "already on this account" in html(resp)
    resp = c.post(
        url, {"user_id": lead.pk, "role": "kam", "start_date": "2026-05-01", "end_date": "2026-04-01"}, **HTMX
    )
    assert 'data-testid="error-end_date"' in html(resp)
    assert AccountTeamMember.objects.filter(account=world.hospital, user=lead).count() == 1


def test_team_add_without_javascript_redirects_and_end_membership(world, web):
    c = web("kam")
    resp = c.post(
        f"/accounts/{world.idn.pk}/team/add/",
        {"user_id": world.users["lead"].pk, "role": "kam", "start_date": "2025-01-01"},
    )
    assert resp.status_code == 302 and resp["Location"].endswith("#team")
    member = AccountTeamMember.objects.get(account=world.idn, user=world.users["lead"])
    resp = c.post(f"/accounts/{world.idn.pk}/team/{member.pk}/end/", **HTMX)
    assert "Lena Lead is no longer on the team." in html(resp)
    member.refresh_from_db()
    assert member.end_date == timezone.localdate() - dt.timedelta(days=1)
    resp = c.post(f"/accounts/{world.idn.pk}/team/{member.pk}/end/", **HTMX)
    assert "already ended" in html(resp)
    assert c.post(f"/accounts/{world.hospital.pk}/team/{member.pk}/end/").status_code == 404


def test_team_and_affiliation_writes_are_refused_for_compliance_and_out_of_scope(world, web):
    member = AccountTeamMember.objects.get(account=world.idn, user=world.users["msl"])
    assert web("compliance").post(f"/accounts/{world.idn.pk}/team/{member.pk}/end/").status_code == 403
    assert web("compliance").post(f"/accounts/{world.idn.pk}/affiliations/add/", {}).status_code == 403
    assert web("kam2").post(f"/accounts/{world.idn.pk}/team/add/", {}).status_code == 404
    member.refresh_from_db()
    assert member.end_date is None


def test_affiliation_add_and_end(world, web):
    c = web("kam")
    gpo = services.account_create(actor=world.users["kam"], name="Premier", type="gpo")
    url = f"/accounts/{world.hospital.pk}/affiliations/add/"
    resp = c.post(url, {"to_account_id": gpo.pk, "type": "gpo_member", "start_date": "2024-01-01"}, **HTMX)
    assert "Affiliation with “Premier” added." in html(resp)
    aff = AccountAffiliation.objects.get()
    resp = c.post(url, {"to_account_id": world.hospital.pk, "type": "gpo_member"}, **HTMX)
    assert "cannot be affiliated with itself" in html(resp)
    resp = c.post(url, {"to_account_id": world.other_account.pk, "type": "gpo_member"})  # no JS: full page
    assert resp.status_code == 200 and "No such account." in html(resp) and "<html" in html(resp)
    resp = c.post(f"/accounts/{world.hospital.pk}/affiliations/{aff.pk}/end/")
    assert resp.status_code == 302
    aff.refresh_from_db()
    assert aff.end_date is not None
    gpo_page = html(c.get(f"/accounts/{gpo.pk}/"))
    assert "Beacon General Hospital" in gpo_page  # the GPO lists its ended member under history


@pytest.mark.django_db
def test_account_360_shows_the_evaluation_card(world, web):
    page = web("kam").get(f"/accounts/{world.idn.pk}/").content.decode()
    assert 'data-testid="tier-card"' in page and "Not assessed yet." in page


def test_account_360_stakeholders_card_shows_a_first_page_and_the_rest_on_demand(world, web):
    """The card lists the first positions (own first, current first) and a "Show more" control that fetches
    the next page in place (HTMX) — every position is reachable, in the same order, each exactly once."""
    from openkam.accounts.views import POSITIONS_PAGE, POSITIONS_SHOWN

    populate(world, 11)  # 11 × (11 + 1) = 132 positions below the IDN, one vacated per hospital
    client = web("kam")
    page = client.get(f"/accounts/{world.idn.pk}/")
    body = html(page)
    total = page.context["positions_total"]
    assert total == 132 and body.count('data-testid="position-row"') == POSITIONS_SHOWN
    more_url = f"/accounts/{world.idn.pk}/positions/?offset={POSITIONS_SHOWN}"
    assert f'hx-get="{more_url}"' in body and "132 positions, here and below" in body
    seen = [p.pk for p in page.context["positions"]]
    fragment = client.get(more_url, **HTMX)
    assert fragment.status_code == 200 and "<html" not in html(fragment)
    seen += [p.pk for p in fragment.context["positions"]]
    assert html(fragment).count('data-testid="position-row"') == POSITIONS_PAGE
    nxt = fragment.context["positions_more"]
    assert nxt["offset"] == POSITIONS_SHOWN + POSITIONS_PAGE and nxt["remaining"] == total - len(seen)
    last = client.get(f"/accounts/{world.idn.pk}/positions/?offset={nxt['offset']}", **HTMX)
    seen += [p.pk for p in last.context["positions"]]
    assert last.context["positions_more"] is None and 'data-testid="positions-more"' not in html(last)
    from openkam.stakeholders.selectors import account_positions

    expected = list(account_positions(actor=world.users["kam"], account=world.idn).values_list("pk", flat=True))
    assert seen == expected  # the same order as one list, nothing twice, nothing missing
    assert "<html" in html(client.get(more_url))  # without JavaScript: a page of its own
    assert web("kam2").get(more_url).status_code == 404
    assert client.get(f"/accounts/{world.idn.pk}/positions/?offset=abc", **HTMX).status_code == 200


def test_account_360_positions_page_query_count_is_constant(world, web):
    populate(world, 2)
    client = web("kam")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/accounts/{world.idn.pk}/positions/?offset=0", **HTMX)
    populate(world, 12)
    with CaptureQueriesContext(connection) as big:
        resp = client.get(f"/accounts/{world.idn.pk}/positions/?offset=0", **HTMX)
    assert len(resp.context["positions"]) > 100 - 1
    assert len(big.captured_queries) == len(small.captured_queries)
