"""Da Vinci PDex US Drug Formulary (HL7 FHIR R4, IG STU 2.0.1) → plain dataclasses.

Reads the resources a payer publishes for its formularies:

- ``InsurancePlan`` with the ``usdf-Formulary`` profile (a formulary: identifier, name, period) — payer-plan
  InsurancePlans (``usdf-PayerInsurancePlan``) are read too, only for their names;
- ``MedicationKnowledge`` (``usdf-FormularyDrug``): the drug, with RxNorm codes;
- ``Basic`` (``usdf-FormularyItem``): one drug on one formulary — availability status, drug tier, prior
  authorisation, step therapy, quantity limit (each with "new starts only"), availability period.

Input: a ``Bundle`` (``entry[].resource``), one resource, a JSON array of resources, or NDJSON (one resource per
line, as the FHIR bulk API delivers them); bytes, text or already-parsed JSON. Nothing here knows OpenKAM's
models: the market-access service maps drugs to products and writes formulary status records.

Problems are collected (each names the resource and the field), not raised one by one, so an importer can show
them all; :class:`FhirFormularyError` is raised only when the input is not FHIR JSON at all.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
EXT_FORMULARY_REFERENCE = USDF + "usdf-FormularyReference-extension"
EXT_AVAILABILITY_STATUS = USDF + "usdf-AvailabilityStatus-extension"
EXT_AVAILABILITY_PERIOD = USDF + "usdf-AvailabilityPeriod-extension"
EXT_DRUG_TIER = USDF + "usdf-DrugTierID-extension"
EXT_PHARMACY_BENEFIT = USDF + "usdf-PharmacyBenefitType-extension"
EXT_PRIOR_AUTH = USDF + "usdf-PriorAuthorization-extension"
EXT_PRIOR_AUTH_NEW = USDF + "usdf-PriorAuthorizationNewStartsOnly-extension"
EXT_STEP_THERAPY = USDF + "usdf-StepTherapyLimit-extension"
EXT_STEP_THERAPY_NEW = USDF + "usdf-StepTherapyLimitNewStartsOnly-extension"
EXT_QUANTITY_LIMIT = USDF + "usdf-QuantityLimit-extension"
EXT_QUANTITY_LIMIT_DETAIL = USDF + "usdf-QuantityLimitDetail-extension"
PROFILE_FORMULARY = USDF + "usdf-Formulary"
PROFILE_PAYER_PLAN = USDF + "usdf-PayerInsurancePlan"
AVAILABILITY_STATUSES = frozenset({"active", "inactive", "entered-in-error"})

# DrugTierCS (terminology/CodeSystem-usdf-DrugTierCS-TEMPORARY-TRIAL-USE.json)
DRUG_TIERS: dict[str, str] = {
    "generic": "Generic",
    "preferred-generic": "Preferred Generic",
    "non-preferred-generic": "Non-preferred Generic",
    "specialty": "Specialty",
    "brand": "Brand",
    "preferred-brand": "Preferred Brand",
    "non-preferred-brand": "Non-preferred Brand",
    "zero-cost-share-preventative": "Zero cost-share preventative",
    "medical-service": "Medical Service",
}


class FhirFormularyError(ValueError):
    """The input is not FHIR JSON (or holds no resource at all)."""


@dataclass(frozen=True)
class Issue:
    """A problem with one resource: ``where`` is ``ResourceType/id`` (or ``#n`` for the n-th), ``field`` the
    element path."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where} · {self.field}: {self.message}"


@dataclass(frozen=True)
class FhirFormulary:
    id: str
    identifier: str
    name: str
    period_start: dt.date | None
    period_end: dt.date | None
    is_formulary: bool  # usdf-Formulary (else a payer insurance plan)


@dataclass(frozen=True)
class FhirDrug:
    id: str
    rxnorm_codes: tuple[str, ...]
    display: str  # the first coding's display (or code.text)
    displays: tuple[str, ...]  # every coding display, for matching by name
    status: str


@dataclass(frozen=True)
class FhirFormularyItem:
    id: str
    formulary_id: str  # InsurancePlan id the item belongs to
    drug_id: str  # MedicationKnowledge id
    availability_status: str  # active | inactive | entered-in-error
    tier_code: str
    tier_display: str
    prior_authorization: bool
    prior_authorization_new_starts_only: bool
    step_therapy: bool
    step_therapy_new_starts_only: bool
    quantity_limit: bool
    quantity_limit_detail: str
    period_start: dt.date | None
    period_end: dt.date | None
    pharmacy_benefit_types: tuple[str, ...]

    @property
    def reference(self) -> str:
        return f"Basic/{self.id}"

    @property
    def has_restrictions(self) -> bool:
        return self.prior_authorization or self.step_therapy or self.quantity_limit


@dataclass
class FhirFormularyDocument:
    formularies: dict[str, FhirFormulary] = field(default_factory=dict)
    drugs: dict[str, FhirDrug] = field(default_factory=dict)
    items: list[FhirFormularyItem] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    ignored: dict[str, int] = field(default_factory=dict)  # resource type → count of resources not read

    def drug_of(self, item: FhirFormularyItem) -> FhirDrug | None:
        return self.drugs.get(item.drug_id)

    def formulary_of(self, item: FhirFormularyItem) -> FhirFormulary | None:
        return self.formularies.get(item.formulary_id)


# --- reading ---------------------------------------------------------------------------------------
def _resources(data: Any) -> list[Any]:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FhirFormularyError("The file is not UTF-8 text.") from exc
    if isinstance(data, str):
        text = data.strip()
        if not text:
            raise FhirFormularyError("The file is empty.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            try:  # NDJSON: one resource per line
                data = [json.loads(line) for line in text.splitlines() if line.strip()]
            except json.JSONDecodeError as exc:
                raise FhirFormularyError(f"Not JSON or NDJSON (line {exc.lineno}: {exc.msg}).") from exc
    if isinstance(data, dict):
        if data.get("resourceType") == "Bundle":
            return [e.get("resource") for e in data.get("entry") or [] if isinstance(e, dict)]
        return [data]
    if isinstance(data, list):
        out: list[Any] = []
        for item in data:
            out.extend(_resources(item) if isinstance(item, dict) and item.get("resourceType") == "Bundle" else [item])
        return out
    raise FhirFormularyError("Expected a FHIR resource, a Bundle or a list of resources.")


def _date(value: Any, where: str, path: str, issues: list[Issue]) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        issues.append(Issue(where, path, "not a date"))
        return None
    text = value[:10]
    try:
        if len(text) == 4:
            return dt.date(int(text), 1, 1)
        if len(text) == 7:
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return dt.date.fromisoformat(text)
    except ValueError:
        issues.append(Issue(where, path, f"not a date: {value!r}"))
        return None


def _ref_id(reference: Any, resource_type: str) -> str:
    """``InsurancePlan/FormularyD1002`` (or an absolute URL ending so) → ``FormularyD1002``; '' if another type."""
    if not isinstance(reference, dict):
        return ""
    ref = str(reference.get("reference") or "")
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] == resource_type:
        return parts[-1]
    return ""


def _extensions(resource: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for ext in resource.get("extension") or []:
        if isinstance(ext, dict) and isinstance(ext.get("url"), str):
            found.setdefault(ext["url"], []).append(ext)
    return found


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _bool(exts: dict[str, list[dict[str, Any]]], url: str, where: str, issues: list[Issue]) -> bool:
    values = exts.get(url)
    if not values:
        return False
    value = values[0].get("valueBoolean")
    if not isinstance(value, bool):
        issues.append(Issue(where, url.rsplit("/", 1)[-1], "valueBoolean missing or not true/false"))
        return False
    return value


def _read_plan(res: dict[str, Any], where: str, doc: FhirFormularyDocument) -> None:
    profiles = (res.get("meta") or {}).get("profile") or []
    is_formulary = PROFILE_FORMULARY in profiles or any(
        c.get("code") == "DRUGPOL" for t in res.get("type") or [] for c in _codings(t)
    )
    identifier = next(
        (str(i.get("value")) for i in res.get("identifier") or [] if isinstance(i, dict) and i.get("value")), ""
    )
    period = res.get("period") or {}
    doc.formularies[res["id"]] = FhirFormulary(
        id=res["id"],
        identifier=identifier,
        name=str(res.get("name") or identifier or res["id"]),
        period_start=_date(period.get("start"), where, "period.start", doc.issues),
        period_end=_date(period.get("end"), where, "period.end", doc.issues),
        is_formulary=is_formulary,
    )


def _read_drug(res: dict[str, Any], where: str, doc: FhirFormularyDocument) -> None:
    codings = _codings(res.get("code"))
    rxnorm = tuple(str(c["code"]) for c in codings if c.get("system") == RXNORM and c.get("code"))
    displays = tuple(str(c["display"]) for c in codings if c.get("display"))
    text = str((res.get("code") or {}).get("text") or "")
    if not rxnorm:
        doc.issues.append(Issue(where, "code.coding", "no RxNorm code"))
    doc.drugs[res["id"]] = FhirDrug(
        id=res["id"],
        rxnorm_codes=rxnorm,
        display=(displays[0] if displays else text),
        displays=displays + ((text,) if text else ()),
        status=str(res.get("status") or ""),
    )


def _read_item(res: dict[str, Any], where: str, doc: FhirFormularyDocument) -> None:
    issues = doc.issues
    exts = _extensions(res)
    ok = True
    formulary = exts.get(EXT_FORMULARY_REFERENCE)
    formulary_id = _ref_id(formulary[0].get("valueReference"), "InsurancePlan") if formulary else ""
    if not formulary_id:
        issues.append(Issue(where, "extension:usdf-FormularyReference", "missing (which formulary is this item on?)"))
        ok = False
    drug_id = _ref_id(res.get("subject"), "MedicationKnowledge")
    if not drug_id:
        issues.append(Issue(where, "subject", "missing or not a MedicationKnowledge reference"))
        ok = False
    status_ext = exts.get(EXT_AVAILABILITY_STATUS)
    status = str(status_ext[0].get("valueCode") or "") if status_ext else ""
    if status not in AVAILABILITY_STATUSES:
        issues.append(Issue(where, "extension:usdf-AvailabilityStatus", f"expected active or inactive, got {status!r}"))
        ok = False
    tier_code = tier_display = ""
    tier = exts.get(EXT_DRUG_TIER)
    if tier:
        codings = _codings(tier[0].get("valueCodeableConcept"))
        if codings:
            tier_code = str(codings[0].get("code") or "")
            tier_display = str(codings[0].get("display") or DRUG_TIERS.get(tier_code, tier_code))
    period_ext = exts.get(EXT_AVAILABILITY_PERIOD)
    period = (period_ext[0].get("valuePeriod") or {}) if period_ext else {}
    start = _date(period.get("start"), where, "extension:usdf-AvailabilityPeriod.start", issues)
    end = _date(period.get("end"), where, "extension:usdf-AvailabilityPeriod.end", issues)
    if start and end and end < start:
        issues.append(Issue(where, "extension:usdf-AvailabilityPeriod", "ends before it starts"))
        ok = False
    detail = exts.get(EXT_QUANTITY_LIMIT_DETAIL)
    detail_text = ""
    if detail:  # a complex extension; keep what a person can read
        parts = []
        for sub in detail[0].get("extension") or []:
            if isinstance(sub, dict):
                value = next((v for k, v in sub.items() if k.startswith("value")), None)
                if isinstance(value, dict):
                    value = value.get("value", value.get("text", ""))
                parts.append(f"{sub.get('url', '')}: {value}")
        detail_text = "; ".join(parts)
    benefits = tuple(
        str(c.get("code"))
        for e in exts.get(EXT_PHARMACY_BENEFIT, [])
        for c in _codings(e.get("valueCodeableConcept"))
        if c.get("code")
    )
    if not ok:
        return
    doc.items.append(
        FhirFormularyItem(
            id=res["id"],
            formulary_id=formulary_id,
            drug_id=drug_id,
            availability_status=status,
            tier_code=tier_code,
            tier_display=tier_display,
            prior_authorization=_bool(exts, EXT_PRIOR_AUTH, where, issues),
            prior_authorization_new_starts_only=_bool(exts, EXT_PRIOR_AUTH_NEW, where, issues),
            step_therapy=_bool(exts, EXT_STEP_THERAPY, where, issues),
            step_therapy_new_starts_only=_bool(exts, EXT_STEP_THERAPY_NEW, where, issues),
            quantity_limit=_bool(exts, EXT_QUANTITY_LIMIT, where, issues),
            quantity_limit_detail=detail_text,
            period_start=start,
            period_end=end,
            pharmacy_benefit_types=benefits,
        )
    )


def parse_formulary(data: Any) -> FhirFormularyDocument:
    """Read formularies, drugs and formulary items; every problem found is in ``issues``.

    Items whose formulary or drug is not in the input are kept (a payer may publish them in separate files): the
    importer decides what to do with an item it cannot map to a product.
    """
    doc = FhirFormularyDocument()
    resources = _resources(data)
    if not resources:
        raise FhirFormularyError("No FHIR resource found.")
    for index, res in enumerate(resources, start=1):
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            doc.issues.append(Issue(f"#{index}", "resourceType", "not a FHIR resource"))
            continue
        rtype = res["resourceType"]
        rid = res.get("id")
        where = f"{rtype}/{rid}" if rid else f"{rtype} #{index}"
        if not isinstance(rid, str) or not rid:
            doc.issues.append(Issue(where, "id", "missing"))
            continue
        if rtype == "InsurancePlan":
            _read_plan(res, where, doc)
        elif rtype == "MedicationKnowledge":
            _read_drug(res, where, doc)
        elif rtype == "Basic" and any(c.get("code") == "formulary-item" for c in _codings(res.get("code"))):
            _read_item(res, where, doc)
        else:
            doc.ignored[rtype] = doc.ignored.get(rtype, 0) + 1
    if not doc.items and not doc.issues:
        doc.issues.append(Issue("input", "Basic", "no FormularyItem (Basic with code formulary-item) found"))
    return doc
