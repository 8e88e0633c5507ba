"""API per role: a KAM scores their accounts, kam2 gets 404 on them, compliance reads but cannot write,
a lead reviews and overrides, an admin manages models; bad input is a 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from openkam.evaluation.models import Assessment, RescoreRun, ScoringModel
from tests.evaluation.conftest import all_scores

pytestmark = pytest.mark.django_db


def _payload(world: Any, model: ScoringModel, value: int = 4, **extra: Any) -> dict[str, Any]:
    return {"account_id": world.hospital.pk, "scores": all_scores(model, value), **extra}


def test_kam_scores_own_account_and_sees_tier_and_trend(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    status, body = api("kam").post("evaluation/assessments", _payload(world, models["partnership"], 4))
    assert status == 201, body
    assert body["assessment"]["total"] == "75.00" and body["assessment"]["tier"] == "strategic"
    assert body["level"] == "strategic" and body["level_changed"] is True
    assert {s["criterion_key"] for s in body["assessment"]["scores"]} >= {"innovation", "value"}
    status, body = api("kam").get(f"evaluation/accounts/{world.hospital.pk}")
    assert status == 200 and body["kam_level"] == "strategic" and body["typology"] == "Hospital"
    assert "Formulary and protocol status" in body["kpis"] and len(body["trend"]) == 1
    status, body = api("kam").get(f"evaluation/assessments?account_id={world.hospital.pk}")
    assert status == 200 and body["count"] == 1 and body["items"][0]["account_name"] == "Beacon General Hospital"


def test_other_kam_gets_404(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    status, body = api("kam2").post("evaluation/assessments", _payload(world, models["partnership"]))
    assert status == 404 and body["code"] == "account_not_found"
    api("kam").post("evaluation/assessments", _payload(world, models["partnership"]))
    a = Assessment.objects.get()
    assert api("kam2").get(f"evaluation/assessments/{a.pk}")[0] == 404
    assert api("kam2").get(f"evaluation/accounts/{world.hospital.pk}")[0] == 404
    assert api("kam2").get("evaluation/assessments")[1]["count"] == 0
    assert api("kam2").get("evaluation/matrix")[1]["points"] == []


def test_compliance_reads_but_cannot_write(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    api("kam").post("evaluation/assessments", _payload(world, models["partnership"]))
    assert api("compliance").get("evaluation/assessments")[1]["count"] == 1
    status, body = api("compliance").post("evaluation/assessments", _payload(world, models["partnership"]))
    assert status == 403 and body["code"] == "read_only_role"
    status, _b = api("compliance").post(
        f"evaluation/accounts/{world.hospital.pk}/override", {"level": "key", "reason": "x"}
    )
    assert status == 403
    assert api("compliance").get("evaluation/analysis")[0] == 200
    assert Assessment.objects.count() == 1


def test_bad_scores_are_422_naming_the_field(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    payload = _payload(world, models["partnership"], 3)
    payload["scores"][0]["score"] = 9
    status, body = api("kam").post("evaluation/assessments", payload)
    assert status == 422 and body["errors"][0]["field"] == "scores.0.score"
    status, body = api("kam").post("evaluation/assessments", _payload(world, models["partnership"], 1))
    assert status == 422 and body["errors"][0]["field"] == "rationale"
    assert not Assessment.objects.exists()


def test_lead_reviews_and_overrides(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    _s, body = api("kam").post("evaluation/assessments", _payload(world, models["partnership"], 3))
    aid = body["assessment"]["id"]
    assert api("kam").post(f"evaluation/assessments/{aid}/review", {"note": "mine"})[0] == 403
    status, body = api("lead").post(f"evaluation/assessments/{aid}/review", {"note": "Agreed with the evidence"})
    assert status == 200 and body["status"] == "reviewed"
    status, body = api("lead").post(f"evaluation/accounts/{world.hospital.pk}/override", {"level": "key", "reason": ""})
    assert status == 422 and body["errors"][0]["field"] == "reason"
    status, body = api("lead").post(
        f"evaluation/accounts/{world.hospital.pk}/override", {"level": "key", "reason": "Cardiology centre opens"}
    )
    assert status == 200 and body["level"] == "key"
    _s, ev = api("kam").get(f"evaluation/accounts/{world.hospital.pk}")
    assert ev["kam_level"] == "key" and ev["tier"]["override_reason"] == "Cardiology centre opens"


def test_admin_manages_models_others_cannot(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    spec = {
        "code": "access-potential", "name": "Access potential", "account_types": ["payer"],
        "criteria": [{"name": "Formulary influence", "weight": 50, "levels": list("abcde")},
                     {"name": "Lives covered", "weight": 40, "levels": list("vwxyz")}],
    }  # fmt: skip
    status, body = api("admin").post("evaluation/models", spec)
    assert status == 422 and body["errors"][0]["code"] == "weights_not_100"
    status, body = api("admin").post("evaluation/models", {**spec, "criteria": []})
    assert status == 422 and body["errors"][0]["field"] == "criteria"
    spec["criteria"][1]["weight"] = 50
    assert api("lead").post("evaluation/models", spec)[0] == 403
    assert api("kam").post("evaluation/models", spec)[0] == 403
    status, body = api("admin").post("evaluation/models", spec)
    assert status == 201 and body["status"] == "draft" and len(body["criteria"]) == 2
    status, body = api("admin").post(f"evaluation/models/{body['id']}/activate", {})
    assert status == 200 and body["status"] == "active"
    status, body = api("admin").post(f"evaluation/models/{models['partnership'].pk}/versions", {})
    assert status == 201 and body["version"] == 2
    status, body = api("admin").patch(f"evaluation/models/{body['id']}", {"strategic_min": "80"})
    assert status == 200 and body["strategic_min"] == "80.00"
    status, body = api("kam").get("evaluation/models?status=active")
    assert status == 200 and body["count"] == 3


def test_matrix_and_analysis(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    api("kam").post("evaluation/assessments", _payload(world, models["partnership"], 5))
    status, body = api("kam").get("evaluation/matrix")
    assert status == 200 and body["position_measure"] == "coverage"
    [point] = body["points"]
    assert point["id"] == world.hospital.pk and point["attractiveness"] == 100.0 and point["quadrant"] == "develop"
    assert api("kam").get("evaluation/matrix?type=wholesaler")[1]["points"] == []
    assert api("kam").get("evaluation/matrix?position=objectives")[1]["position_measure"] == "objectives"
    assert api("kam").get("evaluation/analysis")[0] == 403
    status, body = api("lead").get("evaluation/analysis")
    assert status == 200
    strategic = next(r for r in body["levels"] if r["level"] == "strategic")
    assert strategic["accounts"] == 1 and strategic["intended_share"] == 50
    assert body["flagged"][0]["flag"] == "Strategic account with no activity in 60 days."


def test_rescore_run_via_api(api: Any, world: Any, models: dict[str, ScoringModel]) -> None:
    api("kam").post("evaluation/assessments", _payload(world, models["partnership"], 4))
    assert api("lead").post("evaluation/rescore", {})[0] == 403
    status, body = api("admin").post("evaluation/rescore", {})
    assert status == 202 and body["status"] == "queued"
    from openkam.evaluation.tasks import rescore_all

    rescore_all(body["id"])
    status, body = api("admin").get(f"evaluation/rescore/{body['id']}")
    assert status == 200 and body["status"] == "done" and body["percent"] == 100
    assert RescoreRun.objects.get().total == 1


def test_admin_edits_a_model_used_versions_become_the_next_version(
    api: Any, world: Any, models: dict[str, ScoringModel]
) -> None:
    v1 = models["partnership"]
    status, body = api("admin").post(f"evaluation/models/{v1.pk}/edits", {"strategic_min": "72"})
    assert status == 200 and body["id"] == v1.pk and body["strategic_min"] == "72.00"  # unused: in place
    api("kam").post("evaluation/assessments", _payload(world, v1, 4))
    status, body = api("admin").post(f"evaluation/models/{v1.pk}/edits", {"strategic_min": "70", "reason": "QBR"})
    assert status == 201 and body["version"] == 2 and body["status"] == "active" and body["id"] != v1.pk
    status, body = api("admin").post(f"evaluation/models/{body['id']}/edits", {"criteria": []})
    assert status == 422 and body["errors"][0]["field"] == "criteria"
    assert api("lead").post(f"evaluation/models/{v1.pk}/edits", {"name": "x"})[0] == 403
    assert ScoringModel.objects.filter(code=v1.code).count() == 2
