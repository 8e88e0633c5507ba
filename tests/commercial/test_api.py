"""``/api/v1/commercial`` per role: reads, writes, 404 out of scope, 403 read-only / medical, 422 bad fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from openkam.commercial.models import Opportunity, SalesLine, Tender
from openkam.core.services import job_execute
from tests.commercial.conftest import add_sales

TODAY = dt.date.today()


def _opp(account_id: int, **kw: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": "Deal",
        "value": "5000.00",
        "currency": "USD",
        "stage": "proposal",
        "expected_close": (TODAY + dt.timedelta(days=60)).isoformat(),
        **kw,
    }


def test_whitespace_and_conversion(world: Any, portfolio: Any, api: Any) -> None:
    kam = api("kam")
    status, cell = kam.put(
        f"commercial/accounts/{world.hospital.pk}/whitespace/{portfolio.lung.pk}",
        {"status": "competitor", "competitor": "Oncorival", "potential_value": "90000"},
    )
    assert status == 200 and cell["status"] == "competitor"
    status, body = kam.put(f"commercial/accounts/{world.hospital.pk}/whitespace/{portfolio.off_label.pk}", {})
    assert status == 422 and body["errors"][0]["field"] == "indication_id"
    status, grid = kam.get(f"commercial/accounts/{world.idn.pk}/whitespace")
    assert status == 200 and [c["name"] for c in grid["columns"]] == [
        "Beacon General Hospital",
        "Beacon North Hospital",
    ]
    lung = next(r for r in grid["rows"] if r["indication"] == "Lung cancer")
    assert lung["cells"][0]["status"] == "competitor" and lung["cells"][0]["potential_value"] == "90000.00"
    status, opp = kam.post(f"commercial/accounts/{world.hospital2.pk}/whitespace/{portfolio.hf.pk}/opportunity")
    assert status == 201 and opp["stage"] == "identified" and opp["indication_id"] == portfolio.hf.pk
    status, _ = kam.post(f"commercial/accounts/{world.hospital2.pk}/whitespace/{portfolio.hf.pk}/opportunity")
    assert status == 400
    # medical reads the grid without money and cannot convert; out of scope is 404
    status, grid = api("msl").get(f"commercial/accounts/{world.idn.pk}/whitespace")
    assert status == 200 and grid["gap_potential"] is None
    assert all(c["potential_value"] is None for r in grid["rows"] for c in r["cells"])
    assert (
        api("msl").post(f"commercial/accounts/{world.hospital.pk}/whitespace/{portfolio.hf.pk}/opportunity")[0] == 403
    )
    assert api("compliance").put(f"commercial/accounts/{world.hospital.pk}/whitespace/{portfolio.hf.pk}", {})[0] == 403
    assert kam.get(f"commercial/accounts/{world.other_account.pk}/whitespace")[0] == 404


def test_opportunities_per_role_and_bad_input(world: Any, portfolio: Any, api: Any) -> None:
    kam = api("kam")
    for bad, field in [
        ({"probability": 120}, "probability"),
        ({"currency": "ABC"}, "currency"),
        ({"value": "-1"}, "value"),
    ]:
        status, body = kam.post("commercial/opportunities", _opp(world.idn.pk, **bad))
        assert status == 422, (bad, body)
        assert field in {e["field"] for e in body["errors"]} or field in body["message"]
    assert not Opportunity.objects.exists()
    status, opp = kam.post("commercial/opportunities", _opp(world.hospital.pk, product_ids=[portfolio.cardio.pk]))
    assert status == 201 and opp["probability"] == 50 and opp["weighted_value"] == "2500.00"
    status, opp = kam.patch(f"commercial/opportunities/{opp['id']}", {"stage": "negotiation", "probability": 80})
    assert status == 200 and opp["probability"] == 80
    status, page = api("lead").get(f"commercial/opportunities?account_id={world.idn.pk}")
    assert status == 200 and page["count"] == 1
    status, page = api("msl").get("commercial/opportunities")
    assert status == 200 and page["items"][0]["value"] is None
    assert api("kam2").get(f"commercial/opportunities/{opp['id']}")[0] == 404
    assert api("compliance").patch(f"commercial/opportunities/{opp['id']}", {"stage": "won"})[0] == 403
    status, pipes = kam.get(f"commercial/pipeline?account_id={world.idn.pk}")
    assert (
        status == 200 and pipes[0]["open_value"] == "5000.00" and pipes[0]["by_account"][0]["id"] == world.hospital.pk
    )
    assert len(pipes[0]["forecast"]) == 13
    assert api("msl").get("commercial/pipeline")[0] == 403
    assert kam.delete(f"commercial/opportunities/{opp['id']}")[0] == 204


def test_tenders_assessment_and_decision(world: Any, portfolio: Any, api: Any, risk_factors: Any) -> None:
    kam, lead = api("kam"), api("lead")
    body = {
        "account_id": world.idn.pk,
        "title": "Oncology 2027",
        "tender_type": "restricted",
        "publication_date": TODAY.isoformat(),
        "submission_deadline": (TODAY - dt.timedelta(days=3)).isoformat(),
        "award_criteria": [{"name": "Price", "weight": 50}, {"name": "Clinical value", "weight": 50}],
        "documents": [{"name": "Dossier"}],
        "lots": [{"number": 1, "name": "Lung", "product_ids": [portfolio.onco.pk]}],
    }
    status, err = kam.post("commercial/tenders", body)
    assert status == 422 and err["errors"][0]["field"] == "submission_deadline"
    assert not Tender.objects.exists()
    body["submission_deadline"] = (TODAY + dt.timedelta(days=30)).isoformat()
    status, tender = kam.post("commercial/tenders", {**body, "currency": "EURO"})
    assert status == 422
    status, tender = kam.post("commercial/tenders", body)
    assert status == 201 and tender["lots"][0]["product_ids"] == [portfolio.onco.pk]
    tid = tender["id"]
    scores = {f.code: 2 for f in risk_factors}
    status, a = kam.put(f"commercial/tenders/{tid}/assessment", {"scores": scores})
    assert status == 200 and a["recommendation"] == "no_go" and a["win_likelihood"] == "25.00"
    assert kam.post(f"commercial/tenders/{tid}/decision", {"decision": "no_go"})[0] == 403
    status, err = lead.post(f"commercial/tenders/{tid}/decision", {"decision": "go"})
    assert status == 422 and err["errors"][0]["field"] == "note"
    status, a = lead.post(f"commercial/tenders/{tid}/decision", {"decision": "go", "note": "Strategic"})
    assert status == 200 and a["decision"] == "go" and a["decided_by"]
    status, t = api("msl").get(f"commercial/tenders/{tid}")
    assert status == 200 and t["assessment"] is None and t["estimated_value"] is None
    status, page = kam.get(f"commercial/tenders?account_id={world.idn.pk}&when=upcoming")
    assert status == 200 and page["count"] == 1
    assert api("kam2").get(f"commercial/tenders/{tid}")[0] == 404
    # the checklist is the admin's
    assert kam.post("commercial/risk-factors", {"code": "x", "name": "X"})[0] == 403
    status, _factor = api("admin").post("commercial/risk-factors", {"code": "local_content", "name": "Local content"})
    assert status == 201
    status, err = kam.put(f"commercial/tenders/{tid}/assessment", {"scores": scores})
    assert status == 422 and err["errors"][0]["field"] == "scores.local_content"


def test_pnl_and_costs(world: Any, portfolio: Any, api: Any) -> None:
    kam = api("kam")
    add_sales(world.hospital, portfolio.cardio, 3, gross=1000)
    status, cost = kam.post(
        f"commercial/accounts/{world.idn.pk}/costs",
        {"period": TODAY.isoformat(), "category": "events", "amount": "250"},
    )
    assert status == 201 and cost["period"] == TODAY.replace(day=1).isoformat()
    assert (
        kam.post(
            f"commercial/accounts/{world.idn.pk}/costs",
            {"period": TODAY.isoformat(), "category": "events", "amount": "1", "currency": "XXX"},
        )[0]
        == 422
    )
    status, pnls = kam.get(f"commercial/accounts/{world.idn.pk}/pnl?by_account=true")
    assert status == 200 and pnls[0]["total"]["gross_sales"] == "3000.00"
    assert pnls[0]["total"]["events"] == "250.00" and pnls[0]["by_account"]
    assert api("msl").get(f"commercial/accounts/{world.idn.pk}/pnl")[0] == 403
    assert kam.get(f"commercial/accounts/{world.other_account.pk}/pnl")[0] == 404
    assert api("compliance").get(f"commercial/accounts/{world.idn.pk}/pnl")[0] == 200


def test_sales_import_upload_dry_run_and_import(world: Any, portfolio: Any, api: Any) -> None:
    kam = api("kam")
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {kam.key}"}
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = f"account,product,period,gross_sales,currency\n{world.idn.pk},Cardivance,2026-01,100,USD\n".encode()
    response = client.post(
        "/api/v1/commercial/sales-imports", {"file": SimpleUploadedFile("s.csv", content)}, **headers
    )
    assert response.status_code == 201, response.content
    imp = response.json()
    assert imp["status"] == "uploaded" and imp["job_id"]
    job_execute(job_id=imp["job_id"])
    status, imp = kam.get(f"commercial/sales-imports/{imp['id']}")
    assert status == 200 and imp["status"] == "checked" and imp["preview"]["lines"] == 1
    status, imp = kam.post(f"commercial/sales-imports/{imp['id']}/import")
    assert status == 200
    job_execute(job_id=imp["job_id"])
    assert SalesLine.objects.count() == 1
    assert api("kam2").get(f"commercial/sales-imports/{imp['id']}")[0] == 404
    bad = f"account,product,period,gross_sales,currency\n{world.idn.pk},Cardivance,2026-01,100,ABC\n".encode()
    response = client.post("/api/v1/commercial/sales-imports", {"file": SimpleUploadedFile("b.csv", bad)}, **headers)
    job_execute(job_id=response.json()["job_id"])
    status, imp = kam.get(f"commercial/sales-imports/{response.json()['id']}")
    assert imp["status"] == "invalid" and imp["errors"] == [
        {"row": 2, "field": "currency", "message": imp["errors"][0]["message"]}
    ]
    assert "ABC" in imp["errors"][0]["message"] and imp["job_error"]
