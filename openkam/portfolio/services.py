"""Portfolio writes. Reference data: only an administrator changes it; every change is audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.core.access import require_admin
from openkam.core.audit import audit_action
from openkam.core.errors import NotFound, ValidationFailed
from openkam.core.models import User
from openkam.portfolio.models import Indication, Product, TherapeuticArea
from openkam.portfolio.selectors import indication_get, product_get, therapeutic_area_get
from openkam.portfolio.validators import normalise_code, validate_icd10, validate_ndc

TA_FIELDS = frozenset({"code", "name", "description"})
PRODUCT_FIELDS = frozenset({"name", "generic_name", "therapeutic_area", "status", "launch_date", "ndc", "description"})
INDICATION_FIELDS = frozenset({"name", "icd10", "line_of_therapy", "approved", "approval_date"})
_TEXT_FIELDS = frozenset({"code", "name", "generic_name", "description", "line_of_therapy"})


def _pk(value: Any) -> Any:
    return getattr(value, "pk", value)


def _check_known(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s") % {"f": ", ".join(unknown)}, field=unknown[0])


def _clean_text(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (v or "").strip() if k in _TEXT_FIELDS else v for k, v in fields.items()}


def _full_clean(obj: Any, extra: dict[str, list[DjangoValidationError]] | None = None) -> None:
    """Model validation (required, lengths, choices, unique fields) plus ``extra`` errors, as one
    ValidationFailed naming every bad field."""
    errors: dict[str, list[DjangoValidationError]] = {k: list(v) for k, v in (extra or {}).items()}
    try:
        obj.full_clean(validate_constraints=False)
    except DjangoValidationError as exc:
        for field, errs in exc.error_dict.items():
            errors.setdefault(field, []).extend(_friendly(obj, field, e) for e in errs)
    if errors:
        raise ValidationFailed.from_django(DjangoValidationError(errors))


def _friendly(obj: Any, field: str, error: DjangoValidationError) -> DjangoValidationError:
    """ "Another product already has this brand name." rather than Django's generic unique message."""
    if error.code != "unique":
        return error
    return DjangoValidationError(
        _("Another %(model)s already has this %(field)s.")
        % {"model": obj._meta.verbose_name, "field": obj._meta.get_field(field).verbose_name},
        code="unique",
    )


def _save(obj: Any, *, actor: User, action: str, reason: str, unique_field: str) -> None:
    """Save inside the audit context; a unique clash lost to a concurrent writer is still a 422."""
    try:
        with audit_action(actor=actor, action=action, reason=reason):
            obj.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            _("This %(f)s is already used.") % {"f": unique_field.replace("_", " ")}, field=unique_field, code="unique"
        ) from exc


# --- therapeutic areas ---------------------------------------------------------------------------
def ta_create(*, actor: User, code: str, name: str, description: str = "", reason: str = "") -> TherapeuticArea:
    require_admin(actor)
    fields = _clean_text({"code": code, "name": name, "description": description})
    ta = TherapeuticArea(**fields)
    ta.code = ta.code.lower()
    _full_clean(ta)
    _save(ta, actor=actor, action="portfolio.therapeuticarea.create", reason=reason, unique_field="name")
    return ta


def ta_update(*, actor: User, ta: TherapeuticArea, reason: str = "", **fields: Any) -> TherapeuticArea:
    require_admin(actor)
    _check_known(fields, TA_FIELDS)
    ta = therapeutic_area_get(actor=actor, ta_id=ta.pk)
    for key, value in _clean_text(fields).items():
        setattr(ta, key, value.lower() if key == "code" else value)
    _full_clean(ta)
    _save(ta, actor=actor, action="portfolio.therapeuticarea.update", reason=reason, unique_field="name")
    return ta


# --- products ------------------------------------------------------------------------------------
def _resolve_ta(actor: User, value: TherapeuticArea | int | None) -> TherapeuticArea:
    if value is None:
        raise ValidationFailed(_("Choose a therapeutic area."), field="therapeutic_area", code="required")
    try:
        return therapeutic_area_get(actor=actor, ta_id=int(_pk(value)))
    except (NotFound, TypeError, ValueError) as exc:
        raise ValidationFailed(
            _("No such therapeutic area."), field="therapeutic_area", code="therapeutic_area_not_found"
        ) from exc


def _product_errors(product: Product) -> dict[str, list[DjangoValidationError]]:
    errors: dict[str, list[DjangoValidationError]] = {}
    try:
        validate_ndc(product.ndc)
    except DjangoValidationError as exc:
        errors["ndc"] = [exc]
    return errors


def product_create(
    *,
    actor: User,
    name: str,
    generic_name: str,
    therapeutic_area: TherapeuticArea | int | None,
    reason: str = "",
    **fields: Any,
) -> Product:
    """Add a product (brand) to a therapeutic area. Optional: status, launch_date, ndc, description."""
    require_admin(actor)
    _check_known(fields, PRODUCT_FIELDS - {"name", "generic_name", "therapeutic_area"})
    ta = _resolve_ta(actor, therapeutic_area)
    product = Product(therapeutic_area=ta, **_clean_text({"name": name, "generic_name": generic_name, **fields}))
    product.ndc = normalise_code(product.ndc)
    _full_clean(product, _product_errors(product))
    _save(product, actor=actor, action="portfolio.product.create", reason=reason, unique_field="name")
    return product


def product_update(*, actor: User, product: Product, reason: str = "", **fields: Any) -> Product:
    require_admin(actor)
    _check_known(fields, PRODUCT_FIELDS)
    product = product_get(actor=actor, product_id=product.pk)
    if "therapeutic_area" in fields:
        fields["therapeutic_area"] = _resolve_ta(actor, fields["therapeutic_area"])
    for key, value in _clean_text(fields).items():
        setattr(product, key, value)
    product.ndc = normalise_code(product.ndc)
    _full_clean(product, _product_errors(product))
    _save(product, actor=actor, action="portfolio.product.update", reason=reason, unique_field="name")
    return product


# --- indications ---------------------------------------------------------------------------------
def _indication_errors(indication: Indication) -> dict[str, list[DjangoValidationError]]:
    errors: dict[str, list[DjangoValidationError]] = {}
    try:
        validate_icd10(indication.icd10)
    except DjangoValidationError as exc:
        errors["icd10"] = [exc]
    if indication.approval_date and not indication.approved:
        errors["approval_date"] = [
            DjangoValidationError(
                _("Only an approved indication has an approval date: tick “approved” or clear the date."),
                code="approval_date_without_approval",
            )
        ]
    elif indication.approval_date and indication.approval_date > timezone.localdate():
        errors["approval_date"] = [
            DjangoValidationError(_("An approval date cannot be in the future."), code="approval_date_future")
        ]
    name = (indication.name or "").strip()
    if name and (
        Indication.objects.filter(product_id=indication.product_id, name__iexact=name)
        .exclude(pk=indication.pk)
        .exists()
    ):
        errors["name"] = [
            DjangoValidationError(_("This product already has an indication with this name."), code="unique")
        ]
    return errors


def indication_create(
    *,
    actor: User,
    product: Product | int,
    name: str,
    icd10: str = "",
    line_of_therapy: str = "",
    approved: bool = True,
    approval_date: Any = None,
    reason: str = "",
) -> Indication:
    """Add an indication to a product. Approved indications are the label: messaging stays inside them."""
    require_admin(actor)
    try:
        parent = product_get(actor=actor, product_id=int(_pk(product)))
    except (NotFound, TypeError, ValueError) as exc:
        raise ValidationFailed(_("No such product."), field="product", code="product_not_found") from exc
    indication = Indication(
        product=parent,
        **_clean_text({"name": name, "line_of_therapy": line_of_therapy}),
        icd10=normalise_code(icd10),
        approved=bool(approved),
        approval_date=approval_date,
    )
    _full_clean(indication, _indication_errors(indication))
    _save(indication, actor=actor, action="portfolio.indication.create", reason=reason, unique_field="name")
    return indication


def indication_update(*, actor: User, indication: Indication, reason: str = "", **fields: Any) -> Indication:
    require_admin(actor)
    _check_known(fields, INDICATION_FIELDS)
    indication = indication_get(actor=actor, indication_id=indication.pk)
    for key, value in _clean_text(fields).items():
        setattr(indication, key, value)
    indication.icd10 = normalise_code(indication.icd10)
    _full_clean(indication, _indication_errors(indication))
    _save(indication, actor=actor, action="portfolio.indication.update", reason=reason, unique_field="name")
    return indication


def indication_delete(*, actor: User, indication: Indication, reason: str = "") -> None:
    """Remove an indication recorded by mistake (its history stays in the audit trail)."""
    require_admin(actor)
    indication = indication_get(actor=actor, indication_id=indication.pk)
    with audit_action(actor=actor, action="portfolio.indication.delete", reason=reason):
        indication.delete()
