"""Plan pages: list, create, the plan page (tree, classification, lifecycle), HTMX edits, locking, deletes."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.core.models import Role, User
from openkam.plans import services
from openkam.plans.models import AccountPlan, Action, ActionStatus, Objective, PlanStatus, Tactic
from tests import factories as f
from tests.plans.conftest import build_plan

pytestmark = pytest.mark.django_db


def _html(resp):
    return resp.content.decode()


def _version(plan):
    return AccountPlan.objects.get(pk=plan.pk).version


# --- list --------------------------------------------------------------------------------------
def test_list_shows_visible_plans_with_completion_and_filters(world, pw, web):
    other = f.PlanFactory(account=world.other_account, owner=world.users["kam2"], name="Harbor plan")
    resp = web("kam").get("/plans/")
    assert resp.status_code == 200
    html = _html(resp)
    assert "Beacon General 2026" in html and "Harbor plan" not in html
    assert f'data-testid="progress-plan-{pw.plan.pk}">38 %' in html  # 37.5 → 38
    assert web("msl").get("/plans/").content.decode().count(f'data-testid="progress-plan-{pw.plan.pk}">75 %') == 1
    assert "Harbor plan" in _html(web("kam2").get("/plans/"))
    assert other.pk
    f.PlanFactory(account=world.hospital2, owner=world.users["lead"], name="Lead's plan", status=PlanStatus.ACTIVE)
    mine = _html(web("kam").get("/plans/?owner=me"))
    assert "Beacon General 2026" in mine and "Lead&#x27;s plan" not in mine
    active = _html(web("kam").get("/plans/?status=active"))
    assert "Lead&#x27;s plan" in active and "Beacon General 2026" not in active
    by_account = _html(web("kam").get(f"/plans/?account={world.hospital2.pk}"))
    assert "Lead&#x27;s plan" in by_account and "Beacon General 2026" not in by_account
    assert "Beacon General 2026" in _html(web("kam").get(f"/plans/?account={world.idn.pk}"))  # plans below an IDN


def test_list_empty_state_says_what_to_do(world, web):
    html = _html(web("kam").get("/plans/"))
    assert "No account plans yet" in html and "/plans/new/" in html


# --- create / edit -----------------------------------------------------------------------------
def test_create_prefills_account_and_creates_a_draft(world, web):
    client = web("kam")
    form = _html(client.get(f"/plans/new/?account={world.hospital.pk}"))
    assert re.search(rf'<option value="{world.hospital.pk}" selected>', form)
    resp = client.post(
        "/plans/new/",
        {
            "account": world.hospital.pk,
            "name": "Beacon 2027",
            "period_start": "2027-01-01",
            "period_end": "2027-12-31",
            "owner": world.users["kam"].pk,
        },
    )
    plan = AccountPlan.objects.get(name="Beacon 2027")
    assert resp.status_code == 302 and resp["Location"] == f"/plans/{plan.pk}/"
    assert plan.status == PlanStatus.DRAFT


def test_create_shows_field_errors(world, web):
    resp = web("kam").post(
        "/plans/new/",
        {"account": world.hospital.pk, "name": "Bad", "period_start": "2027-06-01", "period_end": "2027-01-01",
         "owner": world.users["kam"].pk},
    )  # fmt: skip
    assert resp.status_code == 200
    assert 'data-testid="error-period_end"' in _html(resp)
    assert not AccountPlan.objects.filter(name="Bad").exists()


def test_out_of_scope_account_is_not_offered(world, web):
    html = _html(web("kam").get("/plans/new/"))
    assert "Harbor Medical Center" not in html and "Beacon General Hospital" in html


def test_two_users_edit_header_second_sees_conflict_and_keeps_input(world, pw, web):
    kam, lead = web("kam"), web("lead")
    assert 'name="version" value="1"' in _html(kam.get(f"/plans/{pw.plan.pk}/edit/"))
    assert 'name="version" value="1"' in _html(lead.get(f"/plans/{pw.plan.pk}/edit/"))
    base = {"name": pw.plan.name, "period_start": "2026-01-01", "period_end": "2026-12-31", "version": 1}
    first = kam.post(f"/plans/{pw.plan.pk}/edit/", {**base, "owner": world.users["kam"].pk, "summary": "Kam's words"})
    assert first.status_code == 302
    second = lead.post(
        f"/plans/{pw.plan.pk}/edit/", {**base, "owner": world.users["kam"].pk, "summary": "Lead's words"}
    )
    html = _html(second)
    assert second.status_code == 200 and 'data-testid="conflict"' in html
    assert "This plan was changed by Kim Kam at" in html and "reload to see their changes" in html
    assert "Lead&#x27;s words" in html  # the user's input is kept
    assert "Kam&#x27;s words" in html  # and they see what is saved now
    assert AccountPlan.objects.get(pk=pw.plan.pk).summary == "Kam's words"  # no lost update
    assert 'name="version" value="2"' in html  # a deliberate second save may now overwrite


def test_only_owner_or_lead_edit_the_header(world, pw, web):
    assert web("msl").get(f"/plans/{pw.plan.pk}/edit/").status_code == 403
    assert web("kam2").get(f"/plans/{pw.plan.pk}/edit/").status_code == 404


# --- the plan page -----------------------------------------------------------------------------
def test_plan_page_shows_tree_badges_and_lifecycle(world, pw, web):
    html = _html(web("kam").get(f"/plans/{pw.plan.pk}/"))
    assert "List Cardiozen on the formulary" in html
    assert "Formulary push" in html and "Joint HEOR study" in html
    assert "Advisory board" not in html  # medical-only: never shown to a KAM
    assert 'class="badge badge-class-commercial"' in html and 'class="badge badge-class-joint"' in html
    assert 'data-testid="transition-submit"' in html and 'data-testid="transition-approve"' not in html
    assert f'href="/accounts/{world.hospital.pk}/"' in html
    assert 'data-testid="progress-plan">38 %' in html
    assert f'data-testid="progress-tactic-{pw.commercial.pk}">25 %' in html


def test_msl_never_sees_commercial_only_tactic_actions_or_their_history(world, pw, web):
    services.action_update(actor=world.users["kam"], action_id=pw.commercial_actions[1].pk, title="Secret rebate call")
    html = _html(web("msl").get(f"/plans/{pw.plan.pk}/")) + _html(web("msl").get(f"/plans/{pw.plan.pk}/history/"))
    assert "Joint HEOR study" in html and "Advisory board" in html
    assert "Formulary push" not in html and "Secret rebate call" not in html
    assert "Formulary push step" not in html
    assert 'data-testid="visibility-note"' in html
    assert 'data-testid="progress-plan">75 %' in html


def test_lead_sees_approve_on_a_plan_in_review(world, pw, web):
    AccountPlan.objects.filter(pk=pw.plan.pk).update(status=PlanStatus.IN_REVIEW)
    html = _html(web("lead").get(f"/plans/{pw.plan.pk}/"))
    assert 'data-testid="transition-approve"' in html and 'data-testid="transition-return"' in html
    resp = web("lead").post(f"/plans/{pw.plan.pk}/transition/", {"to": "approved", "version": _version(pw.plan)})
    assert resp.status_code == 302
    assert AccountPlan.objects.get(pk=pw.plan.pk).status == PlanStatus.APPROVED


def test_kam_cannot_approve_through_a_forged_post(world, pw, web):
    AccountPlan.objects.filter(pk=pw.plan.pk).update(status=PlanStatus.IN_REVIEW)
    resp = web("kam").post(f"/plans/{pw.plan.pk}/transition/", {"to": "approved"}, follow=True)
    assert "Only a KAM lead or an administrator can approve a plan." in _html(resp)
    assert AccountPlan.objects.get(pk=pw.plan.pk).status == PlanStatus.IN_REVIEW


def test_compliance_reads_without_edit_controls(world, pw, web):
    html = _html(web("compliance").get(f"/plans/{pw.plan.pk}/"))
    assert "Advisory board" in html and "Formulary push" in html
    assert 'data-testid="action-status"' not in html and "objective-add-toggle" not in html
    assert 'data-testid="lifecycle">' in html and "transition-" not in html


def test_closed_plan_is_shown_read_only(world, pw, web):
    AccountPlan.objects.filter(pk=pw.plan.pk).update(status=PlanStatus.CLOSED)
    html = _html(web("kam").get(f"/plans/{pw.plan.pk}/"))
    assert 'data-testid="closed-note"' in html
    assert 'data-testid="action-status"' not in html and 'data-testid="plan-edit"' not in html


def test_out_of_scope_plan_is_404(world, pw, web):
    assert web("kam2").get(f"/plans/{pw.plan.pk}/").status_code == 404
    assert web("msl").get(f"/plans/tactics/{pw.commercial.pk}/edit/").status_code == 404
    assert web("kam").get(f"/plans/actions/{pw.medical_actions[0].pk}/edit/").status_code == 404


# --- HTMX edits --------------------------------------------------------------------------------
def _hx(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_htmx_status_change_updates_row_completion_and_version(world, pw, web):
    action = pw.commercial_actions[1]
    resp = _hx(web("kam"), f"/plans/actions/{action.pk}/status/", {"status": "done", "version": 1})
    html = _html(resp)
    assert resp.status_code == 200
    assert f'id="action-{action.pk}"' in html and "is-done" in html
    assert f'id="tactic-completion-{pw.commercial.pk}" hx-swap-oob="true"' in html
    assert f'data-testid="progress-tactic-{pw.commercial.pk}">50 %' in html
    assert 'id="plan-version" name="version" value="2"' in html
    assert Action.objects.get(pk=action.pk).status == ActionStatus.DONE


def test_htmx_stale_status_change_is_refused_with_the_conflict_message(world, pw, web):
    services.objective_update(actor=world.users["lead"], objective_id=pw.objective.pk, current=2)  # v1 → v2
    action = pw.commercial_actions[1]
    resp = _hx(web("kam"), f"/plans/actions/{action.pk}/status/", {"status": "done", "version": 1})
    assert resp["HX-Retarget"] == "#plan-alerts"
    assert "This plan was changed by Lena Lead at" in _html(resp)
    assert Action.objects.get(pk=action.pk).status == ActionStatus.NOT_STARTED


def test_htmx_quick_add_objective_tactic_action(world, pw, web):
    client = web("kam")
    resp = _hx(client, f"/plans/{pw.plan.pk}/objectives/add/", {"title": "Win the tender", "metric": "", "version": 1})
    assert resp.status_code == 200 and "Win the tender" in _html(resp)
    objective = Objective.objects.get(title="Win the tender")
    assert 'name="version" value="2"' in _html(resp)
    resp = _hx(
        client,
        f"/plans/objectives/{objective.pk}/tactics/add/",
        {"title": "Bid", "classification": "commercial", "version": 2},
    )
    assert "Bid" in _html(resp) and "badge-class-commercial" in _html(resp)
    tactic = Tactic.objects.get(title="Bid")
    resp = _hx(
        client,
        f"/plans/tactics/{tactic.pk}/actions/add/",
        {"title": "Submit bid", "assignee": world.users["kam"].pk, "due_date": "2026-09-01", "version": 3},
    )
    html = _html(resp)
    assert "Submit bid" in html and f'id="objective-completion-{objective.pk}" hx-swap-oob="true"' in html
    assert _version(pw.plan) == 4


def test_htmx_quick_add_with_bad_input_rerenders_the_form(world, pw, web):
    resp = _hx(web("kam"), f"/plans/tactics/{pw.commercial.pk}/actions/add/", {"title": "", "version": 1})
    assert resp["HX-Retarget"] == f"#action-quick-{pw.commercial.pk}"
    assert "is-invalid" in _html(resp)


def test_quick_add_on_a_stale_page_does_not_make_the_page_current(world, pw, web):
    services.objective_update(actor=world.users["lead"], objective_id=pw.objective.pk, current=2)  # v2
    resp = _hx(web("kam"), f"/plans/{pw.plan.pk}/objectives/add/", {"title": "Late idea", "version": 1})
    assert 'id="plan-version" name="version" value="1"' in _html(resp)  # still stale: the next edit will be refused


def test_msl_cannot_add_a_commercial_tactic(world, pw, web):
    resp = _hx(
        web("msl"),
        f"/plans/objectives/{pw.objective.pk}/tactics/add/",
        {"title": "Rebate", "classification": "commercial"},
    )
    assert resp.status_code == 200 and resp.get("HX-Retarget") == f"#tactic-quick-{pw.objective.pk}"
    assert not Tactic.objects.filter(title="Rebate").exists()


# --- edit / delete children --------------------------------------------------------------------
def test_action_edit_due_before_start_shows_error_on_due(world, pw, web):
    action = pw.commercial_actions[1]
    resp = web("kam").post(
        f"/plans/actions/{action.pk}/edit/",
        {
            "title": action.title,
            "status": "in_progress",
            "start_date": "2026-06-10",
            "due_date": "2026-06-01",
            "version": 1,
        },
    )
    assert resp.status_code == 200 and 'data-testid="error-due_date"' in _html(resp)


def test_delete_asks_for_confirmation_then_deletes(world, pw, web):
    client = web("kam")
    action = pw.commercial_actions[0]
    confirm = client.get(f"/plans/actions/{action.pk}/delete/")
    assert confirm.status_code == 200 and action.title in _html(confirm)
    assert Action.objects.filter(pk=action.pk).exists()
    resp = client.post(f"/plans/actions/{action.pk}/delete/", {"version": 1})
    assert resp.status_code == 302 and not Action.objects.filter(pk=action.pk).exists()


def test_plan_delete_only_for_drafts(world, web):
    plan = build_plan(account=world.hospital, owner=world.users["kam"], objectives=1, tactics_per_objective=2)
    client = web("kam")
    assert "2 tactics and 10 actions" in _html(client.get(f"/plans/{plan.pk}/delete/"))
    assert client.post(f"/plans/{plan.pk}/delete/").status_code == 302
    assert not AccountPlan.objects.filter(pk=plan.pk).exists()


# --- constant queries --------------------------------------------------------------------------
def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def test_plan_page_queries_do_not_grow_with_the_plan(world, web):
    kam = world.users["kam"]
    small = build_plan(account=world.hospital, owner=kam, objectives=2, tactics_per_objective=2, actions_per_tactic=5)
    large = build_plan(account=world.hospital, owner=kam, objectives=20, tactics_per_objective=2, actions_per_tactic=5)
    assert Action.objects.filter(tactic__objective__plan=small).count() == 20
    assert Action.objects.filter(tactic__objective__plan=large).count() == 200
    client = web("kam")
    client.get(f"/plans/{small.pk}/")  # warm up session/caches
    at_1x = _count_queries(client, f"/plans/{small.pk}/")
    at_10x = _count_queries(client, f"/plans/{large.pk}/")
    assert at_1x == at_10x, (at_1x, at_10x)
    assert at_1x <= 25


def test_plan_list_queries_do_not_grow_with_plans(world, web):
    kam = world.users["kam"]
    build_plan(account=world.hospital, owner=kam, objectives=1)
    client = web("kam")
    client.get("/plans/")
    one = _count_queries(client, "/plans/")
    for _ in range(9):
        build_plan(account=world.hospital, owner=kam, objectives=2)
    assert _count_queries(client, "/plans/") == one


def test_history_section_lists_changes(world, pw, web):
    services.action_update(
        actor=world.users["kam"], action_id=pw.commercial_actions[1].pk, status="done", reason="signed"
    )
    assert 'data-testid="history-loading"' in _html(web("kam").get(f"/plans/{pw.plan.pk}/"))  # loads after the page
    html = _html(web("kam").get(f"/plans/{pw.plan.pk}/history/"))
    assert 'data-testid="history"' in html and "signed" in html
    assert "Not started</del> → <strong>Done</strong>" in html  # choice labels, not codes
    services.action_update(actor=world.users["kam"], action_id=pw.joint_actions[1].pk, assignee=world.users["kam"])
    html = _html(web("kam").get(f"/plans/{pw.plan.pk}/history/"))
    assert "Mia Msl</del> → <strong>Kim Kam</strong>" in html  # people by name, not id


def test_medical_role_does_not_create_plans(world, web):
    assert web("msl").get("/plans/new/").status_code == 403
    assert 'data-testid="plan-create"' not in _html(web("msl").get("/plans/"))
    assert 'data-testid="plan-create"' in _html(web("kam").get("/plans/"))


def test_edit_and_delete_pages_are_refused_to_readers_and_on_closed_plans(world, pw, web):
    compliance = web("compliance")
    assert compliance.get(f"/plans/actions/{pw.joint_actions[0].pk}/edit/").status_code == 403
    assert compliance.get(f"/plans/objectives/{pw.objective.pk}/delete/").status_code == 403
    assert web("access").get(f"/plans/{pw.plan.pk}/delete/").status_code == 403  # not the owner
    AccountPlan.objects.filter(pk=pw.plan.pk).update(status=PlanStatus.CLOSED)
    resp = web("kam").get(f"/plans/tactics/{pw.commercial.pk}/edit/")
    assert resp.status_code == 403 and "This plan is closed." in _html(resp)


# --- people pickers: no list of every user on the page -------------------------------------------
def _page_shape(client, url):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    html = _html(resp)
    return html, len(resp.content), html.count("<option"), len(ctx.captured_queries)


def test_plan_page_size_options_and_queries_do_not_grow_with_users(world, web):
    kam = world.users["kam"]
    plan = build_plan(account=world.hospital, owner=kam, objectives=2, tactics_per_objective=2, actions_per_tactic=5)
    f.UserFactory.create_batch(3)
    assert User.objects.filter(is_active=True).count() == 10
    client = web("kam")
    url = f"/plans/{plan.pk}/"
    client.get(url)  # warm up session/caches
    _html10, bytes10, options10, queries10 = _page_shape(client, url)
    f.UserFactory.create_batch(190, last_name="Newcomer")
    assert User.objects.filter(is_active=True).count() == 200
    html200, bytes200, options200, queries200 = _page_shape(client, url)
    assert (bytes200, options200, queries200) == (bytes10, options10, queries10)
    assert "Newcomer" not in html200
    # what is left: 5 statuses per action (20) and leading/lagging in the add-objective form — the add-tactic,
    # add-action and section add forms are fetched when opened (plans:quick_form, plans:section_add_form)
    assert options10 == 5 * 20 + 2


def _people(client, **params):
    return _html(client.get("/people/options/", params))


def test_people_options_search_keeps_the_choice_first_and_leaves_out_readers(world, web):
    users = world.users
    client = web("kam")
    html = _people(client, q="lena", field="assignee", assignee=users["msl"].pk, writers="1", blank="Unassigned")
    assert html.startswith('<option value="">Unassigned</option>')
    chosen = f'<option value="{users["msl"].pk}" selected>Mia Msl · Medical (MSL)</option>'
    match = f'<option value="{users["lead"].pk}">Lena Lead · KAM lead</option>'
    assert chosen in html and match in html and html.index(chosen) < html.index(match)
    assert "Kim Kam" not in html  # not a match, not chosen
    compliance = users["compliance"]
    assert f'value="{compliance.pk}"' not in _people(client, writers="1")  # read-only: never owns plan work
    assert f'value="{compliance.pk}"' in _people(client)  # but may be named, e.g. as a participant
    several = _people(client, field="participants", participants=[users["kam"].pk, users["lead"].pk])
    assert several.count(" selected>") == 2 and '<option value="">' not in several  # no blank: a list


def test_people_options_are_capped_and_say_so(world, web):
    f.UserFactory.create_batch(60, last_name="Crowd")
    client = web("kam")
    html = _people(client, q="crowd")
    assert html.count("Crowd · ") == 50 and "first 50 shown: type more of the name" in html
    assert "nobody matches “zzz”" in _people(client, q="zzz")
    f.UserFactory(username="gone", first_name="Gone", last_name="Crowd", is_active=False)
    assert "Gone Crowd" not in _people(client, q="gone")  # only active people
    anonymous = web("kam")
    anonymous.logout()
    assert anonymous.get("/people/options/").status_code == 302  # sign-in required


def test_quick_add_assigns_someone_the_page_does_not_list(world, pw, web):
    someone = f.UserFactory(first_name="Quinn", last_name="Unlisted", role=Role.KAM)
    client = web("kam")
    assert "Unlisted" not in _html(client.get(f"/plans/{pw.plan.pk}/"))
    url = f"/plans/tactics/{pw.commercial.pk}/actions/add/"
    resp = _hx(client, url, {"title": "", "assignee": someone.pk, "version": 1})  # bad title: the form again
    assert resp["HX-Retarget"] == f"#action-quick-{pw.commercial.pk}"
    assert f'<option value="{someone.pk}" selected>Quinn Unlisted · Key account manager</option>' in _html(resp)
    resp = _hx(client, url, {"title": "Call Quinn", "assignee": someone.pk, "version": 1})
    assert resp.status_code == 200 and "Quinn Unlisted" in _html(resp)
    assert Action.objects.get(title="Call Quinn").assignee == someone
    resp = _hx(client, url, {"title": "Audit", "assignee": world.users["compliance"].pk, "version": 2})
    assert resp["HX-Retarget"] == f"#action-quick-{pw.commercial.pk}"  # read-only roles are still refused
    assert not Action.objects.filter(title="Audit").exists()


def test_edit_page_offers_the_chosen_person_and_a_first_page_only(world, pw, web):
    f.UserFactory.create_batch(80, last_name="Aaron")  # sorted before everyone else
    zoe = f.UserFactory(first_name="Zoe", last_name="Zulu", role=Role.LEAD)
    action = pw.commercial_actions[1]
    services.action_update(actor=world.users["kam"], action_id=action.pk, assignee=zoe)  # plan v2
    client = web("kam")
    html = _html(client.get(f"/plans/actions/{action.pk}/edit/"))
    assert f'<option value="{zoe.pk}" selected>Zoe Zulu · KAM lead</option>' in html
    assert html.count("<option") == 5 + 2 * (1 + 50) + 1  # statuses; per people field blank + first page; Zoe
    assert 'data-testid="picker-assignee"' in html and 'data-testid="picker-owner"' in html
    other = f.UserFactory(first_name="Zack", last_name="Zz", role=Role.KAM)  # on no page of the form
    resp = client.post(
        f"/plans/actions/{action.pk}/edit/",
        {"title": action.title, "status": "in_progress", "assignee": zoe.pk, "owner": other.pk, "version": 2},
    )
    assert resp.status_code == 302
    action.refresh_from_db()
    assert (action.owner, action.assignee) == (other, zoe)


def test_create_page_account_picker_shows_a_first_page_and_keeps_the_chosen_account(world, web):
    from openkam.accounts import services as account_services

    admin = world.users["admin"]
    last = None
    for i in range(60):
        last = account_services.account_create(
            actor=admin, name=f"Zeta clinic {i:02d}", type="clinic", parent=world.idn
        )
    client = web("kam")
    html = _html(client.get("/plans/new/"))
    assert html.count("Zeta clinic") < 60 and 'data-testid="picker-account"' in html
    html = _html(client.get(f"/plans/new/?account={last.pk}"))
    assert f'<option value="{last.pk}" selected>Zeta clinic 59 · ' in html
    resp = client.post(
        "/plans/new/",
        {"account": last.pk, "name": "Zeta plan", "period_start": "2027-01-01", "period_end": "2027-12-31",
         "owner": world.users["kam"].pk},
    )  # fmt: skip
    assert resp.status_code == 302 and AccountPlan.objects.get(name="Zeta plan").account == last
    resp = client.post(
        "/plans/new/",
        {"account": world.other_account.pk, "name": "Smuggled", "period_start": "2027-01-01",
         "period_end": "2027-12-31", "owner": world.users["kam"].pk},
    )  # fmt: skip
    assert resp.status_code == 200 and 'data-testid="error-account"' in _html(resp)
    assert not AccountPlan.objects.filter(name="Smuggled").exists()
