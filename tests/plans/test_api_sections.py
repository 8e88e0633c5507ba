"""Plans API for the sections, health, lifecycle records and templates — per role, with locking."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openkam.accounts import services as account_services
from openkam.plans.models import AccountPlan, PlanSnapshot

pytestmark = pytest.mark.django_db


def _plan(api, world, account=None):
    status, body = api("kam").post(
        "plans/",
        {
            "account_id": (account or world.hospital).pk,
            "name": "Beacon General 2026",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
        },
    )
    assert status == 201, body
    return body


def test_build_every_section_through_the_api_with_etags(world, api):
    kam = api("kam")
    plan = _plan(api, world)
    pid, v = plan["id"], plan["version"]
    assert plan["template_id"] is not None and plan["is_stale"] is False

    status, body = kam.patch(
        f"plans/{pid}", {"strategy": "Win P&T first", "positioning": "Once-daily", "value_proposition": "Fewer days"},
        **{"If-Match": f'"{v}"'},
    )  # fmt: skip
    assert status == 200 and body["strategy"] == "Win P&T first"
    v = body["version"]

    status, o = kam.post(f"plans/{pid}/objectives", {"title": "Listing", "metric": "listings", "version": v})
    assert status == 422 and o["errors"][0]["field"] == "target"  # the template requires a measurable target
    status, o = kam.post(
        f"plans/{pid}/objectives",
        {"title": "Listing", "metric": "listings", "target": 4, "baseline": 0, "current": 1, "indicator": "lagging",
         "shared_with_customer": True, "version": v},
    )  # fmt: skip
    assert status == 201 and o["shared_with_customer"] is True
    v = o["plan_version"]

    status, item = kam.post(
        f"plans/{pid}/swot-items",
        {"kind": "threat", "title": "Biosimilar", "evidence": "Filing", "objective_ids": [o["id"]]},
        **{"If-Match": f'"{v}"'},
    )
    assert status == 201 and item["objective_ids"] == [o["id"]] and item["classification"] == "joint"
    assert kam.last_response["ETag"] == f'"{v + 1}"'
    # a stale If-Match is refused and nothing is written
    status, err = kam.post(f"plans/{pid}/swot-items", {"kind": "strength", "title": "x"}, **{"If-Match": f'"{v}"'})
    assert status == 409 and err["code"] == "stale_version"

    status, goal = kam.post(f"plans/{pid}/goals", {"title": "Preferred partner"})
    assert status == 201
    status, csf = kam.post(f"plans/{pid}/csfs", {"title": "P&T champion", "goal_id": goal["id"]})
    assert status == 201 and csf["goal_id"] == goal["id"]
    status, ka = kam.post(f"plans/csfs/{csf['id']}/key-actions", {"title": "Brief chair", "due_date": "2026-03-01"})
    assert status == 201 and ka["csf_id"] == csf["id"]
    status, ka = kam.patch(f"plans/key-actions/{ka['id']}", {"done": True})
    assert status == 200 and ka["done"] is True
    status, pr = kam.post(f"plans/{pid}/customer-priorities", {"title": "Cut readmissions"})
    assert status == 201 and pr["shared_with_customer"] is True

    status, sections = kam.get(f"plans/{pid}/sections")
    assert status == 200 and sections["strategy"] == "Win P&T first"
    assert [i["title"] for i in sections["swot"]["threat"]] == ["Biosimilar"]
    assert sections["goals"][0]["csfs"][0]["key_actions"][0]["done"] is True
    stage = sections["stages"][0]
    step = stage["steps"][0]
    status, step_out = kam.patch(f"plans/steps/{step['id']}", {"done": True})
    assert status == 200 and step_out["done"] is True and step_out["done_by"]["username"] == "kam"
    status, new_step = kam.post(f"plans/stages/{stage['id']}/steps", {"title": "Extra step"})
    assert status == 201
    assert kam.delete(f"plans/steps/{new_step['id']}")[0] == 204
    status, err = kam.patch(f"plans/swot-items/{item['id']}", {"kind": "danger"})
    assert status == 422

    status, health = kam.get(f"plans/{pid}/health")
    assert status == 200
    assert health["objectives"][0]["progress"] == 25.0
    codes = {g["code"] for g in health["completeness"]["gaps"]}
    assert "decision_maker" in codes and "swot_threats" not in codes
    assert health["rot"]["stale"] is False and health["rot"]["threshold_days"] == 30


def test_sections_by_role_and_scope(world, api):
    plan = _plan(api, world)
    pid = plan["id"]
    status, item = api("kam").post(
        f"plans/{pid}/swot-items", {"kind": "weakness", "title": "Price gap", "classification": "commercial"}
    )
    assert status == 201
    status, sections = api("msl").get(f"plans/{pid}/sections")
    assert status == 200 and sections["swot"]["weakness"] == []
    assert api("msl").patch(f"plans/swot-items/{item['id']}", {"title": "x"})[0] == 404
    assert (
        api("msl").post(f"plans/{pid}/swot-items", {"kind": "threat", "title": "x", "classification": "commercial"})[0]
        == 403
    )
    assert api("kam2").get(f"plans/{pid}/sections")[0] == 404
    assert api("kam2").post(f"plans/{pid}/goals", {"title": "x"})[0] == 404
    assert api("compliance").get(f"plans/{pid}/sections")[0] == 200
    assert api("compliance").post(f"plans/{pid}/goals", {"title": "x"})[0] == 403


def test_lifecycle_return_approve_snapshot_compare_clone_agreement(world, api):
    kam, lead = api("kam"), api("lead")
    plan = _plan(api, world)
    pid = plan["id"]
    status, o = kam.post(f"plans/{pid}/objectives", {"title": "Listing", "metric": "listings", "target": 4})
    assert status == 201
    assert kam.post(f"plans/{pid}/transition", {"to": "in_review", "comment": "Please review"})[0] == 200
    status, err = lead.post(f"plans/{pid}/transition", {"to": "draft"})
    assert status == 422 and err["errors"][0]["field"] == "comment"
    assert lead.post(f"plans/{pid}/transition", {"to": "draft", "comment": "Add CSFs"})[0] == 200
    status, reviews = kam.get(f"plans/{pid}/reviews")
    assert [r["kind"] for r in reviews] == ["return", "submit"] and reviews[0]["comment"] == "Add CSFs"
    kam.post(f"plans/{pid}/transition", {"to": "in_review"})
    status, err = kam.post(f"plans/{pid}/transition", {"to": "approved"})
    assert status == 403 and err["code"] == "approval_forbidden"
    status, err = kam.post(f"plans/{pid}/transition", {"to": "closed"})
    assert status == 400 and err["code"] == "invalid_transition"
    assert lead.post(f"plans/{pid}/transition", {"to": "approved"})[0] == 200
    status, snaps = kam.get(f"plans/{pid}/snapshots")
    assert status == 200 and [s["number"] for s in snaps] == [1]
    status, snap = kam.get(f"plans/{pid}/snapshots/1")
    assert snap["content"]["objectives"][0]["title"] == "Listing"
    assert kam.get(f"plans/{pid}/snapshots/9")[0] == 404

    kam.patch(f"plans/objectives/{o['id']}", {"current": 2})
    status, diff = kam.get(f"plans/{pid}/compare?left=1&right=current")
    assert status == 200
    change = next(c for c in diff["changes"] if c["item"] == "objective" and c["title"] == "Listing")
    assert ["current", None, "2.00"] in change["fields"]

    status, err = kam.post(
        f"plans/{pid}/customer-agreements", {"agreed_on": "2026-02-01", "signatory_name": "Dr Reyes"}
    )
    assert status == 400 and err["code"] == "nothing_shared"
    kam.patch(f"plans/objectives/{o['id']}", {"shared_with_customer": True})
    status, agreement = kam.post(
        f"plans/{pid}/customer-agreements",
        {"agreed_on": "2026-02-01", "signatory_name": "Dr Ana Reyes", "signatory_title": "CMO"},
    )
    assert status == 201 and agreement["signatory_name"] == "Dr Ana Reyes"
    assert [a["signatory_title"] for a in kam.get(f"plans/{pid}/customer-agreements")[1]] == ["CMO"]

    status, clone = kam.post(f"plans/{pid}/clone", {"period_start": "2027-01-01", "period_end": "2027-12-31"})
    assert status == 201 and clone["status"] == "draft" and clone["cloned_from_id"] == pid
    status, err = kam.post(f"plans/{pid}/clone", {"period_start": "2027-01-01", "period_end": "2026-12-31"})
    assert status == 422 and err["errors"][0]["field"] == "period_end"
    assert api("kam2").post(f"plans/{pid}/clone", {"period_start": "2027-01-01", "period_end": "2027-12-31"})[0] == 404
    assert (
        api("compliance").post(f"plans/{pid}/clone", {"period_start": "2027-01-01", "period_end": "2027-12-31"})[0]
        == 403
    )
    assert PlanSnapshot.objects.filter(plan_id=pid).count() == 1


def test_templates_api_admin_only(world, api):
    status, templates = api("kam").get("plans/templates")
    assert status == 200 and "Strategic account plan" in {t["name"] for t in templates}
    body = {
        "name": "Hospital light",
        "account_types": ["clinic"],
        "sections": ["objectives", "swot"],
        "required_fields": ["objective.due_date"],
        "stale_after_days": 21,
        "stages": [{"name": "Understand", "steps": ["Map the DMU"]}],
    }
    assert api("kam").post("plans/templates", body)[0] == 403
    status, t = api("admin").post("plans/templates", body)
    assert status == 201 and t["stages"][0]["steps"] == ["Map the DMU"]
    status, err = api("admin").post("plans/templates", {**body, "name": "Other", "sections": ["bogus"]})
    assert status == 422
    status, t2 = api("admin").patch(f"plans/templates/{t['id']}", {"stale_after_days": 10})
    assert status == 200 and t2["stale_after_days"] == 10 and t2["stages"][0]["name"] == "Understand"
    clinic = account_services.account_create(actor=world.users["admin"], name="Clinic", type="clinic", parent=world.idn)
    plan = _plan(api, world, account=clinic)
    assert plan["template_id"] == t["id"]
    status, err = api("kam").post(f"plans/{plan['id']}/objectives", {"title": "x"})
    assert status == 422 and err["errors"][0]["field"] == "due_date"


def test_sections_endpoint_query_count_is_constant(world, api):
    kam = api("kam")
    plan = _plan(api, world)
    pid = plan["id"]

    def grow(n):
        for i in range(n):
            kam.post(f"plans/{pid}/swot-items", {"kind": "threat", "title": f"T{i}"})
            _s, c = kam.post(f"plans/{pid}/csfs", {"title": f"C{i}"})
            kam.post(f"plans/csfs/{c['id']}/key-actions", {"title": f"K{i}"})
            kam.post(f"plans/{pid}/customer-priorities", {"title": f"P{i}"})

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert kam.get(f"plans/{pid}/sections")[0] == 200
            assert kam.get(f"plans/{pid}/health")[0] == 200
        return len(ctx.captured_queries)

    grow(1)
    one = count()
    grow(9)
    assert count() == one
    assert AccountPlan.objects.get(pk=pid).swot_items.count() == 10
