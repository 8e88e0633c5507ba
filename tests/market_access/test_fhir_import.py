"""FHIR formulary import into imported status records: dry run, all or nothing, beside our entries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from openkam.core.errors import PermissionDenied, RuleViolation, ValidationFailed
from openkam.market_access import selectors, services
from openkam.market_access.models import FormularyStatus
from tests import factories as f
from tests.market_access.conftest import record

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data" / "fhir"


def _bundle() -> str:
    res = [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in res]})


@pytest.fixture
def payer(world: Any) -> Any:
    return f.AccountFactory(name="Sample Medicare Advantage", type="payer", parent=world.idn,
                            ancestors=[world.idn.pk], depth=1)  # fmt: skip


def test_dry_run_then_import(world: Any, products: Any, payer: Any) -> None:
    doxepin_product, _renvia = products  # generic name "doxepin": matched by drug name
    tacro = f.ProductFactory(name="Protopix", generic_name="tacrolimus-x")
    access = world.users["access"]
    preview = services.formulary_import_fhir(actor=access, account_id=payer.pk, content=_bundle(),
                                             mapping={"284520": tacro.pk})  # fmt: skip
    assert preview.dry_run and FormularyStatus.objects.count() == 0
    by_item = {line.item_ref: line for line in preview.lines}
    assert by_item["Basic/FormularyItem-D1002-1000091"].product_id == doxepin_product.pk
    assert by_item["Basic/FormularyItem-D1002-1000091"].status == "restricted"
    assert by_item["Basic/FormularyItem-D1002-284520"].status == "on_formulary"
    assert by_item["Basic/FormularyItem-D1002-209459"].outcome == "skipped"  # Tylenol: no product
    result = services.formulary_import_fhir(actor=access, account_id=payer.pk, content=_bundle(),
                                            mapping={"284520": tacro.pk}, dry_run=False)  # fmt: skip
    assert result.created == 2
    rec = FormularyStatus.objects.get(product=doxepin_product)
    assert rec.source == "imported" and rec.tier == "Generic"
    assert rec.restriction_kinds == ["step_therapy", "quantity_limit"]
    assert (rec.effective_from, rec.effective_to) == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    assert "FormularyItem-D1002-1000091" in rec.source_ref
    again = services.formulary_import_fhir(actor=access, account_id=payer.pk, content=_bundle(),
                                           mapping={"284520": tacro.pk}, dry_run=False)  # fmt: skip
    assert again.created == 0 and again.counts["unchanged"] == 2
    # our own entry lives beside the imported value and wins
    record(access, payer, doxepin_product, "on_formulary", dt.date(2021, 6, 1))
    view = selectors.formulary_current(actor=access, account_ids=[payer.pk], on=dt.date(2021, 7, 1))[
        (payer.pk, doxepin_product.pk)]  # fmt: skip
    assert view.source == "entered" and view.imported_status == "restricted"


def test_conflicting_import_writes_nothing(world: Any, products: Any, payer: Any) -> None:
    access = world.users["access"]
    services.formulary_status_record(
        actor=access, account_id=payer.pk, source="imported",
        data=services.StatusInput(
            product_id=products[0].pk, status="non_formulary", effective_from=dt.date(2021, 3, 1)
        ),
    )  # fmt: skip
    tacro = f.ProductFactory(name="Protopix", generic_name="tacrolimus-x")
    with pytest.raises(ValidationFailed) as exc:
        services.formulary_import_fhir(actor=access, account_id=payer.pk, content=_bundle(),
                                       mapping={"284520": tacro.pk}, dry_run=False)  # fmt: skip
    assert exc.value.errors[0].field == "Basic/FormularyItem-D1002-1000091"
    assert FormularyStatus.objects.count() == 1  # nothing written, not even the tacrolimus item


def test_not_fhir_and_roles(world: Any, products: Any, payer: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.formulary_import_fhir(actor=world.users["access"], account_id=payer.pk, content=b"hello")
    assert exc.value.errors[0].field == "file"
    with pytest.raises(PermissionDenied):
        services.formulary_import_fhir(actor=world.users["kam"], account_id=payer.pk, content=_bundle())


# --- the import as a job: upload → check (preview) → apply -------------------------------------------------
def _run(imp: Any) -> Any:
    from openkam.core.services import job_execute
    from openkam.market_access.models import FormularyImport

    imp = FormularyImport.objects.select_related("job").get(pk=imp.pk)
    job = job_execute(job_id=imp.job_id)
    return FormularyImport.objects.get(pk=imp.pk), job


def test_import_job_preview_then_apply(world: Any, products: Any, payer: Any) -> None:
    tacro = f.ProductFactory(name="Protopix", generic_name="tacrolimus-x")
    access = world.users["access"]
    imp = services.formulary_import_start(actor=access, account_id=payer.pk, filename="payer.json",
                                          content=_bundle().encode(), mapping={"284520": tacro.pk},
                                          reason="2021 formulary")  # fmt: skip
    assert imp.job is not None and imp.job.kind == "market_access.fhir_import" and imp.job.params["dry_run"]
    imp, job = _run(imp)
    assert job.status == "done" and job.total >= 1 and job.done == job.total
    assert imp.status == "checked" and imp.preview["counts"]["new"] == 2 and FormularyStatus.objects.count() == 0
    assert {line["item_ref"] for line in imp.preview["lines"]} >= {"Basic/FormularyItem-D1002-1000091"}
    applying = services.formulary_import_apply(actor=access, import_id=imp.pk)
    assert applying.job is not None and applying.job.params["dry_run"] is False
    imp, job = _run(applying)
    assert job.status == "done" and imp.status == "imported" and imp.created_count == 2
    assert FormularyStatus.objects.filter(account=payer, source="imported").count() == 2
    with pytest.raises(RuleViolation):  # written once
        services.formulary_import_apply(actor=access, import_id=imp.pk)


def test_import_job_refuses_conflicts_and_bad_files(world: Any, products: Any, payer: Any) -> None:
    access = world.users["access"]
    services.formulary_status_record(
        actor=access, account_id=payer.pk, source="imported",
        data=services.StatusInput(product_id=products[0].pk, status="non_formulary",
                                  effective_from=dt.date(2021, 3, 1)),
    )  # fmt: skip
    imp, job = _run(services.formulary_import_start(actor=access, account_id=payer.pk, filename="x.json",
                                                    content=_bundle().encode()))  # fmt: skip
    assert imp.status == "invalid" and imp.preview["counts"]["error"] == 1
    with pytest.raises(RuleViolation):
        services.formulary_import_apply(actor=access, import_id=imp.pk)
    bad, job = _run(services.formulary_import_start(actor=access, account_id=payer.pk, filename="x.json",
                                                    content=b"hello"))  # fmt: skip
    assert job.status == "failed" and bad.status == "invalid" and "Not JSON" in job.error
    assert bad.preview["error"] == job.error
    with pytest.raises(ValidationFailed) as exc:
        services.formulary_import_start(actor=access, account_id=payer.pk, filename="x.json", content=b"")
    assert exc.value.errors[0].field == "file"
    with pytest.raises(ValidationFailed) as exc:
        services.formulary_import_start(actor=access, account_id=payer.pk, filename="x.json", content=b"{}",
                                        mapping={"1": 999999})  # fmt: skip
    assert exc.value.errors[0].field == "mapping"
    with pytest.raises(PermissionDenied):
        services.formulary_import_start(actor=world.users["kam"], account_id=payer.pk, filename="x", content=b"{}")
    assert FormularyStatus.objects.count() == 1


def test_import_api_per_role(world: Any, products: Any, payer: Any, api: Any) -> None:
    body = {"account_id": payer.pk, "content": json.loads(_bundle()), "filename": "payer.json"}
    for who in ("kam", "lead", "msl", "compliance"):
        assert api(who).post("market-access/formulary/imports", body)[0] in (403, 404)
    status, out = api("access").post("market-access/formulary/imports", body)
    assert status == 202 and out["status"] == "uploaded" and out["job"]["status"] == "queued"
    from openkam.core.services import job_execute

    job_execute(job_id=out["job"]["id"])
    status, out = api("access").get(f"market-access/formulary/imports/{out['id']}")
    assert status == 200 and out["status"] == "checked" and out["counts"]["new"] == 1 and out["line_count"] == 4
    assert api("kam2").get(f"market-access/formulary/imports/{out['id']}")[0] == 404
    assert api("kam").post(f"market-access/formulary/imports/{out['id']}/apply", {})[0] == 403
    status, out = api("access").post(f"market-access/formulary/imports/{out['id']}/apply", {})
    assert status == 202 and out["job"]["status"] == "queued"
    job_execute(job_id=out["job"]["id"])
    status, out = api("access").get(f"market-access/formulary/imports/{out['id']}")
    assert out["status"] == "imported" and out["created_count"] == 1
    assert api("access").post(f"market-access/formulary/imports/{out['id']}/apply", {})[0] == 400


def test_import_pages(world: Any, products: Any, payer: Any, web: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from openkam.market_access.models import FormularyImport

    assert web("kam").get(f"/market-access/accounts/{payer.pk}/import/").status_code == 302  # read only
    client = web("access")
    resp = client.post(f"/market-access/accounts/{payer.pk}/import/",
                       {"file": SimpleUploadedFile("payer.json", _bundle().encode()), "reason": "test"})  # fmt: skip
    imp = FormularyImport.objects.get()
    assert resp.status_code == 302 and resp["Location"].endswith(f"/market-access/imports/{imp.pk}/")
    page = client.get(f"/market-access/imports/{imp.pk}/").content.decode()
    assert 'data-testid="job"' in page and "hx-get" in page
    _run(imp)
    part = client.get(f"/market-access/imports/{imp.pk}/?part=result").content.decode()
    assert 'data-testid="import-apply"' in part and "FormularyItem-D1002-1000091" in part and "hx-get" not in part
    assert client.post(f"/market-access/imports/{imp.pk}/apply/").status_code == 302
    _run(imp)
    assert 'data-testid="import-done"' in client.get(f"/market-access/imports/{imp.pk}/").content.decode()
    assert web("kam2").get(f"/market-access/imports/{imp.pk}/").status_code == 404
