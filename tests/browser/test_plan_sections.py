"""The plan's sections in a real browser: build the customer priorities, strategy, SWOT (linked to an objective),
a goal → CSF → key action chain and tick process steps in place; submit; the lead returns the plan with comments;
the KAM fixes it and resubmits; the lead approves (a version is frozen); the KAM changes the plan and compares the
approved version with today's."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from openkam.plans import services
from openkam.plans.models import AccountPlan, PlanSnapshot, PlanStatus, SwotItem
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def _plan(world):
    kam = world.users["kam"]
    plan = services.plan_create(
        actor=kam,
        account_id=world.hospital.pk,
        name="Beacon General — Cardiozen 2026",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
    )
    services.objective_create(
        actor=kam, plan_id=plan.pk, title="Cardiozen listed on the formulary", metric="listings", baseline=0, target=1
    )
    return plan


def test_kam_builds_sections_lead_returns_then_approves_and_versions_compare(world, page, login):
    plan = _plan(world)
    login("kam")
    page.goto(f"/plans/{plan.pk}/")
    expect(page.get_by_test_id("section-swot")).to_be_visible()
    expect(page.get_by_test_id("completeness-gaps")).to_contain_text("The SWOT names no threats.")

    # customer priority
    priorities = page.get_by_test_id("section-priorities")
    priorities.get_by_test_id("add-customer_priority-plan-toggle").click()
    priorities.get_by_test_id("customer_priority-title").fill("Cut 30-day heart-failure readmissions")
    priorities.get_by_test_id("customer_priority-save").click()
    expect(page.get_by_test_id("priority")).to_contain_text("Cut 30-day heart-failure readmissions")

    # strategy, edited in place
    page.get_by_test_id("strategy-edit").click()
    page.locator("#section-strategy textarea[name=strategy]").fill("Win the P&T listing first, then the pathway.")
    page.get_by_test_id("narrative-save-strategy").click()
    expect(page.get_by_test_id("strategy")).to_have_text("Win the P&T listing first, then the pathway.")

    # a SWOT threat with evidence, driving the objective
    threats = page.get_by_test_id("swot-threat")
    threats.get_by_test_id("add-swot_item-threat-toggle").click()
    threats.get_by_test_id("swot_item-title").fill("Biosimilar entry expected")
    threats.get_by_test_id("swot_item-evidence").fill("Competitor filing seen in February")
    threats.get_by_test_id("swot-link").first.check()
    threats.get_by_test_id("swot_item-save").click()
    threat = page.get_by_test_id("swot-threat").get_by_test_id("swot-item")
    expect(threat).to_contain_text("Biosimilar entry expected")
    expect(threat.get_by_test_id("swot-drives")).to_have_attribute("title", "Cardiozen listed on the formulary")
    expect(page.get_by_test_id("completeness-gaps")).not_to_contain_text("The SWOT names no threats.")
    assert SwotItem.objects.get(plan=plan).objective_links.count() == 1

    # goal → CSF → key action
    csfs = page.get_by_test_id("section-csfs")
    csfs.get_by_test_id("add-goal-plan-toggle").click()
    csfs.get_by_test_id("goal-title").fill("Preferred heart-failure partner")
    csfs.get_by_test_id("goal-save").click()
    expect(page.get_by_test_id("goal-title")).to_have_text("Preferred heart-failure partner")
    csfs = page.get_by_test_id("section-csfs")
    csfs.get_by_test_id("add-csf-plan-toggle").click()
    csfs.get_by_test_id("csf-title").fill("P&T champion")
    csfs.get_by_test_id("csf-goal").select_option(label="Goal: Preferred heart-failure partner")
    csfs.get_by_test_id("csf-save").click()
    goal = page.get_by_test_id("goal")
    expect(goal.get_by_test_id("csf-title")).to_have_text("P&T champion")
    goal.get_by_test_id("csf").locator("[data-testid^=add-key_action]").first.click()
    goal.get_by_test_id("key_action-title").fill("Brief the P&T chair")
    goal.get_by_test_id("key_action-save").click()
    expect(page.get_by_test_id("key-action")).to_contain_text("Brief the P&T chair")

    # tick the first process step
    stages = page.get_by_test_id("section-stages")
    stages.get_by_test_id("step-toggle").first.check()
    expect(page.get_by_test_id("steps-done")).to_contain_text("1 of")
    shot(page, "plan-sections-built")

    # submit
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("In review")

    # the lead returns it with comments
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    login("lead")
    page.goto(f"/plans/{plan.pk}/")
    page.get_by_test_id("transition-return").click()
    page.get_by_test_id("return-comment").fill("Add the positioning and a leading objective, please.")
    shot(page, "plan-return-with-comments")
    page.get_by_test_id("return-confirm").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("Draft")
    expect(page.get_by_test_id("review-comment").first).to_have_text(
        "Add the positioning and a leading objective, please."
    )

    # the KAM fixes and resubmits
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    login("kam")
    page.goto(f"/plans/{plan.pk}/")
    expect(page.get_by_test_id("reviews")).to_contain_text("Returned with comments")
    page.get_by_test_id("positioning-edit").click()
    page.locator("#section-positioning textarea[name=positioning]").fill("The outcomes partner in heart failure.")
    page.get_by_test_id("narrative-save-positioning").click()
    expect(page.get_by_test_id("positioning")).to_have_text("The outcomes partner in heart failure.")
    page.get_by_test_id("transition-submit").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("In review")

    # the lead approves: a version is frozen
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    login("lead")
    page.goto(f"/plans/{plan.pk}/")
    page.get_by_test_id("transition-approve").click()
    expect(page.get_by_test_id("plan-status")).to_contain_text("Approved")
    expect(page.get_by_test_id("snapshots")).to_contain_text("v1")
    assert PlanSnapshot.objects.filter(plan=plan).count() == 1
    assert AccountPlan.objects.get(pk=plan.pk).status == PlanStatus.APPROVED

    # the KAM adds an opportunity and compares the approved version with today's plan
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    login("kam")
    page.goto(f"/plans/{plan.pk}/")
    opportunities = page.get_by_test_id("swot-opportunity")
    opportunities.get_by_test_id("add-swot_item-opportunity-toggle").click()
    opportunities.get_by_test_id("swot_item-title").fill("Formulary review in Q2")
    opportunities.get_by_test_id("swot_item-save").click()
    expect(page.get_by_test_id("swot-opportunity")).to_contain_text("Formulary review in Q2")
    page.get_by_test_id("plan-compare").click()
    expect(page.get_by_role("heading", name="Compare versions")).to_be_visible()
    added = page.get_by_test_id("compare-change").filter(has_text="Formulary review in Q2")
    expect(added).to_have_attribute("data-kind", "added")
    shot(page, "plan-compare-versions")


def test_plan_without_threat_or_target_is_refused_in_place(world, page, login):
    plan = _plan(world)
    login("kam")
    page.goto(f"/plans/{plan.pk}/")
    page.get_by_test_id("objective-add-toggle").click()
    page.get_by_test_id("objective-quick-title").fill("Be the preferred partner")
    page.get_by_test_id("objective-quick-save").click()
    expect(page.locator("#objective-quick")).to_contain_text("requires every objective to have a metric")
    assert AccountPlan.objects.get(pk=plan.pk).objectives.count() == 1
    shot(page, "plan-objective-refused")
