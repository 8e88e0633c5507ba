"""Account plans in a real browser: build a plan, track completion, lifecycle, classification, conflicts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from openkam.plans import services
from openkam.plans.models import AccountPlan, Action, ActionStatus, PlanStatus
from tests.browser.conftest import shot
from tests.plans.conftest import pw  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_kam_builds_a_plan_marks_an_action_done_and_submits_it(world, page, login):
    login("kam")
    page.goto("/plans/")
    expect(page.get_by_text("No account plans yet")).to_be_visible()
    page.get_by_test_id("plan-create").click()
    page.select_option("#id_account", str(world.hospital.pk))
    page.fill("#id_name", "Beacon General — Cardiozen 2026")
    page.fill("#id_period_start", "2026-01-01")
    page.fill("#id_period_end", "2026-12-31")
    page.fill("#id_summary", "Get Cardiozen on the formulary and into the heart-failure pathway.")
    shot(page, "plans-create")
    page.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("plan-name")).to_have_text("Beacon General — Cardiozen 2026")
    expect(page.get_by_test_id("plan-status")).to_contain_text("Draft")
    expect(page.get_by_test_id("plan-account")).to_have_text("Beacon General Hospital")

    # objective
    page.get_by_test_id("objective-add-toggle").click()
    page.get_by_test_id("objective-quick-title").fill("Cardiozen listed on the formulary")
    page.get_by_test_id("objective-quick-metric").fill("formulary listings")
    page.get_by_test_id("objective-quick-target").fill("1")  # the plan's template requires a measurable target
    page.get_by_test_id("objective-quick-save").click()
    objective = page.get_by_test_id("objective").filter(has_text="Cardiozen listed on the formulary")
    expect(objective).to_be_visible()

    # tactic
    objective.get_by_test_id("tactic-add-toggle").click()
    objective.get_by_test_id("tactic-quick-title").fill("Present budget-impact model to P&T")
    objective.get_by_test_id("tactic-quick-classification").select_option("commercial")
    objective.get_by_test_id("tactic-quick-save").click()
    tactic = objective.get_by_test_id("tactic").filter(has_text="Present budget-impact model to P&T")
    expect(tactic).to_be_visible()
    expect(tactic.get_by_test_id("classification")).to_have_text("Commercial only")

    # two actions
    tactic.get_by_test_id("action-add-toggle").click()
    for title in ("Book P&T slot with the pharmacy director", "Send the budget-impact model"):
        tactic.get_by_test_id("action-quick-title").fill(title)
        tactic.get_by_test_id("action-quick-assignee").select_option(str(world.users["kam"].pk))
        tactic.get_by_test_id("action-quick-due").fill("2026-09-30")
        tactic.get_by_test_id("action-quick-save").click()
        expect(tactic.get_by_test_id("action").filter(has_text=title)).to_be_visible()
    expect(tactic.get_by_test_id("action")).to_have_count(2)
    expect(page.get_by_test_id("progress-plan")).to_have_text("0 %")

    # mark the first action done: completion moves everywhere at once
    first = tactic.get_by_test_id("action").filter(has_text="Book P&T slot")
    first.get_by_test_id("action-status").select_option("done")
    expect(page.get_by_test_id("progress-plan")).to_have_text("50 %")
    plan = AccountPlan.objects.get(name="Beacon General — Cardiozen 2026")
    tactic_pk = plan.objectives.get().tactics.get().pk
    expect(page.get_by_test_id(f"progress-tactic-{tactic_pk}")).to_have_text("50 %")
    expect(page.get_by_test_id("kpi-done")).to_have_text("1")
    expect(page.get_by_test_id("history")).to_contain_text("Status: Not started → Done")
    assert Action.objects.get(title__startswith="Book P&T").status == ActionStatus.DONE
    shot(page, "plans-detail-building")

    # submit for review (uses the page's current version: no false conflict after our own edits)
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("In review")
    expect(page.get_by_test_id("transition-approve")).to_have_count(0)  # a KAM does not approve
    assert AccountPlan.objects.get(pk=plan.pk).status == PlanStatus.IN_REVIEW
    shot(page, "plans-detail-in-review")

    page.goto("/plans/")
    row = page.get_by_test_id("plan-row").filter(has_text="Beacon General — Cardiozen 2026")
    expect(row.get_by_test_id(f"progress-plan-{plan.pk}")).to_have_text("50 %")
    shot(page, "plans-list")


def test_msl_does_not_see_a_commercial_only_tactic(world, pw, page, login):  # noqa: F811
    login("msl")
    page.goto(f"/plans/{pw.plan.pk}/")
    tactics = page.get_by_test_id("tactic")
    expect(page.get_by_test_id("plan-name")).to_have_text("Beacon General 2026")
    expect(tactics.filter(has_text="Joint HEOR study")).to_be_visible()  # joint: visible
    expect(tactics.filter(has_text="Advisory board")).to_be_visible()  # medical: visible
    expect(page.get_by_test_id("objectives")).not_to_contain_text("Formulary push")  # commercial-only: never
    expect(page.locator("body")).not_to_contain_text("Formulary push")  # nor in the history
    expect(tactics).to_have_count(2)
    expect(page.get_by_test_id("progress-plan")).to_have_text("75 %")
    expect(page.get_by_test_id("visibility-note")).to_be_visible()
    shot(page, "plans-detail-msl")


def test_lead_approves_and_a_stale_page_is_told_to_reload(world, pw, page, login):  # noqa: F811
    AccountPlan.objects.filter(pk=pw.plan.pk).update(status=PlanStatus.IN_REVIEW)
    login("lead")
    page.goto(f"/plans/{pw.plan.pk}/")
    # Meanwhile the KAM changes an action: the lead's page is now stale.
    services.action_update(actor=world.users["kam"], action_id=pw.commercial_actions[1].pk, status="in_progress")
    row = page.get_by_test_id("action").filter(has_text="Formulary push step 3")
    row.get_by_test_id("action-status").select_option("blocked")
    alert = page.get_by_test_id("plan-alert")
    expect(alert).to_contain_text("This plan was changed by Kim Kam at")
    expect(alert).to_contain_text("reload to see their changes")
    expect(row.get_by_test_id("action-status")).to_have_value("blocked")  # the user's choice is kept on screen
    assert Action.objects.get(pk=pw.commercial_actions[2].pk).status == ActionStatus.IN_PROGRESS  # not written
    shot(page, "plans-conflict")
    alert.get_by_test_id("reload").click()
    page.get_by_test_id("transition-approve").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("Approved")
    shot(page, "plans-detail-approved")


def test_stale_edit_form_keeps_the_input_and_shows_what_is_saved(world, pw, page, login):  # noqa: F811
    login("kam")
    page.goto(f"/plans/{pw.plan.pk}/")
    page.get_by_test_id("plan-edit").click()
    page.fill("#id_summary", "Kam: focus on the P&T meeting in September.")
    # The lead edits the header meanwhile.
    services.plan_update(
        actor=world.users["lead"], plan_id=pw.plan.pk, expected_version=1, summary="Lead: wait for the tender."
    )
    page.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("conflict")).to_be_visible()
    expect(page.get_by_test_id("form-errors")).to_contain_text("This plan was changed by Lena Lead at")
    expect(page.locator("#id_summary")).to_have_value("Kam: focus on the P&T meeting in September.")
    expect(page.get_by_test_id("saved-values")).to_contain_text("Lead: wait for the tender.")
    assert AccountPlan.objects.get(pk=pw.plan.pk).summary == "Lead: wait for the tender."
    shot(page, "plans-edit-conflict")
    page.get_by_test_id("form-save").click()  # a deliberate second save, having seen theirs
    expect(page.get_by_test_id("plan-summary")).to_contain_text("Kam: focus on the P&T meeting")

    page.get_by_test_id("objective-menu").click()
    page.get_by_test_id("objective-edit").click()
    page.fill("#id_baseline", "0")
    page.fill("#id_current", "1")
    page.fill("#id_target", "3")
    shot(page, "plans-objective-edit")
    page.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("objective-metric")).to_contain_text("now 1")


def test_people_are_searched_not_listed_in_every_tactic(world, pw, page, login):  # noqa: F811
    login("kam")
    page.goto(f"/plans/{pw.plan.pk}/")
    tactic = page.get_by_test_id("tactic").filter(has_text="Formulary push")
    assignee = tactic.get_by_test_id("action-quick-assignee")
    # before it is opened there is no add-action form per tactic (no list of everyone): it is fetched on opening
    expect(assignee).to_have_count(0)
    tactic.get_by_test_id("action-add-toggle").click()
    expect(assignee.locator("option", has_text="Lena Lead")).to_have_count(1)  # the first page, fetched on opening
    tactic.get_by_test_id("action-quick-title").fill("Brief the lead on the tender")
    tactic.get_by_test_id("action-quick-people").fill("lena")
    expect(assignee.locator("option", has_text="Kim Kam")).to_have_count(0)  # narrowed to the search
    expect(tactic.get_by_test_id("action-quick-title")).to_have_value("Brief the lead on the tender")  # kept
    assignee.select_option(label="Lena Lead · KAM lead")
    shot(page, "plans-quick-add-people-search")
    tactic.get_by_test_id("action-quick-save").click()
    row = tactic.get_by_test_id("action").filter(has_text="Brief the lead on the tender")
    expect(row.get_by_test_id("action-assignee")).to_have_text("Lena Lead")
    expect(assignee).to_have_value("")  # the form is fresh for the next action
    expect(tactic.get_by_test_id("action-quick-title")).to_have_value("")
    added = Action.objects.get(title="Brief the lead on the tender")
    assert added.assignee == world.users["lead"]

    # the edit page: the chosen people are there, others are found by name
    row.get_by_test_id("action-edit").click()
    expect(page.locator("#id_assignee")).to_have_value(str(world.users["lead"].pk))
    expect(page.locator("#id_owner")).to_have_value(str(world.users["kam"].pk))  # who added it
    page.get_by_test_id("picker-owner").fill("lena")
    expect(page.locator("#id_owner option", has_text="Mia Msl")).to_have_count(0)
    page.select_option("#id_owner", label="Lena Lead · KAM lead")
    shot(page, "plans-action-edit-people")
    page.get_by_test_id("form-save").click()
    expect(page.get_by_test_id("plan-name")).to_have_text("Beacon General 2026")
    added.refresh_from_db()
    assert (added.owner, added.assignee) == (world.users["lead"], world.users["lead"])
