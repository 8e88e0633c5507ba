"""Evaluation writes: scoring models (admin), assessments (KAM), reviews and overrides (lead), caps, re-score runs.

Every write checks access first, validates everything (``ValidationFailed`` naming the field), then writes inside
``audit_action``. The account's KAM level is changed only through ``openkam.accounts.services.account_update``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from openkam.accounts.models import Account, AccountType, KamLevel
from openkam.accounts.selectors import account_get
from openkam.accounts.services import account_kam_levels_set, account_update
from openkam.core.access import is_admin, require_admin, require_write
from openkam.core.audit import audit_action
from openkam.core.errors import FieldError, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Role, Team, User
from openkam.evaluation import defaults
from openkam.evaluation.models import (
    Assessment,
    AssessmentStatus,
    Criterion,
    ModelStatus,
    RescoreRun,
    RunStatus,
    Score,
    ScoringModel,
    TeamStrategicCap,
)
from openkam.evaluation.selectors import (
    assessment_get,
    model_for_account,
    scoring_model_get,
    strategic_cap_status,
)

HUNDRED = Decimal("100")
TIER_LEVELS = (KamLevel.STRATEGIC, KamLevel.KEY, KamLevel.BASIC, KamLevel.DECLINED)
_SCORER_ROLES = frozenset({Role.KAM, Role.LEAD, Role.MARKET_ACCESS, Role.ADMIN})
_TIER_ROLES = frozenset({Role.LEAD, Role.ADMIN})
RESCORE_CHUNK = 1000


@dataclass
class TierResult:
    """What a write did to an account's tier, and the warnings to show (e.g. the strategic cap)."""

    level: str
    changed: bool
    warnings: list[str] = field(default_factory=list)


def _clean(text: Any, limit: int | None = None) -> str:
    value = str(text or "").replace("\x00", "").strip()
    return value[:limit] if limit else value


def _decimal(value: Any, name: str, errors: list[FieldError]) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, "invalid", _("Enter a number.")))
        return None
    if not number.is_finite():
        errors.append(FieldError(name, "invalid", _("Enter a number.")))
        return None
    return number


# --- scoring models ---------------------------------------------------------------------------------
def _validate_model(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate a model definition; returns the cleaned criteria. Raises ValidationFailed naming each field."""
    errors: list[FieldError] = []
    if not _clean(data.get("name")):
        errors.append(FieldError("name", "required", _("Give the model a name.")))
    if not _clean(data.get("code")):
        errors.append(FieldError("code", "required", _("Give the model a short code, e.g. partnership-potential.")))
    types = list(data.get("account_types") or [])
    bad = [t for t in types if t not in AccountType.values]
    if not types:
        errors.append(FieldError("account_types", "required", _("Choose the account types this model applies to.")))
    elif bad:
        errors.append(FieldError("account_types", "invalid", _("Unknown account type: %(t)s") % {"t": ", ".join(bad)}))
    lo, hi = data.get("scale_min", 1), data.get("scale_max", 5)
    if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo < hi <= 100):
        errors.append(FieldError("scale_max", "invalid", _("The scale must go from a lower to a higher whole number.")))
        lo, hi = 1, 5
    thresholds = {}
    for name in ("strategic_min", "key_min", "basic_min"):
        number = _decimal(data.get(name), name, errors)
        if number is not None and not (0 <= number <= 100):
            errors.append(FieldError(name, "out_of_range", _("A threshold is a score between 0 and 100.")))
        thresholds[name] = number
    s, k, b = thresholds["strategic_min"], thresholds["key_min"], thresholds["basic_min"]
    if s is not None and k is not None and b is not None and not (s > k > b):
        errors.append(
            FieldError("key_min", "thresholds_order", _("Thresholds must decrease: strategic > key > basic."))
        )
    criteria_in = list(data.get("criteria") or [])
    cleaned: list[dict[str, Any]] = []
    if not criteria_in:
        errors.append(FieldError("criteria", "required", _("A scoring model needs at least one criterion.")))
    total = Decimal(0)
    keys: set[str] = set()
    for i, c in enumerate(criteria_in):
        prefix = f"criteria.{i}"
        name = _clean(c.get("name"), 200)
        key = _clean(c.get("key")) or "-".join(name.lower().split())[:60]
        if not name:
            errors.append(FieldError(f"{prefix}.name", "required", _("Give the criterion a name.")))
        if key in keys:
            errors.append(
                FieldError(f"{prefix}.key", "duplicate", _("Two criteria have the same key “%(k)s”.") % {"k": key})
            )
        keys.add(key)
        weight = _decimal(c.get("weight"), f"{prefix}.weight", errors)
        if weight is not None:
            if weight <= 0 or weight > 100:
                errors.append(FieldError(f"{prefix}.weight", "out_of_range", _("A weight is between 0 and 100 %.")))
            total += weight
        levels = [_clean(x, 200) for x in (c.get("levels") or [])]
        if len(levels) != hi - lo + 1 or not all(levels):
            errors.append(
                FieldError(
                    f"{prefix}.levels",
                    "levels_count",
                    _("Give one label per score: %(n)d labels for a %(lo)d–%(hi)d scale, lowest first.")
                    % {"n": hi - lo + 1, "lo": lo, "hi": hi},
                )
            )
        cleaned.append(
            {"key": key[:60], "name": name, "guidance": _clean(c.get("guidance")), "weight": weight,
             "levels": levels, "position": i}
        )  # fmt: skip
    if criteria_in and total != HUNDRED and not any(e.field.endswith(".weight") for e in errors):
        errors.append(
            FieldError(
                "criteria",
                "weights_not_100",
                _("The weights add up to %(t)s %%; they must add up to 100 %%.") % {"t": f"{total.normalize():f}"},
            )
        )
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    return cleaned


def _write_model(model: ScoringModel, data: dict[str, Any], criteria: list[dict[str, Any]]) -> ScoringModel:
    for name in ("name", "description"):
        setattr(model, name, _clean(data.get(name)))
    model.code = _clean(data.get("code"))[:60]
    model.account_types = list(data["account_types"])
    model.scale_min, model.scale_max = data.get("scale_min", 1), data.get("scale_max", 5)
    for name in ("strategic_min", "key_min", "basic_min"):
        setattr(model, name, Decimal(str(data[name])).quantize(Decimal("0.01")))
    model.save()
    model.criteria.all().delete()
    for c in criteria:
        c["weight"] = Decimal(str(c["weight"])).quantize(Decimal("0.01"))
    Criterion.objects.bulk_create([Criterion(model=model, **c) for c in criteria])
    return model


def _model_data(model: ScoringModel) -> dict[str, Any]:
    return {
        "code": model.code, "name": model.name, "description": model.description,
        "account_types": list(model.account_types), "scale_min": model.scale_min, "scale_max": model.scale_max,
        "strategic_min": model.strategic_min, "key_min": model.key_min, "basic_min": model.basic_min,
        "criteria": [
            {"key": c.key, "name": c.name, "guidance": c.guidance, "weight": c.weight, "levels": list(c.levels)}
            for c in model.criteria.all()
        ],
    }  # fmt: skip


def scoring_model_create(*, actor: User, activate: bool = False, reason: str = "", **data: Any) -> ScoringModel:
    """A new model family (version 1). Admin only. Refused without criteria or when weights do not add to 100 %."""
    require_admin(actor)
    data.setdefault("strategic_min", Decimal("75"))
    data.setdefault("key_min", Decimal("55"))
    data.setdefault("basic_min", Decimal("30"))
    criteria = _validate_model(data)
    if ScoringModel.objects.filter(code=_clean(data["code"])).exists():
        raise ValidationFailed(_("A model with this code exists; add a version to it instead."), field="code",
                               code="code_taken")  # fmt: skip
    with audit_action(actor=actor, action="evaluation.scoringmodel.create", reason=_clean(reason, 255)):
        model = ScoringModel(status=ModelStatus.ACTIVE if activate else ModelStatus.DRAFT)
        return _write_model(model, data, criteria)


def scoring_model_update(*, actor: User, model_id: int, reason: str = "", **changes: Any) -> ScoringModel:
    """Change a draft version (an active or retired version is history: make a new version)."""
    require_admin(actor)
    model = scoring_model_get(actor=actor, model_id=model_id)
    if model.status != ModelStatus.DRAFT:
        raise RuleViolation(_("Only a draft version can be changed; create a new version."), code="model_not_draft")
    data = _model_data(model)
    data.update({k: v for k, v in changes.items() if v is not None})
    data["code"] = model.code  # the family never changes
    criteria = _validate_model(data)
    with audit_action(actor=actor, action="evaluation.scoringmodel.update", reason=_clean(reason, 255)):
        return _write_model(model, data, criteria)


@dataclass
class ModelSaved:
    """What saving a model's edits did: the version that now holds them and whether it is a new version."""

    model: ScoringModel
    new_version: bool
    replaced: ScoringModel | None = None  # the version the edits were made on, when a new one was created


def scoring_model_edit(
    *, actor: User, model_id: int, activate: bool = False, reason: str = "", **changes: Any
) -> ModelSaved:
    """Save an admin's edits of a model version (the model editor's "Save").

    A version that no assessment uses (a draft, or an active/retired version nobody has scored with yet) is
    changed in place. A version with assessments is history — its assessments must keep the criteria and
    weights they were scored with — so the edits become the next version of the family: active at once when
    the edited version was the active one (the previous version retires; re-score to move every account), a
    draft otherwise. ``activate`` also activates a draft saved in place. Validated in full first (weights add
    up to 100 %, at least one criterion, one scale label per level…): nothing is written on error.
    """
    require_admin(actor)
    source = scoring_model_get(actor=actor, model_id=model_id)
    data = _model_data(source)
    data.update({k: v for k, v in changes.items() if v is not None})
    data["code"] = source.code  # the family never changes
    criteria = _validate_model(data)
    used = Assessment.objects.filter(model_id=source.pk).exists()
    why = _clean(reason, 255)
    if not used:
        with audit_action(actor=actor, action="evaluation.scoringmodel.update", reason=why):
            model = _write_model(source, data, criteria)
            if activate and model.status != ModelStatus.ACTIVE:
                _activate(model)
        return ModelSaved(model=model, new_version=False)
    with audit_action(actor=actor, action="evaluation.scoringmodel.version", reason=why):
        latest = ScoringModel.objects.select_for_update().filter(code=source.code).aggregate(v=Max("version"))["v"]
        model = _write_model(ScoringModel(version=(latest or 0) + 1, status=ModelStatus.DRAFT), data, criteria)
        if activate or source.status == ModelStatus.ACTIVE:
            _activate(model)
    return ModelSaved(model=model, new_version=True, replaced=source)


def _activate(model: ScoringModel) -> None:
    ScoringModel.objects.filter(code=model.code, status=ModelStatus.ACTIVE).exclude(pk=model.pk).update(
        status=ModelStatus.RETIRED, updated_at=timezone.now()
    )
    model.status = ModelStatus.ACTIVE
    model.save(update_fields=["status", "updated_at"])


def scoring_model_new_version(*, actor: User, model_id: int, reason: str = "") -> ScoringModel:
    """A draft copy of a model as the next version of its family."""
    require_admin(actor)
    source = scoring_model_get(actor=actor, model_id=model_id)
    data = _model_data(source)
    criteria = _validate_model(data)
    latest = ScoringModel.objects.filter(code=source.code).aggregate(v=Max("version"))["v"] or 0
    with audit_action(actor=actor, action="evaluation.scoringmodel.version", reason=_clean(reason, 255)):
        model = ScoringModel(version=latest + 1, status=ModelStatus.DRAFT)
        return _write_model(model, data, criteria)


def scoring_model_activate(*, actor: User, model_id: int, reason: str = "") -> ScoringModel:
    """Make a version the one used for new assessments; the previously active version of its family retires."""
    require_admin(actor)
    model = scoring_model_get(actor=actor, model_id=model_id)
    _validate_model(_model_data(model))
    with audit_action(actor=actor, action="evaluation.scoringmodel.activate", reason=_clean(reason, 255)):
        _activate(model)
    return model


def scoring_model_install_defaults() -> list[ScoringModel]:
    """Create the shipped models when their family is missing (idempotent; used after a database flush)."""
    created = []
    with audit_action(actor=None, action="evaluation.scoringmodel.install_defaults"):
        for spec in defaults.DEFAULT_MODELS:
            if ScoringModel.objects.filter(code=spec["code"]).exists():
                continue
            data = {**spec, "strategic_min": Decimal("75"), "key_min": Decimal("55"), "basic_min": Decimal("30")}
            data["criteria"] = [
                {"key": k, "name": n, "weight": w, "guidance": g, "levels": list(lv)}
                for k, n, w, g, lv in spec["criteria"]
            ]
            created.append(_write_model(ScoringModel(status=ModelStatus.ACTIVE), data, _validate_model(data)))
    return created


# --- assessments and tiers --------------------------------------------------------------------------
def _require_scorer(actor: User) -> None:
    require_write(actor)
    if actor.role not in _SCORER_ROLES and not is_admin(actor):
        raise PermissionDenied(_("Account evaluation is done by commercial roles."), code="evaluation_forbidden")


def _require_tierer(actor: User) -> None:
    require_write(actor)
    if actor.role not in _TIER_ROLES and not is_admin(actor):
        raise PermissionDenied(_("Only a KAM lead or an administrator can do this."), code="lead_only")


def _weighted_total(model: ScoringModel, criteria: list[Criterion], scores: dict[int, int]) -> Decimal:
    span = Decimal(model.scale_max - model.scale_min)
    weights = sum((c.weight for c in criteria), Decimal(0))
    raw = sum((c.weight * (Decimal(scores[c.pk] - model.scale_min) / span) for c in criteria), Decimal(0))
    return (HUNDRED * raw / weights).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def weighted_total(*, model: ScoringModel, scores: dict[str, int]) -> Decimal:
    """The weighted total (0–100) of scores given by criterion key (every criterion must be scored)."""
    criteria = list(model.criteria.all())
    return _weighted_total(model, criteria, {c.pk: scores[c.key] for c in criteria})


def _team_of(account: Account) -> Team | None:
    owner = account.owner
    return owner.team if owner is not None and owner.team_id else None


def _cap_warnings(account: Account, level: str) -> list[str]:
    if level != KamLevel.STRATEGIC:
        return []
    team = _team_of(account)
    if team is None:
        return []
    count, cap = strategic_cap_status(team=team)
    if count > cap:
        return [
            _("%(team)s now has %(n)d strategic accounts, above its cap of %(cap)d: strategic means few accounts only.")
            % {"team": team.name, "n": count, "cap": cap}
        ]
    return []


def _apply_level(*, actor: User, account: Account, level: str, reason: str) -> bool:
    if account.kam_level == level:
        return False
    account_update(actor=actor, account=account, kam_level=level, reason=reason)
    return True


def assessment_create(
    *,
    actor: User,
    account_id: int,
    scores: list[dict[str, Any]],
    model_id: int | None = None,
    assessed_on: dt.date | None = None,
    rationale: str = "",
    reason: str = "",
) -> tuple[Assessment, TierResult]:
    """Score an account: one score (with evidence and its date) per criterion of the model.

    The weighted total maps to a tier; unless a lead has overridden it, the account's KAM level follows.
    A total in the *declined* band needs a rationale ("we will not invest in this account now, because...").
    """
    _require_scorer(actor)
    account = account_get(actor=actor, account_id=account_id)
    errors: list[FieldError] = []
    if model_id is not None:
        try:
            model = scoring_model_get(actor=actor, model_id=model_id)
        except NotFound:
            raise ValidationFailed(_("No such scoring model."), field="model_id", code="model_not_found") from None
        if model.status != ModelStatus.ACTIVE:
            raise ValidationFailed(_("This version is not active; score with the active version."),
                                   field="model_id", code="model_not_active")  # fmt: skip
        if account.type not in model.account_types:
            raise ValidationFailed(
                _("“%(m)s” does not apply to accounts of type %(t)s.")
                % {"m": model.name, "t": account.get_type_display()},
                field="model_id", code="model_not_for_type",
            )  # fmt: skip
    else:
        found = model_for_account(account=account)
        if found is None:
            raise ValidationFailed(
                _("No active scoring model applies to accounts of type %(t)s.") % {"t": account.get_type_display()},
                field="model_id", code="no_model_for_type",
            )  # fmt: skip
        model = found
    today = timezone.localdate()
    assessed_on = assessed_on or today
    if assessed_on > today:
        errors.append(FieldError("assessed_on", "future", _("An assessment cannot be dated in the future.")))
    criteria = list(model.criteria.all())
    by_id = {c.pk: c for c in criteria}
    by_key = {c.key: c for c in criteria}
    given: dict[int, dict[str, Any]] = {}
    for i, row in enumerate(scores or []):
        ref = row.get("criterion_id") or row.get("criterion")
        crit = by_id.get(ref) if isinstance(ref, int) else by_key.get(str(ref or row.get("key") or ""))
        if crit is None:
            errors.append(FieldError(f"scores.{i}.criterion_id", "unknown_criterion",
                                     _("This criterion is not part of “%(m)s”.") % {"m": model.name}))  # fmt: skip
            continue
        if crit.pk in given:
            errors.append(
                FieldError(f"scores.{i}.criterion_id", "duplicate", _("“%(c)s” is scored twice.") % {"c": crit.name})
            )
            continue
        value = row.get("score")
        if not isinstance(value, int) or isinstance(value, bool) or not (model.scale_min <= value <= model.scale_max):
            errors.append(
                FieldError(
                    f"scores.{i}.score",
                    "out_of_scale",
                    _("“%(c)s”: a score is a whole number from %(lo)d to %(hi)d.")
                    % {"c": crit.name, "lo": model.scale_min, "hi": model.scale_max},
                )
            )
        evidence_date = row.get("evidence_date")
        if isinstance(evidence_date, dt.date) and evidence_date > today:
            errors.append(
                FieldError(f"scores.{i}.evidence_date", "future", _("Evidence cannot be dated in the future."))
            )
        given[crit.pk] = {"criterion": crit, "score": value, "evidence": _clean(row.get("evidence"), 4000),
                          "evidence_date": evidence_date if isinstance(evidence_date, dt.date) else None}  # fmt: skip
    missing = [c.name for c in criteria if c.pk not in given]
    if missing:
        errors.append(
            FieldError("scores", "missing", _("Score every criterion; missing: %(c)s.") % {"c": ", ".join(missing)})
        )
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    total = _weighted_total(model, criteria, {pk: g["score"] for pk, g in given.items()})
    tier = model.tier_for(total)
    rationale = _clean(rationale, 4000)
    if tier == KamLevel.DECLINED and not rationale:
        raise ValidationFailed(
            _("This score means “declined”: say why we will not invest in this account now."),
            field="rationale", code="rationale_required",
        )  # fmt: skip
    from openkam.evaluation.models import AccountTier

    with audit_action(actor=actor, action="evaluation.assessment.create", reason=_clean(reason, 255)):
        assessment = Assessment.objects.create(
            account=account, model=model, assessed_on=assessed_on, assessed_by=actor, total=total, tier=tier,
            rationale=rationale,
        )  # fmt: skip
        Score.objects.bulk_create([Score(assessment=assessment, **g) for g in given.values()])
        current = AccountTier.objects.select_for_update().filter(account=account).first()
        latest = (
            Assessment.objects.filter(account=account)
            .order_by("-assessed_on", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        if current is None:
            current = AccountTier(account=account)
        if latest == assessment.pk:  # a back-dated assessment does not replace a newer one
            current.assessment, current.total, current.computed_level = assessment, total, tier
            current.save()
        level = current.level
        why = _("Tier from assessment #%(n)d (score %(s)s)") % {"n": assessment.pk, "s": total}
        changed = _apply_level(actor=actor, account=account, level=level, reason=why)
    return assessment, TierResult(level=level, changed=changed, warnings=_cap_warnings(account, level))


def assessment_review(*, actor: User, assessment_id: int, note: str = "") -> Assessment:
    """A lead confirms an assessment (four eyes: not their own)."""
    _require_tierer(actor)
    assessment = assessment_get(actor=actor, assessment_id=assessment_id)
    if assessment.assessed_by_id == actor.pk:
        raise RuleViolation(_("Nobody reviews their own assessment."), code="own_assessment_review")
    if assessment.status == AssessmentStatus.REVIEWED:
        raise RuleViolation(_("This assessment has already been reviewed."), code="already_reviewed")
    with audit_action(actor=actor, action="evaluation.assessment.review", reason=_clean(note, 255)):
        assessment.status = AssessmentStatus.REVIEWED
        assessment.reviewed_by = actor
        assessment.reviewed_at = timezone.now()
        assessment.review_note = _clean(note, 4000)
        assessment.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])
    return assessment


def tier_override(*, actor: User, account_id: int, level: str, reason: str) -> TierResult:
    """Set (or with ``level=""`` clear) a lead's override of the computed tier. A reason is always required."""
    from openkam.evaluation.models import AccountTier

    _require_tierer(actor)
    account = account_get(actor=actor, account_id=account_id)
    reason = _clean(reason, 2000)
    errors: list[FieldError] = []
    if level and level not in TIER_LEVELS:
        errors.append(FieldError("level", "invalid", _("Choose strategic, key, basic or declined.")))
    if not reason:
        message = (
            _("Say why we will not invest in this account now.")
            if level == KamLevel.DECLINED
            else _("An override needs a reason.")
        )
        errors.append(FieldError("reason", "required", message))
    if errors:
        raise ValidationFailed(errors[0].message, errors=errors)
    with audit_action(actor=actor, action="evaluation.tier.override", reason=reason[:255]):
        tier = AccountTier.objects.select_for_update().filter(account=account).first()
        if tier is None:
            if not level:
                raise RuleViolation(_("There is no override to clear."), code="no_override")
            tier = AccountTier(account=account, computed_level=KamLevel.UNASSESSED)
        tier.override_level = level
        tier.override_reason = reason if level else ""
        tier.override_by = actor if level else None
        tier.save()
        target = tier.level
        changed = _apply_level(actor=actor, account=account, level=target, reason=reason)
    return TierResult(level=target, changed=changed, warnings=_cap_warnings(account, target))


def strategic_cap_set(*, actor: User, team_id: int, cap: int, reason: str = "") -> TeamStrategicCap:
    require_admin(actor)
    team = Team.objects.filter(pk=team_id).first() if isinstance(team_id, int) and 0 < team_id < 2**63 else None
    if team is None:
        raise ValidationFailed(_("No such team."), field="team_id", code="team_not_found")
    if not isinstance(cap, int) or isinstance(cap, bool) or not (0 <= cap <= 100_000):
        raise ValidationFailed(_("The cap is a whole number of accounts, 0 or more."), field="cap", code="invalid")
    with audit_action(actor=actor, action="evaluation.teamstrategiccap.set", reason=_clean(reason, 255)):
        row, _created = TeamStrategicCap.objects.update_or_create(team=team, defaults={"cap": cap})
    return row


# --- re-score / re-tier every assessed account ------------------------------------------------------
def rescore_run_start(*, actor: User) -> RescoreRun:
    """Queue a re-score of every assessed account against the active model versions (admin)."""
    require_admin(actor)
    if RescoreRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise RuleViolation(_("A re-score is already running; wait for it to finish."), code="rescore_running")
    with audit_action(actor=actor, action="evaluation.rescorerun.start"):
        return RescoreRun.objects.create(requested_by=actor)


_EFFORT_SQL = """
INSERT INTO evaluation_effortsnapshot (unit_id, audience, n90, n60, n30, people, computed_at)
SELECT CASE WHEN a.type IN ('department', 'clinic', 'pharmacy') THEN a.parent_id ELSE a.id END AS unit,
       %(audience)s, count(*), count(*) FILTER (WHERE i.occurred_at >= %(d60)s),
       count(*) FILTER (WHERE i.occurred_at >= %(d30)s), count(DISTINCT i.created_by_id), %(now)s
FROM activities_interaction i JOIN accounts_account a ON a.id = i.account_id
WHERE i.occurred_at >= %(d90)s AND i.occurred_at <= %(now)s AND i.classification = ANY(%(classes)s)
  AND (a.type NOT IN ('department', 'clinic', 'pharmacy') OR a.parent_id IS NOT NULL)
GROUP BY 1
"""


def effort_snapshot_refresh() -> int:
    """Rebuild the effort snapshot (interactions per evaluated unit, last 90/60/30 days, per audience).

    Set-based: one INSERT ... SELECT per audience, in one transaction (readers see the old or the new snapshot).
    """
    from openkam.evaluation.selectors import AUDIENCES

    now = timezone.now()
    params = {"now": now, "d90": now - dt.timedelta(days=90), "d60": now - dt.timedelta(days=60),
              "d30": now - dt.timedelta(days=30)}  # fmt: skip
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM evaluation_effortsnapshot")
        rows = 0
        for audience, classes in AUDIENCES.items():
            cur.execute(_EFFORT_SQL, {**params, "audience": audience, "classes": sorted(classes)})
            rows += cur.rowcount
    return rows


_RESCORE_SQL = """
WITH chunk AS (
    SELECT t.id AS tier_id, t.assessment_id, m.code
    FROM evaluation_accounttier t
    JOIN evaluation_assessment a ON a.id = t.assessment_id
    JOIN evaluation_scoringmodel m ON m.id = a.model_id
    WHERE t.id > %(after)s AND t.id <= %(upto)s
), calc AS (
    SELECT c.tier_id, act.id AS model_id,
           round(100 * sum(c2.weight * (LEAST(GREATEST(s.score, act.scale_min), act.scale_max) - act.scale_min)::numeric
                 / (act.scale_max - act.scale_min)) / nullif(sum(c2.weight), 0), 2) AS total
    FROM chunk c
    JOIN evaluation_scoringmodel act ON act.code = c.code AND act.status = 'active'
    JOIN evaluation_score s ON s.assessment_id = c.assessment_id
    JOIN evaluation_criterion c1 ON c1.id = s.criterion_id
    JOIN evaluation_criterion c2 ON c2.model_id = act.id AND c2.key = c1.key
    GROUP BY c.tier_id, act.id
), tiered AS (
    SELECT calc.tier_id, calc.total,
           CASE WHEN calc.total >= m.strategic_min THEN 'strategic' WHEN calc.total >= m.key_min THEN 'key'
                WHEN calc.total >= m.basic_min THEN 'basic' ELSE 'declined' END AS level
    FROM calc JOIN evaluation_scoringmodel m ON m.id = calc.model_id
    WHERE calc.total IS NOT NULL
)
UPDATE evaluation_accounttier t SET total = tiered.total, computed_level = tiered.level, updated_at = now()
FROM tiered
WHERE t.id = tiered.tier_id AND (t.total IS DISTINCT FROM tiered.total OR t.computed_level <> tiered.level)
"""

_STALE_LEVELS_SQL = """
SELECT a.id, CASE WHEN t.override_level <> '' THEN t.override_level ELSE t.computed_level END
FROM evaluation_accounttier t JOIN accounts_account a ON a.id = t.account_id
WHERE t.id > %(after)s AND t.id <= %(upto)s
  AND a.kam_level <> CASE WHEN t.override_level <> '' THEN t.override_level ELSE t.computed_level END
ORDER BY a.id
"""


def rescore_run_execute(*, run_id: int) -> RescoreRun:
    """The task body: re-score in chunks (one set-based UPDATE each), then move KAM levels that changed.

    Each chunk commits on its own so the progress row is visible to the page polling it.
    """
    run = RescoreRun.objects.select_related("requested_by").get(pk=run_id)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run
    from openkam.evaluation.models import AccountTier

    actor = run.requested_by
    bounds = AccountTier.objects.aggregate(hi=Max("id"))
    upto_max = bounds["hi"] or 0
    run.total = AccountTier.objects.count()
    run.status, run.started_at, run.done, run.changed = RunStatus.RUNNING, timezone.now(), 0, 0
    run.save(update_fields=["total", "status", "started_at", "done", "changed", "updated_at"])
    try:
        after = 0
        while after < upto_max:
            upto = after + RESCORE_CHUNK
            with transaction.atomic():  # a chunk: its tiers, then the KAM levels that follow, then progress
                audit = audit_action(actor=actor, action="evaluation.tier.rescore", reason=f"re-score run #{run.pk}")
                with audit, connection.cursor() as cur:
                    cur.execute(_RESCORE_SQL, {"after": after, "upto": upto})
                    cur.execute(_STALE_LEVELS_SQL, {"after": after, "upto": upto})
                    stale = dict(cur.fetchall())
                # set-based: one UPDATE for the chunk, each changed account audited by the triggers
                changed = account_kam_levels_set(actor=actor, levels=stale, reason=f"re-tier run #{run.pk}")
                done = AccountTier.objects.filter(id__lte=upto).count()
                run.changed += len(changed)
                RescoreRun.objects.filter(pk=run.pk).update(done=done, changed=run.changed, updated_at=timezone.now())
            after = upto
        run.done = run.total
        run.status, run.finished_at = RunStatus.DONE, timezone.now()
    except Exception as exc:  # recorded for the page; the task still reports the failure
        run.status, run.error, run.finished_at = RunStatus.FAILED, str(exc)[:2000], timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "updated_at"])
        raise
    with transaction.atomic():
        run.save(update_fields=["done", "changed", "status", "finished_at", "updated_at"])
    return run
