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
    writable_classifications,
)
from openkam.core.audit import audit_action
from openkam.core.errors import Conflict, PermissionDenied, RuleViolation, ValidationFailed
from openkam.core.models import Classification, Role, User
from openkam.plans.models import (
    OBJECTIVE_REQUIRED_FIELDS,
    PLAN_TRANSITIONS,
    AccountPlan,
    Action,
    ActionStatus,
    Objective,
    PlanReview,
    PlanSnapshot,
    PlanStatus,
    PlanTemplate,
    ReviewKind,
    Tactic,
)
from openkam.plans.selectors import action_get, objective_get, plan_content, plan_get, tactic_get

PLAN_NARRATIVE_FIELDS = frozenset(
    {"customer_priorities", "positioning", "value_proposition", "value_proposition_reviewed", "strategy"}
)
PLAN_EDITABLE_FIELDS = frozenset({"name", "period_start", "period_end", "owner", "summary"}) | PLAN_NARRATIVE_FIELDS
OBJECTIVE_EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "metric",
        "baseline",
        "target",
        "current",
        "due_date",
        "indicator",
        "owner",
        "position",
        "shared_with_customer",
    }
)
TACTIC_EDITABLE_FIELDS = frozenset(
    {"title", "description", "owner", "function", "classification", "shared_with_customer", "position"}
)
ACTION_EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "owner",
        "assignee",
        "start_date",
        "due_date",
        "status",
        "position",
        "is_milestone",
        "shared_with_customer",
    }
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
    """Record that the plan's content (or something in it) changed: version + 1, by whom, when — and the
    last meaningful update that plan rot is measured from."""
    now = timezone.now()
    AccountPlan.objects.filter(pk=plan.pk).update(
        version=F("version") + 1, changed_by=actor, updated_at=now, last_meaningful_update_at=now
    )
    plan.version += 1
    plan.changed_by = actor
    plan.updated_at = now
    plan.last_meaningful_update_at = now
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
    template_id: int | None = None,
    reason: str = "",
) -> AccountPlan:
    """A new draft plan for a visible account; the owner defaults to the actor. The plan's template is the one
    given, else the active template naming the account's type, else the default template; its stages and
    steps become the plan's checklist."""
    require_write(actor)
    if not plan_can_create(actor=actor):
        raise PermissionDenied(_("Your role cannot create account plans."), code="plan_create_forbidden")
    account = account_get(actor=actor, account_id=account_id)
    owner_user = _resolve_user("owner", owner, must_write=True) or actor
    template = _template_for(account.type, template_id)
    plan = AccountPlan(
        account=account,
        name=(name or "").strip(),
        period_start=period_start,
        period_end=period_end,
        owner=owner_user,
        summary=summary or "",
        changed_by=actor,
        template=template,
    )
    _check_dates(
        period_start, period_end, "period_end", _("The period must end on or after its start."), "period_order"
    )
    _validate(plan, exclude=["account", "owner", "template"])
    with audit_action(actor=actor, action="plans.accountplan.create", reason=reason):
        plan.save()
        if template is not None:
            _copy_template_stages(plan, template)
    return plan


def _template_for(account_type: str, template_id: int | None) -> PlanTemplate | None:
    if template_id is not None:
        template = PlanTemplate.objects.filter(pk=template_id, is_active=True).first()
        if template is None:
            raise ValidationFailed(_("No such active plan template."), field="template_id", code="unknown_template")
        return template
    if not PlanTemplate.objects.exists():  # an emptied database (e.g. a wiped demo): the shipped templates again
        from openkam.plans.defaults import install_default_templates

        install_default_templates()
    active = PlanTemplate.objects.filter(is_active=True)
    return (
        active.filter(account_types__contains=[account_type]).order_by("name").first()
        or active.filter(is_default=True).first()
    )


def _copy_template_stages(plan: AccountPlan, template: PlanTemplate) -> None:
    """The template's stages and steps become the plan's checklist (a few bulk inserts)."""
    from openkam.plans.models import PlanStage, PlanStep, TemplateStep

    stages = list(template.stages.order_by("position", "pk"))
    created = PlanStage.objects.bulk_create(
        [PlanStage(plan=plan, name=s.name, description=s.description, position=s.position) for s in stages]
    )
    by_template = {s.pk: c for s, c in zip(stages, created, strict=True)}
    steps = TemplateStep.objects.filter(stage__template=template).order_by("position", "pk")
    PlanStep.objects.bulk_create(
        [PlanStep(stage=by_template[st.stage_id], title=st.title, position=st.position) for st in steps]
    )


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
    for key in ("summary", "customer_priorities", "positioning", "value_proposition", "strategy"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    if "value_proposition_reviewed" in fields:
        fields["value_proposition_reviewed"] = bool(fields["value_proposition_reviewed"])
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
        _validate(locked, exclude=["account", "owner", "changed_by", "approved_by", "template", "cloned_from"])
        locked.version += 1
        locked.changed_by = actor
        locked.last_meaningful_update_at = timezone.now()
        locked.save()
    return plan_get(actor=actor, plan_id=plan.pk)


def plan_transition(
    *,
    actor: User,
    plan_id: int,
    to: str,
    expected_version: int | None = None,
    comment: str = "",
    reason: str = "",
) -> AccountPlan:
    """Move the plan along its lifecycle (PLAN_TRANSITIONS). Approval: a lead or admin, never the owner.

    A reviewer returning a plan in review must say what to fix (a comment; the owner may withdraw it without
    one); submitting and approving may carry one. The
    comment is kept as a :class:`PlanReview`. Each approval freezes an immutable :class:`PlanSnapshot`."""
    require_write(actor)
    plan_get(actor=actor, plan_id=plan_id)
    if to not in PlanStatus.values:
        raise ValidationFailed(_("Unknown status “%(to)s”.") % {"to": to}, field="to", code="invalid_choice")
    comment = (comment or "").strip()
    if len(comment) > 4000:
        raise ValidationFailed(_("A comment has at most 4,000 characters."), field="comment", code="max_length")
    with audit_action(actor=actor, action="plans.accountplan.transition", reason=reason or comment[:500]):
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
        if verb == "return" and not comment and actor.pk != locked.owner_id:  # the owner may just withdraw it
            raise ValidationFailed(
                _("Say what needs to change: a plan is returned with comments."),
                field="comment",
                code="comment_required",
            )
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
        if verb in ("submit", "return", "approve") or comment:
            PlanReview.objects.create(
                plan=locked,
                kind=verb if verb in ("submit", "return", "approve") else ReviewKind.COMMENT,
                author=actor,
                comment=comment,
                plan_version=locked.version,
            )
        if to == PlanStatus.APPROVED:
            number = (PlanSnapshot.objects.filter(plan=locked).aggregate(m=Max("number"))["m"] or 0) + 1
            PlanSnapshot.objects.create(
                plan=locked,
                number=number,
                plan_version=locked.version,
                status=to,
                approved_by=actor,
                data=plan_content(plan_id=locked.pk),
            )
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
    if PlanSnapshot.objects.filter(plan_id=plan.pk).exists():
        raise RuleViolation(
            _("This plan was approved before: its approved versions are kept, so it cannot be deleted. Close it."),
            code="plan_has_snapshots",
        )
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


def _check_objective_required(objective: Objective, template_id: int | None) -> None:
    """The plan's template may require objectives to be measurable (metric, target, baseline, due, owner)."""
    if template_id is None:
        return
    required = PlanTemplate.objects.filter(pk=template_id).values_list("required_fields", flat=True).first() or []
    for rule, name in OBJECTIVE_REQUIRED_FIELDS.items():
        if rule in required and getattr(objective, name if name != "owner" else "owner_id") in (None, ""):
            label = getattr(Objective._meta.get_field(name), "verbose_name", name)
            raise ValidationFailed(
                _("This plan's template requires every objective to have a %(f)s.") % {"f": label},
                field=name,
                code="required_by_template",
            )


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
    _check_objective_required(objective, plan.template_id)
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
    _check_objective_required(objective, objective.plan.template_id)
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


# --- plan sections: customer priorities, SWOT, goals, CSFs, key actions, stages & steps --------------
def _section_models() -> dict[str, Any]:
    from openkam.plans import models as m

    return {
        "customer_priority": m.CustomerPriority,
        "swot_item": m.SwotItem,
        "goal": m.Goal,
        "csf": m.CriticalSuccessFactor,
        "key_action": m.KeyAction,
        "stage": m.PlanStage,
        "step": m.PlanStep,
    }


# section → (editable fields, required on create, the path from the row to its plan, audit code, error code)
SECTION_KINDS: dict[str, tuple[frozenset[str], tuple[str, ...], str, str]] = {
    "customer_priority": (
        frozenset({"title", "description", "shared_with_customer", "position"}),
        ("title",),
        "plan",
        "plans.customerpriority",
    ),
    "swot_item": (
        frozenset({"kind", "title", "evidence", "classification", "position", "objective_ids"}),
        ("kind", "title"),
        "plan",
        "plans.swotitem",
    ),
    "goal": (frozenset({"title", "description", "position"}), ("title",), "plan", "plans.goal"),
    "csf": (frozenset({"title", "description", "goal", "position"}), ("title",), "plan", "plans.criticalsuccessfactor"),
    "key_action": (
        frozenset({"title", "owner", "due_date", "done", "position"}),
        ("title",),
        "csf__plan",
        "plans.keyaction",
    ),
    "stage": (frozenset({"name", "description", "position"}), ("name",), "plan", "plans.planstage"),
    "step": (frozenset({"title", "done", "position"}), ("title",), "stage__plan", "plans.planstep"),
}
_PARENT_FIELD = {"key_action": ("csf", "csf"), "step": ("stage", "stage")}
_SECTION_NOUN = {
    "customer_priority": _("customer priority"),
    "swot_item": _("SWOT item"),
    "goal": _("goal"),
    "csf": _("critical success factor"),
    "key_action": _("key action"),
    "stage": _("stage"),
    "step": _("step"),
}


def _section_kind(section: str) -> tuple[frozenset[str], tuple[str, ...], str, str]:
    if section not in SECTION_KINDS:
        raise ValidationFailed(
            _("Unknown plan section “%(k)s”.") % {"k": section}, field="section", code="invalid_choice"
        )
    return SECTION_KINDS[section]


def _section_row(actor: User, section: str, item_id: int) -> Any:
    """A section row of a plan the actor may see (SWOT items: of a visible classification), else NotFound."""
    from openkam.core.errors import NotFound
    from openkam.plans.selectors import plan_scope

    model = _section_models()[section]
    path = SECTION_KINDS[section][2]
    qs = model.objects.filter(**{f"{path}__in": plan_scope(actor=actor)}, pk=item_id)
    if section == "swot_item":
        qs = qs.filter(classification__in=sorted(visible_classifications(actor)))
    row = qs.first()
    if row is None:
        raise NotFound(_("No such %(what)s.") % {"what": _(_SECTION_NOUN[section])}, code=f"{section}_not_found")
    return row


def section_item_get(*, actor: User, section: str, item_id: int) -> Any:
    """A section row the actor may see (NotFound otherwise), with ``plan_id_of`` its plan's id."""
    _section_kind(section)
    row = _section_row(actor, section, item_id)
    row.plan_id_of = _plan_id_of(section, row)
    return row


def _plan_id_of(section: str, row: Any) -> int:
    if section == "key_action":
        return int(row.csf.plan_id)
    if section == "step":
        return int(row.stage.plan_id)
    return int(row.plan_id)


def _prepare_section(actor: User, section: str, plan: AccountPlan, fields: dict[str, Any]) -> dict[str, Any]:
    from openkam.plans.models import Goal, SwotKind

    allowed = _section_kind(section)[0]
    _check_fields(fields, allowed)
    for key in ("title", "name", "description", "evidence"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    if section == "swot_item":
        if "kind" in fields and fields["kind"] not in SwotKind.values:
            raise ValidationFailed(
                _("Choose one of: %(c)s.") % {"c": ", ".join(SwotKind.values)}, field="kind", code="invalid_choice"
            )
        if "classification" in fields:
            fields["classification"] = _check_classification_value(fields["classification"])
            require_classification(actor, fields["classification"])
        if "objective_ids" in fields:
            ids = sorted({int(i) for i in (fields["objective_ids"] or [])})
            found = set(Objective.objects.filter(plan_id=plan.pk, pk__in=ids).values_list("pk", flat=True))
            missing = [i for i in ids if i not in found]
            if missing:
                raise ValidationFailed(
                    _("Objective %(id)s is not part of this plan.") % {"id": missing[0]},
                    field="objective_ids",
                    code="unknown_objective",
                )
            fields["objective_ids"] = ids
    if section == "csf" and "goal" in fields:
        goal = fields["goal"]
        if goal not in (None, ""):
            goal_id = goal.pk if isinstance(goal, Goal) else int(goal)
            fields["goal"] = Goal.objects.filter(plan_id=plan.pk, pk=goal_id).first()
            if fields["goal"] is None:
                raise ValidationFailed(_("That goal is not part of this plan."), field="goal", code="unknown_goal")
        else:
            fields["goal"] = None
    if section == "key_action" and "owner" in fields:
        fields["owner"] = _resolve_user("owner", fields["owner"])
    if section in ("key_action", "step") and "done" in fields:
        fields["done"] = bool(fields["done"])
    return fields


def _check_contribute(actor: User, plan: AccountPlan) -> None:
    if not plan_can_contribute(actor=actor, plan=plan):
        if plan.status == PlanStatus.CLOSED:
            raise RuleViolation(_("This plan is closed and can no longer be changed."), code="plan_closed")
        raise PermissionDenied(_("Your role can read but not change records."), code="read_only_role")


def _apply_section_fields(actor: User, section: str, row: Any, fields: dict[str, Any]) -> list[int] | None:
    objective_ids = fields.pop("objective_ids", None)
    for key, value in fields.items():
        setattr(row, key, value)
    if section == "step" and "done" in fields:
        row.done_at = timezone.now() if row.done else None
        row.done_by = actor if row.done else None
    exclude = [f for f in ("plan", "owner", "goal", "csf", "stage", "done_by") if hasattr(row, f"{f}_id")]
    _validate(row, exclude=exclude)
    return objective_ids


def section_item_create(
    *,
    actor: User,
    section: str,
    plan_id: int | None = None,
    parent_id: int | None = None,
    expected_version: int | None = None,
    reason: str = "",
    **fields: Any,
) -> Any:
    """Add a row to a plan section. ``section``: customer_priority, swot_item, goal, csf (in the plan), key_action
    (``parent_id`` = the CSF), step (``parent_id`` = the stage) or stage. Contributors of an open plan only;
    SWOT items within the actor's classifications."""
    require_write(actor)
    _section_kind(section)
    model = _section_models()[section]
    parent = None
    if section in _PARENT_FIELD:
        if parent_id is None:
            raise ValidationFailed(_("Say where this belongs."), field="parent_id", code="required")
        parent_kind = "csf" if section == "key_action" else "stage"
        parent = _section_row(actor, parent_kind, parent_id)
        plan_id = _plan_id_of(parent_kind, parent)
    if plan_id is None:
        raise ValidationFailed(_("Say which plan."), field="plan_id", code="required")
    plan = plan_get(actor=actor, plan_id=plan_id)
    _check_contribute(actor, plan)
    fields = _prepare_section(actor, section, plan, dict(fields))
    for name in _section_kind(section)[1]:
        if not fields.get(name):
            raise ValidationFailed(_("This field is required."), field=name, code="required")
    if section == "swot_item":
        fields.setdefault("classification", "joint" if "joint" in writable_classifications(actor) else "")
        require_classification(actor, fields["classification"])
    row = model(**({_PARENT_FIELD[section][0]: parent} if parent is not None else {"plan": plan}))
    objective_ids = _apply_section_fields(actor, section, row, fields)
    with audit_action(actor=actor, action=f"{_section_kind(section)[3]}.create", reason=reason):
        locked = _lock_plan(plan.pk, expected_version)
        if "position" not in fields:
            siblings = model.objects.filter(**({_PARENT_FIELD[section][0]: parent} if parent else {"plan": plan}))
            row.position = _next_position(siblings)
        row.save()
        if objective_ids is not None:
            _set_swot_links(row, objective_ids)
        _bump(locked, actor)
    row.plan_version = locked.version
    return row


def section_item_update(
    *, actor: User, section: str, item_id: int, expected_version: int | None = None, reason: str = "", **fields: Any
) -> Any:
    """Change a section row (partial). SWOT: reclassifying needs both classifications; ``objective_ids``
    replaces the objectives it drives."""
    require_write(actor)
    _section_kind(section)
    row = _section_row(actor, section, item_id)
    plan = plan_get(actor=actor, plan_id=_plan_id_of(section, row))
    _check_contribute(actor, plan)
    if section == "swot_item":
        require_classification(actor, row.classification)
    fields = _prepare_section(actor, section, plan, dict(fields))
    for name in _section_kind(section)[1]:
        if name in fields and not fields[name]:
            raise ValidationFailed(_("This field is required."), field=name, code="required")
    objective_ids = _apply_section_fields(actor, section, row, fields)
    with audit_action(actor=actor, action=f"{_section_kind(section)[3]}.update", reason=reason):
        locked = _lock_plan(plan.pk, expected_version)
        row.save()
        if objective_ids is not None:
            _set_swot_links(row, objective_ids)
        _bump(locked, actor)
    row.plan_version = locked.version
    return row


def section_item_delete(
    *, actor: User, section: str, item_id: int, expected_version: int | None = None, reason: str = ""
) -> AccountPlan:
    require_write(actor)
    _section_kind(section)
    row = _section_row(actor, section, item_id)
    plan = plan_get(actor=actor, plan_id=_plan_id_of(section, row))
    _check_contribute(actor, plan)
    if section == "swot_item":
        require_classification(actor, row.classification)
    with audit_action(actor=actor, action=f"{_section_kind(section)[3]}.delete", reason=reason):
        locked = _lock_plan(plan.pk, expected_version)
        row.delete()
        _bump(locked, actor)
    return locked


def _set_swot_links(item: Any, objective_ids: list[int]) -> None:
    from openkam.plans.models import SwotObjective

    current = set(SwotObjective.objects.filter(swot_item=item).values_list("objective_id", flat=True))
    wanted = set(objective_ids)
    if current - wanted:
        for link in SwotObjective.objects.filter(swot_item=item, objective_id__in=current - wanted):
            link.delete()  # row by row: each removal is an audited delete
    SwotObjective.objects.bulk_create([SwotObjective(swot_item=item, objective_id=i) for i in sorted(wanted - current)])


# --- clone into the next period ------------------------------------------------------------------------
def plan_clone(
    *,
    actor: User,
    plan_id: int,
    period_start: dt.date,
    period_end: dt.date,
    name: str = "",
    reason: str = "",
) -> AccountPlan:
    """A new draft plan for the next period with the same content and progress reset: actions back to
    *not started*, steps and key actions undone, each objective's baseline = where it ended (its current
    value) and no current value yet, dates moved by the gap between the two periods. Only what the actor
    may see is copied (a medical-only tactic does not travel through a commercial user's clone)."""
    from openkam.plans import models as m

    require_write(actor)
    if not plan_can_create(actor=actor):
        raise PermissionDenied(_("Your role cannot create account plans."), code="plan_create_forbidden")
    source = plan_get(actor=actor, plan_id=plan_id)
    _check_dates(
        period_start, period_end, "period_end", _("The period must end on or after its start."), "period_order"
    )
    if period_start <= source.period_start:
        raise ValidationFailed(
            _("The next period must start after this plan's period starts (%(d)s).")
            % {"d": formats.date_format(source.period_start, "SHORT_DATE_FORMAT")},
            field="period_start",
            code="period_not_later",
        )
    shift = period_start - source.period_start

    def moved(d: dt.date | None) -> dt.date | None:
        return d + shift if d is not None else None

    visible = sorted(visible_classifications(actor))
    new_name = (name or "").strip() or _("%(name)s (next period)") % {"name": source.name}
    clone = AccountPlan(
        account=source.account,
        name=new_name[:255],
        period_start=period_start,
        period_end=period_end,
        owner=source.owner if can_write(source.owner) else actor,
        summary=source.summary,
        template=source.template,
        customer_priorities=source.customer_priorities,
        positioning=source.positioning,
        value_proposition=source.value_proposition,
        value_proposition_reviewed=False,
        strategy=source.strategy,
        cloned_from=source,
        changed_by=actor,
    )
    _validate(clone, exclude=["account", "owner", "template", "cloned_from", "changed_by"])
    with audit_action(actor=actor, action="plans.accountplan.clone", reason=reason):
        clone.save()
        m.CustomerPriority.objects.bulk_create(
            [
                m.CustomerPriority(
                    plan=clone,
                    title=p.title,
                    description=p.description,
                    shared_with_customer=p.shared_with_customer,
                    position=p.position,
                )
                for p in m.CustomerPriority.objects.filter(plan=source)
            ]
        )
        objective_map: dict[int, Any] = {}
        for o in Objective.objects.filter(plan=source).order_by("position", "pk"):
            objective_map[o.pk] = m.Objective.objects.create(
                plan=clone,
                title=o.title,
                description=o.description,
                metric=o.metric,
                baseline=o.current if o.current is not None else o.baseline,
                target=o.target,
                current=None,
                due_date=moved(o.due_date),
                indicator=o.indicator,
                owner=o.owner,
                shared_with_customer=o.shared_with_customer,
                position=o.position,
            )
        for t in Tactic.objects.filter(objective__plan=source, classification__in=visible).order_by("position", "pk"):
            new_tactic = Tactic.objects.create(
                objective=objective_map[t.objective_id],
                title=t.title,
                description=t.description,
                owner=t.owner,
                function=t.function,
                classification=t.classification,
                shared_with_customer=t.shared_with_customer,
                position=t.position,
            )
            Action.objects.bulk_create(
                [
                    Action(
                        tactic=new_tactic,
                        title=a.title,
                        description=a.description,
                        owner=a.owner,
                        assignee=a.assignee,
                        start_date=moved(a.start_date),
                        due_date=moved(a.due_date),
                        status=ActionStatus.NOT_STARTED,
                        is_milestone=a.is_milestone,
                        shared_with_customer=a.shared_with_customer,
                        position=a.position,
                    )
                    for a in t.actions.exclude(status=ActionStatus.CANCELLED).order_by("position", "pk")
                ]
            )
        for s_item in m.SwotItem.objects.filter(plan=source, classification__in=visible).prefetch_related(
            "objective_links"
        ):
            new_item = m.SwotItem.objects.create(
                plan=clone,
                kind=s_item.kind,
                title=s_item.title,
                evidence=s_item.evidence,
                classification=s_item.classification,
                position=s_item.position,
            )
            m.SwotObjective.objects.bulk_create(
                [
                    m.SwotObjective(swot_item=new_item, objective=objective_map[link.objective_id])
                    for link in s_item.objective_links.all()
                    if link.objective_id in objective_map
                ]
            )
        goal_map: dict[int, Any] = {}
        for g in m.Goal.objects.filter(plan=source):
            goal_map[g.pk] = m.Goal.objects.create(
                plan=clone, title=g.title, description=g.description, position=g.position
            )
        for c in m.CriticalSuccessFactor.objects.filter(plan=source).prefetch_related("key_actions"):
            new_csf = m.CriticalSuccessFactor.objects.create(
                plan=clone,
                goal=goal_map.get(c.goal_id) if c.goal_id else None,
                title=c.title,
                description=c.description,
                position=c.position,
            )
            m.KeyAction.objects.bulk_create(
                [
                    m.KeyAction(
                        csf=new_csf, title=k.title, owner=k.owner, due_date=moved(k.due_date), position=k.position
                    )
                    for k in c.key_actions.all()
                ]
            )
        for st in m.PlanStage.objects.filter(plan=source).prefetch_related("steps"):
            new_stage = m.PlanStage.objects.create(
                plan=clone, name=st.name, description=st.description, position=st.position
            )
            m.PlanStep.objects.bulk_create(
                [m.PlanStep(stage=new_stage, title=x.title, position=x.position) for x in st.steps.all()]
            )
    return clone


# --- the customer's agreement -----------------------------------------------------------------------------
def customer_agreement_record(
    *,
    actor: User,
    plan_id: int,
    agreed_on: dt.date,
    signatory_name: str,
    signatory_title: str = "",
    stakeholder_id: int | None = None,
    note: str = "",
    expected_version: int | None = None,
    reason: str = "",
) -> Any:
    """Record that the customer agreed to the co-created plan (date and signatory), on the current version.
    The plan owner or a lead; not in the future; the plan must share something with the customer."""
    from openkam.plans.models import CustomerAgreement
    from openkam.stakeholders.selectors import stakeholder_get

    require_write(actor)
    plan = plan_get(actor=actor, plan_id=plan_id)
    if not is_plan_manager(actor, plan):
        raise PermissionDenied(
            _("Only the plan owner or a KAM lead can record the customer's agreement."), code="agreement_forbidden"
        )
    _check_contribute(actor, plan)
    signatory_name = (signatory_name or "").strip()
    if not signatory_name:
        raise ValidationFailed(_("Name who signed for the customer."), field="signatory_name", code="required")
    if agreed_on is None:
        raise ValidationFailed(_("Give the date of the agreement."), field="agreed_on", code="required")
    if agreed_on > timezone.localdate():
        raise ValidationFailed(
            _("An agreement cannot be dated in the future."), field="agreed_on", code="date_in_future"
        )
    shared = (
        Objective.objects.filter(plan_id=plan.pk, shared_with_customer=True).exists()
        or Tactic.objects.filter(objective__plan_id=plan.pk, shared_with_customer=True).exists()
        or Action.objects.filter(tactic__objective__plan_id=plan.pk, shared_with_customer=True).exists()
    )
    if not shared:
        raise RuleViolation(
            _("Nothing in this plan is shared with the customer yet: mark objectives, actions or milestones first."),
            code="nothing_shared",
        )
    stakeholder = stakeholder_get(actor=actor, stakeholder_id=stakeholder_id) if stakeholder_id else None
    agreement = CustomerAgreement(
        plan=plan,
        agreed_on=agreed_on,
        signatory_name=signatory_name,
        signatory_title=(signatory_title or "").strip(),
        stakeholder=stakeholder,
        note=(note or "").strip(),
        plan_version=plan.version,
        recorded_by=actor,
    )
    _validate(agreement, exclude=["plan", "stakeholder", "recorded_by"])
    with audit_action(actor=actor, action="plans.customeragreement.create", reason=reason):
        locked = _lock_plan(plan.pk, expected_version)
        agreement.plan_version = locked.version
        agreement.save()
    return agreement


# --- templates (administrators) -----------------------------------------------------------------------
TEMPLATE_FIELDS = frozenset(
    {
        "name",
        "description",
        "account_types",
        "is_default",
        "sections",
        "required_fields",
        "stale_after_days",
        "is_active",
    }
)


def plan_template_save(
    *,
    actor: User,
    template_id: int | None = None,
    stages: list[tuple[str, list[str]]] | None = None,
    reason: str = "",
    **fields: Any,
) -> PlanTemplate:
    """Create or change a plan template (administrators). ``stages`` replaces the stages and their steps
    (``[(stage name, [step, ...]), ...]``); existing plans keep the checklist they were created with."""
    from openkam.accounts.models import AccountType
    from openkam.plans.models import PlanSection, RequiredField, TemplateStage, TemplateStep

    require_write(actor)
    if not is_admin(actor):
        raise PermissionDenied(_("Only an administrator can change plan templates."), code="admin_only")
    _check_fields(fields, TEMPLATE_FIELDS)
    template = PlanTemplate() if template_id is None else PlanTemplate.objects.filter(pk=template_id).first()
    if template is None:
        from openkam.core.errors import NotFound

        raise NotFound(_("No such plan template."), code="template_not_found")
    for key, choices in (
        ("account_types", AccountType.values),
        ("sections", PlanSection.values),
        ("required_fields", RequiredField.values),
    ):
        if key in fields:
            values = list(dict.fromkeys(fields[key] or []))
            bad = [v for v in values if v not in choices]
            if bad:
                raise ValidationFailed(_("Unknown value “%(v)s”.") % {"v": bad[0]}, field=key, code="invalid_choice")
            fields[key] = values
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    for key, value in fields.items():
        setattr(template, key, value)
    if not template.name:
        raise ValidationFailed(_("A template needs a name."), field="name", code="required")
    if PlanTemplate.objects.filter(name__iexact=template.name).exclude(pk=template.pk).exists():
        raise ValidationFailed(_("Another template has this name."), field="name", code="unique")
    if template.stale_after_days is not None and not 1 <= int(template.stale_after_days) <= 3650:
        raise ValidationFailed(_("Between 1 and 3,650 days."), field="stale_after_days", code="out_of_range")
    clean_stages: list[tuple[str, list[str]]] = []
    for stage_name, steps in stages or []:
        stage_name = (stage_name or "").strip()
        if not stage_name:
            raise ValidationFailed(_("Every stage needs a name."), field="stages", code="required")
        clean_stages.append((stage_name[:200], [s.strip()[:255] for s in steps if s and s.strip()]))
    _validate(template, exclude=[])
    with audit_action(actor=actor, action="plans.plantemplate.save", reason=reason):
        if template.is_default:
            PlanTemplate.objects.filter(is_default=True).exclude(pk=template.pk).update(is_default=False)
        template.save()
        if stages is not None:
            template.stages.all().delete()
            for i, (stage_name, steps) in enumerate(clean_stages, start=1):
                stage = TemplateStage.objects.create(template=template, name=stage_name, position=i)
                TemplateStep.objects.bulk_create(
                    [TemplateStep(stage=stage, title=t, position=j) for j, t in enumerate(steps, start=1)]
                )
    return template


# --- knowledge transfer (used by the handover app) -------------------------------------------------
def plan_work_reassign(
    *,
    actor: User,
    from_user_id: int,
    to_user_id: int,
    account_ids: list[int],
    reason: str = "",
    dry_run: bool = False,
) -> dict[int, dict[str, int]]:
    """Hand a person's plan work at ``account_ids`` (ids the caller fetched through access-checked selectors) over
    to another: ownership of plans that are not closed and of their objectives and tactics, and the open actions
    (not done or cancelled) they own or are assigned. Closed plans and finished work keep their people (history).
    Only work the actor may see moves; work the new person may not see (classification) is refused.

    Returns the counts per account id: ``plans``, ``objectives``, ``tactics``, ``actions`` (rows changed).
    ``dry_run`` only counts. Each changed plan's version is bumped, so an open editor gets a conflict instead of
    overwriting. Runs inside the caller's transaction (its own savepoint).
    """
    from django.db.models import Count, Q

    from openkam.plans.selectors import action_scope, plan_scope, tactic_scope

    if not dry_run:
        require_write(actor)
    target = User.objects.filter(pk=to_user_id).first()
    if target is None or not target.is_active:
        raise ValidationFailed(_("Choose an active user to hand over to."), field="to_user_id", code="user_inactive")
    if not can_write(target):
        raise ValidationFailed(
            _("%(u)s has a read-only role and cannot own plans or actions.") % {"u": target},
            field="to_user_id",
            code="read_only_user",
        )
    open_plans = plan_scope(actor=actor).filter(account_id__in=list(account_ids)).exclude(status=PlanStatus.CLOSED)
    plans = open_plans.filter(owner_id=from_user_id)
    objectives = Objective.objects.filter(plan__in=open_plans, owner_id=from_user_id)
    tactics = tactic_scope(actor=actor).filter(objective__plan__in=open_plans, owner_id=from_user_id)
    held = Q(owner_id=from_user_id) | Q(assignee_id=from_user_id)
    actions = (
        action_scope(actor=actor)
        .filter(held, tactic__objective__plan__account_id__in=list(account_ids))
        .exclude(status__in=[ActionStatus.DONE, ActionStatus.CANCELLED])
    )
    hidden = (
        actions.exclude(tactic__classification__in=sorted(visible_classifications(target)))
        .values_list("tactic__classification", flat=True)
        .distinct()
    )
    hidden_labels = sorted(str(Classification(c).label) for c in hidden)
    if hidden_labels:
        raise ValidationFailed(
            _("%(u)s may not see work classified %(c)s, which is part of this handover; choose someone who may.")
            % {"u": target, "c": ", ".join(f"“{c}”" for c in hidden_labels)},
            field="to_user_id",
            code="user_cannot_see",
        )
    counts: dict[int, dict[str, int]] = {}

    def add(rows: Any, account_field: str, key: str) -> None:
        for row in rows.values(account_field).annotate(n=Count("pk")).order_by():
            counts.setdefault(row[account_field], {"plans": 0, "objectives": 0, "tactics": 0, "actions": 0})[key] = row[
                "n"
            ]

    add(plans, "account_id", "plans")
    add(objectives, "plan__account_id", "objectives")
    add(tactics, "objective__plan__account_id", "tactics")
    add(actions, "tactic__objective__plan__account_id", "actions")
    if dry_run or not counts:
        return counts
    with audit_action(actor=actor, action="plans.work.reassign", reason=reason):
        touched = set(plans.values_list("pk", flat=True))
        touched |= set(objectives.values_list("plan_id", flat=True))
        touched |= set(tactics.values_list("objective__plan_id", flat=True))
        touched |= set(actions.values_list("tactic__objective__plan_id", flat=True))
        locked = list(AccountPlan.objects.select_for_update(of=("self",)).filter(pk__in=touched).order_by("pk"))
        now = timezone.now()
        action_ids = list(actions.values_list("pk", flat=True))
        Action.objects.filter(pk__in=action_ids, owner_id=from_user_id).update(owner_id=to_user_id, updated_at=now)
        Action.objects.filter(pk__in=action_ids, assignee_id=from_user_id).update(
            assignee_id=to_user_id, updated_at=now
        )
        Tactic.objects.filter(pk__in=list(tactics.values_list("pk", flat=True))).update(
            owner_id=to_user_id, updated_at=now
        )
        Objective.objects.filter(pk__in=list(objectives.values_list("pk", flat=True))).update(
            owner_id=to_user_id, updated_at=now
        )
        AccountPlan.objects.filter(pk__in=list(plans.values_list("pk", flat=True))).update(owner_id=to_user_id)
        for plan in locked:
            _bump(plan, actor)
    return counts
