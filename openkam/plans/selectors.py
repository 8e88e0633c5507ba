"""Plan reads, scoped to the actor's accounts (and, for tactics/actions, their classifications).

Completion roll-up (ADR 0001 §5 — over what the reader may see):

* an action that is done counts as complete; a cancelled action is left out;
* tactic % = done / non-cancelled actions (no non-cancelled action → no figure);
* objective % = mean of its *visible* tactics that have a figure;
* plan % = mean of its objectives that have a figure.

Lists get the plan figure from one SQL expression (:class:`PlanCompletion`); the plan page gets every
level from one aggregate query over the visible tactics. Neither grows with the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db.models import CharField, Count, F, FloatField, Func, Q, QuerySet, Value
from django.utils import timezone
from django.utils.translation import gettext as _
from pghistory.models import Events

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope, account_subtree
from openkam.core.access import classification_q, visible_classifications
from openkam.core.errors import NotFound
from openkam.core.models import User
from openkam.plans.models import AccountPlan, Action, ActionStatus, Objective, Tactic

OPEN_ACTION_STATUSES = (ActionStatus.NOT_STARTED, ActionStatus.IN_PROGRESS, ActionStatus.BLOCKED)


# --- completion ------------------------------------------------------------------------------------
_PLAN_COMPLETION_SQL = f"""(
SELECT AVG(o.pct)::float FROM (
  SELECT AVG(t.pct) AS pct FROM (
    SELECT tc.objective_id,
           100.0 * COUNT(*) FILTER (WHERE a.status = '{ActionStatus.DONE.value}')
             / NULLIF(COUNT(*) FILTER (WHERE a.status <> '{ActionStatus.CANCELLED.value}'), 0) AS pct
    FROM {Action._meta.db_table} a
    JOIN {Tactic._meta.db_table} tc ON tc.id = a.tactic_id
    JOIN {Objective._meta.db_table} ob ON ob.id = tc.objective_id
    WHERE ob.plan_id = {{plan}} AND tc.classification = ANY({{classes}})
    GROUP BY tc.id, tc.objective_id
  ) t GROUP BY t.objective_id
) o)"""


class PlanCompletion(Func):
    """The plan's completion % (0–100, or NULL when nothing is measurable) over the given classifications.

    Annotate a plan queryset with it: ``qs.annotate(completion=PlanCompletion(visible_classifications(u)))``.
    The plan reference is compiled by Django, so it keeps working when the queryset is relabelled.
    """

    output_field = FloatField()

    def __init__(self, classifications: Iterable[str]) -> None:
        super().__init__(F("pk"), Value(sorted(classifications), output_field=ArrayField(CharField())))

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        plan_ref, classes = self.get_source_expressions()
        plan_sql, plan_params = compiler.compile(plan_ref)
        classes_sql, classes_params = compiler.compile(classes)
        return _PLAN_COMPLETION_SQL.format(plan=plan_sql, classes=classes_sql), [*plan_params, *classes_params]


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the figures that exist (``None`` = nothing measurable, left out)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def tactic_percent(done: int, active: int) -> float | None:
    return 100.0 * done / active if active else None


# --- scopes and single rows ------------------------------------------------------------------------
def plan_scope(*, actor: User) -> QuerySet[AccountPlan]:
    return AccountPlan.objects.filter(account__in=account_scope(actor=actor))


def objective_scope(*, actor: User) -> QuerySet[Objective]:
    return Objective.objects.filter(plan__in=plan_scope(actor=actor))


def tactic_scope(*, actor: User) -> QuerySet[Tactic]:
    """Tactics of visible plans whose classification the actor may see."""
    return Tactic.objects.filter(classification_q(actor), objective__plan__in=plan_scope(actor=actor))


def action_scope(*, actor: User) -> QuerySet[Action]:
    """Actions inherit their tactic's classification."""
    return Action.objects.filter(
        classification_q(actor, "tactic__classification"), tactic__objective__plan__in=plan_scope(actor=actor)
    )


def plan_list(
    *,
    actor: User,
    account: Account | None = None,
    include_descendants: bool = False,
    statuses: Iterable[str] | None = None,
    owner: User | None = None,
    with_completion: bool = True,
) -> QuerySet[AccountPlan]:
    """Visible plans, optionally of one account (and the accounts below it), by status, by owner.

    ``account`` must come from an access-checked selector (``account_get``): its plans and those below it
    are then selected by account id alone, without re-applying the actor's whole scope.

    Each plan carries ``completion`` (float 0–100 or None), computed over what the actor may see — unless
    ``with_completion`` is False (a list that does not show it: the figure is a subquery per plan, and
    planning it costs more than the whole list).
    """
    if account is None:
        qs = plan_scope(actor=actor)
    elif include_descendants:  # everything below a visible account is visible: its ids are the scope
        qs = AccountPlan.objects.filter(account_id__in=account_subtree(account=account))
    else:
        qs = AccountPlan.objects.filter(account_id=account.pk)
    qs = qs.select_related("account", "owner")
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    if owner is not None:
        qs = qs.filter(owner_id=owner.pk)
    if with_completion:
        qs = qs.annotate(completion=PlanCompletion(visible_classifications(actor)))
    return qs.order_by("-period_start", "name", "pk")


def plan_status_counts(*, actor: User, account: Account | None = None, owner: User | None = None) -> dict[str, int]:
    """How many visible plans are in each status (one query)."""
    qs = plan_scope(actor=actor)
    if account is not None:
        qs = qs.filter(account_id=account.pk)
    if owner is not None:
        qs = qs.filter(owner_id=owner.pk)
    return {row["status"]: row["n"] for row in qs.values("status").annotate(n=Count("pk")).order_by()}


def plan_accounts(*, actor: User) -> list[tuple[int, str]]:
    """(id, name) of the accounts that have plans the actor may see (for filters)."""
    rows = plan_scope(actor=actor).values_list("account_id", "account__name").distinct()
    return sorted(rows, key=lambda r: (r[1].lower(), r[0]))


def plan_owners(*, actor: User) -> QuerySet[User]:
    """The people owning plans the actor may see (for filters)."""
    return User.objects.filter(pk__in=plan_scope(actor=actor).values("owner_id")).order_by(
        "last_name", "first_name", "username"
    )


def plan_get(*, actor: User, plan_id: int) -> AccountPlan:
    """One visible plan (with ``completion``), or NotFound."""
    plan = (
        plan_scope(actor=actor)
        .select_related("account", "owner", "changed_by", "approved_by")
        .annotate(completion=PlanCompletion(visible_classifications(actor)))
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise NotFound(_("No such plan."), code="plan_not_found")
    return plan


def objective_get(*, actor: User, objective_id: int) -> Objective:
    obj = objective_scope(actor=actor).select_related("plan", "plan__account", "owner").filter(pk=objective_id).first()
    if obj is None:
        raise NotFound(_("No such objective."), code="objective_not_found")
    return obj


def tactic_get(*, actor: User, tactic_id: int) -> Tactic:
    """One tactic the actor may see; a tactic of a hidden classification is indistinguishable from none."""
    tactic = (
        tactic_scope(actor=actor)
        .select_related("objective", "objective__plan", "objective__plan__account", "owner")
        .filter(pk=tactic_id)
        .first()
    )
    if tactic is None:
        raise NotFound(_("No such tactic."), code="tactic_not_found")
    return tactic


def action_get(*, actor: User, action_id: int) -> Action:
    action = (
        action_scope(actor=actor)
        .select_related(
            "tactic",
            "tactic__objective",
            "tactic__objective__plan",
            "tactic__objective__plan__account",
            "owner",
            "assignee",
        )
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        raise NotFound(_("No such action."), code="action_not_found")
    return action


def action_list(
    *,
    actor: User,
    assignee: User | None = None,
    statuses: Iterable[str] | None = None,
    plan_id: int | None = None,
) -> QuerySet[Action]:
    """Visible actions across plans (e.g. "my open actions"), soonest due first."""
    qs = action_scope(actor=actor).select_related(
        "tactic",
        "tactic__objective",
        "tactic__objective__plan",
        "tactic__objective__plan__account",
        "assignee",
        "owner",
    )
    if assignee is not None:
        qs = qs.filter(assignee_id=assignee.pk)
    if statuses is not None:
        qs = qs.filter(status__in=list(statuses))
    if plan_id is not None:
        qs = qs.filter(tactic__objective__plan_id=plan_id)
    return qs.order_by(F("due_date").asc(nulls_last=True), "pk")


# --- the plan tree -----------------------------------------------------------------------------------
@dataclass
class TacticNode:
    tactic: Tactic
    actions: list[Action] = field(default_factory=list)
    done: int = 0
    active: int = 0

    @property
    def completion(self) -> float | None:
        return tactic_percent(self.done, self.active)


@dataclass
class ObjectiveNode:
    objective: Objective
    tactics: list[TacticNode] = field(default_factory=list)

    @property
    def completion(self) -> float | None:
        return mean(t.completion for t in self.tactics)


@dataclass
class PlanTree:
    plan: AccountPlan
    objectives: list[ObjectiveNode] = field(default_factory=list)
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def completion(self) -> float | None:
        return mean(o.completion for o in self.objectives)

    def tactics(self) -> list[TacticNode]:
        return [t for o in self.objectives for t in o.tactics]

    def actions(self) -> list[Action]:
        return [a for t in self.tactics() for a in t.actions]

    @property
    def counts(self) -> dict[str, int]:
        actions = self.actions()
        return {
            "objectives": len(self.objectives),
            "tactics": len(self.tactics()),
            "actions": len(actions),
            "done": sum(1 for a in actions if a.status == ActionStatus.DONE),
            "open": sum(1 for a in actions if a.status in OPEN_ACTION_STATUSES),
            "overdue": sum(1 for a in actions if is_overdue(a, self.today)),
        }

    def objective(self, objective_id: int) -> ObjectiveNode | None:
        return next((o for o in self.objectives if o.objective.pk == objective_id), None)

    def tactic(self, tactic_id: int) -> TacticNode | None:
        return next((t for t in self.tactics() if t.tactic.pk == tactic_id), None)


def is_overdue(action: Action, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(action.due_date and action.due_date < today and action.status in OPEN_ACTION_STATUSES)


def plan_tree(*, actor: User, plan: AccountPlan) -> PlanTree:
    """Objectives → visible tactics → their actions, with completion at every level.

    Three queries whatever the plan's size: objectives; visible tactics with their done/active counts
    (one aggregate); their actions. ``plan`` must come from :func:`plan_get` (access-checked).
    """
    objectives = list(Objective.objects.filter(plan_id=plan.pk).select_related("owner").order_by("position", "pk"))
    tactics = list(
        Tactic.objects.filter(classification_q(actor), objective__plan_id=plan.pk)
        .select_related("owner")
        .annotate(
            n_done=Count("actions", filter=Q(actions__status=ActionStatus.DONE)),
            n_active=Count("actions", filter=~Q(actions__status=ActionStatus.CANCELLED)),
        )
        .order_by("position", "pk")
    )
    actions = list(
        Action.objects.filter(tactic__in=[t.pk for t in tactics])
        .select_related("owner", "assignee")
        .order_by("position", "pk")
        if tactics
        else []
    )
    nodes = {o.pk: ObjectiveNode(o) for o in objectives}
    tactic_nodes: dict[int, TacticNode] = {}
    for t in tactics:
        node = TacticNode(t, done=t.n_done, active=t.n_active)  # type: ignore[attr-defined]
        tactic_nodes[t.pk] = node
        nodes[t.objective_id].tactics.append(node)
    for a in actions:
        node = tactic_nodes[a.tactic_id]
        a.tactic = node.tactic  # already loaded: templates read the classification without a query
        node.actions.append(a)
    return PlanTree(plan=plan, objectives=list(nodes.values()))


# --- history -------------------------------------------------------------------------------------------
def _visible_child_ids(*, actor: User, plan: AccountPlan) -> tuple[list[int], list[int], list[int]]:
    """Ids (also of deleted rows) of the plan's objectives, and of the tactics and actions the actor may see.

    A tactic counts as visible only if *every* recorded version of it had a visible classification, so a
    reclassified tactic never leaks what it said while it was hidden from this reader.
    """
    objective_events = Objective.pgh_event_model.objects  # type: ignore[attr-defined]
    tactic_events = Tactic.pgh_event_model.objects  # type: ignore[attr-defined]
    action_events = Action.pgh_event_model.objects  # type: ignore[attr-defined]
    visible = sorted(visible_classifications(actor))
    objective_ids = list(objective_events.filter(plan_id=plan.pk).values_list("pgh_obj_id", flat=True).distinct())
    tactic_ids = list(
        tactic_events.filter(objective_id__in=objective_ids)
        .values("pgh_obj_id")
        .annotate(hidden=Count("pgh_id", filter=~Q(classification__in=visible)))
        .filter(hidden=0)
        .values_list("pgh_obj_id", flat=True)
    )
    action_ids = list(
        action_events.filter(tactic_id__in=tactic_ids).values_list("pgh_obj_id", flat=True).distinct()
        if tactic_ids
        else []
    )
    return objective_ids, tactic_ids, action_ids


def plan_history(*, actor: User, plan: AccountPlan, limit: int = 50) -> list[Any]:
    """The newest ``limit`` audit events of the plan and of its objectives, tactics and actions —
    never of a tactic or action the actor may not see. A constant number of queries."""
    objective_ids, tactic_ids, action_ids = _visible_child_ids(actor=actor, plan=plan)
    groups: list[list[Any]] = [[AccountPlan(pk=plan.pk)]]
    groups += [[model(pk=pk) for pk in ids] for model, ids in ((Objective, objective_ids), (Tactic, tactic_ids))]
    groups.append([Action(pk=pk) for pk in action_ids])
    events: list[Any] = []
    for objs in groups:
        if objs:  # an empty tracks() would mean "every row": never call it empty
            events += list(Events.objects.tracks(objs).order_by("-pgh_created_at", "-pgh_id")[:limit])
    events.sort(key=lambda e: (e.pgh_created_at, e.pgh_id), reverse=True)
    return events[:limit]
