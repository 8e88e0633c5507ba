"""Da Vinci US Drug Formulary parser against the IG's own examples (tests/data/fhir, see its README)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from openkam.interop.fhir_formulary import FhirFormularyError, parse_formulary

DATA = Path(__file__).resolve().parent.parent / "data" / "fhir"


def _resources() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(DATA.glob("*.json"))]


def test_reads_formulary_items_drugs_and_formulary() -> None:
    doc = parse_formulary(_resources())
    assert doc.issues == []
    assert doc.formularies["FormularyD1002"].name == "Sample Medicare Advantage Part D Formulary D1002"
    assert doc.formularies["FormularyD1002"].is_formulary
    assert doc.drugs["FormularyDrug-1000091"].rxnorm_codes == ("1000091", "1160770")
    items = {i.id: i for i in doc.items}
    assert len(items) == 4
    doxepin = items["FormularyItem-D1002-1000091"]
    assert (doxepin.availability_status, doxepin.tier_code, doxepin.tier_display) == ("active", "generic", "Generic")
    assert not doxepin.prior_authorization and doxepin.step_therapy and doxepin.step_therapy_new_starts_only
    assert doxepin.quantity_limit
    assert (doxepin.period_start, doxepin.period_end) == (dt.date(2021, 1, 1), dt.date(2021, 12, 31))
    assert "1-month-in-retail" in doxepin.pharmacy_benefit_types
    percocet = items["FormularyItem-D1002-1049640"]
    assert percocet.prior_authorization and percocet.prior_authorization_new_starts_only
    assert not items["FormularyItem-D1002-284520"].has_restrictions


def test_bundle_and_ndjson_give_the_same_items() -> None:
    resources = _resources()
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    ndjson = "\n".join(json.dumps(r) for r in resources)
    a, b = parse_formulary(json.dumps(bundle).encode()), parse_formulary(ndjson)
    assert [i.id for i in a.items] == [i.id for i in b.items] and len(a.items) == 4


def test_problems_name_the_resource_and_field() -> None:
    item = json.loads((DATA / "Basic-FormularyItem-D1002-209459.json").read_text())
    item["extension"] = [e for e in item["extension"] if not e["url"].endswith("FormularyReference-extension")]
    item["subject"] = {"reference": "Medication/x"}
    doc = parse_formulary([item])
    where = {(i.where, i.field) for i in doc.issues}
    assert ("Basic/FormularyItem-D1002-209459", "extension:usdf-FormularyReference") in where
    assert ("Basic/FormularyItem-D1002-209459", "subject") in where
    assert doc.items == []


def test_bad_period_and_status() -> None:
    item = json.loads((DATA / "Basic-FormularyItem-D1002-209459.json").read_text())
    for e in item["extension"]:
        if e["url"].endswith("AvailabilityPeriod-extension"):
            e["valuePeriod"] = {"start": "2021-12-31", "end": "2021-01-01"}
        if e["url"].endswith("AvailabilityStatus-extension"):
            e["valueCode"] = "maybe"
    fields = {i.field for i in parse_formulary([item]).issues}
    assert {"extension:usdf-AvailabilityPeriod", "extension:usdf-AvailabilityStatus"} <= fields


@pytest.mark.parametrize("bad", [b"", b"not json at all", b"\xff\xfe\x00", "42"])
def test_not_fhir_is_refused(bad: bytes | str) -> None:
    with pytest.raises(FhirFormularyError):
        parse_formulary(bad)
