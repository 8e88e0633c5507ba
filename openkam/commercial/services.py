"""Commercial writes: whitespace cells (and turning one into an opportunity), opportunities, tenders with lots, the
bid risk checklist, bid assessments and the lead's go / no-go decision, cost to serve, and sales imports.

Every write checks access first, validates everything (errors name the field and the rule), then changes rows in
one audited transaction: nothing is half-written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_get, valid_id
from openkam.commercial import selectors
from openkam.commercial.models import (
    CURRENCIES,
    OPEN_STAGES,
    STAGE_PROBABILITY,
    BidAssessment,
    CellStatus,
    CostCategory,
    CostToServe,
    ImportStatus,
    LossReason,
    Opportunity,
    OpportunityProduct,
    Recommendation,
    RiskFactor,
    SalesImport,
    Stage,
    Tender,
    TenderLot,
    TenderLotProduct,
    TenderOutcome,
    TenderResponsible,
    TenderType,
    WhitespaceCell,
)
from openkam.core.access import can_write, require_admin, require_write
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import User
from openkam.plans.models import Objective
from openkam.plans.selectors import objective_get
from openkam.portfolio.models import Indication, Product

MAX_MONEY = Decimal("99999999999999.99")
RED_FLAG_SCORE = 1  # a factor scored this low on its own recommends "no go"
GO_THRESHOLD = Decimal("50")


# --- checks ---------------------------------------------------------------------------------------------
def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)


def _require_editor(actor: User) -> None:
    require_write(actor)
    if not selectors.can_edit_commercial(actor):
        raise PermissionDenied(_("Your role cannot change commercial records."), code="commercial_read_only")


def _money(value: Any, field: str, errors: list[FieldError], *, required: bool = False) -> Decimal | None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(field, "required", _("An amount is required.")))
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, "invalid", _("“%(v)s” is not an amount.") % {"v": value}))
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        errors.append(FieldError(field, "out_of_range", _("An amount must be between 0 and 99,999,999,999,999.99.")))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(FieldError(field, "precision", _("An amount has at most two decimals.")))
        return None
    return amount


def _currency(value: Any, field: str, errors: list[FieldError]) -> str:
    code = str(value or "").strip().upper()
    if code not in CURRENCIES:
        errors.append(
            FieldError(
                field,
                "unknown_currency",
                _("Unknown currency “%(c)s”: use one of %(list)s.") % {"c": value, "list": ", ".join(CURRENCIES)},
            )
        )
    return code


def _percent(value: Any, field: str, errors: list[FieldError], *, label: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(field, "invalid", _("%(l)s must be a number.") % {"l": label}))
        return None
    if not number.is_finite() or number < 0 or number > 100:
        errors.append(FieldError(field, "out_of_range", _("%(l)s must be between 0 and 100.") % {"l": label}))
        return None
    return number


def _choice(value: Any, choices: Any, field: str, errors: list[FieldError], *, blank: bool = False) -> str:
    if blank and (value is None or value == ""):
        return ""
    if value not in choices.values:
        errors.append(
            FieldError(field, "invalid_choice", _("“%(v)s” is not one of: %(c)s.") % {"v": value,
                                                                                     "c": ", ".join(choices.values)})
        )  # fmt: skip
    return str(value)


def _text(value: Any, field: str, errors: list[FieldError], *, max_length: int, required: bool = False) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if required and not text:
        errors.append(FieldError(field, "required", _("This field is required.")))
    if len(text) > max_length:
        errors.append(FieldError(field, "too_long", _("At most %(n)d characters.") % {"n": max_length}))
    return text


def _date(value: Any, field: str, errors: list[FieldError], *, required: bool = False) -> dt.date | None:
    if value is None or value == "":
        if required:
            errors.append(FieldError(field, "required", _("A date is required.")))
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.append(FieldError(field, "invalid", _("“%(v)s” is not a date (YYYY-MM-DD).") % {"v": value}))
        return None


def _products(ids: Iterable[Any] | None, field: str, errors: list[FieldError]) -> list[Product]:
    wanted = []
    for raw in ids or []:
        if not isinstance(raw, int) or not valid_id(raw):
            errors.append(FieldError(field, "invalid", _("“%(v)s” is not a product id.") % {"v": raw}))
            return []
        wanted.append(raw)
    found = {p.pk: p for p in Product.objects.filter(pk__in=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        errors.append(FieldError(field, "not_found", _("No such product: %(ids)s.") % {"ids": missing}))
    return [found[i] for i in dict.fromkeys(wanted) if i in found]


def _approved_indication(indication_id: Any, field: str, errors: list[FieldError]) -> Indication | None:
    if indication_id is None or indication_id == "":
        return None
    ind = (
        Indication.objects.select_related("product").filter(pk=indication_id).first()
        if isinstance(indication_id, int) and valid_id(indication_id)
        else None
    )
    if ind is None:
        errors.append(FieldError(field, "not_found", _("No such indication.")))
        return None
    if not ind.approved:
        errors.append(
            FieldError(field, "off_label", _("“%(i)s” is not an approved indication: stay within label.") % {"i": ind})
        )
        return None
    return ind


# --- whitespace --------------------------------------------------------------------------------------------
CELL_FIELDS = frozenset({"status", "potential_value", "currency", "our_share", "competitor", "contract_end", "notes"})


def whitespace_cell_set(
    *, actor: User, account_id: int, indication_id: int, reason: str = "", **fields: Any
) -> WhitespaceCell:
    """Record what we know about an approved indication at a unit (creates or updates the cell)."""
    _require_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    unknown = set(fields) - CELL_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    errors: list[FieldError] = []
    indication = _approved_indication(indication_id, "indication_id", errors)
    _raise_if(errors)
    assert indication is not None
    cell = WhitespaceCell.objects.filter(account=account, indication=indication).first()
    is_new = cell is None
    if cell is None:
        cell = WhitespaceCell(account=account, indication=indication, product_id=indication.product_id)
    if "status" in fields:
        cell.status = _choice(fields["status"], CellStatus, "status", errors)
    if "potential_value" in fields:
        cell.potential_value = _money(fields["potential_value"], "potential_value", errors)
    if "currency" in fields or is_new:
        cell.currency = _currency(fields.get("currency", cell.currency), "currency", errors)
    if "our_share" in fields:
        cell.our_share = _percent(fields["our_share"], "our_share", errors, label=_("Our share"))
    if "competitor" in fields:
        cell.competitor = _text(fields["competitor"], "competitor", errors, max_length=200)
    if "contract_end" in fields:
        cell.contract_end = _date(fields["contract_end"], "contract_end", errors)
    if "notes" in fields:
        cell.notes = _text(fields["notes"], "notes", errors, max_length=4000)
    if cell.status == CellStatus.USED and cell.competitor and cell.our_share is not None and cell.our_share >= 100:
        errors.append(FieldError("competitor", "inconsistent", _("With a 100%% share there is no competitor.") % {}))
    _raise_if(errors)
    cell.updated_by = actor
    with audit_action(actor=actor, action="commercial.whitespacecell." + ("create" if is_new else "update"),
                      reason=reason):  # fmt: skip
        cell.save()
    return cell


def whitespace_cell_to_opportunity(
    *,
    actor: User,
    account_id: int,
    indication_id: int,
    value: Any = None,
    currency: str | None = None,
    expected_close: Any = None,
    objective_id: int | None = None,
    reason: str = "",
) -> Opportunity:
    """Turn a whitespace gap into an opportunity in one step: named after the indication and the unit, valued at
    the cell's potential (unless given), closing in six months, stage *identified*."""
    _require_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    errors: list[FieldError] = []
    indication = _approved_indication(indication_id, "indication_id", errors)
    _raise_if(errors)
    assert indication is not None
    existing = Opportunity.objects.filter(account=account, indication=indication, stage__in=OPEN_STAGES).first()
    if existing is not None:
        raise RuleViolation(
            _("There is already an open opportunity for %(i)s at %(a)s: “%(o)s”.")
            % {"i": indication.name, "a": account.name, "o": existing.name},
            code="opportunity_exists",
        )
    cell = WhitespaceCell.objects.filter(account=account, indication=indication).first()
    if cell is not None and cell.status in (CellStatus.USED, CellStatus.NOT_APPLICABLE):
        raise RuleViolation(
            _("%(i)s is “%(s)s” at %(a)s: not an opportunity.")
            % {"i": indication.name, "s": cell.get_status_display(), "a": account.name},
            code="not_a_gap",
        )
    if value is None:
        value = cell.potential_value if cell is not None and cell.potential_value is not None else Decimal("0")
    close = expected_close or (timezone.localdate() + dt.timedelta(days=182))
    return opportunity_create(
        actor=actor,
        account_id=account.pk,
        name=_("%(product)s — %(indication)s at %(account)s")
        % {"product": indication.product.name, "indication": indication.name, "account": account.name},
        value=value,
        currency=currency or (cell.currency if cell is not None else "USD"),
        stage=Stage.IDENTIFIED,
        expected_close=close,
        product_ids=[indication.product_id],
        indication_id=indication.pk,
        objective_id=objective_id,
        description=_("From the whitespace grid of %(account)s.") % {"account": account.name},
        reason=reason or "whitespace",
        _action="commercial.opportunity.from_whitespace",
    )


# --- opportunities ---------------------------------------------------------------------------------------------
OPP_FIELDS = frozenset({"name", "description", "value", "currency", "stage", "probability", "expected_close",
                        "product_ids", "indication_id", "objective_id", "owner_id", "loss_reason"})  # fmt: skip


def _objective(actor: User, objective_id: Any, account: Account, errors: list[FieldError]) -> Objective | None:
    if objective_id in (None, ""):
        return None
    try:
        objective = objective_get(actor=actor, objective_id=int(objective_id))
    except (NotFound, TypeError, ValueError):
        errors.append(FieldError("objective_id", "not_found", _("No such plan objective.")))
        return None
    plan_account = objective.plan.account
    if (
        plan_account.pk != account.pk
        and plan_account.pk not in account.ancestors
        and account.pk not in (plan_account.ancestors or [])
    ):
        errors.append(
            FieldError("objective_id", "other_account", _("The objective belongs to a plan of another account."))
        )
        return None
    return objective


def _check_opportunity(
    actor: User, opp: Opportunity, fields: dict[str, Any], errors: list[FieldError]
) -> list[Product] | None:
    if "name" in fields:
        opp.name = _text(fields["name"], "name", errors, max_length=255, required=True)
    if "description" in fields:
        opp.description = _text(fields["description"], "description", errors, max_length=4000)
    if "value" in fields:
        value = _money(fields["value"], "value", errors, required=True)
        if value is not None:
            opp.value = value
    if "currency" in fields:
        opp.currency = _currency(fields["currency"], "currency", errors)
    stage_changed = False
    if "stage" in fields:
        stage_changed = fields["stage"] != opp.stage
        opp.stage = _choice(fields["stage"], Stage, "stage", errors)
    if fields.get("probability") is not None and fields.get("probability") != "":
        prob = fields["probability"]
        if isinstance(prob, bool) or not isinstance(prob, int | Decimal | float | str):
            errors.append(FieldError("probability", "invalid", _("Probability must be a whole number.")))
        else:
            try:
                number = Decimal(str(prob))
            except InvalidOperation:
                number = Decimal("NaN")
            if not number.is_finite() or number != number.to_integral_value():
                errors.append(FieldError("probability", "invalid", _("Probability must be a whole number.")))
            elif number < 0 or number > 100:
                errors.append(FieldError("probability", "out_of_range", _("Probability must be between 0 and 100.")))
            else:
                opp.probability = int(number)
    elif stage_changed and opp.stage in STAGE_PROBABILITY:
        opp.probability = STAGE_PROBABILITY[opp.stage]
    if opp.stage == Stage.WON:
        opp.probability = 100
    elif opp.stage == Stage.LOST:
        opp.probability = 0
    if "expected_close" in fields:
        close = _date(fields["expected_close"], "expected_close", errors, required=True)
        if close is not None:
            opp.expected_close = close
    if "loss_reason" in fields:
        opp.loss_reason = _text(fields["loss_reason"], "loss_reason", errors, max_length=255)
    if opp.stage == Stage.LOST and not opp.loss_reason:
        errors.append(FieldError("loss_reason", "required", _("Say why the opportunity was lost.")))
    if opp.stage in (Stage.WON, Stage.LOST):
        opp.closed_on = opp.closed_on or timezone.localdate()
    else:
        opp.closed_on = None
    if "indication_id" in fields:
        ind = _approved_indication(fields["indication_id"], "indication_id", errors)
        opp.indication = ind
    if "objective_id" in fields:
        opp.objective = _objective(actor, fields["objective_id"], opp.account, errors)
    if fields.get("owner_id"):
        owner_id = fields["owner_id"]
        owner = User.objects.filter(pk=owner_id, is_active=True).first() if valid_id(owner_id) else None
        if owner is None or not can_write(owner) or not selectors.can_edit_commercial(owner):
            errors.append(FieldError("owner_id", "invalid", _("The owner must be an active commercial user.")))
        else:
            opp.owner = owner
    products = None
    if "product_ids" in fields:
        products = _products(fields["product_ids"], "product_ids", errors)
    ind = opp.indication
    if ind is not None and products is not None and ind.product_id not in {p.pk for p in products}:
        products.append(ind.product)
    return products


def opportunity_create(
    *, actor: User, account_id: int, reason: str = "", _action: str = "commercial.opportunity.create", **fields: Any
) -> Opportunity:
    _require_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    unknown = set(fields) - OPP_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    opp = Opportunity(account=account, owner=actor, stage=Stage.IDENTIFIED, probability=STAGE_PROBABILITY["identified"])
    fields.setdefault("name", "")
    fields.setdefault("value", None)
    fields.setdefault("expected_close", None)
    fields.setdefault("currency", "USD")
    if "stage" in fields and fields.get("probability") in (None, ""):
        opp.stage = ""  # the stage's probability applies
    errors: list[FieldError] = []
    products = _check_opportunity(actor, opp, fields, errors)
    _raise_if(errors)
    with audit_action(actor=actor, action=_action, reason=reason):
        opp.save()
        if products:
            OpportunityProduct.objects.bulk_create([OpportunityProduct(opportunity=opp, product=p) for p in products])
    return selectors.opportunity_get(actor=actor, opportunity_id=opp.pk)


def opportunity_update(*, actor: User, opportunity_id: int, reason: str = "", **fields: Any) -> Opportunity:
    _require_editor(actor)
    opp = selectors.opportunity_get(actor=actor, opportunity_id=opportunity_id)
    unknown = set(fields) - OPP_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    errors: list[FieldError] = []
    products = _check_opportunity(actor, opp, fields, errors)
    _raise_if(errors)
    verb = "stage" if set(fields) <= {"stage", "probability", "loss_reason"} else "update"
    with audit_action(actor=actor, action=f"commercial.opportunity.{verb}", reason=reason):
        opp.save()
        if products is not None:
            OpportunityProduct.objects.filter(opportunity=opp).exclude(product__in=products).delete()
            have = set(OpportunityProduct.objects.filter(opportunity=opp).values_list("product_id", flat=True))
            OpportunityProduct.objects.bulk_create(
                [OpportunityProduct(opportunity=opp, product=p) for p in products if p.pk not in have]
            )
    return selectors.opportunity_get(actor=actor, opportunity_id=opp.pk)


def opportunity_delete(*, actor: User, opportunity_id: int, reason: str = "") -> None:
    _require_editor(actor)
    opp = selectors.opportunity_get(actor=actor, opportunity_id=opportunity_id)
    with audit_action(actor=actor, action="commercial.opportunity.delete", reason=reason):
        opp.delete()


# --- tenders -------------------------------------------------------------------------------------------------------
TENDER_FIELDS = frozenset({"title", "reference", "tender_type", "publication_date", "submission_deadline", "award_date",
                           "contract_start", "contract_end", "estimated_value", "currency", "award_criteria",
                           "documents", "responsible_ids", "outcome", "loss_reason", "outcome_notes", "notes",
                           "lots"})  # fmt: skip


def _criteria(value: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        errors.append(FieldError("award_criteria", "invalid", _("Award criteria are a list of name and weight.")))
        return []
    out, before = [], len(errors)
    for i, item in enumerate(value, start=1):
        name = str((item or {}).get("name", "")).strip() if isinstance(item, dict) else ""
        weight = _percent(item.get("weight") if isinstance(item, dict) else None, f"award_criteria[{i}].weight",
                          errors, label=_("A criterion's weight"))  # fmt: skip
        if not name or len(name) > 200:
            errors.append(FieldError(f"award_criteria[{i}].name", "required", _("Each criterion needs a name.")))
        if weight is None:
            errors.append(FieldError(f"award_criteria[{i}].weight", "required", _("Each criterion needs a weight.")))
        out.append({"name": name, "weight": float(weight or 0)})
    total = sum(Decimal(str(c["weight"])) for c in out)
    if out and total != 100 and len(errors) == before:
        errors.append(
            FieldError("award_criteria", "weights_sum", _("The weights add up to %(t)s, not 100.") % {"t": total})
        )
    return out


def _documents(value: Any, errors: list[FieldError]) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        errors.append(FieldError("documents", "invalid", _("The documents checklist is a list.")))
        return []
    out = []
    for i, item in enumerate(value, start=1):
        name = str(item.get("name", "") if isinstance(item, dict) else item or "").strip()
        if not name or len(name) > 200:
            errors.append(FieldError(f"documents[{i}].name", "required", _("Each document needs a name.")))
        out.append({"name": name, "done": bool(item.get("done")) if isinstance(item, dict) else False})
    return out


def _lots(value: Any, errors: list[FieldError]) -> list[tuple[dict[str, Any], list[Product]]]:
    if not isinstance(value, list):
        errors.append(FieldError("lots", "invalid", _("Lots are a list.")))
        return []
    out, numbers = [], set()
    for i, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            errors.append(FieldError(f"lots[{i}]", "invalid", _("A lot has a number, a name and products.")))
            continue
        number = item.get("number") or i
        if not isinstance(number, int) or number < 1 or number > 999 or number in numbers:
            errors.append(FieldError(f"lots[{i}].number", "invalid", _("Lot numbers are distinct, from 1 to 999.")))
        numbers.add(number)
        row = {
            "number": number,
            "name": _text(item.get("name"), f"lots[{i}].name", errors, max_length=255, required=True),
            "volume": _text(item.get("volume"), f"lots[{i}].volume", errors, max_length=100),
            "estimated_value": _money(item.get("estimated_value"), f"lots[{i}].estimated_value", errors),
            "outcome": _choice(item.get("outcome") or "pending", TenderOutcome, f"lots[{i}].outcome", errors),
        }
        out.append((row, _products(item.get("product_ids"), f"lots[{i}].product_ids", errors)))
    return out


def _check_tender(tender: Tender, fields: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if "title" in fields:
        tender.title = _text(fields["title"], "title", errors, max_length=255, required=True)
    if "reference" in fields:
        tender.reference = _text(fields["reference"], "reference", errors, max_length=100)
    if "tender_type" in fields:
        tender.tender_type = _choice(fields["tender_type"], TenderType, "tender_type", errors)
    for name in ("publication_date", "submission_deadline"):
        if name in fields:
            value = _date(fields[name], name, errors, required=True)
            if value is not None:
                setattr(tender, name, value)
    for name in ("award_date", "contract_start", "contract_end"):
        if name in fields:
            setattr(tender, name, _date(fields[name], name, errors))
    if tender.publication_date and tender.submission_deadline and tender.submission_deadline < tender.publication_date:
        errors.append(
            FieldError(
                "submission_deadline",
                "before_publication",
                _("The submission deadline (%(d)s) is before the publication date (%(p)s).")
                % {"d": tender.submission_deadline.isoformat(), "p": tender.publication_date.isoformat()},
            )
        )
    if tender.award_date and tender.submission_deadline and tender.award_date < tender.submission_deadline:
        errors.append(
            FieldError("award_date", "before_deadline", _("The award date is before the submission deadline."))
        )
    if tender.contract_start and tender.contract_end and tender.contract_end < tender.contract_start:
        errors.append(FieldError("contract_end", "before_start", _("The contract ends before it starts.")))
    if "estimated_value" in fields:
        tender.estimated_value = _money(fields["estimated_value"], "estimated_value", errors)
    if "currency" in fields:
        tender.currency = _currency(fields["currency"], "currency", errors)
    if "award_criteria" in fields:
        tender.award_criteria = _criteria(fields["award_criteria"], errors)
    if "documents" in fields:
        tender.documents = _documents(fields["documents"], errors)
    if "outcome" in fields:
        tender.outcome = _choice(fields["outcome"], TenderOutcome, "outcome", errors)
    if "loss_reason" in fields:
        tender.loss_reason = _choice(fields["loss_reason"], LossReason, "loss_reason", errors, blank=True)
    if "outcome_notes" in fields:
        tender.outcome_notes = _text(fields["outcome_notes"], "outcome_notes", errors, max_length=4000)
    if "notes" in fields:
        tender.notes = _text(fields["notes"], "notes", errors, max_length=4000)
    if tender.outcome in (TenderOutcome.LOST, TenderOutcome.PARTIAL) and not tender.loss_reason:
        errors.append(FieldError("loss_reason", "required", _("Say why the tender (or a lot) was lost.")))
    if tender.outcome not in (TenderOutcome.LOST, TenderOutcome.PARTIAL):
        tender.loss_reason = ""
    decided = tender.outcome in (TenderOutcome.WON, TenderOutcome.LOST, TenderOutcome.PARTIAL)
    if decided and tender.submission_deadline and tender.submission_deadline > timezone.localdate():
        errors.append(FieldError("outcome", "too_early", _("An outcome is known only after the deadline.")))
    if "responsible_ids" in fields:
        ids = [i for i in fields["responsible_ids"] or [] if isinstance(i, int) and valid_id(i)]
        users = list(User.objects.filter(pk__in=ids, is_active=True))
        if len(users) != len(set(ids)) or len(ids) != len(fields["responsible_ids"] or []):
            errors.append(FieldError("responsible_ids", "not_found", _("Responsible people must be active users.")))
        extra["responsible"] = users
    if "lots" in fields:
        extra["lots"] = _lots(fields["lots"], errors)
    return extra


def _write_tender_children(tender: Tender, extra: dict[str, Any]) -> None:
    if "responsible" in extra:
        TenderResponsible.objects.filter(tender=tender).delete()
        TenderResponsible.objects.bulk_create([TenderResponsible(tender=tender, user=u) for u in extra["responsible"]])
    if "lots" in extra:
        TenderLot.objects.filter(tender=tender).delete()
        for row, products in extra["lots"]:
            lot = TenderLot.objects.create(tender=tender, **row)
            TenderLotProduct.objects.bulk_create([TenderLotProduct(lot=lot, product=p) for p in products])


def tender_create(*, actor: User, account_id: int, reason: str = "", **fields: Any) -> Tender:
    _require_editor(actor)
    account = account_get(actor=actor, account_id=account_id)
    unknown = set(fields) - TENDER_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    tender = Tender(account=account)
    for name in ("title", "publication_date", "submission_deadline"):
        fields.setdefault(name, None)
    fields.setdefault("documents", [])
    fields.setdefault("award_criteria", [])
    errors: list[FieldError] = []
    extra = _check_tender(tender, fields, errors)
    _raise_if(errors)
    with audit_action(actor=actor, action="commercial.tender.create", reason=reason):
        tender.save()
        _write_tender_children(tender, extra)
    return selectors.tender_get(actor=actor, tender_id=tender.pk)


def tender_update(*, actor: User, tender_id: int, reason: str = "", **fields: Any) -> Tender:
    _require_editor(actor)
    tender = selectors.tender_get(actor=actor, tender_id=tender_id)
    unknown = set(fields) - TENDER_FIELDS
    if unknown:
        raise ValidationFailed(_("Unknown field: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    errors: list[FieldError] = []
    extra = _check_tender(tender, fields, errors)
    _raise_if(errors)
    verb = "outcome" if set(fields) <= {"outcome", "loss_reason", "outcome_notes", "award_date"} else "update"
    with audit_action(actor=actor, action=f"commercial.tender.{verb}", reason=reason):
        tender.save()
        _write_tender_children(tender, extra)
    return selectors.tender_get(actor=actor, tender_id=tender.pk)


def tender_delete(*, actor: User, tender_id: int, reason: str = "") -> None:
    _require_editor(actor)
    tender = selectors.tender_get(actor=actor, tender_id=tender_id)
    with audit_action(actor=actor, action="commercial.tender.delete", reason=reason):
        tender.delete()


def tender_document_toggle(*, actor: User, tender_id: int, index: int, done: bool) -> Tender:
    """Tick (or untick) one item of the documents checklist."""
    tender = selectors.tender_get(actor=actor, tender_id=tender_id)
    docs = [dict(d) for d in tender.documents]
    if not 0 <= index < len(docs):
        raise ValidationFailed(_("No such document in the checklist."), field="index", code="not_found")
    docs[index]["done"] = bool(done)
    return tender_update(actor=actor, tender_id=tender_id, documents=docs)


# --- bid / risk analysis ---------------------------------------------------------------------------------------------
def bid_likelihood(scores: dict[str, int], factors: Iterable[RiskFactor]) -> tuple[Decimal, str]:
    """Weighted mean of the factor scores mapped to 0–100 (1 → 0, 5 → 100) and the recommendation: *go* from 50 up
    unless a factor scores 1 (a red flag)."""
    total = weight = Decimal(0)
    red_flag = False
    for f in factors:
        if f.code in scores:
            total += f.weight * Decimal(scores[f.code] - 1) * 25
            weight += f.weight
            red_flag |= scores[f.code] <= RED_FLAG_SCORE
    likelihood = (total / weight).quantize(Decimal("0.01")) if weight else Decimal(0)
    go = likelihood >= GO_THRESHOLD and not red_flag
    return likelihood, Recommendation.GO if go else Recommendation.NO_GO


def bid_assessment_save(
    *, actor: User, tender_id: int, scores: dict[str, Any], notes: str = "", reason: str = ""
) -> BidAssessment:
    """Score every active risk factor 1–5; computes the win likelihood and the recommendation. Changing the scores
    withdraws an earlier go / no-go decision (the lead confirms again)."""
    _require_editor(actor)
    selectors.require_figures(actor)
    tender = selectors.tender_get(actor=actor, tender_id=tender_id)
    factors = list(selectors.risk_factor_list(actor=actor))
    errors: list[FieldError] = []
    if not isinstance(scores, dict):
        raise ValidationFailed(_("Scores are given per risk factor."), field="scores")
    known = {f.code for f in factors}
    for code in scores:
        if code not in known:
            message = _("No active risk factor “%(c)s”.") % {"c": code}
            errors.append(FieldError(f"scores.{code}", "unknown_factor", message))
    clean: dict[str, int] = {}
    for f in factors:
        value = scores.get(f.code)
        if value is None or value == "":
            errors.append(FieldError(f"scores.{f.code}", "required", _("Score “%(f)s” (1–5).") % {"f": f.name}))
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, bool) or str(number) != str(value).strip() or not 1 <= number <= 5:
            message = _("“%(f)s” is scored 1 to 5.") % {"f": f.name}
            errors.append(FieldError(f"scores.{f.code}", "out_of_range", message))
            continue
        clean[f.code] = number
    notes = _text(notes, "notes", errors, max_length=4000)
    _raise_if(errors)
    likelihood, recommendation = bid_likelihood(clean, factors)
    assessment = selectors.tender_assessment(tender)
    is_new = assessment is None
    if assessment is None:
        assessment = BidAssessment(tender=tender)
    changed = assessment.scores != clean
    assessment.scores, assessment.notes = clean, notes
    assessment.win_likelihood, assessment.recommendation = likelihood, recommendation
    assessment.assessed_by, assessment.assessed_at = actor, timezone.now()
    if changed and assessment.decision:
        assessment.decision, assessment.decided_by, assessment.decided_at, assessment.decision_note = "", None, None, ""
    with audit_action(actor=actor, action="commercial.bidassessment." + ("create" if is_new else "update"),
                      reason=reason):  # fmt: skip
        assessment.save()
    return assessment


def bid_decision_confirm(*, actor: User, tender_id: int, decision: str, note: str = "") -> BidAssessment:
    """The lead confirms go or no-go. Going against the recommendation needs a note (it is audited)."""
    require_write(actor)
    if not selectors.can_confirm_bid(actor):
        raise PermissionDenied(_("Only a KAM lead confirms a go / no-go decision."), code="lead_only")
    tender = selectors.tender_get(actor=actor, tender_id=tender_id)
    assessment = selectors.tender_assessment(tender)
    if assessment is None:
        raise RuleViolation(_("Score the bid risks before deciding."), code="not_assessed")
    errors: list[FieldError] = []
    decision = _choice(decision, Recommendation, "decision", errors)
    note = _text(note, "note", errors, max_length=4000)
    if not errors and decision != assessment.recommendation and not note:
        errors.append(
            FieldError("note", "required", _("Explain why you decide against the recommendation (%(r)s).")
                       % {"r": assessment.get_recommendation_display()})
        )  # fmt: skip
    _raise_if(errors)
    assessment.decision, assessment.decision_note = decision, note
    assessment.decided_by, assessment.decided_at = actor, timezone.now()
    with audit_action(actor=actor, action="commercial.bidassessment.confirm", reason=note):
        assessment.save()
    return assessment


def risk_factor_create(
    *, actor: User, code: str, name: str, weight: Any = 20, guidance: str = "", reason: str = ""
) -> RiskFactor:
    require_admin(actor)
    errors: list[FieldError] = []
    code = _text(code, "code", errors, max_length=40, required=True).lower()
    if code and not code.replace("_", "").replace("-", "").isalnum():
        errors.append(FieldError("code", "invalid", _("Letters, digits, - and _ only.")))
    if RiskFactor.objects.filter(code=code).exists():
        errors.append(FieldError("code", "taken", _("A risk factor with this code exists.")))
    factor = RiskFactor(code=code, name=_text(name, "name", errors, max_length=200, required=True),
                        guidance=_text(guidance, "guidance", errors, max_length=4000))  # fmt: skip
    w = _percent(weight, "weight", errors, label=_("Weight"))
    if w is not None and w <= 0:
        errors.append(FieldError("weight", "out_of_range", _("Weight must be above 0.")))
    _raise_if(errors)
    factor.weight = w or Decimal(20)
    factor.position = (RiskFactor.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    with audit_action(actor=actor, action="commercial.riskfactor.create", reason=reason):
        factor.save()
    return factor


def risk_factor_update(*, actor: User, factor_id: int, reason: str = "", **fields: Any) -> RiskFactor:
    require_admin(actor)
    factor = selectors.risk_factor_get(actor=actor, factor_id=factor_id)
    errors: list[FieldError] = []
    if "name" in fields:
        factor.name = _text(fields["name"], "name", errors, max_length=200, required=True)
    if "guidance" in fields:
        factor.guidance = _text(fields["guidance"], "guidance", errors, max_length=4000)
    if "weight" in fields:
        w = _percent(fields["weight"], "weight", errors, label=_("Weight"))
        if w is None or w <= 0:
            errors.append(FieldError("weight", "out_of_range", _("Weight must be above 0 and at most 100.")))
        else:
            factor.weight = w
    if "active" in fields:
        factor.active = bool(fields["active"])
    if "position" in fields and isinstance(fields["position"], int) and fields["position"] >= 0:
        factor.position = fields["position"]
    _raise_if(errors)
    with audit_action(actor=actor, action="commercial.riskfactor.update", reason=reason):
        factor.save()
    return factor


# --- cost to serve ---------------------------------------------------------------------------------------
def cost_to_serve_add(
    *, actor: User, account_id: int, period: Any, category: str, amount: Any, currency: str = "USD",
    description: str = "", reason: str = "",
) -> CostToServe:  # fmt: skip
    _require_editor(actor)
    selectors.require_figures(actor)
    account = account_get(actor=actor, account_id=account_id)
    errors: list[FieldError] = []
    month = _date(period, "period", errors, required=True)
    row = CostToServe(
        account=account,
        period=month.replace(day=1) if month else timezone.localdate(),
        category=_choice(category, CostCategory, "category", errors),
        amount=_money(amount, "amount", errors, required=True) or Decimal(0),
        currency=_currency(currency, "currency", errors),
        description=_text(description, "description", errors, max_length=255),
    )
    _raise_if(errors)
    with audit_action(actor=actor, action="commercial.costtoserve.create", reason=reason):
        row.save()
    return row


def cost_to_serve_delete(*, actor: User, cost_id: int, reason: str = "") -> None:
    _require_editor(actor)
    selectors.require_figures(actor)
    row = CostToServe.objects.filter(pk=cost_id).select_related("account").first() if valid_id(cost_id) else None
    if row is None:
        raise NotFound(_("No such cost."), code="cost_not_found")
    account_get(actor=actor, account_id=row.account_id)
    with audit_action(actor=actor, action="commercial.costtoserve.delete", reason=reason):
        row.delete()


# --- sales imports ----------------------------------------------------------------------------------------------------
MAX_IMPORT_BYTES = 200 * 1024 * 1024


def sales_import_upload(*, actor: User, filename: str, data: bytes) -> SalesImport:
    """Keep an uploaded sales file (CSV or XLSX) for a dry run, then an import."""
    _require_editor(actor)
    selectors.require_figures(actor)
    name = (filename or "sales.csv").replace("\x00", "").strip()[:255]
    if not data:
        raise ValidationFailed(_("The file is empty."), field="file", code="empty")
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(_("The file is larger than 200 MB."), field="file", code="too_large")
    if not name.lower().endswith((".csv", ".xlsx", ".txt")):
        raise ValidationFailed(_("Upload a .csv or .xlsx file."), field="file", code="file_type")
    with audit_action(actor=actor, action="commercial.salesimport.upload"):
        return SalesImport.objects.create(filename=name, data=data, size=len(data), uploaded_by=actor)


def sales_import_start(*, actor: User, import_id: int, dry_run: bool) -> SalesImport:
    """Queue the check (dry run) or the import of an uploaded file as a job with progress."""
    from openkam.core.services import job_start

    _require_editor(actor)
    imp = selectors.sales_import_get(actor=actor, import_id=import_id)
    if imp.status in (ImportStatus.IMPORTED, ImportStatus.UNDONE):
        raise RuleViolation(_("This file has already been imported."), code="already_imported")
    label = (_("Check %(f)s") if dry_run else _("Import %(f)s")) % {"f": imp.filename}
    job = job_start(actor=actor, kind="commercial.sales_import", label=label,
                    params={"import_id": imp.pk, "dry_run": bool(dry_run)})  # fmt: skip
    with audit_action(actor=actor, action="commercial.salesimport.start"):
        SalesImport.objects.filter(pk=imp.pk).update(job=job)
    imp.job = job
    return imp


def sales_import_undo(*, actor: User, import_id: int, reason: str = "") -> SalesImport:
    """Remove the lines an import wrote (the batch stays, marked undone)."""
    _require_editor(actor)
    imp = selectors.sales_import_get(actor=actor, import_id=import_id)
    if imp.status != ImportStatus.IMPORTED:
        raise RuleViolation(_("Only an imported file can be undone."), code="not_imported")
    with audit_action(actor=actor, action="commercial.salesimport.undo", reason=reason):
        imp.lines.all()._raw_delete(imp.lines.db)  # type: ignore[attr-defined]
        imp.status = ImportStatus.UNDONE
        imp.save(update_fields=["status", "updated_at"])
    return imp
