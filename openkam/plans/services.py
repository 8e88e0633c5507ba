"""Plan writes: the plan header and lifecycle, objectives, tactics and actions.

Every function is keyword-only, checks access first (role, account scope through the selectors,
classification), validates everything, then writes inside one ``audit_action`` transaction.

Optimistic locking: the plan row carries ``version``. Every change to the plan *or anything in it* locks
the plan row, compares ``expected_version`` (required for header edits, optional elsewhere), writes, and
bumps the version — so a stale save raises :class:`~openkam.core.errors.Conflict` instead of silently
overwriting someone else's change. Closed plans are read-only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Max
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from openkam.accounts.selectors import account_get
from openkam.core.access import (
    can_see_classification,
    can_write,
    is_admin,
    require_classification,
    require_write,
    visible_classifications,
)
from openkam.core.audit import audit_action
from openkam.core.errors import Conflict, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Classification, Role, User
from openkam.plans.models import (
    PLAN_TRANSITIONS,
    AccountPlan,
    Action,
    ActionStatus,
    Objective,
    PlanStatus,
    Tactic,
)
from openkam.plans.selectors import action_get, objective_get, plan_get, tactic_get

PLAN_EDITABLE_FIELDS = frozenset({"name", "period_start", "period_end", "owner", "summary"})
OBJECTIVE_EDITABLE_FIELDS = frozenset(
    {"title", "description", "metric", "baseline", "target", "current", "due_date", "indicator", "owner", "position"}
)
TACTIC_EDITABLE_FIELDS = frozenset(
    {"title", "description", "owner", "function", "classification", "shared_with_customer", "position"}
)
ACTION_EDITABLE_FIELDS = frozenset(
    {"title", "description", "owner", "assignee", "start_date", "due_date", "status", "position"}
)
_PLAN_CREATOR_ROLES = frozenset({Role.KAM, Role.LEAD, Role.MARKET_ACCESS, Role.ADMIN})

# Human names of the moves in PLAN_TRANSITIONS (used by the UI and in messages).
TRANSITION_VERBS: dict[tuple[str, str], str] = {
    (PlanStatus.DRAFT, PlanStatus.IN_REVIEW): "submit",
    (PlanStatus.IN_REVIEW, PlanStatus.APPROVED): "approve",
    (PlanStatus.IN_REVIEW, PlanStatus.DRAFT): "return",
    (PlanStatus.APPROVED, PlanStatus.ACTIVE): "activate",
    (PlanStatus.APPROVED, PlanStatus.DRAFT): "reopen",
    (PlanStatus.ACTIVE, PlanStatus.CLOSED): "close",
}


# --- who may do what -------------------------------------------------------------------------------
def is_plan_manager(actor: User, plan: AccountPlan) -> bool:
    """The plan's owner, a KAM lead (for plans they can see) or an administrator."""
    return can_write(actor) and (actor.pk == plan.owner_id or actor.role == Role.LEAD or is_admin(actor))


def _transition_refusal(actor: User, plan: AccountPlan, to: str) -> PermissionDenied | None:
    """Why ``actor`` may not move ``plan`` to ``to`` (None = allowed). ``to`` is a valid move."""
    if not can_write(actor):
        return PermissionDenied(_("Your role can read but not change records."), code="read_only_role")
    if to == PlanStatus.APPROVED:
        if actor.role != Role.LEAD and not is_admin(actor):
            return PermissionDenied(
                _("Only a KAM lead or an administrator can approve a plan."), code="approval_forbidden"
            )
        if actor.pk == plan.owner_id:
            return PermissionDenied(
                _("Nobody approves their own plan: ask another lead to review it."), code="own_plan_approval"
            )
        return None
    if not is_plan_manager(actor, plan):
        return PermissionDenied(
            _("Only the plan owner or a KAM lead can change this plan's status."), code="transition_forbidden"
        )
    return None


def plan_available_transitions(*, actor: User, plan: AccountPlan) -> list[str]:
    """The statuses ``actor`` may move ``plan`` to right now (what the lifecycle buttons offer)."""
    return [to for to in PLAN_TRANSITIONS.get(plan.status, ()) if _transition_refusal(actor, plan, to) is None]


def plan_can_create(*, actor: User) -> bool:
    """May ``actor`` start account plans (commercial roles and administrators)?"""
    return can_write(actor) and (actor.role in _PLAN_CREATOR_ROLES or is_admin(actor))


def plan_can_edit(*, actor: User, plan: AccountPlan) -> bool:
    """May ``actor`` edit the plan's header (name, period, owner, summary)?"""
    return plan.status != PlanStatus.CLOSED and is_plan_manager(actor, plan)


def plan_can_contribute(*, actor: User, plan: AccountPlan) -> bool:
    """May ``actor`` add or change objectives, tactics and actions (within their classifications)?"""
    return plan.status != PlanStatus.CLOSED and can_write(actor)


# --- helpers ---------------------------------------------------------------------------------------
def _check_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValidationFailed(
            _("Unknown field: %(f)s") % {"f": ", ".join(unknown)}, field=unknown[0], code="unknown_field"
        )


def _resolve_user(
    field: str, value: Any, *, classification: str | None = None, must_write: bool = False
) -> User | None:
    """A user given as a User or an id: active, able to see ``classification``, able to write if asked."""
    if value is None or value == "":
        return None
    user = value if isinstance(value, User) else User.objects.filter(pk=value).first()
    if user is None or not user.is_active:
        raise ValidationFailed(_("No such active user."), field=field, code="unknown_user")
    if must_write and not can_write(user):
        raise ValidationFailed(
            _("%(u)s has a read-only role and cannot own a plan.") % {"u": user}, field=field, code="read_only_user"
        )
    if classification and not can_see_classification(user, classification):
        raise ValidationFailed(
            _("%(u)s may not see work classified “%(c)s”.") % {"u": user, "c": Classification(classification).label},
            field=field,
            code="user_cannot_see",
        )
    return user


def _validate(obj: Any, exclude: list[str]) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        raise ValidationFailed.from_django(exc)


def _check_dates(start: dt.date | None, end: dt.date | None, end_field: str, message: str, code: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValidationFailed(message, field=end_field, code=code)


def _conflict(plan: AccountPlan) -> Conflict:
    who = str(plan.changed_by) if plan.changed_by_id else _("someone else")
    when = timezone.localtime(plan.updated_at)
    at = (
        when.strftime("%H:%M")
        if when.date() == timezone.localdate()
        else formats.date_format(when, "SHORT_DATETIME_FORMAT")
    )
    return Conflict(
        _("This plan was changed by %(who)s at %(at)s since you opened it; reload to see their changes.")
        % {"who": who, "at": at},
        code="stale_version",
    )


def _lock_plan(plan_id: int, expected_version: int | None, *, allow_closed: bool = False) -> AccountPlan:
    """Lock the plan row for this transaction, refuse a closed plan and a stale version."""
    plan = AccountPlan.objects.select_for_update(of=("self",)).get(pk=plan_id)
    if expected_version is not None and int(expected_version) != plan.version:
        raise _conflict(AccountPlan.objects.select_related("changed_by").get(pk=plan_id))
    if plan.status == PlanStatus.CLOSED and not allow_closed:
        raise RuleViolation(_("This plan is closed and can no longer be changed."), code="plan_closed")
    return plan


def _bump(plan: AccountPlan, actor: User) -> int:
    """Record that the plan (or something in it) changed: version + 1, by whom, when."""
    now = timezone.now()
    AccountPlan.objects.filter(pk=plan.pk).update(version=F("version") + 1, changed_by=actor, updated_at=now)
    plan.version += 1
    plan.changed_by = actor
    plan.updated_at = now
    return plan.version


def _require_version(expected_version: int | None) -> int:
    if expected_version is None:
        raise ValidationFailed(
            _("Send the version of the plan you are editing, so that nobody's change is overwritten."),
            field="version",
            code="version_required",
        )
    return int(expected_version)


def _next_position(qs: Any) -> int:
    return int(qs.aggregate(m=Max("position"))["m"] or 0) + 1


def _decimal(value: Any) -> Any:
    return Decimal(str(value)) if isinstance(value, float) else value


# --- plans -----------------------------------------------------------------------------------------
def plan_create(
    *,
    actor: User,
    account_id: int,
    name: str,
    period_start: dt.date,
    period_end: dt.date,
    owner: User | int | None = None,
    summary: str = "",
    reason: str = "",
) -> AccountPlan:
    """A new draft plan for a visible account; the owner defaults to the actor."""
    require_write(actor)
    if not plan_can_create(actor=actor):
        raise PermissionDenied(_("Your role cannot create account plans."), code="plan_create_forbidden")
    account = account_get(actor=actor, account_id=account_id)
    owner_user = _resolve_user("owner", owner, must_write=True) or actor
    plan = AccountPlan(
        account=account,
        name=(name or "").strip(),
        period_start=period_start,
        period_end=period_end,
        owner=owner_user,
        summary=summary or "",
        changed_by=actor,
    )
    _check_dates(
        period_start, period_end, "period_end", _("The period must end on or after its start."), "period_order"
    )
    _validate(plan, exclude=["account", "owner"])
    with audit_action(actor=actor, action="plans.accountplan.create", reason=reason):
        plan.save()
    return plan


def plan_update(
    *, actor: User, plan_id: int, expected_version: int | None, reason: str = "", **fields: Any
) -> AccountPlan:
    """Change the plan header. ``expected_version`` is required (optimistic locking)."""
    require_write(actor)
    plan = plan_get(actor=actor, plan_id=plan_id)
    if not is_plan_manager(actor, plan):
        raise PermissionDenied(_("Only the plan owner or a KAM lead can edit the plan."), code="plan_edit_forbidden")
    _check_fields(fields, PLAN_EDITABLE_FIELDS)
    version = _require_version(expected_version)
    if "owner" in fields:
        fields["owner"] = _resolve_user("owner", fields["owner"], must_write=True)
        if fields["owner"] is None:
            raise ValidationFailed(_("A plan needs an owner."), field="owner", code="required")
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    if "summary" in fields and fields["summary"] is None:
        fields["summary"] = ""
    with audit_action(actor=actor, action="plans.accountplan.update", reason=reason):
        locked = _lock_plan(plan.pk, version)
        for key, value in fields.items():
            setattr(locked, key, value)
        _check_dates(
            locked.period_start,
            locked.period_end,
            "period_end",
            _("The period must end on or after its start."),
            "period_order",
        )
        _validate(locked, exclude=["account", "owner", "changed_by", "approved_by"])
        locked.version += 1
        locked.changed_by = actor
        locked.save()
    return plan_get(actor=actor, plan_id=plan.pk)


def plan_transition(
    *, actor: User, plan_id: int, to: str, expected_version: int | None = None, reason: str = ""
) -> AccountPlan:
    """Move the plan along its lifecycle (PLAN_TRANSITIONS). Approval: a lead or admin, never the owner."""
    require_write(actor)
    plan_get(actor=actor, plan_id=plan_id)
    if to not in PlanStatus.values:
        raise ValidationFailed(_("Unknown status “%(to)s”.") % {"to": to}, field="to", code="invalid_choice")
    with audit_action(actor=actor, action="plans.accountplan.transition", reason=reason):
        locked = _lock_plan(plan_id, expected_version, allow_closed=True)
        current = locked.status
        if to not in PLAN_TRANSITIONS.get(current, ()):
            raise RuleViolation(
                _("A plan cannot go from “%(from)s” to “%(to)s”.")
                % {"from": PlanStatus(current).label, "to": PlanStatus(to).label},
                code="invalid_transition",
                field="to",
            )
        refusal = _transition_refusal(actor, locked, to)
        if refusal is not None:
            raise refusal
        verb = TRANSITION_VERBS.get((current, to), "transition")
        locked.status = to
        if to == PlanStatus.APPROVED:
            locked.approved_by = actor
            locked.approved_at = timezone.now()
        elif to == PlanStatus.DRAFT:
            locked.approved_by = None
            locked.approved_at = None
        locked.version += 1
        locked.changed_by = actor
        # The event's action code names the move: plans.accountplan.approve, .submit, .return, ...
        pghistory.context(action=f"plans.accountplan.{verb}")
        locked.save()
    return plan_get(actor=actor, plan_id=plan_id)


def _has_hidden_work(actor: User, tactics: Any) -> bool:
    """Are there tactics in ``tactics`` the actor may not see?"""
    return bool(tactics.exclude(classification__in=sorted(visible_classifications(actor))).exists())


def _refuse_unless_draft(plan: AccountPlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise RuleViolation(
            _("Only a draft plan can be deleted; this one is “%(s)s”.") % {"s": PlanStatus(plan.status).label},
            code="plan_not_draft",
        )


def plan_delete(*, actor: User, plan_id: int, expected_version: int | None = None, reason: str = "") -> None:
    """Delete a draft plan (and everything in it): owner or lead, and only if they see everything in it."""
    require_write(actor)
    plan = plan_get(actor=actor, plan_id=plan_id)
    if not is_plan_manager(actor, plan):
        raise PermissionDenied(
            _("Only the plan owner or a KAM lead can delete the plan."), code="plan_delete_forbidden"
        )
    _refuse_unless_draft(plan)
    if _has_hidden_work(actor, Tactic.objects.filter(objective__plan_id=plan.pk)):
        raise PermissionDenied(
            _("This plan holds work of another function that you cannot see; it cannot be deleted by you."),
            code="plan_has_hidden_work",
        )
    with audit_action(actor=actor, action="plans.accountplan.delete", reason=reason):
        locked = _lock_plan(plan.pk, expected_version, allow_closed=True)
        _refuse_unless_draft(locked)
        locked.delete()


# --- objectives ------------------------------------------------------------------------------------
def _prepare_objective(fields: dict[str, Any]) -> dict[str, Any]:
    _check_fields(fields, OBJECTIVE_EDITABLE_FIELDS)
    if "owner" in fields:
        fields["owner"] = _resolve_user("owner", fields["owner"])
    for key in ("baseline", "target", "current"):
        if key in fields:
            fields[key] = _decimal(fields[key])
    for key in ("title", "metric", "description"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    return fields


def objective_create(
    *,
    actor: User,
    plan_id: int,
    title: str,
    expected_version: int | None = None,
    reason: str = "",
    **fields: Any,
) -> Objective:
    """Add a measurable objective (metric, baseline, target, current, due, leading/lagging, owner)."""
    require_write(actor)
    plan = plan_get(actor=actor, plan_id=plan_id)
    fields = _prepare_objective({"title": title, **fields})
    objective = Objective(plan=plan, **fields)
    _validate(objective, exclude=["plan", "owner"])
    with audit_action(actor=actor, action="plans.objective.create", reason=reason):
        locked = _lock_plan(plan.pk, expected_version)
        if "position" not in fields:
            objective.position = _next_position(Objective.objects.filter(plan_id=plan.pk))
        objective.save()
        _bump(locked, actor)
    objective.plan = locked
    return objective


def objective_update(
    *, actor: User, objective_id: int, expected_version: int | None = None, reason: str = "", **fields: Any
) -> Objective:
    require_write(actor)
    objective = objective_get(actor=actor, objective_id=objective_id)
    fields = _prepare_objective(fields)
    for key, value in fields.items():
        setattr(objective, key, value)
    _validate(objective, exclude=["plan", "owner"])
    with audit_action(actor=actor, action="plans.objective.update", reason=reason):
        locked = _lock_plan(objective.plan_id, expected_version)
        objective.save()
        _bump(locked, actor)
    objective.plan = locked
    return objective


def objective_delete(
    *, actor: User, objective_id: int, expected_version: int | None = None, reason: str = ""
) -> AccountPlan:
    """Delete an objective with its tactics and actions — only if the actor sees all of them."""
    require_write(actor)
    objective = objective_get(actor=actor, objective_id=objective_id)
    if _has_hidden_work(actor, objective.tactics.all()):
        raise PermissionDenied(
            _("This objective holds work of another function that you cannot see; it cannot be deleted by you."),
            code="objective_has_hidden_work",
        )
    with audit_action(actor=actor, action="plans.objective.delete", reason=reason):
        locked = _lock_plan(objective.plan_id, expected_version)
        objective.delete()
        _bump(locked, actor)
    return locked


# --- tactics ---------------------------------------------------------------------------------------
def _prepare_tactic(fields: dict[str, Any], classification: str) -> dict[str, Any]:
    _check_fields(fields, TACTIC_EDITABLE_FIELDS)
    if "owner" in fields:
        fields["owner"] = _resolve_user("owner", fields["owner"], classification=classification)
    for key in ("title", "description"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    return fields


def _check_classification_value(value: Any) -> str:
    if value not in Classification.values:
        raise ValidationFailed(
            _("Choose one of: %(c)s.") % {"c": ", ".join(Classification.values)},
            field="classification",
            code="invalid_choice",
        )
    return str(value)


def tactic_create(
    *,
    actor: User,
    objective_id: int,
    title: str,
    classification: str,
    expected_version: int | None = None,
    reason: str = "",
    **fields: Any,
) -> Tactic:
    """Add a tactic: owner, function, classification (commercial/medical/market_access/joint), shared flag."""
    require_write(actor)
    objective = objective_get(actor=actor, objective_id=objective_id)
    classification = _check_classification_value(classification)
    require_classification(actor, classification)
    fields = _prepare_tactic({"title": title, **fields}, classification)
    fields.setdefault("function", actor.function)
    tactic = Tactic(objective=objective, classification=classification, **fields)
    _validate(tactic, exclude=["objective", "owner"])
    with audit_action(actor=actor, action="plans.tactic.create", reason=reason):
        locked = _lock_plan(objective.plan_id, expected_version)
        if "position" not in fields:
            tactic.position = _next_position(Tactic.objects.filter(objective_id=objective.pk))
        tactic.save()
        _bump(locked, actor)
    objective.plan = locked
    return tactic


def tactic_update(
    *, actor: User, tactic_id: int, expected_version: int | None = None, reason: str = "", **fields: Any
) -> Tactic:
    """Change a tactic. Reclassifying needs the right to work with both the old and the new classification."""
    require_write(actor)
    tactic = tactic_get(actor=actor, tactic_id=tactic_id)
    require_classification(actor, tactic.classification)
    if "classification" in fields:
        fields["classification"] = _check_classification_value(fields["classification"])
        require_classification(actor, fields["classification"])
    fields = _prepare_tactic(fields, fields.get("classification", tactic.classification))
    for key, value in fields.items():
        setattr(tactic, key, value)
    _validate(tactic, exclude=["objective", "owner"])
    with audit_action(actor=actor, action="plans.tactic.update", reason=reason):
        locked = _lock_plan(tactic.objective.plan_id, expected_version)
        tactic.save()
        _bump(locked, actor)
    tactic.objective.plan = locked
    return tactic


def tactic_delete(*, actor: User, tactic_id: int, expected_version: int | None = None, reason: str = "") -> AccountPlan:
    require_write(actor)
    tactic = tactic_get(actor=actor, tactic_id=tactic_id)
    require_classification(actor, tactic.classification)
    with audit_action(actor=actor, action="plans.tactic.delete", reason=reason):
        locked = _lock_plan(tactic.objective.plan_id, expected_version)
        tactic.delete()
        _bump(locked, actor)
    return locked


# --- actions ---------------------------------------------------------------------------------------
def _prepare_action(fields: dict[str, Any], classification: str) -> dict[str, Any]:
    _check_fields(fields, ACTION_EDITABLE_FIELDS)
    for key in ("owner", "assignee"):
        if key in fields:
            fields[key] = _resolve_user(key, fields[key], classification=classification)
    for key in ("title", "description"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    if "status" in fields and fields["status"] not in ActionStatus.values:
        raise ValidationFailed(
            _("Choose one of: %(c)s.") % {"c": ", ".join(ActionStatus.values)}, field="status", code="invalid_choice"
        )
    return fields


def _finish_action(action: Action) -> None:
    _check_dates(
        action.start_date,
        action.due_date,
        "due_date",
        _("The due date must be on or after the start date."),
        "due_before_start",
    )
    if action.status == ActionStatus.DONE:
        action.completed_at = action.completed_at or timezone.now()
    else:
        action.completed_at = None
    _validate(action, exclude=["tactic", "owner", "assignee"])


def action_create(
    *,
    actor: User,
    tactic_id: int,
    title: str,
    expected_version: int | None = None,
    reason: str = "",
    **fields: Any,
) -> Action:
    """Add an action (owner, assignee, start, due, status). It inherits the tactic's classification."""
    require_write(actor)
    tactic = tactic_get(actor=actor, tactic_id=tactic_id)
    require_classification(actor, tactic.classification)
    fields = _prepare_action({"title": title, **fields}, tactic.classification)
    fields.setdefault("owner", actor)
    action = Action(tactic=tactic, **fields)
    _finish_action(action)
    with audit_action(actor=actor, action="plans.action.create", reason=reason):
        locked = _lock_plan(tactic.objective.plan_id, expected_version)
        if "position" not in fields:
            action.position = _next_position(Action.objects.filter(tactic_id=tactic.pk))
        action.save()
        _bump(locked, actor)
    tactic.objective.plan = locked
    return action


def action_update(
    *, actor: User, action_id: int, expected_version: int | None = None, reason: str = "", **fields: Any
) -> Action:
    """Change an action (e.g. its status: done counts as complete, cancelled is left out of completion)."""
    require_write(actor)
    action = action_get(actor=actor, action_id=action_id)
    require_classification(actor, action.tactic.classification)
    fields = _prepare_action(fields, action.tactic.classification)
    for key, value in fields.items():
        setattr(action, key, value)
    _finish_action(action)
    with audit_action(actor=actor, action="plans.action.update", reason=reason):
        locked = _lock_plan(action.tactic.objective.plan_id, expected_version)
        action.save()
        _bump(locked, actor)
    action.tactic.objective.plan = locked
    return action


def action_delete(*, actor: User, action_id: int, expected_version: int | None = None, reason: str = "") -> AccountPlan:
    require_write(actor)
    action = action_get(actor=actor, action_id=action_id)
    require_classification(actor, action.tactic.classification)
    with audit_action(actor=actor, action="plans.action.delete", reason=reason):
        locked = _lock_plan(action.tactic.objective.plan_id, expected_version)
        action.delete()
        _bump(locked, actor)
    return locked
