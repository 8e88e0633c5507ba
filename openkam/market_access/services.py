"""Formulary, protocol and plan-target writes.

Who may write (documented in docs/market-access.md):

- formulary status records and protocols: market access (and admin). KAMs and leads read them — a formulary
  position is evidence the access team owns; a KAM who hears of a change tells the access team (or logs an
  interaction). Medical reads status without pricing; compliance reads everything and changes nothing.
- formulary targets of a plan (what the plan wants): whoever may edit plans of the account — KAM, lead, market
  access, admin.

Every change runs in one transaction with an audit context (``market_access.<model>.<verb>``); history is data:
recording a new status closes the period of the record in force (its values never change) and adds a new record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get
from openkam.core.access import can_write, is_admin, require_write
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Role, User
from openkam.interop.fhir_formulary import FhirFormularyDocument, FhirFormularyError, parse_formulary
from openkam.market_access.models import (
    FormularyImport,
    FormularyScope,
    FormularySource,
    FormularyStatus,
    FormularyStatusCode,
    FormularyTarget,
    ImportStatus,
    LineOfTherapy,
    Protocol,
    ProtocolKind,
    ProtocolProduct,
    ProtocolStatus,
    RestrictionKind,
    TargetStatus,
)
from openkam.plans.selectors import objective_get, plan_get
from openkam.portfolio.models import Indication, Product
from openkam.portfolio.selectors import indication_get, product_get, product_list
from openkam.stakeholders.models import Committee
from openkam.stakeholders.selectors import committee_get, stakeholder_get

CURRENCIES = frozenset({"USD", "EUR", "GBP", "CHF", "CAD", "JPY", "AUD", "SEK", "NOK", "DKK", "PLN"})


def can_edit_formulary(user: User) -> bool:
    return can_write(user) and (user.role == Role.MARKET_ACCESS or is_admin(user))


def can_set_targets(user: User) -> bool:
    return can_write(user) and (user.role in (Role.KAM, Role.LEAD, Role.MARKET_ACCESS) or is_admin(user))


def _require_formulary_editor(actor: User) -> None:
    require_write(actor)
    if not can_edit_formulary(actor):
        raise PermissionDenied(
            _("Only market access records formulary positions and protocols."), code="market_access_only"
        )


def _enum(value: str, choices: Any, field_name: str, errors: list[FieldError]) -> str:
    if value not in choices.values:
        errors.append(
            FieldError(
                field_name,
                "invalid_choice",
                _("“%(v)s” is not one of: %(c)s.") % {"v": value, "c": ", ".join(choices.values)},
            )
        )
    return value


def _overlap_message(other: FormularyStatus) -> str:
    until = other.effective_to.isoformat() if other.effective_to else _("open-ended")
    return _(
        "Overlaps the %(source)s record #%(id)s for the same account × product (%(status)s, %(start)s – %(end)s). "
        "Periods of one account × product may not overlap: end that record first or choose another date."
    ) % {"source": other.get_source_display().lower(), "id": other.pk, "status": other.get_status_display(),
         "start": other.effective_from.isoformat(), "end": until}  # fmt: skip


@dataclass
class StatusInput:
    """What a formulary status record says (validated by :func:`_validate_status`)."""

    product_id: int
    status: str
    effective_from: dt.date
    indication_id: int | None = None
    effective_to: dt.date | None = None
    tier: str = ""
    restriction_kinds: list[str] = field(default_factory=list)
    restrictions: str = ""
    next_review: dt.date | None = None
    committee_id: int | None = None
    scope: str = FormularyScope.ACCOUNT
    net_price: Decimal | None = None
    currency: str = ""
    notes: str = ""
    source_ref: str = ""


def _validate_status(
    actor: User, account: Account, data: StatusInput, errors: list[FieldError]
) -> tuple[Product | None, Indication | None, Committee | None]:
    product = indication = committee = None
    try:
        product = product_get(actor=actor, product_id=data.product_id)
    except NotFound:
        errors.append(FieldError("product_id", "not_found", _("No such product.")))
    if data.indication_id is not None:
        try:
            indication = indication_get(actor=actor, indication_id=data.indication_id)
            if product is not None and indication.product_id != product.pk:
                errors.append(FieldError("indication_id", "wrong_product", _("The indication is not of this product.")))
        except NotFound:
            errors.append(FieldError("indication_id", "not_found", _("No such indication.")))
    _enum(data.status, FormularyStatusCode, "status", errors)
    _enum(data.scope, FormularyScope, "scope", errors)
    for kind in data.restriction_kinds:
        _enum(kind, RestrictionKind, "restriction_kinds", errors)
    if len(set(data.restriction_kinds)) != len(data.restriction_kinds):
        errors.append(FieldError("restriction_kinds", "duplicate", _("A restriction is listed twice.")))
    if data.status == FormularyStatusCode.RESTRICTED and not (data.restriction_kinds or data.restrictions.strip()):
        errors.append(
            FieldError(
                "restriction_kinds",
                "required",
                _(
                    "“On with restrictions” needs the restrictions: prior authorisation, step therapy, "
                    "specialist only, quantity limit or a text."
                ),
            )
        )
    if data.status != FormularyStatusCode.RESTRICTED and data.restriction_kinds:
        errors.append(
            FieldError(
                "restriction_kinds", "not_restricted", _("Restrictions belong to the status “On with restrictions”.")
            )
        )
    if data.effective_to is not None and data.effective_to < data.effective_from:
        errors.append(FieldError("effective_to", "before_start", _("The period ends before it starts.")))
    if data.next_review is not None and data.next_review < data.effective_from:
        errors.append(FieldError("next_review", "before_start", _("The next review is before the status starts.")))
    if len(data.tier) > 40:
        errors.append(FieldError("tier", "too_long", _("At most 40 characters.")))
    if data.net_price is not None:
        if data.net_price < 0:
            errors.append(FieldError("net_price", "negative", _("A price cannot be negative.")))
        if data.currency not in CURRENCIES:
            errors.append(
                FieldError(
                    "currency",
                    "unknown_currency",
                    _("Unknown currency “%(c)s” (use one of %(all)s).")
                    % {"c": data.currency, "all": ", ".join(sorted(CURRENCIES))},
                )
            )
    elif data.currency:
        errors.append(FieldError("currency", "without_price", _("A currency without a price.")))
    if data.committee_id is not None:
        try:
            committee = committee_get(actor=actor, committee_id=data.committee_id)
            if committee.account_id not in (account.pk, *account.ancestors):
                errors.append(
                    FieldError(
                        "committee_id",
                        "not_deciding",
                        _(
                            "This committee does not decide for this account (it belongs to another account "
                            "than this one or one above it)."
                        ),
                    )
                )
        except NotFound:
            errors.append(FieldError("committee_id", "not_found", _("No such committee.")))
    return product, indication, committee


def _same_key(account_id: int, product_id: int, indication_id: int | None, source: str) -> Any:
    qs = FormularyStatus.objects.filter(account_id=account_id, product_id=product_id, source=source)
    return qs.filter(indication_id=indication_id) if indication_id else qs.filter(indication__isnull=True)


def _plan_period(
    account_id: int, data: StatusInput, source: str
) -> tuple[FormularyStatus | None, FormularyStatus | None]:
    """(the open-ended record this one succeeds — to be closed the day before —, a record it overlaps)."""
    same = _same_key(account_id, data.product_id, data.indication_id, source).select_for_update()
    end = data.effective_to
    overlapping = same.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=data.effective_from))
    if end is not None:
        overlapping = overlapping.filter(effective_from__lte=end)
    found = list(overlapping.order_by("effective_from"))
    to_close = None
    for other in found:
        if other.effective_to is None and other.effective_from < data.effective_from and to_close is None:
            to_close = other  # succeeded: its period ends the day before the new one starts
            continue
        return to_close, other
    return to_close, None


def formulary_status_record(
    *,
    actor: User,
    account_id: int,
    data: StatusInput,
    source: str = FormularySource.ENTERED,
    reason: str = "",
) -> FormularyStatus:
    """Record a formulary position from ``data.effective_from``: a new dated record; the open-ended record of the
    same account × product (× indication) and source that it succeeds gets its period closed the day before.
    Refused (nothing written) when it would overlap any other period of that account × product."""
    _require_formulary_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    errors: list[FieldError] = []
    _enum(source, FormularySource, "source", errors)
    product, indication, committee = _validate_status(actor, account, data, errors)
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    with audit_action(actor=actor, action="market_access.formularystatus.record", reason=reason):
        to_close, overlap = _plan_period(account.pk, data, source)
        if overlap is not None:
            raise ValidationFailed(_overlap_message(overlap), field="effective_from", code="overlapping_period")
        if to_close is not None:
            to_close.effective_to = data.effective_from - dt.timedelta(days=1)
            to_close.save(update_fields=["effective_to", "updated_at"])
        record = FormularyStatus(
            account=account, product=product, indication=indication, committee=committee, scope=data.scope,
            status=data.status, restriction_kinds=list(data.restriction_kinds), restrictions=data.restrictions.strip(),
            tier=data.tier.strip(), effective_from=data.effective_from, effective_to=data.effective_to,
            next_review=data.next_review, source=source, source_ref=data.source_ref[:255],
            net_price=data.net_price, currency=data.currency if data.net_price is not None else "",
            notes=data.notes.strip(), recorded_by=actor,
        )  # fmt: skip
        try:
            record.save()
        except IntegrityError as exc:  # a concurrent writer got there first: the exclusion constraint holds
            raise ValidationFailed(
                _("Effective periods of the same account × product may not overlap."),
                field="effective_from",
                code="overlapping_period",
            ) from exc
    return record


def formulary_status_update_review(
    *, actor: User, status_id: int, next_review: dt.date | None, notes: str | None = None, reason: str = ""
) -> FormularyStatus:
    """Set the next review date (and notes) of a record: bookkeeping that changes no position (audited)."""
    from openkam.market_access.selectors import formulary_status_get

    _require_formulary_editor(actor)
    record = formulary_status_get(actor=actor, status_id=status_id)
    if next_review is not None and next_review < record.effective_from:
        raise ValidationFailed(_("The next review is before the status starts."), field="next_review",
                               code="before_start")  # fmt: skip
    with audit_action(actor=actor, action="market_access.formularystatus.review", reason=reason):
        record.next_review = next_review
        fields = ["next_review", "updated_at"]
        if notes is not None:
            record.notes = notes.strip()
            fields.append("notes")
        record.save(update_fields=fields)
    return record


# --- plan targets -----------------------------------------------------------------------------------------
def formulary_target_set(
    *,
    actor: User,
    plan_id: int,
    product_id: int,
    target_status: str = TargetStatus.ON_FORMULARY,
    objective_id: int | None = None,
    note: str = "",
    reason: str = "",
) -> FormularyTarget:
    """State what a plan wants for a product at its account (create or change; one per plan × product)."""
    require_write(actor)
    if not can_set_targets(actor):
        raise PermissionDenied(_("Your role cannot set plan targets."), code="targets_forbidden")
    plan = plan_get(actor=actor, plan_id=plan_id)
    errors: list[FieldError] = []
    _enum(target_status, TargetStatus, "target_status", errors)
    try:
        product = product_get(actor=actor, product_id=product_id)
    except NotFound:
        errors.append(FieldError("product_id", "not_found", _("No such product.")))
    objective = None
    if objective_id is not None:
        try:
            objective = objective_get(actor=actor, objective_id=objective_id)
            if objective.plan_id != plan.pk:
                errors.append(FieldError("objective_id", "other_plan", _("The objective is not in this plan.")))
        except NotFound:
            errors.append(FieldError("objective_id", "not_found", _("No such objective.")))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    if plan.status == "closed":
        raise RuleViolation(_("The plan is closed."), code="plan_closed")
    with audit_action(actor=actor, action="market_access.formularytarget.set", reason=reason):
        target, _created = FormularyTarget.objects.update_or_create(
            plan=plan, product=product,
            defaults={"target_status": target_status, "objective": objective, "note": note.strip()},
        )  # fmt: skip
    return target


def formulary_target_delete(*, actor: User, target_id: int, reason: str = "") -> None:
    from openkam.market_access.selectors import formulary_target_get

    require_write(actor)
    if not can_set_targets(actor):
        raise PermissionDenied(_("Your role cannot set plan targets."), code="targets_forbidden")
    target = formulary_target_get(actor=actor, target_id=target_id)
    with audit_action(actor=actor, action="market_access.formularytarget.delete", reason=reason):
        target.delete()


# --- protocols --------------------------------------------------------------------------------------------
@dataclass
class ProtocolInput:
    name: str
    kind: str = ProtocolKind.PATHWAY
    status: str = ProtocolStatus.ACTIVE
    scope: str = FormularyScope.ACCOUNT
    therapeutic_area_id: int | None = None
    description: str = ""
    effective_from: dt.date | None = None
    review_date: dt.date | None = None
    owner_id: int | None = None  # stakeholder (clinical owner)
    our_owner_id: int | None = None  # user


def _validate_protocol(actor: User, data: ProtocolInput, errors: list[FieldError]) -> dict[str, Any]:
    from openkam.portfolio.selectors import therapeutic_area_get

    out: dict[str, Any] = {}
    if not data.name.strip():
        errors.append(FieldError("name", "required", _("A protocol needs a name.")))
    elif len(data.name) > 255:
        errors.append(FieldError("name", "too_long", _("At most 255 characters.")))
    _enum(data.kind, ProtocolKind, "kind", errors)
    _enum(data.status, ProtocolStatus, "status", errors)
    _enum(data.scope, FormularyScope, "scope", errors)
    if data.effective_from and data.review_date and data.review_date < data.effective_from:
        errors.append(FieldError("review_date", "before_start", _("The review date is before the protocol starts.")))
    out["therapeutic_area"] = None
    if data.therapeutic_area_id is not None:
        try:
            out["therapeutic_area"] = therapeutic_area_get(actor=actor, ta_id=data.therapeutic_area_id)
        except NotFound:
            errors.append(FieldError("therapeutic_area_id", "not_found", _("No such therapeutic area.")))
    out["owner"] = None
    if data.owner_id is not None:
        try:
            out["owner"] = stakeholder_get(actor=actor, stakeholder_id=data.owner_id)
        except NotFound:
            errors.append(FieldError("owner_id", "not_found", _("No such person.")))
    out["our_owner"] = None
    if data.our_owner_id is not None:
        out["our_owner"] = User.objects.filter(pk=data.our_owner_id, is_active=True).first()
        if out["our_owner"] is None:
            errors.append(FieldError("our_owner_id", "not_found", _("No such active user.")))
    return out


def protocol_create(*, actor: User, account_id: int, data: ProtocolInput, reason: str = "") -> Protocol:
    _require_formulary_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    errors: list[FieldError] = []
    related = _validate_protocol(actor, data, errors)
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    with audit_action(actor=actor, action="market_access.protocol.create", reason=reason):
        return Protocol.objects.create(
            account=account, name=data.name.strip(), kind=data.kind, status=data.status, scope=data.scope,
            description=data.description.strip(), effective_from=data.effective_from, review_date=data.review_date,
            **related,
        )  # fmt: skip


def protocol_update(*, actor: User, protocol_id: int, data: ProtocolInput, reason: str = "") -> Protocol:
    from openkam.market_access.selectors import protocol_get

    _require_formulary_editor(actor)
    protocol = protocol_get(actor=actor, protocol_id=protocol_id)
    errors: list[FieldError] = []
    related = _validate_protocol(actor, data, errors)
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    with audit_action(actor=actor, action="market_access.protocol.update", reason=reason):
        for name, value in {"name": data.name.strip(), "kind": data.kind, "status": data.status,
                            "scope": data.scope, "description": data.description.strip(),
                            "effective_from": data.effective_from, "review_date": data.review_date,
                            **related}.items():  # fmt: skip
            setattr(protocol, name, value)
        protocol.save()
    return protocol


def protocol_retire(*, actor: User, protocol_id: int, reason: str = "") -> Protocol:
    """Retire a protocol (it stays, with its products, as history; reviews of it are no longer due)."""
    from openkam.market_access.selectors import protocol_get

    _require_formulary_editor(actor)
    protocol = protocol_get(actor=actor, protocol_id=protocol_id)
    if protocol.status == ProtocolStatus.RETIRED:
        raise RuleViolation(_("This protocol is already retired."), field="status", code="already_retired")
    with audit_action(actor=actor, action="market_access.protocol.retire", reason=reason):
        protocol.status = ProtocolStatus.RETIRED
        protocol.save(update_fields=["status", "updated_at"])
    return protocol


def protocol_product_add(
    *,
    actor: User,
    protocol_id: int,
    product_id: int,
    line_of_therapy: str = LineOfTherapy.ANY,
    indication_id: int | None = None,
    preferred: bool = False,
    note: str = "",
    reason: str = "",
) -> ProtocolProduct:
    from openkam.market_access.selectors import protocol_get

    _require_formulary_editor(actor)
    protocol = protocol_get(actor=actor, protocol_id=protocol_id)
    errors: list[FieldError] = []
    _enum(line_of_therapy, LineOfTherapy, "line_of_therapy", errors)
    product = indication = None
    try:
        product = product_get(actor=actor, product_id=product_id)
    except NotFound:
        errors.append(FieldError("product_id", "not_found", _("No such product.")))
    if indication_id is not None:
        try:
            indication = indication_get(actor=actor, indication_id=indication_id)
            if product is not None and indication.product_id != product.pk:
                errors.append(FieldError("indication_id", "wrong_product", _("The indication is not of this product.")))
        except NotFound:
            errors.append(FieldError("indication_id", "not_found", _("No such indication.")))
    if (
        not errors
        and ProtocolProduct.objects.filter(protocol=protocol, product=product, line_of_therapy=line_of_therapy).exists()
    ):
        errors.append(FieldError("product_id", "duplicate", _("This product is already in the protocol at this line.")))
    if errors or product is None:
        raise ValidationFailed(errors[0].message, errors=errors)
    with audit_action(actor=actor, action="market_access.protocolproduct.add", reason=reason):
        return ProtocolProduct.objects.create(
            protocol=protocol, product=product, indication=indication, line_of_therapy=line_of_therapy,
            preferred=preferred, note=note.strip()[:255],
        )  # fmt: skip


def protocol_product_remove(*, actor: User, protocol_id: int, item_id: int, reason: str = "") -> None:
    from openkam.market_access.selectors import protocol_get

    _require_formulary_editor(actor)
    protocol = protocol_get(actor=actor, protocol_id=protocol_id)
    item = ProtocolProduct.objects.filter(protocol=protocol, pk=item_id).first()
    if item is None:
        raise NotFound(_("No such product in this protocol."), code="protocol_product_not_found")
    with audit_action(actor=actor, action="market_access.protocolproduct.remove", reason=reason):
        item.delete()


# --- FHIR formulary import --------------------------------------------------------------------------------
@dataclass
class ImportLine:
    item_ref: str  # Basic/<id>
    drug: str
    rxnorm: str
    formulary: str
    product_id: int | None
    product_name: str
    status: str
    tier: str
    restriction_kinds: list[str]
    restrictions: str
    effective_from: dt.date | None
    effective_to: dt.date | None
    outcome: str  # new | unchanged | skipped | error
    message: str = ""


@dataclass
class ImportResult:
    dry_run: bool
    lines: list[ImportLine]
    issues: list[str]
    created: int = 0

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            out[line.outcome] = out.get(line.outcome, 0) + 1
        return out

    @property
    def has_errors(self) -> bool:
        return bool(self.issues) or any(line.outcome == "error" for line in self.lines)


def _match_products(actor: User, doc: FhirFormularyDocument, mapping: dict[str, int]) -> dict[str, Product]:
    """RxNorm code → product: the explicit mapping first, else a product whose generic or brand name appears in
    the drug's name (case-insensitive)."""
    products = list(product_list(actor=actor))
    by_id = {p.pk: p for p in products}
    out: dict[str, Product] = {}
    for drug in doc.drugs.values():
        for code in drug.rxnorm_codes:
            if code in mapping and mapping[code] in by_id:
                out[drug.id] = by_id[mapping[code]]
                break
        else:
            text = " ".join(drug.displays).lower()
            for p in products:
                if (p.generic_name and p.generic_name.lower() in text) or p.name.lower() in text:
                    out[drug.id] = p
                    break
    return out


def formulary_import_fhir(
    *,
    actor: User,
    account_id: int,
    content: bytes | str,
    mapping: dict[str, int] | None = None,
    formulary_id: str | None = None,
    dry_run: bool = True,
    reason: str = "",
    progress: Callable[..., None] | None = None,
) -> ImportResult:
    """Import a Da Vinci formulary (FHIR) as *imported* formulary status records of a payer account.

    Each FormularyItem becomes a record: available without restrictions → on formulary; with prior authorisation /
    step therapy / quantity limit → on with restrictions; inactive → removed; the drug tier becomes the tier; the
    availability period (else the formulary's period) the effective dates. Drugs map to products by RxNorm code
    (``mapping``) or by name. Validates everything first (``dry_run`` stops there); writes all or nothing.
    An item identical to an imported record already there is unchanged; one overlapping a different imported
    record is an error (nothing written). Our own entries are never touched: imported values live beside them.
    """
    _require_formulary_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    try:
        doc = parse_formulary(content)
    except FhirFormularyError as exc:
        raise ValidationFailed(str(exc), field="file", code="not_fhir") from exc
    mapping = {str(k).strip(): int(v) for k, v in (mapping or {}).items()}
    matched = _match_products(actor, doc, mapping)
    result = ImportResult(dry_run=dry_run, lines=[], issues=[str(i) for i in doc.issues])
    pending: list[tuple[ImportLine, StatusInput]] = []
    seen: dict[tuple[int, dt.date], str] = {}
    total = len(doc.items) * (1 if dry_run else 2)
    for n, item in enumerate(doc.items):
        if progress is not None and n % 50 == 0:
            progress(n, total, _("Checking item %(n)d of %(t)d") % {"n": n + 1, "t": len(doc.items)})
        formulary = doc.formulary_of(item)
        if formulary_id and item.formulary_id != formulary_id:
            continue
        drug = doc.drug_of(item)
        product = matched.get(item.drug_id)
        kinds = []
        if item.prior_authorization:
            kinds.append(RestrictionKind.PRIOR_AUTHORISATION.value)
        if item.step_therapy:
            kinds.append(RestrictionKind.STEP_THERAPY.value)
        if item.quantity_limit:
            kinds.append(RestrictionKind.QUANTITY_LIMIT.value)
        notes = []
        if item.prior_authorization_new_starts_only:
            notes.append(_("prior authorisation for new starts only"))
        if item.step_therapy_new_starts_only:
            notes.append(_("step therapy for new starts only"))
        if item.quantity_limit_detail:
            notes.append(item.quantity_limit_detail)
        if item.availability_status == "inactive":
            status, kinds = FormularyStatusCode.REMOVED.value, []
        else:
            status = FormularyStatusCode.RESTRICTED.value if kinds else FormularyStatusCode.ON_FORMULARY.value
        start = item.period_start or (formulary.period_start if formulary else None)
        end = item.period_end or (formulary.period_end if formulary else None)
        line = ImportLine(
            item_ref=item.reference, drug=drug.display if drug else item.drug_id,
            rxnorm=", ".join(drug.rxnorm_codes) if drug else "",
            formulary=formulary.name if formulary else item.formulary_id,
            product_id=product.pk if product else None, product_name=product.name if product else "",
            status=status, tier=item.tier_display or item.tier_code, restriction_kinds=kinds,
            restrictions="; ".join(notes), effective_from=start, effective_to=end, outcome="new",
        )  # fmt: skip
        result.lines.append(line)
        if item.availability_status == "entered-in-error":
            line.outcome, line.message = "skipped", _("entered in error")
            continue
        if product is None:
            line.outcome = "skipped"
            line.message = _("no product matches this drug (map its RxNorm code to a product)")
            continue
        if start is None:
            line.outcome, line.message = "error", _("no availability period and no formulary period: no start date")
            continue
        key = (product.pk, start)
        if key in seen:
            line.outcome = "error"
            line.message = _("a second item for %(p)s from %(d)s (also %(o)s)") % {
                "p": product.name, "d": start.isoformat(), "o": seen[key]}  # fmt: skip
            continue
        seen[key] = item.reference
        data = StatusInput(
            product_id=product.pk, status=status, effective_from=start, effective_to=end, tier=line.tier[:40],
            restriction_kinds=kinds, restrictions=line.restrictions,
            source_ref=f"FHIR InsurancePlan/{item.formulary_id} {item.reference}",
        )  # fmt: skip
        existing = list(
            _same_key(account.pk, product.pk, None, FormularySource.IMPORTED)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=start))
            .filter(effective_from__lte=end or dt.date.max)
        )
        if existing:
            same = [
                e for e in existing
                if (e.status, e.tier, list(e.restriction_kinds), e.effective_from, e.effective_to)
                == (status, data.tier, kinds, start, end)
            ]  # fmt: skip
            if same:
                line.outcome, line.message = "unchanged", _("already imported")
                continue
            line.outcome, line.message = "error", _overlap_message(existing[0])
            continue
        pending.append((line, data))
    if dry_run:
        return result
    if result.has_errors:
        errors = [
            FieldError(line.item_ref, "import_row", line.message) for line in result.lines if line.outcome == "error"
        ]
        errors += [FieldError("file", "fhir", issue) for issue in result.issues]
        raise ValidationFailed(
            _("The import was refused, nothing was written: %(n)d problem(s), the first: %(first)s")
            % {"n": len(errors), "first": f"{errors[0].field}: {errors[0].message}"},
            errors=errors,
            code="import_refused",
        )
    with (
        transaction.atomic(),
        audit_action(actor=actor, action="market_access.formularystatus.import", reason=reason or "FHIR import"),
    ):
        for n, (line, data) in enumerate(pending):
            if progress is not None and n % 50 == 0:
                message = _("Writing record %(n)d of %(t)d") % {"n": n + 1, "t": len(pending)}
                progress(len(doc.items) + n, total, message)
            formulary_status_record(actor=actor, account_id=account.pk, data=data, source=FormularySource.IMPORTED)
            line.outcome = "created"
            result.created += 1
    return result


IMPORT_MAX_BYTES = 20 * 1024 * 1024
PREVIEW_MAX_LINES = 2000


def formulary_import_start(
    *,
    actor: User,
    account_id: int,
    filename: str,
    content: bytes,
    mapping: dict[str, int] | None = None,
    formulary_id: str = "",
    reason: str = "",
) -> FormularyImport:
    """Keep an uploaded FHIR formulary for an account and start checking it (a job: the preview of every item).
    Writing is a second step (:func:`formulary_import_apply`) once the preview shows no problem."""
    _require_formulary_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    if not content:
        raise ValidationFailed(_("The file is empty."), field="file", code="empty")
    if len(content) > IMPORT_MAX_BYTES:
        raise ValidationFailed(_("The file is larger than 20 MB."), field="file", code="too_large")
    clean_mapping: dict[str, int] = {}
    for code, pk in (mapping or {}).items():
        if not str(code).strip():
            raise ValidationFailed(_("An RxNorm code is empty."), field="mapping", code="invalid")
        try:
            product_get(actor=actor, product_id=int(pk))
        except (NotFound, TypeError, ValueError) as exc:
            raise ValidationFailed(
                _("No such product for RxNorm %(c)s.") % {"c": code}, field="mapping", code="unknown_product"
            ) from exc
        clean_mapping[str(code).strip()] = int(pk)
    from openkam.core.services import job_start

    with transaction.atomic(), audit_action(actor=actor, action="market_access.formularyimport.upload", reason=reason):
        imp = FormularyImport.objects.create(
            account=account, filename=(filename or "formulary.json")[:255], data=content, size=len(content),
            mapping=clean_mapping, formulary_id=(formulary_id or "")[:200], reason=(reason or "")[:255],
            uploaded_by=actor,
        )  # fmt: skip
        imp.job = job_start(actor=actor, kind="market_access.fhir_import",
                            label=_("Check FHIR formulary %(f)s") % {"f": imp.filename},
                            params={"import_id": imp.pk, "dry_run": True})  # fmt: skip
        imp.save(update_fields=["job", "updated_at"])
    return imp


def formulary_import_apply(*, actor: User, import_id: int) -> FormularyImport:
    """Write a checked import (a job): every item as an imported record of the account, or nothing."""
    _require_formulary_editor(actor)
    from openkam.core.services import job_start
    from openkam.market_access.selectors import formulary_import_get

    imp = formulary_import_get(actor=actor, import_id=import_id)
    if imp.status != ImportStatus.CHECKED:
        raise RuleViolation(
            _("Only a checked import without problems can be written (this one is: %(s)s).")
            % {"s": imp.get_status_display()},
            field="status", code="not_checked",
        )  # fmt: skip
    with transaction.atomic(), audit_action(actor=actor, action="market_access.formularyimport.apply"):
        imp.job = job_start(actor=actor, kind="market_access.fhir_import",
                            label=_("Import FHIR formulary %(f)s") % {"f": imp.filename},
                            params={"import_id": imp.pk, "dry_run": False})  # fmt: skip
        imp.save(update_fields=["job", "updated_at"])
    return imp


def formulary_import_run(
    *, actor: User, import_id: int, dry_run: bool, progress: Callable[..., None]
) -> dict[str, Any]:
    """What the job does: check (``dry_run``) or write the import, keeping the preview and the outcome on it."""
    from openkam.market_access.selectors import formulary_import_get

    imp = formulary_import_get(actor=actor, import_id=import_id, with_data=True)
    if not dry_run and imp.status != ImportStatus.CHECKED:
        raise RuleViolation(_("This import is not ready to be written."), code="not_checked")
    try:
        result = formulary_import_fhir(
            actor=actor, account_id=imp.account_id, content=bytes(imp.data), mapping=imp.mapping,
            formulary_id=imp.formulary_id or None, dry_run=dry_run, reason=imp.reason, progress=progress,
        )  # fmt: skip
    except ValidationFailed as exc:
        with audit_action(actor=actor, action="market_access.formularyimport.refuse"):
            FormularyImport.objects.filter(pk=imp.pk).update(
                status=ImportStatus.INVALID,
                preview={**(imp.preview or {}), "error": exc.message,
                         "errors": [{"field": e.field, "message": e.message} for e in exc.errors][:200]},
            )  # fmt: skip
        raise
    preview = {
        "counts": result.counts,
        "issues": result.issues,
        "lines": [_line_json(line) for line in result.lines[:PREVIEW_MAX_LINES]],
        "line_count": len(result.lines),
    }
    if dry_run:
        status = ImportStatus.INVALID if result.has_errors else ImportStatus.CHECKED
        fields: dict[str, Any] = {"status": status, "preview": preview}
    else:
        fields = {"status": ImportStatus.IMPORTED, "preview": preview, "created_count": result.created,
                  "imported_at": timezone.now()}  # fmt: skip
    with audit_action(actor=actor, action="market_access.formularyimport.check" if dry_run else
                      "market_access.formularyimport.import"):  # fmt: skip
        for key, value in fields.items():
            setattr(imp, key, value)
        imp.save(update_fields=[*fields, "updated_at"])
    progress(len(result.lines), len(result.lines), _("Done"))
    return {"import_id": imp.pk, "status": imp.status, "created": result.created, **result.counts}


def _line_json(line: ImportLine) -> dict[str, Any]:
    out = dict(line.__dict__)
    out["status_label"] = str(FormularyStatusCode(line.status).label) if line.status else ""
    out["restriction_labels"] = [str(RestrictionKind(k).label) for k in line.restriction_kinds]
    out["effective_from"] = line.effective_from.isoformat() if line.effective_from else None
    out["effective_to"] = line.effective_to.isoformat() if line.effective_to else None
    return out
