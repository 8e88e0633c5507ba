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
    return with_rot(qs).order_by("-period_start", "name", "pk")


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
        with_rot(
            plan_scope(actor=actor)
            .select_related("account", "owner", "changed_by", "approved_by", "template")
            .annotate(completion=PlanCompletion(visible_classifications(actor)))
        )
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


# --- plan sections ------------------------------------------------------------------------------------
@dataclass
class CsfNode:
    csf: Any
    key_actions: list[Any] = field(default_factory=list)


@dataclass
class GoalNode:
    goal: Any
    csfs: list[CsfNode] = field(default_factory=list)


@dataclass
class StageNode:
    stage: Any
    steps: list[Any] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for s in self.steps if s.done)

    @property
    def completion(self) -> float | None:
        return 100.0 * self.done / len(self.steps) if self.steps else None


@dataclass
class PlanSections:
    """Every section of a plan besides the objective tree, for one reader (SWOT within their classifications)."""

    template: Any
    priorities: list[Any]
    swot: dict[str, list[Any]]
    csfs: list[CsfNode]
    goals: list[GoalNode]
    loose_csfs: list[CsfNode]
    stages: list[StageNode]
    agreements: list[Any]
    reviews: list[Any]
    snapshots: list[Any]

    @property
    def shown(self) -> set[str]:
        """The sections the plan's template includes (templates test ``"swot" in sections.shown``)."""
        from openkam.plans.models import PlanSection

        return {s for s in PlanSection.values if self.shows(s)}

    def shows(self, section: str) -> bool:
        """Does the plan's template include this section? (No template: every section.)"""
        return self.template is None or not self.template.sections or section in self.template.sections

    @property
    def steps_total(self) -> int:
        return sum(len(s.steps) for s in self.stages)

    @property
    def steps_done(self) -> int:
        return sum(s.done for s in self.stages)

    @property
    def stage_completion(self) -> float | None:
        return 100.0 * self.steps_done / self.steps_total if self.steps_total else None


def plan_sections(*, actor: User, plan: AccountPlan) -> PlanSections:
    """The plan's sections in a fixed number of queries (one per kind of row). ``plan`` from :func:`plan_get`."""
    from openkam.plans.models import (
        CriticalSuccessFactor,
        CustomerAgreement,
        CustomerPriority,
        Goal,
        KeyAction,
        PlanReview,
        PlanSnapshot,
        PlanStage,
        PlanStep,
        PlanTemplate,
        SwotItem,
        SwotKind,
        SwotObjective,
    )

    template = PlanTemplate.objects.filter(pk=plan.template_id).first() if plan.template_id else None
    priorities = list(CustomerPriority.objects.filter(plan_id=plan.pk).order_by("position", "pk"))
    swot_items = list(
        SwotItem.objects.filter(classification_q(actor), plan_id=plan.pk).order_by("kind", "position", "pk")
    )
    links: dict[int, list[int]] = {}
    if swot_items:
        for item_id, objective_id in SwotObjective.objects.filter(swot_item__in=[i.pk for i in swot_items]).values_list(
            "swot_item_id", "objective_id"
        ):
            links.setdefault(item_id, []).append(objective_id)
    swot: dict[str, list[Any]] = {k: [] for k in SwotKind.values}
    for item in swot_items:
        item.objective_ids = links.get(item.pk, [])  # type: ignore[attr-defined]
        swot[item.kind].append(item)
    goals = [GoalNode(g) for g in Goal.objects.filter(plan_id=plan.pk).order_by("position", "pk")]
    csf_nodes = [CsfNode(c) for c in CriticalSuccessFactor.objects.filter(plan_id=plan.pk).order_by("position", "pk")]
    by_csf = {n.csf.pk: n for n in csf_nodes}
    if csf_nodes:
        for k in KeyAction.objects.filter(csf__plan_id=plan.pk).select_related("owner").order_by("position", "pk"):
            by_csf[k.csf_id].key_actions.append(k)
    by_goal = {g.goal.pk: g for g in goals}
    loose = []
    for n in csf_nodes:
        if n.csf.goal_id in by_goal:
            by_goal[n.csf.goal_id].csfs.append(n)
        else:
            loose.append(n)
    stages = [StageNode(s) for s in PlanStage.objects.filter(plan_id=plan.pk).order_by("position", "pk")]
    by_stage = {s.stage.pk: s for s in stages}
    if stages:
        for st in PlanStep.objects.filter(stage__plan_id=plan.pk).select_related("done_by").order_by("position", "pk"):
            by_stage[st.stage_id].steps.append(st)
    return PlanSections(
        template=template,
        priorities=priorities,
        swot=swot,
        csfs=csf_nodes,
        goals=goals,
        loose_csfs=loose,
        stages=stages,
        agreements=list(
            CustomerAgreement.objects.filter(plan_id=plan.pk)
            .select_related("recorded_by")
            .order_by("-agreed_on", "-pk")
        ),
        reviews=list(
            PlanReview.objects.filter(plan_id=plan.pk).select_related("author").order_by("-created_at", "-pk")[:20]
        ),
        snapshots=list(
            PlanSnapshot.objects.filter(plan_id=plan.pk).select_related("approved_by").defer("data").order_by("-number")
        ),
    )


def plan_templates(*, actor: User, active_only: bool = False) -> QuerySet[Any]:
    """Plan templates (everyone may read them: they say what a plan needs)."""
    from openkam.plans.models import PlanTemplate

    qs = PlanTemplate.objects.prefetch_related("stages__steps").order_by("name")
    return qs.filter(is_active=True) if active_only else qs


def plan_template_get(*, actor: User, template_id: int) -> Any:
    template = plan_templates(actor=actor).filter(pk=template_id).first()
    if template is None:
        raise NotFound(_("No such plan template."), code="template_not_found")
    return template


# --- health: progress toward target, red/amber/green with the reason -------------------------------
RAG_GREEN, RAG_AMBER, RAG_RED, RAG_NONE = "green", "amber", "red", "none"


@dataclass
class Health:
    status: str  # green / amber / red / none (nothing to judge yet)
    reasons: list[str]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def objective_progress(objective: Objective) -> float | None:
    """Progress toward target in % (baseline → target, capped 0–150); None when not quantitative."""
    if objective.target is None or objective.current is None:
        return None
    baseline = objective.baseline if objective.baseline is not None else 0
    span = objective.target - baseline
    if span == 0:
        return 100.0 if objective.current == objective.target else 0.0
    value = float((objective.current - baseline) / span * 100)
    return max(0.0, min(150.0, value))


def _expected(plan: AccountPlan, objective: Objective, today: dt.date) -> float | None:
    """Share of the time from the plan's start to the objective's due date that has passed (0–100)."""
    due = objective.due_date
    if due is None:
        return None
    start = plan.period_start
    if due <= start:
        return 100.0
    return max(0.0, min(100.0, 100.0 * (today - start).days / (due - start).days))


def objective_health(plan: AccountPlan, node: ObjectiveNode, today: dt.date) -> Health:
    """Red/amber/green for one objective, with the reasons a reader can act on."""
    o = node.objective
    progress = objective_progress(o)
    expected = _expected(plan, o, today)
    actions = [a for t in node.tactics for a in t.actions]
    overdue = sum(1 for a in actions if is_overdue(a, today))
    blocked = sum(1 for a in actions if a.status == ActionStatus.BLOCKED)
    completion = node.completion
    reasons: list[str] = []
    status = RAG_GREEN
    done = (progress is not None and progress >= 100) or (progress is None and completion == 100)

    def worse(level: str, why: str) -> None:
        nonlocal status
        order = [RAG_NONE, RAG_GREEN, RAG_AMBER, RAG_RED]
        if order.index(level) > order.index(status):
            status = level
        reasons.append(why)

    if o.due_date and o.due_date < today and not done:
        worse(RAG_RED, _("due date passed without reaching the target"))
    if progress is not None and expected is not None and not done:
        gap = expected - progress
        if gap > 25:
            worse(RAG_RED, _("%(p)d%% of target, %(e)d%% expected by now") % {"p": progress, "e": expected})
        elif gap > 10:
            worse(RAG_AMBER, _("%(p)d%% of target, %(e)d%% expected by now") % {"p": progress, "e": expected})
    if overdue:
        worse(
            RAG_RED if actions and overdue * 2 >= len(actions) else RAG_AMBER,
            _("%(n)d overdue action(s)") % {"n": overdue},
        )
    if blocked:
        worse(RAG_AMBER, _("%(n)d blocked action(s)") % {"n": blocked})
    if progress is None and completion is None and status == RAG_GREEN:
        return Health(
            RAG_NONE,
            [
                _("no current value and no actions to measure yet")
                if o.target is not None
                else _("no target and no actions to measure yet")
            ],
        )
    if status == RAG_GREEN:
        if done:
            reasons.append(_("target reached") if progress is not None else _("all actions done"))
        elif progress is not None:
            reasons.append(_("%(p)d%% of target, on track") % {"p": progress})
        else:
            reasons.append(_("actions on schedule"))
    return Health(status, reasons)


def plan_health(tree: PlanTree, stale: bool = False) -> tuple[Health, dict[int, Health]]:
    """Each objective's health, and the plan's: red when a third or more of its judged objectives are red,
    amber when any is red or amber (or the plan is stale), else green — with the reasons counted."""
    per = {n.objective.pk: objective_health(tree.plan, n, tree.today) for n in tree.objectives}
    judged = [h for h in per.values() if h.status != RAG_NONE]
    red = sum(1 for h in judged if h.status == RAG_RED)
    amber = sum(1 for h in judged if h.status == RAG_AMBER)
    reasons = []
    if red:
        reasons.append(_("%(n)d of %(t)d objectives red") % {"n": red, "t": len(judged)})
    if amber:
        reasons.append(_("%(n)d of %(t)d objectives amber") % {"n": amber, "t": len(judged)})
    if stale:
        reasons.append(_("no meaningful update for too long"))
    if not judged:
        return Health(RAG_AMBER if stale else RAG_NONE, reasons or [_("no measurable objective yet")]), per
    if red and red * 3 >= len(judged):
        status = RAG_RED
    elif red or amber or stale:
        status = RAG_AMBER
    else:
        status = RAG_GREEN
        reasons.append(_("all %(n)d measured objectives on track") % {"n": len(judged)})
    return Health(status, reasons), per


# --- plan rot ---------------------------------------------------------------------------------------------
def stale_after_days(plan: AccountPlan, template: Any = None) -> int:
    from django.conf import settings

    if template is not None:
        return int(template.stale_after_days)
    return int(getattr(settings, "OPENKAM_PLAN_STALE_AFTER_DAYS", 30))


def plan_rot(plan: AccountPlan, template: Any = None, now: dt.datetime | None = None) -> tuple[int, int, bool]:
    """(days since the last meaningful update, threshold, stale?) — closed plans never rot."""
    now = now or timezone.now()
    days = max(0, (now - plan.last_meaningful_update_at).days)
    limit = stale_after_days(plan, template)
    return days, limit, plan.status != "closed" and days >= limit


def with_rot(qs: QuerySet[AccountPlan]) -> QuerySet[AccountPlan]:
    """Annotate ``stale_after`` (the template's threshold or the setting) and ``is_stale`` in SQL, so lists
    show stale plans without a query per row."""
    from django.conf import settings
    from django.db.models import BooleanField, Case, DateTimeField, DurationField, ExpressionWrapper, IntegerField, When
    from django.db.models.functions import Coalesce, Now

    default = int(getattr(settings, "OPENKAM_PLAN_STALE_AFTER_DAYS", 30))
    qs = qs.annotate(stale_after=Coalesce(F("template__stale_after_days"), Value(default), output_field=IntegerField()))
    cutoff = ExpressionWrapper(
        Now() - ExpressionWrapper(Value(dt.timedelta(days=1)) * F("stale_after"), output_field=DurationField()),
        output_field=DateTimeField(),
    )
    return qs.annotate(
        is_stale=Case(
            When(status="closed", then=Value(False)),
            When(last_meaningful_update_at__lte=cutoff, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


# --- completeness ---------------------------------------------------------------------------------------
@dataclass
class Gap:
    code: str
    message: str
    section: str
    required: bool = False  # named by the plan's template


@dataclass
class Completeness:
    score: int  # 0–100
    checks: int
    gaps: list[Gap]


def account_has_decision_maker(*, actor: User, account: Account) -> bool:
    """Is a current decision maker mapped at the account or below it (stakeholders' positions)?"""
    from openkam.stakeholders.selectors import account_positions

    return (
        account_positions(actor=actor, account=account, include_descendants=True, include_ended=False)
        .filter(role_in_decision="decision_maker")
        .order_by()
        .exists()
    )


def plan_completeness(
    *, actor: User, plan: AccountPlan, tree: PlanTree, sections: PlanSections, has_decision_maker: bool
) -> Completeness:
    """What a complete plan has, checked one by one; the score is the share of checks passed and every
    failed check says exactly what is missing."""
    from openkam.plans.models import RequiredField

    required = set(sections.template.required_fields) if sections.template else set()
    checks: list[tuple[bool, Gap]] = []

    def check(ok: bool, code: str, message: str, section: str, rule: str | None = None) -> None:
        checks.append((ok, Gap(code, message, section, required=rule in required if rule else False)))

    objectives = [n.objective for n in tree.objectives]
    if sections.shows("customer_priorities"):
        check(
            bool(sections.priorities or plan.customer_priorities.strip()),
            "customer_priorities",
            _("The customer's strategic priorities are not written down."),
            "customer_priorities",
            RequiredField.PLAN_CUSTOMER_PRIORITIES,
        )
    if sections.shows("positioning"):
        check(
            bool(plan.positioning.strip()), "positioning", _("No positioning yet."), "positioning",
            RequiredField.PLAN_POSITIONING,
        )  # fmt: skip
        check(
            bool(plan.value_proposition.strip()),
            "value_proposition",
            _("No value proposition yet."),
            "positioning",
            RequiredField.PLAN_VALUE_PROPOSITION,
        )
        if plan.value_proposition.strip():
            check(
                plan.value_proposition_reviewed,
                "value_proposition_review",
                _("The value proposition has not been reviewed for compliance."),
                "positioning",
            )
    if sections.shows("strategy"):
        check(
            bool(plan.strategy.strip()), "strategy", _("No over-arching strategy yet."), "strategy",
            RequiredField.PLAN_STRATEGY,
        )  # fmt: skip
    if sections.shows("swot"):
        check(
            bool(sections.swot.get("threat")), "swot_threats", _("The SWOT names no threats."), "swot",
            RequiredField.SWOT_THREATS,
        )  # fmt: skip
        check(bool(sections.swot.get("strength")), "swot_strengths", _("The SWOT names no strengths."), "swot")
    if sections.shows("csfs") or sections.shows("goals"):
        check(bool(sections.csfs), "csfs", _("No critical success factors yet."), "csfs", RequiredField.CSFS)
    check(
        has_decision_maker,
        "decision_maker",
        _("No decision maker is mapped at %(a)s: map who decides in Stakeholders.") % {"a": plan.account.name},
        "stakeholders",
        RequiredField.DECISION_MAKER,
    )
    check(bool(objectives), "objectives", _("No objectives yet."), "objectives")
    if objectives:
        no_owner = [o.title for o in objectives if o.owner_id is None]
        no_date = [o.title for o in objectives if o.due_date is None]
        no_target = [o.title for o in objectives if o.target is None or not o.metric]
        check(
            not no_owner,
            "objective_owner",
            _("%(n)d objective(s) without an owner: %(t)s") % {"n": len(no_owner), "t": _names(no_owner)},
            "objectives",
            RequiredField.OBJECTIVE_OWNER,
        )
        check(
            not no_date,
            "objective_due_date",
            _("%(n)d objective(s) without a due date: %(t)s") % {"n": len(no_date), "t": _names(no_date)},
            "objectives",
            RequiredField.OBJECTIVE_DUE_DATE,
        )
        check(
            not no_target,
            "objective_target",
            _("%(n)d objective(s) not measurable (metric and target): %(t)s")
            % {"n": len(no_target), "t": _names(no_target)},
            "objectives",
            RequiredField.OBJECTIVE_TARGET,
        )
        kinds = {o.indicator for o in objectives}
        check(
            len(kinds) == 2,
            "indicator_mix",
            _("Only %(k)s indicators: add a %(m)s objective too.")
            % {
                "k": _("leading") if "leading" in kinds else _("lagging"),
                "m": _("lagging") if "leading" in kinds else _("leading"),
            },
            "objectives",
        )
        no_tactics = [n.objective.title for n in tree.objectives if not n.tactics]
        check(
            not no_tactics,
            "objective_tactics",
            _("%(n)d objective(s) without tactics you can see: %(t)s")
            % {"n": len(no_tactics), "t": _names(no_tactics)},
            "objectives",
        )
        actions = tree.actions()
        no_due = [a.title for a in actions if a.due_date is None and a.status in OPEN_ACTION_STATUSES]
        check(
            not no_due,
            "action_due_date",
            _("%(n)d open action(s) without a due date: %(t)s") % {"n": len(no_due), "t": _names(no_due)},
            "objectives",
        )
    if sections.shows("stages") and sections.steps_total:
        check(
            sections.steps_done == sections.steps_total,
            "stages",
            _("%(d)d of %(t)d process steps done.") % {"d": sections.steps_done, "t": sections.steps_total},
            "stages",
        )
    passed = sum(1 for ok, _gap in checks if ok)
    gaps = [gap for ok, gap in checks if not ok]
    gaps.sort(key=lambda g: not g.required)
    score = round(100 * passed / len(checks)) if checks else 0
    return Completeness(score=score, checks=len(checks), gaps=gaps)


def _names(titles: list[str], limit: int = 3) -> str:
    shown = ", ".join(f"“{t}”" for t in titles[:limit])
    return shown + (_(" and %(n)d more") % {"n": len(titles) - limit} if len(titles) > limit else "")


# --- the plan's content (snapshots) and comparing versions ------------------------------------------
def _d(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if not isinstance(value, (int, float, bool, str)) else value


def plan_content(*, plan_id: int) -> dict[str, Any]:
    """Everything in a plan as plain JSON, every classification included — what a snapshot freezes.
    Unscoped building block: callers check access (the services before freezing, :func:`plan_version_content`
    filters by the reader's classifications)."""
    from openkam.plans.models import (
        CriticalSuccessFactor,
        CustomerPriority,
        Goal,
        KeyAction,
        PlanStage,
        PlanStep,
        SwotItem,
        SwotObjective,
    )

    plan = AccountPlan.objects.select_related("owner").get(pk=plan_id)
    users = {u.pk: str(u) for u in User.objects.filter(pk__in=_user_ids(plan_id))}

    def who(pk: int | None) -> str | None:
        return users.get(pk) if pk else None

    links: dict[int, list[int]] = {}
    for sid, oid in SwotObjective.objects.filter(swot_item__plan_id=plan_id).values_list(
        "swot_item_id", "objective_id"
    ):
        links.setdefault(sid, []).append(oid)
    actions_by_tactic: dict[int, list[dict[str, Any]]] = {}
    for a in Action.objects.filter(tactic__objective__plan_id=plan_id).order_by("position", "pk"):
        actions_by_tactic.setdefault(a.tactic_id, []).append(
            {
                "id": a.pk,
                "title": a.title,
                "description": a.description,
                "owner": who(a.owner_id),
                "assignee": who(a.assignee_id),
                "start_date": _d(a.start_date),
                "due_date": _d(a.due_date),
                "status": a.status,
                "is_milestone": a.is_milestone,
                "shared_with_customer": a.shared_with_customer,
            }
        )
    tactics_by_objective: dict[int, list[dict[str, Any]]] = {}
    for t in Tactic.objects.filter(objective__plan_id=plan_id).order_by("position", "pk"):
        tactics_by_objective.setdefault(t.objective_id, []).append(
            {
                "id": t.pk,
                "title": t.title,
                "description": t.description,
                "owner": who(t.owner_id),
                "function": t.function,
                "classification": t.classification,
                "shared_with_customer": t.shared_with_customer,
                "actions": actions_by_tactic.get(t.pk, []),
            }
        )
    key_actions: dict[int, list[dict[str, Any]]] = {}
    for k in KeyAction.objects.filter(csf__plan_id=plan_id).order_by("position", "pk"):
        key_actions.setdefault(k.csf_id, []).append(
            {"id": k.pk, "title": k.title, "owner": who(k.owner_id), "due_date": _d(k.due_date), "done": k.done}
        )
    steps: dict[int, list[dict[str, Any]]] = {}
    for st in PlanStep.objects.filter(stage__plan_id=plan_id).order_by("position", "pk"):
        steps.setdefault(st.stage_id, []).append({"id": st.pk, "title": st.title, "done": st.done})
    return {
        "plan": {
            "name": plan.name,
            "period_start": _d(plan.period_start),
            "period_end": _d(plan.period_end),
            "owner": str(plan.owner),
            "status": plan.status,
            "version": plan.version,
            "summary": plan.summary,
            "customer_priorities": plan.customer_priorities,
            "positioning": plan.positioning,
            "value_proposition": plan.value_proposition,
            "value_proposition_reviewed": plan.value_proposition_reviewed,
            "strategy": plan.strategy,
        },
        "customer_priorities": [
            {"id": p.pk, "title": p.title, "description": p.description, "shared_with_customer": p.shared_with_customer}
            for p in CustomerPriority.objects.filter(plan_id=plan_id).order_by("position", "pk")
        ],
        "swot": [
            {
                "id": s.pk,
                "kind": s.kind,
                "title": s.title,
                "evidence": s.evidence,
                "classification": s.classification,
                "objective_ids": sorted(links.get(s.pk, [])),
            }
            for s in SwotItem.objects.filter(plan_id=plan_id).order_by("kind", "position", "pk")
        ],
        "goals": [
            {"id": g.pk, "title": g.title, "description": g.description}
            for g in Goal.objects.filter(plan_id=plan_id).order_by("position", "pk")
        ],
        "csfs": [
            {
                "id": c.pk,
                "goal_id": c.goal_id,
                "title": c.title,
                "description": c.description,
                "key_actions": key_actions.get(c.pk, []),
            }
            for c in CriticalSuccessFactor.objects.filter(plan_id=plan_id).order_by("position", "pk")
        ],
        "objectives": [
            {
                "id": o.pk,
                "title": o.title,
                "description": o.description,
                "metric": o.metric,
                "baseline": _d(o.baseline),
                "target": _d(o.target),
                "current": _d(o.current),
                "due_date": _d(o.due_date),
                "indicator": o.indicator,
                "owner": who(o.owner_id),
                "shared_with_customer": o.shared_with_customer,
                "tactics": tactics_by_objective.get(o.pk, []),
            }
            for o in Objective.objects.filter(plan_id=plan_id).order_by("position", "pk")
        ],
        "stages": [
            {"id": s.pk, "name": s.name, "steps": steps.get(s.pk, [])}
            for s in PlanStage.objects.filter(plan_id=plan_id).order_by("position", "pk")
        ],
    }


def _user_ids(plan_id: int) -> set[int]:
    from openkam.plans.models import KeyAction

    ids: set[int] = set()
    ids.update(Objective.objects.filter(plan_id=plan_id).values_list("owner_id", flat=True))
    ids.update(Tactic.objects.filter(objective__plan_id=plan_id).values_list("owner_id", flat=True))
    for owner, assignee in Action.objects.filter(tactic__objective__plan_id=plan_id).values_list(
        "owner_id", "assignee_id"
    ):
        ids.update((owner, assignee))
    ids.update(KeyAction.objects.filter(csf__plan_id=plan_id).values_list("owner_id", flat=True))
    ids.discard(None)  # type: ignore[arg-type]
    return ids


def _for_reader(actor: User, content: dict[str, Any]) -> dict[str, Any]:
    """The content with every row of a classification the reader may not see removed."""
    visible = visible_classifications(actor)
    out = dict(content)
    out["swot"] = [s for s in content.get("swot", []) if s.get("classification") in visible]
    out["objectives"] = [
        {**o, "tactics": [t for t in o.get("tactics", []) if t.get("classification") in visible]}
        for o in content.get("objectives", [])
    ]
    return out


def plan_snapshots(*, actor: User, plan: AccountPlan) -> QuerySet[Any]:
    from openkam.plans.models import PlanSnapshot

    return PlanSnapshot.objects.filter(plan_id=plan.pk).select_related("approved_by").defer("data").order_by("-number")


def plan_version_content(*, actor: User, plan: AccountPlan, version: str) -> tuple[str, dict[str, Any]]:
    """("label", content) of ``version``: ``"current"`` or a snapshot number — for this reader."""
    from openkam.plans.models import PlanSnapshot

    if version == "current":
        return _("Current"), _for_reader(actor, plan_content(plan_id=plan.pk))
    if not str(version).isdigit():
        raise NotFound(_("No such version of this plan."), code="snapshot_not_found")
    snap = PlanSnapshot.objects.filter(plan_id=plan.pk, number=int(version)).select_related("approved_by").first()
    if snap is None:
        raise NotFound(_("No such version of this plan."), code="snapshot_not_found")
    label = _("Approved v%(n)d (%(d)s)") % {"n": snap.number, "d": timezone.localtime(snap.created_at).date()}
    return label, _for_reader(actor, snap.data)


@dataclass
class Change:
    section: str
    kind: str  # added / removed / changed
    item: str  # plan / priority / swot / goal / csf / key_action / objective / tactic / action / stage / step
    title: str
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)


_NARRATIVE = (
    "name",
    "period_start",
    "period_end",
    "owner",
    "summary",
    "customer_priorities",
    "positioning",
    "value_proposition",
    "value_proposition_reviewed",
    "strategy",
)


def _flat(content: dict[str, Any]) -> dict[str, dict[tuple[str, int], dict[str, Any]]]:
    """Rows of each section keyed by (kind, id), nested lists flattened (tactics, actions, key actions, steps)."""
    rows: dict[str, dict[tuple[str, int], dict[str, Any]]] = {
        "customer_priorities": {},
        "swot": {},
        "goals": {},
        "csfs": {},
        "objectives": {},
        "stages": {},
    }
    for p in content.get("customer_priorities", []):
        rows["customer_priorities"][("priority", p["id"])] = p
    for s in content.get("swot", []):
        rows["swot"][("swot", s["id"])] = s
    for g in content.get("goals", []):
        rows["goals"][("goal", g["id"])] = g
    for c in content.get("csfs", []):
        rows["csfs"][("csf", c["id"])] = {k: v for k, v in c.items() if k != "key_actions"}
        for k in c.get("key_actions", []):
            rows["csfs"][("key_action", k["id"])] = k
    for o in content.get("objectives", []):
        rows["objectives"][("objective", o["id"])] = {k: v for k, v in o.items() if k != "tactics"}
        for t in o.get("tactics", []):
            rows["objectives"][("tactic", t["id"])] = {k: v for k, v in t.items() if k != "actions"}
            for a in t.get("actions", []):
                rows["objectives"][("action", a["id"])] = a
    for s in content.get("stages", []):
        rows["stages"][("stage", s["id"])] = {k: v for k, v in s.items() if k != "steps"}
        for st in s.get("steps", []):
            rows["stages"][("step", st["id"])] = st
    return rows


def plan_compare(*, actor: User, plan: AccountPlan, left: str, right: str) -> dict[str, Any]:
    """What changed between two versions of the plan (a snapshot number or ``current``), section by section,
    over what the reader may see. Clones compare too: rows are matched by id within one plan."""
    left_label, a = plan_version_content(actor=actor, plan=plan, version=left)
    right_label, b = plan_version_content(actor=actor, plan=plan, version=right)
    changes: list[Change] = []
    pa, pb = a.get("plan", {}), b.get("plan", {})
    header = [(k, pa.get(k), pb.get(k)) for k in _NARRATIVE if pa.get(k) != pb.get(k)]
    if header:
        changes.append(Change("plan", "changed", "plan", pb.get("name") or pa.get("name", ""), header))
    fa, fb = _flat(a), _flat(b)
    for section in fa:
        left_rows, right_rows = fa[section], fb[section]
        for key in right_rows.keys() - left_rows.keys():
            row = right_rows[key]
            changes.append(Change(section, "added", key[0], row.get("title") or row.get("name", "")))
        for key in left_rows.keys() - right_rows.keys():
            row = left_rows[key]
            changes.append(Change(section, "removed", key[0], row.get("title") or row.get("name", "")))
        for key in left_rows.keys() & right_rows.keys():
            ra, rb = left_rows[key], right_rows[key]
            diff = [
                (k, ra.get(k), rb.get(k)) for k in sorted(set(ra) | set(rb)) if k != "id" and ra.get(k) != rb.get(k)
            ]
            if diff:
                changes.append(Change(section, "changed", key[0], rb.get("title") or rb.get("name", ""), diff))
    order = {"plan": 0, "customer_priorities": 1, "swot": 2, "goals": 3, "csfs": 4, "objectives": 5, "stages": 6}
    items = ("plan", "priority", "swot", "goal", "csf", "key_action", "objective", "tactic", "action", "stage", "step")
    changes.sort(key=lambda c: (order.get(c.section, 9), items.index(c.item), c.kind, c.title))
    return {"left": left_label, "right": right_label, "left_content": a, "right_content": b, "changes": changes}
