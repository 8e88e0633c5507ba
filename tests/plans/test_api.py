"""Plans API per role: scope (404), classification, read-only roles (403), lifecycle, locking (ETag/If-Match → 409)."""

from __future__ import annotations

import pytest

from openkam.plans.models import AccountPlan, Action, ActionStatus, PlanStatus, Tactic
from tests import factories as f

pytestmark = pytest.mark.django_db


def _titles(tree):
    return {t["title"] for o in tree["objectives"] for t in o["tactics"]}


def _action_titles(tree):
    return {a["title"] for o in tree["objectives"] for t in o["tactics"] for a in t["actions"]}


# --- reads -------------------------------------------------------------------------------------
def test_kam_gets_the_plan_with_tree_completion_version_and_etag(pw, api):
    client = api("kam")
    status, body = client.get(f"plans/{pw.plan.pk}")
    assert status == 200
    assert client.last_response["ETag"] == '"1"' and body["version"] == 1
    assert body["completion"] == 37.5 and body["status"] == "draft"
    assert body["allowed_transitions"] == ["in_review"]
    assert _titles(body) == {"Formulary push", "Joint HEOR study"}
    tactic = next(t for t in body["objectives"][0]["tactics"] if t["title"] == "Formulary push")
    assert tactic["completion"] == 25.0 and tactic["classification"] == "commercial" and len(tactic["actions"]) == 5


def test_msl_never_gets_commercial_only_tactics_or_actions(pw, api):
    client = api("msl")
    status, body = client.get(f"plans/{pw.plan.pk}")
    assert status == 200
    assert _titles(body) == {"Joint HEOR study", "Advisory board"}
    assert not any("Formulary push" in t for t in _action_titles(body))
    assert body["completion"] == 75.0
    status, actions = client.get("plans/actions")
    assert status == 200
    assert {a["classification"] for a in actions["items"]} == {"joint", "medical"}
    status, _ = client.patch(f"plans/tactics/{pw.commercial.pk}", {"title": "x"})
    assert status == 404
    status, _ = client.patch(f"plans/actions/{pw.commercial_actions[0].pk}", {"status": "done"})
    assert status == 404


def test_out_of_scope_is_404_everywhere(pw, api):
    client = api("kam2")
    assert client.get(f"plans/{pw.plan.pk}")[0] == 404
    assert client.get(f"plans/{pw.plan.pk}/objectives")[0] == 404
    assert client.patch(f"plans/{pw.plan.pk}", {"name": "x", "version": 1})[0] == 404
    assert client.post(f"plans/{pw.plan.pk}/transition", {"to": "in_review"})[0] == 404
    assert client.patch(f"plans/actions/{pw.joint_actions[0].pk}", {"status": "done"})[0] == 404
    assert client.delete(f"plans/{pw.plan.pk}")[0] == 404
    status, listing = client.get("plans/")
    assert status == 200 and listing["count"] == 0


def test_list_filters_and_pagination(world, pw, api):
    f.PlanFactory(account=world.hospital2, owner=world.users["lead"], name="North plan", status=PlanStatus.ACTIVE)
    client = api("kam")
    status, body = client.get("plans/")
    assert status == 200 and body["count"] == 2
    assert {p["name"] for p in body["items"]} == {"Beacon General 2026", "North plan"}
    assert client.get("plans/?owner=me")[1]["count"] == 1
    assert client.get("plans/?status=active")[1]["items"][0]["name"] == "North plan"
    assert client.get(f"plans/?account={world.hospital.pk}")[1]["items"][0]["name"] == "Beacon General 2026"
    assert client.get("plans/?page_size=1")[1]["count"] == 2 and len(client.get("plans/?page_size=1")[1]["items"]) == 1
    listed = next(p for p in body["items"] if p["name"] == "Beacon General 2026")
    assert listed["completion"] == 37.5
    assert client.get("plans/?status=published")[0] == 422


def test_my_actions(world, pw, api):
    status, body = api("kam").get("plans/actions?assignee=me&status=not_started&status=in_progress")
    assert status == 200
    assert {a["title"] for a in body["items"]} == {
        "Formulary push step 2",
        "Formulary push step 3",
        "Formulary push step 4",
    }
    assert all(a["plan_id"] == pw.plan.pk and a["account"]["name"] == "Beacon General Hospital" for a in body["items"])


# --- writes ------------------------------------------------------------------------------------
def test_kam_creates_a_plan_and_builds_it(world, api):
    client = api("kam")
    status, plan = client.post(
        "plans/",
        {"account_id": world.hospital.pk, "name": "API plan", "period_start": "2026-01-01", "period_end": "2026-12-31"},
    )
    assert status == 201 and plan["owner"]["username"] == "kam" and plan["version"] == 1
    status, objective = client.post(
        f"plans/{plan['id']}/objectives", {"title": "Grow", "metric": "units", "target": "5", "indicator": "leading"}
    )
    assert status == 201 and objective["plan_version"] == 2 and client.last_response["ETag"] == '"2"'
    status, tactic = client.post(
        f"plans/objectives/{objective['id']}/tactics", {"title": "Visit", "classification": "joint"}
    )
    assert status == 201 and tactic["function"] == "commercial"
    status, action = client.post(
        f"plans/tactics/{tactic['id']}/actions",
        {"title": "Call", "start_date": "2026-03-01", "due_date": "2026-03-10", "version": 3},
    )
    assert status == 201 and action["owner"]["username"] == "kam" and action["plan_version"] == 4
    status, action = client.patch(f"plans/actions/{action['id']}", {"status": "done"}, **{"If-Match": '"4"'})
    assert status == 200 and action["completed_at"] and action["plan_version"] == 5
    assert client.get(f"plans/{plan['id']}")[1]["completion"] == 100.0


def test_bad_fields_are_422_and_name_the_field(world, pw, api):
    client = api("kam")
    status, body = client.post(
        f"plans/tactics/{pw.commercial.pk}/actions",
        {"title": "x", "start_date": "2026-05-01", "due_date": "2026-04-01"},
    )
    assert status == 422 and body["errors"][0]["field"] == "due_date"
    status, body = client.post(f"plans/tactics/{pw.commercial.pk}/actions", {"title": ""})
    assert status == 422 and body["errors"][0]["field"] == "title"
    status, body = client.post(
        f"plans/objectives/{pw.objective.pk}/tactics", {"title": "x", "classification": "secret"}
    )
    assert status == 422 and body["errors"][0]["field"] == "classification"
    status, body = client.post(
        "plans/",
        {"account_id": world.hospital.pk, "name": "B", "period_start": "2026-05-01", "period_end": "2026-01-01"},
    )
    assert status == 422 and body["errors"][0]["field"] == "period_end"
    status, body = client.patch(f"plans/{pw.plan.pk}", {"name": "No version"})
    assert status == 422 and body["errors"][0]["field"] == "version" and body["code"] == "version_required"
    status, body = client.patch(f"plans/{pw.plan.pk}", {"name": "x"}, **{"If-Match": "abc"})
    assert status == 422


def test_msl_writes_only_medical_or_joint(pw, api):
    client = api("msl")
    status, body = client.post(
        f"plans/objectives/{pw.objective.pk}/tactics", {"title": "Rebate", "classification": "commercial"}
    )
    assert status == 403 and body["code"] == "classification_forbidden"
    status, tactic = client.post(
        f"plans/objectives/{pw.objective.pk}/tactics", {"title": "Speaker series", "classification": "medical"}
    )
    assert status == 201 and tactic["function"] == "medical"
    assert client.patch(f"plans/actions/{pw.joint_actions[1].pk}", {"status": "done"})[0] == 200


def test_compliance_reads_everything_but_every_write_is_403(world, pw, api):
    client = api("compliance")
    status, body = client.get(f"plans/{pw.plan.pk}")
    assert status == 200 and _titles(body) == {"Formulary push", "Joint HEOR study", "Advisory board"}
    writes = [
        client.post(
            "plans/",
            {"account_id": world.hospital.pk, "name": "x", "period_start": "2026-01-01", "period_end": "2026-02-01"},
        ),
        client.patch(f"plans/{pw.plan.pk}", {"name": "x", "version": 1}),
        client.post(f"plans/{pw.plan.pk}/transition", {"to": "in_review"}),
        client.post(f"plans/{pw.plan.pk}/objectives", {"title": "x"}),
        client.patch(f"plans/objectives/{pw.objective.pk}", {"title": "x"}),
        client.post(f"plans/objectives/{pw.objective.pk}/tactics", {"title": "x", "classification": "joint"}),
        client.delete(f"plans/tactics/{pw.joint.pk}"),
        client.patch(f"plans/actions/{pw.joint_actions[0].pk}", {"status": "cancelled"}),
        client.delete(f"plans/{pw.plan.pk}"),
    ]
    assert [s for s, _ in writes] == [403] * len(writes)
    assert all(b["code"] == "read_only_role" for _, b in writes)
    assert AccountPlan.objects.get(pk=pw.plan.pk).version == 1


def test_lifecycle_kam_submits_lead_approves_invalid_moves_are_400(pw, api):
    kam, lead = api("kam"), api("lead")
    status, body = kam.post(f"plans/{pw.plan.pk}/transition", {"to": "approved"})
    assert status == 400 and body["code"] == "invalid_transition"
    assert "Draft" in body["message"] and "Approved" in body["message"]
    status, body = kam.post(f"plans/{pw.plan.pk}/transition", {"to": "in_review"}, **{"If-Match": '"1"'})
    assert status == 200 and body["status"] == "in_review" and kam.last_response["ETag"] == '"2"'
    status, body = kam.post(f"plans/{pw.plan.pk}/transition", {"to": "approved"})
    assert status == 403 and body["code"] == "approval_forbidden"
    status, body = lead.post(f"plans/{pw.plan.pk}/transition", {"to": "approved", "version": 2})
    assert status == 200 and body["status"] == "approved" and body["approved_at"]
    assert lead.post(f"plans/{pw.plan.pk}/transition", {"to": "active"})[0] == 200
    assert kam.post(f"plans/{pw.plan.pk}/transition", {"to": "closed"})[0] == 200
    status, body = kam.post(f"plans/{pw.plan.pk}/objectives", {"title": "Too late"})
    assert status == 400 and body["code"] == "plan_closed"
    status, body = kam.delete(f"plans/{pw.plan.pk}")
    assert status == 400 and body["code"] == "plan_not_draft"


def test_two_clients_load_first_saves_second_gets_409_no_lost_update(pw, api):
    kam, lead = api("kam"), api("lead")
    kam.get(f"plans/{pw.plan.pk}")
    etag_kam = kam.last_response["ETag"]
    lead.get(f"plans/{pw.plan.pk}")
    etag_lead = lead.last_response["ETag"]
    status, body = kam.patch(f"plans/{pw.plan.pk}", {"summary": "Kam's summary"}, **{"If-Match": etag_kam})
    assert status == 200 and body["version"] == 2 and kam.last_response["ETag"] == '"2"'
    status, body = lead.patch(f"plans/{pw.plan.pk}", {"summary": "Lead's summary"}, **{"If-Match": etag_lead})
    assert status == 409 and body["code"] == "stale_version"
    assert "changed by Kim Kam at" in body["message"] and "reload to see their changes" in body["message"]
    status, body = lead.patch(f"plans/actions/{pw.commercial_actions[1].pk}", {"status": "done", "version": 1})
    assert status == 409
    plan = AccountPlan.objects.get(pk=pw.plan.pk)
    assert plan.summary == "Kam's summary" and plan.version == 2
    assert Action.objects.get(pk=pw.commercial_actions[1].pk).status == ActionStatus.NOT_STARTED


def test_deletes(world, pw, api):
    kam, msl = api("kam"), api("msl")
    status, body = kam.delete(f"plans/objectives/{pw.objective.pk}")
    assert status == 403 and body["code"] == "objective_has_hidden_work"
    assert kam.delete(f"plans/tactics/{pw.medical.pk}")[0] == 404  # kam cannot see it
    assert msl.delete(f"plans/tactics/{pw.medical.pk}?version=1")[0] == 204
    assert not Tactic.objects.filter(pk=pw.medical.pk).exists()
    status, _ = kam.delete(f"plans/actions/{pw.commercial_actions[0].pk}", **{"If-Match": '"1"'})
    assert status == 409  # the msl's delete bumped the version
    assert kam.delete(f"plans/actions/{pw.commercial_actions[0].pk}", **{"If-Match": '"2"'})[0] == 204
    assert kam.delete(f"plans/{pw.plan.pk}")[0] == 204
    assert not AccountPlan.objects.filter(pk=pw.plan.pk).exists()


def test_openapi_documents_errors_and_locking(api):
    status, schema = api("kam").get("/api/v1/openapi.json")
    assert status == 200
    patch = schema["paths"]["/api/v1/plans/{plan_id}"]["patch"]
    assert {"400", "403", "404", "409", "422"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    assert "409" in patch["description"] and "If-Match" in patch["description"]
    assert "ETag" in schema["paths"]["/api/v1/plans/{plan_id}"]["get"]["description"]


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("plans/{plan}", {"period_start": None, "version": 1}),
        ("plans/{plan}", {"owner_id": None, "version": 1}),
        ("plans/{plan}", {"owner_id": 999999, "version": 1}),
        ("plans/{plan}", {"period_end": "not-a-date", "version": 1}),
        ("plans/objectives/{objective}", {"indicator": None}),
        ("plans/objectives/{objective}", {"title": None}),
        ("plans/objectives/{objective}", {"baseline": "1e30"}),
        ("plans/objectives/{objective}", {"position": 99999999999}),
        ("plans/tactics/{tactic}", {"shared_with_customer": None}),
        ("plans/tactics/{tactic}", {"function": None}),
        ("plans/tactics/{tactic}", {"classification": None}),
        ("plans/actions/{action}", {"status": None}),
        ("plans/actions/{action}", {"assignee_id": "abc"}),
        ("plans/actions/{action}", {"start_date": "2026-12-01"}),
        ("plans/actions/{action}", {"version": "x"}),
    ],
)
def test_bad_input_is_a_4xx_never_a_500(pw, api, path, payload):
    url = path.format(
        plan=pw.plan.pk, objective=pw.objective.pk, tactic=pw.commercial.pk, action=pw.commercial_actions[1].pk
    )
    status, body = api("kam").patch(url, payload)
    assert status == 422, body
    assert body["errors"], body
    assert AccountPlan.objects.get(pk=pw.plan.pk).version == 1


def test_huge_ids_are_404_or_422_not_500(pw, api):
    huge = 10**20
    client = api("kam")
    assert client.get(f"plans/{huge}")[0] == 404
    assert client.patch(f"plans/actions/{huge}", {"status": "done"})[0] == 404
    assert client.patch(f"plans/actions/{pw.commercial_actions[1].pk}", {"assignee_id": huge})[0] == 422
    assert (
        client.post(
            "plans/", {"account_id": huge, "name": "x", "period_start": "2026-01-01", "period_end": "2026-02-01"}
        )[0]
        == 404
    )
    assert client.get(f"plans/?account={huge}&owner={huge}")[0] in (200, 422)
