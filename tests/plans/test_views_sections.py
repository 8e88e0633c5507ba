"""Plan page sections edited in place (HTMX), compare, clone, agreement, templates, stale plans — view level."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openkam.plans import services
from openkam.plans.models import AccountPlan, PlanStep, SwotItem
from tests.plans.conftest import build_plan

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _html(resp):
    return resp.content.decode()


def _plan(world):
    return services.plan_create(
        actor=world.users["kam"],
        account_id=world.hospital.pk,
        name="Beacon General 2026",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
    )


def _version(plan):
    return AccountPlan.objects.get(pk=plan.pk).version


def test_plan_page_shows_every_section_health_and_completeness(world, web):
    plan = _plan(world)
    html = _html(web("kam").get(f"/plans/{plan.pk}/"))
    for testid in (
        "section-priorities",
        "section-positioning",
        "section-strategy",
        "section-swot",
        "section-csfs",
        "section-stages",
        "health-card",
        "completeness-card",
        "agreement-card",
        "versions-card",
    ):
        assert f'data-testid="{testid}"' in html, testid
    assert "Portfolio vs. profit" in html and "Relationship X-ray" in html
    assert "No decision maker is mapped at Beacon General Hospital" in html
    assert "Template: Strategic account plan" in html


def test_add_swot_item_in_place_bumps_the_version_and_refreshes_the_page(world, web):
    plan = _plan(world)
    client = web("kam")
    v = _version(plan)
    resp = client.post(
        f"/plans/{plan.pk}/section/swot_item/add/",
        {"kind": "threat", "title": "Biosimilar", "evidence": "Filing", "classification": "joint", "version": v},
        **HX,
    )
    html = _html(resp)
    assert resp.status_code == 200 and 'id="section-swot"' in html and "Biosimilar" in html
    assert f'value="{v + 1}"' in html and 'id="plan-insights"' in html  # out-of-band refreshes
    assert "The SWOT names no threats" not in html
    # a page that missed this change is told to reload instead of overwriting
    resp = client.post(
        f"/plans/{plan.pk}/section/swot_item/add/",
        {"kind": "strength", "title": "Stale", "classification": "joint", "version": v},
        **HX,
    )
    assert resp["HX-Retarget"] == "#plan-alerts" and "changed by" in _html(resp)
    assert SwotItem.objects.filter(plan=plan).count() == 1
    # a missing title is shown on the form, nothing written
    resp = client.post(f"/plans/{plan.pk}/section/goal/add/", {"title": "", "version": v + 1}, **HX)
    assert 'data-testid="section-errors"' in _html(resp)


def test_edit_narrative_sections_in_place(world, web):
    plan = _plan(world)
    client = web("kam")
    html = _html(client.get(f"/plans/{plan.pk}/section/strategy/?edit=strategy", **HX))
    assert 'data-testid="narrative-form-strategy"' in html
    resp = client.post(
        f"/plans/{plan.pk}/section/strategy/", {"strategy": "Win the P&T first", "version": _version(plan)}, **HX
    )
    assert "Win the P&amp;T first" in _html(resp)
    assert AccountPlan.objects.get(pk=plan.pk).strategy == "Win the P&T first"
    # msl may contribute but not edit the narrative: no edit button, and a POST is refused
    html = _html(web("msl").get(f"/plans/{plan.pk}/"))
    assert 'data-testid="strategy-edit"' not in html
    resp = web("msl").post(f"/plans/{plan.pk}/section/strategy/", {"strategy": "x", "version": _version(plan)}, **HX)
    assert resp["HX-Retarget"] == "#plan-alerts"


def test_tick_a_step_and_edit_a_key_action(world, web):
    plan = _plan(world)
    client = web("kam")
    step = PlanStep.objects.filter(stage__plan=plan).order_by("stage__position", "position").first()
    resp = client.post(f"/plans/section/step/{step.pk}/toggle/", {"version": _version(plan)}, **HX)
    assert resp.status_code == 200 and "1 of " in _html(resp)
    step.refresh_from_db()
    assert step.done and step.done_by == world.users["kam"]
    csf = services.section_item_create(actor=world.users["kam"], section="csf", plan_id=plan.pk, title="Champion")
    html = _html(client.get(f"/plans/section/csf/{csf.pk}/", **HX))
    assert f'id="edit-csf-{csf.pk}"' in html
    resp = client.post(f"/plans/section/csf/{csf.pk}/", {"title": "P&T champion", "version": _version(plan)}, **HX)
    assert "P&amp;T champion" in _html(resp)
    assert web("kam2").get(f"/plans/section/csf/{csf.pk}/", **HX).status_code == 404
    assert web("kam").post(f"/plans/section/csf/{csf.pk}/delete/", {"version": _version(plan)}, **HX).status_code == 200


def test_return_with_comments_compare_and_clone(world, web):
    kam, lead = world.users["kam"], world.users["lead"]
    plan = _plan(world)
    services.objective_create(actor=kam, plan_id=plan.pk, title="Listing", metric="listings", target=4)
    services.plan_transition(actor=kam, plan_id=plan.pk, to="in_review")
    html = _html(web("lead").get(f"/plans/{plan.pk}/"))
    assert 'data-testid="return-form"' in html
    resp = web("lead").post(f"/plans/{plan.pk}/transition/", {"to": "draft", "version": _version(plan)}, follow=True)
    assert "a plan is returned with comments" in _html(resp)
    web("lead").post(
        f"/plans/{plan.pk}/transition/", {"to": "draft", "comment": "Add a threat", "version": _version(plan)}
    )
    html = _html(web("kam").get(f"/plans/{plan.pk}/"))
    assert "Add a threat" in html and 'data-kind="return"' in html
    services.plan_transition(actor=kam, plan_id=plan.pk, to="in_review")
    services.plan_transition(actor=lead, plan_id=plan.pk, to="approved")
    services.section_item_create(actor=kam, section="swot_item", plan_id=plan.pk, kind="threat", title="Budget freeze")
    html = _html(web("kam").get(f"/plans/{plan.pk}/compare/?left=1&right=current"))
    assert "Budget freeze" in html and 'data-kind="added"' in html
    assert web("kam").get(f"/plans/{plan.pk}/compare/?left=5").status_code == 404
    resp = web("kam").post(
        f"/plans/{plan.pk}/clone/", {"name": "Beacon 2027", "period_start": "2027-01-01", "period_end": "2027-12-31"}
    )
    clone = AccountPlan.objects.get(name="Beacon 2027")
    assert resp.status_code == 302 and resp["Location"] == f"/plans/{clone.pk}/"
    resp = web("kam").post(f"/plans/{plan.pk}/clone/", {"period_start": "2027-01-01", "period_end": "2026-01-01"})
    assert resp.status_code == 200 and "The period must end on or after its start." in _html(resp)


def test_customer_agreement_from_the_page(world, web):
    kam = world.users["kam"]
    plan = _plan(world)
    o = services.objective_create(actor=kam, plan_id=plan.pk, title="Listing", metric="listings", target=4)
    resp = web("kam").post(
        f"/plans/{plan.pk}/agreement/", {"agreed_on": "2026-02-01", "signatory_name": "Dr Reyes"}, follow=True
    )
    assert "Nothing in this plan is shared with the customer yet" in _html(resp)
    services.objective_update(actor=kam, objective_id=o.pk, shared_with_customer=True)
    resp = web("kam").post(
        f"/plans/{plan.pk}/agreement/",
        {"agreed_on": "2026-02-01", "signatory_name": "Dr Ana Reyes", "signatory_title": "CMO"},
        follow=True,
    )
    html = _html(resp)
    assert "Agreed by Dr Ana Reyes" in html and 'data-testid="objective-shared"' in html


def test_templates_pages_for_admins(world, web):
    assert "Strategic account plan" in _html(web("kam").get("/plans/templates/"))
    assert web("kam").get("/plans/templates/new/").status_code == 403
    resp = web("admin").post(
        "/plans/templates/new/",
        {
            "name": "Clinic plan",
            "account_types": ["clinic"],
            "sections": ["objectives", "stages"],
            "required_fields": ["objective.due_date"],
            "stale_after_days": "21",
            "is_active": "on",
            "stages": "Understand\n- Map the DMU\nAct\n- Plan actions",
        },
    )
    assert resp.status_code == 302
    html = _html(web("admin").get("/plans/templates/"))
    assert "Clinic plan" in html
    resp = web("admin").post(
        "/plans/templates/new/",
        {"name": "Bad", "sections": ["objectives"], "stale_after_days": "5", "stages": "- orphan"},
    )
    assert resp.status_code == 200 and "A step must come after its stage" in _html(resp)


def test_stale_plans_are_flagged_on_the_list(world, web):
    plan = _plan(world)
    fresh = services.plan_create(
        actor=world.users["kam"], account_id=world.hospital2.pk, name="Fresh plan",
        period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 12, 31),
    )  # fmt: skip
    AccountPlan.objects.filter(pk=plan.pk).update(last_meaningful_update_at=timezone.now() - dt.timedelta(days=45))
    html = _html(web("kam").get("/plans/"))
    assert html.count('data-testid="plan-stale"') == 1
    html = _html(web("kam").get("/plans/?stale=1"))
    assert "Beacon General 2026" in html and fresh.name not in html
    html = _html(web("kam").get(f"/plans/{plan.pk}/"))
    assert 'data-testid="stale-badge"' in html and "Stale: no meaningful update for 45 days" in html


def test_plan_page_query_count_does_not_grow_with_sections(world, web):
    kam = world.users["kam"]
    plan = build_plan(account=world.hospital, owner=kam, objectives=2)
    client = web("kam")

    def grow(n):
        for i in range(n):
            services.section_item_create(actor=kam, section="swot_item", plan_id=plan.pk, kind="threat", title=f"T{i}")
            g = services.section_item_create(actor=kam, section="goal", plan_id=plan.pk, title=f"G{i}")
            c = services.section_item_create(actor=kam, section="csf", plan_id=plan.pk, title=f"C{i}", goal=g.pk)
            services.section_item_create(actor=kam, section="key_action", parent_id=c.pk, title=f"K{i}")
            s = services.section_item_create(actor=kam, section="stage", plan_id=plan.pk, name=f"S{i}")
            services.section_item_create(actor=kam, section="step", parent_id=s.pk, title=f"St{i}")
            services.section_item_create(actor=kam, section="customer_priority", plan_id=plan.pk, title=f"P{i}")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/plans/{plan.pk}/").status_code == 200
        return len(ctx.captured_queries)

    grow(1)
    client.get(f"/plans/{plan.pk}/")
    one = count()
    grow(9)
    assert count() == one


def test_add_forms_are_fetched_when_opened(world, web, pw):
    client = web("kam")
    html = _html(client.get(f"/plans/quick/action/{pw.commercial.pk}/", **HX))
    assert 'data-testid="action-quick-form"' in html and "collapse show" in html
    html = _html(client.get(f"/plans/quick/tactic/{pw.objective.pk}/", **HX))
    assert 'data-testid="tactic-quick-title"' in html and 'value="joint"' in html
    assert web("msl").get(f"/plans/quick/action/{pw.commercial.pk}/", **HX).status_code == 404  # commercial-only
    assert web("kam2").get(f"/plans/quick/tactic/{pw.objective.pk}/", **HX).status_code == 404
    html = _html(
        client.get(f"/plans/{pw.plan.pk}/section/swot_item/form/?parent=threat&parent_key=threat&label=Add", **HX)
    )
    assert 'name="kind" value="threat"' in html and 'data-testid="swot-link"' in html
    html = _html(web("compliance").get(f"/plans/{pw.plan.pk}/section/goal/form/", **HX))
    assert 'data-testid="goal-title"' not in html
