"""FHIR formulary import into imported status records: dry run, all or nothing, beside our entries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from openkam.core.errors import PermissionDenied, ValidationFailed
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
