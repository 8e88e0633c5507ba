"""A whole plan assembled for one reader: what every export (PDF, PowerPoint, Excel) and the customer version read.

:func:`plan_document` is a selector: it starts from :func:`~openkam.plans.selectors.plan_get` (out of scope → NotFound)
and keeps only what the reader may see — a medical reader gets no commercial-only tactic or action, a commercial
reader no medical-only one (ADR 0001: roll-ups over what the reader may see).

Two audiences:

* ``internal`` — everything the reader may see: narrative sections, SWOT, objectives with their tactics and actions
  (classification, function, owners, descriptions), the account's decision makers.
* ``customer`` — the co-created version handed to the health system. It is built from an explicit allow-list,
  never by hiding fields of internal rows: the document holds plain values copied from the few fields that may be
  shown (see :func:`_customer_objectives`). Only tactics and actions marked *shared with customer* (never a
  medical-only one, whatever the flag says), the agreed measures of success of the objectives they serve
  (metric, baseline, target, current value, due date) and our named contact for each action. No descriptions, no
  internal notes, no classification, no stakeholder map, no plan summary: those stay internal.

Every value in a :class:`PlanDocument` is a plain Python value (str, Decimal, date, float), so templates and the
PowerPoint/Excel writers cannot reach a model field that the builder did not copy.

Queries: a fixed number whatever the plan's size (plan, objectives, visible tactics with counts, their actions,
the stakeholder summary).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.db.models import Case, Count, Prefetch, Value, When
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from openkam.accounts.models import Account
from openkam.core.access import classification_q, visible_classifications
from openkam.core.errors import ValidationFailed
from openkam.core.models import Classification, User
from openkam.plans import selectors
from openkam.plans.models import (
    AccountPlan,
    ActionStatus,
    CriticalSuccessFactor,
    CustomerAgreement,
    CustomerPriority,
    Goal,
    IndicatorType,
    KeyAction,
    PlanSection,
    PlanStage,
    PlanStatus,
    PlanStep,
    PlanTemplate,
    SwotItem,
)
from openkam.stakeholders.models import DecisionRole
from openkam.stakeholders.selectors import account_positions, can_see_judgements

Audience = Literal["internal", "customer"]
AUDIENCES: tuple[str, ...] = ("internal", "customer")

# Who decides: the roles a stakeholder summary shows (users and unknown roles are left out).
KEY_DECISION_ROLES = ("decision_maker", "approver", "champion", "influencer", "gatekeeper", "blocker")
STAKEHOLDER_ROWS = 40  # the summary lists the first 40 key people; the counts cover all of them
HEALTH_LABELS = {
    "green": _lazy("On track"),
    "amber": _lazy("At risk"),
    "red": _lazy("Off track"),
    "none": _lazy("Not measured"),
}
HEALTH_LABELS = {
    "green": _lazy("On track"),
    "amber": _lazy("At risk"),
    "red": _lazy("Off track"),
    "none": _lazy("Not measured"),
}  # the summary lists the first 40 key people; the counts cover all of them


def person(user: User | None) -> str:
    """A person's display name ("" for nobody)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# --- the document's plain rows ---------------------------------------------------------------------------
@dataclass
class DocAction:
    ref: str
    title: str
    status: str
    status_label: str
    due_date: dt.date | None
    owner: str = ""
    assignee: str = ""
    start_date: dt.date | None = None
    completed_on: dt.date | None = None
    description: str = ""
    overdue: bool = False
    shared_with_customer: bool = False
    is_milestone: bool = False
    id: int | None = None


@dataclass
class DocTactic:
    ref: str
    title: str
    actions: list[DocAction] = field(default_factory=list)
    owner: str = ""
    classification: str = ""
    classification_label: str = ""
    function: str = ""
    function_label: str = ""
    description: str = ""
    shared_with_customer: bool = False
    completion: float | None = None
    id: int | None = None


@dataclass
class DocObjective:
    ref: str
    title: str
    metric: str
    baseline: Decimal | None
    target: Decimal | None
    current: Decimal | None
    due_date: dt.date | None
    indicator: str
    indicator_label: str
    tactics: list[DocTactic] = field(default_factory=list)
    owner: str = ""
    description: str = ""
    completion: float | None = None
    shared_with_customer: bool = False
    health: str = ""  # red / amber / green / none (internal only)
    health_reason: str = ""
    id: int | None = None

    @property
    def progress(self) -> float | None:
        """How far the current value has moved from the baseline toward the target (0–100, None = unmeasured)."""
        if self.target is None or self.current is None:
            return None
        base = self.baseline if self.baseline is not None else Decimal(0)
        span = self.target - base
        if span == 0:
            return 100.0 if self.current == self.target else 0.0
        return float(max(Decimal(0), min(Decimal(100), 100 * (self.current - base) / span)))

    @property
    def actions(self) -> list[DocAction]:
        return [a for t in self.tactics for a in t.actions]

    @property
    def health_label(self) -> str:
        return str(HEALTH_LABELS.get(self.health, ""))


@dataclass
class DocSection:
    """A narrative section of the plan (customer priorities, value proposition, strategy, ...)."""

    key: str
    title: str
    body: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class DocSwot:
    title: str
    evidence: str = ""
    classification_label: str = ""
    drives: list[str] = field(default_factory=list)  # refs of the objectives it drives


@dataclass
class DocKeyAction:
    title: str
    owner: str = ""
    due_date: dt.date | None = None
    done: bool = False


@dataclass
class DocCsf:
    title: str
    description: str = ""
    goal: str = ""
    key_actions: list[DocKeyAction] = field(default_factory=list)


@dataclass
class DocGoal:
    title: str
    description: str = ""
    csfs: list[DocCsf] = field(default_factory=list)


@dataclass
class DocStage:
    name: str
    steps: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(1 for _t, done in self.steps if done)


@dataclass
class DocStakeholder:
    name: str
    title: str
    account: str
    role: str
    role_label: str
    committee: str = ""


@dataclass
class PlanDocument:
    audience: str
    reader: str
    title: str
    account_name: str
    account_type: str
    account_location: str
    period_start: dt.date
    period_end: dt.date
    status: str
    status_label: str
    owner: str
    generated_at: dt.datetime
    objectives: list[DocObjective] = field(default_factory=list)
    sections: list[DocSection] = field(default_factory=list)
    swot: dict[str, list[DocSwot]] = field(default_factory=dict)
    priorities: list[DocSection] = field(default_factory=list)
    goals: list[DocGoal] = field(default_factory=list)
    csfs: list[DocCsf] = field(default_factory=list)
    stages: list[DocStage] = field(default_factory=list)
    shows: frozenset[str] = frozenset()  # the plan template's sections (all when the plan has no template)
    stakeholders: list[DocStakeholder] = field(default_factory=list)
    stakeholder_total: int = 0
    stakeholder_roles: list[tuple[str, int]] = field(default_factory=list)
    stakeholders_hidden: bool = False  # decision roles are judgements the reader's role may not see (medical)
    overview: list[tuple[str, str]] = field(default_factory=list)
    summary: str = ""
    version: int = 0
    approved_by: str = ""
    approved_on: dt.date | None = None
    completion: float | None = None
    hidden_classifications: list[str] = field(default_factory=list)
    agreement: str = ""  # "<date>, <signatory>, <title>" of the latest customer agreement
    health: str = ""  # the plan's red / amber / green / none, with the reason (internal only)
    health_reason: str = ""
    stale_days: int | None = None  # days since the last meaningful update when the plan is stale
    plan_id: int = 0

    @property
    def health_label(self) -> str:
        return str(HEALTH_LABELS.get(self.health, ""))

    @property
    def is_customer(self) -> bool:
        return self.audience == "customer"

    @property
    def tactics(self) -> list[DocTactic]:
        return [t for o in self.objectives for t in o.tactics]

    @property
    def actions(self) -> list[DocAction]:
        return [a for t in self.tactics for a in t.actions]

    @property
    def counts(self) -> dict[str, int]:
        actions = self.actions
        return {
            "objectives": len(self.objectives),
            "tactics": len(self.tactics),
            "actions": len(actions),
            "done": sum(1 for a in actions if a.status == ActionStatus.DONE),
            "open": sum(1 for a in actions if a.status in selectors.OPEN_ACTION_STATUSES),
            "overdue": sum(1 for a in actions if a.overdue),
        }

    @property
    def swot_quadrants(self) -> list[tuple[str, str, list[DocSwot]]]:
        """(key, label, items) in the 2×2 order: strengths, weaknesses / opportunities, threats."""
        labels = {
            "strengths": _("Strengths"),
            "weaknesses": _("Weaknesses"),
            "opportunities": _("Opportunities"),
            "threats": _("Threats"),
        }
        return [(k, str(v), self.swot.get(k, [])) for k, v in labels.items()]

    @property
    def has_swot(self) -> bool:
        return any(self.swot.get(k) for k in ("strengths", "weaknesses", "opportunities", "threats"))


# --- building it ---------------------------------------------------------------------------------------------
def plan_document(*, actor: User, plan_id: int, audience: str = "internal") -> PlanDocument:
    """The plan ``plan_id`` as ``actor`` may read it, for ``audience`` (``internal`` or ``customer``)."""
    if audience not in AUDIENCES:
        raise ValidationFailed(
            _("Choose one of: %(c)s.") % {"c": ", ".join(AUDIENCES)}, field="audience", code="invalid_choice"
        )
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    tree = selectors.plan_tree(actor=actor, plan=plan)
    today = timezone.localdate()
    account = plan.account
    doc = PlanDocument(
        audience=audience,
        reader=person(actor),
        title=plan.name,
        account_name=account.name,
        account_type=str(account.get_type_display()),
        account_location=", ".join(x for x in (account.city, account.state, account.country) if x),
        period_start=plan.period_start,
        period_end=plan.period_end,
        status=plan.status,
        status_label=str(PlanStatus(plan.status).label),
        owner=person(plan.owner),
        generated_at=timezone.localtime(),
        plan_id=plan.pk,
    )
    if audience == "customer":
        doc.title = _("Joint account plan: %(account)s") % {"account": account.name}
        doc.objectives = _customer_objectives(tree, today)
        doc.priorities = [
            DocSection(key=f"p{p.pk}", title=p.title)
            for p in CustomerPriority.objects.filter(plan_id=plan.pk, shared_with_customer=True).order_by(
                "position", "pk"
            )
        ]
        doc.agreement = _agreement(plan)
        return doc

    hidden = sorted(set(Classification.values) - visible_classifications(actor))
    doc.hidden_classifications = [str(Classification(c).label) for c in hidden]
    doc.summary = plan.summary
    doc.version = plan.version
    doc.approved_by = person(plan.approved_by)
    doc.approved_on = timezone.localdate(plan.approved_at) if plan.approved_at else None
    doc.completion = tree.completion
    doc.objectives = _internal_objectives(tree, today)
    doc.overview = _account_overview(account, plan)
    doc.agreement = _agreement(plan)
    template = _sections(doc, actor=actor, plan=plan)
    days, _limit, stale = selectors.plan_rot(plan, template)
    health, per_objective = selectors.plan_health(tree, stale=stale)
    doc.health, doc.health_reason = health.status, health.reason
    doc.stale_days = days if stale else None
    for dobj in doc.objectives:
        if dobj.id in per_objective:
            dobj.health, dobj.health_reason = per_objective[dobj.id].status, per_objective[dobj.id].reason
    _stakeholder_summary(doc, actor=actor, account=account)
    return doc


def _sections(doc: PlanDocument, *, actor: User, plan: AccountPlan) -> PlanTemplate | None:
    """The narrative sections, SWOT, CSFs, goal chains and stages the plan's template shows (one query each)."""
    template = PlanTemplate.objects.filter(pk=plan.template_id).first() if plan.template_id else None
    doc.shows = frozenset(template.sections if template and template.sections else PlanSection.values)
    if PlanSection.CUSTOMER_PRIORITIES in doc.shows:
        items = [
            f"{p.title} — {p.description}" if p.description else p.title
            for p in CustomerPriority.objects.filter(plan_id=plan.pk).order_by("position", "pk")
        ]
        doc.sections.append(
            DocSection(
                "customer_priorities", str(PlanSection.CUSTOMER_PRIORITIES.label), plan.customer_priorities, items
            )
        )
    if PlanSection.POSITIONING in doc.shows:
        body = plan.positioning
        if plan.value_proposition:
            reviewed = _("compliance-reviewed") if plan.value_proposition_reviewed else _("not yet compliance-reviewed")
            body = f"{body}\n\n{_('Value proposition')} ({reviewed}): {plan.value_proposition}".strip()
        doc.sections.append(DocSection("positioning", str(PlanSection.POSITIONING.label), body))
    if PlanSection.STRATEGY in doc.shows:
        doc.sections.append(DocSection("strategy", str(PlanSection.STRATEGY.label), plan.strategy))
    refs = {o.id: o.ref for o in doc.objectives}
    if PlanSection.SWOT in doc.shows:
        quadrant = {
            "strength": "strengths",
            "weakness": "weaknesses",
            "opportunity": "opportunities",
            "threat": "threats",
        }
        swot_rows = (
            SwotItem.objects.filter(classification_q(actor), plan_id=plan.pk)
            .prefetch_related("objective_links")
            .order_by("kind", "position", "pk")
        )
        for item in swot_rows:
            doc.swot.setdefault(quadrant[item.kind], []).append(
                DocSwot(
                    title=item.title,
                    evidence=item.evidence,
                    classification_label=str(Classification(item.classification).label),
                    drives=[
                        refs[link.objective_id] for link in item.objective_links.all() if link.objective_id in refs
                    ],
                )
            )
    if PlanSection.CSFS in doc.shows or PlanSection.GOALS in doc.shows:
        csfs = list(
            CriticalSuccessFactor.objects.filter(plan_id=plan.pk)
            .select_related("goal")
            .prefetch_related(
                Prefetch("key_actions", KeyAction.objects.select_related("owner").order_by("position", "pk"))
            )
            .order_by("position", "pk")
        )
        goals = {
            g.pk: DocGoal(g.title, g.description)
            for g in Goal.objects.filter(plan_id=plan.pk).order_by("position", "pk")
        }
        for c in csfs:
            dcsf = DocCsf(
                title=c.title,
                description=c.description,
                goal=c.goal.title if c.goal is not None else "",
                key_actions=[DocKeyAction(k.title, person(k.owner), k.due_date, k.done) for k in c.key_actions.all()],
            )
            if PlanSection.CSFS in doc.shows:
                doc.csfs.append(dcsf)
            if c.goal_id in goals:
                goals[c.goal_id].csfs.append(dcsf)
        if PlanSection.GOALS in doc.shows:
            doc.goals = list(goals.values())
    if PlanSection.STAGES in doc.shows:
        stages = PlanStage.objects.filter(plan_id=plan.pk).prefetch_related(
            Prefetch("steps", PlanStep.objects.order_by("position", "pk"))
        )
        doc.stages = [
            DocStage(s.name, [(st.title, st.done) for st in s.steps.all()]) for s in stages.order_by("position", "pk")
        ]
    return template


def _agreement(plan: AccountPlan) -> str:
    agreement = CustomerAgreement.objects.filter(plan_id=plan.pk).order_by("-agreed_on", "-pk").first()
    if agreement is None:
        return ""
    who = ", ".join(x for x in (agreement.signatory_name, agreement.signatory_title) if x)
    return _("%(date)s by %(who)s (plan version %(v)d)") % {
        "date": formats.date_format(agreement.agreed_on, "DATE_FORMAT"),
        "who": who,
        "v": agreement.plan_version,
    }


def _internal_objectives(tree: selectors.PlanTree, today: dt.date) -> list[DocObjective]:
    out = []
    for i, onode in enumerate(tree.objectives, start=1):
        o = onode.objective
        dobj = DocObjective(
            ref=f"O{i}",
            id=o.pk,
            title=o.title,
            description=o.description,
            metric=o.metric,
            baseline=o.baseline,
            target=o.target,
            current=o.current,
            due_date=o.due_date,
            indicator=o.indicator,
            indicator_label=str(IndicatorType(o.indicator).label),
            owner=person(o.owner),
            completion=onode.completion,
            shared_with_customer=o.shared_with_customer,
        )
        for j, tnode in enumerate(onode.tactics, start=1):
            t = tnode.tactic
            dtac = DocTactic(
                ref=f"{dobj.ref}.T{j}",
                id=t.pk,
                title=t.title,
                description=t.description,
                owner=person(t.owner),
                classification=t.classification,
                classification_label=str(Classification(t.classification).label),
                function=t.function,
                function_label=str(t.get_function_display()),
                shared_with_customer=t.shared_with_customer,
                completion=tnode.completion,
            )
            for k, a in enumerate(tnode.actions, start=1):
                dtac.actions.append(
                    DocAction(
                        ref=f"{dtac.ref}.A{k}",
                        id=a.pk,
                        title=a.title,
                        description=a.description,
                        status=a.status,
                        status_label=str(ActionStatus(a.status).label),
                        owner=person(a.owner),
                        assignee=person(a.assignee),
                        start_date=a.start_date,
                        due_date=a.due_date,
                        completed_on=timezone.localdate(a.completed_at) if a.completed_at else None,
                        overdue=selectors.is_overdue(a, today),
                        shared_with_customer=a.shared_with_customer,
                        is_milestone=a.is_milestone,
                    )
                )
            dobj.tactics.append(dtac)
        out.append(dobj)
    return out


def _customer_objectives(tree: selectors.PlanTree, today: dt.date) -> list[DocObjective]:
    """The allow-list. Objectives marked shared, with their agreed measures of success (metric, baseline, target,
    current, due); actions and milestones marked shared (title, due, status, our contact), under their objective
    when it is shared too, else under "Further joint steps"; a tactic's title only when the tactic is shared.
    Never anything medical-only, never a cancelled action. Nothing else is copied."""
    out: list[DocObjective] = []
    loose = DocObjective(
        ref="", title=_("Further joint steps"), metric="", baseline=None, target=None, current=None,
        due_date=None, indicator="", indicator_label="",
    )  # fmt: skip
    for onode in tree.objectives:
        o = onode.objective
        dobj = loose
        if o.shared_with_customer:
            dobj = DocObjective(
                ref=f"{len(out) + 1}",
                title=o.title,
                metric=o.metric,
                baseline=o.baseline,
                target=o.target,
                current=o.current,
                due_date=o.due_date,
                indicator=o.indicator,
                indicator_label=str(IndicatorType(o.indicator).label),
                shared_with_customer=True,
            )
            out.append(dobj)
        for tnode in onode.tactics:
            t = tnode.tactic
            if t.classification == Classification.MEDICAL:
                continue
            shared = [a for a in tnode.actions if a.shared_with_customer and a.status != ActionStatus.CANCELLED]
            if not shared:
                continue
            dtac = DocTactic(
                ref=f"{dobj.ref}.{len(dobj.tactics) + 1}" if dobj.ref else "",
                title=t.title if t.shared_with_customer else "",
                shared_with_customer=True,
            )
            for a in shared:
                dtac.actions.append(
                    DocAction(
                        ref="",
                        title=a.title,
                        status=a.status,
                        status_label=str(ActionStatus(a.status).label),
                        due_date=a.due_date,
                        owner=person(a.owner),
                        overdue=selectors.is_overdue(a, today),
                        shared_with_customer=True,
                        is_milestone=a.is_milestone,
                    )
                )
            dobj.tactics.append(dtac)
    if loose.tactics:
        out.append(loose)
    return out


def _account_overview(account: Account, plan: AccountPlan) -> list[tuple[str, str]]:
    rows = [
        (_("Account"), account.name),
        (_("Type"), str(account.get_type_display())),
        (_("KAM level"), str(account.get_kam_level_display())),
        (_("Location"), ", ".join(x for x in (account.city, account.state, account.country) if x)),
        (_("Account owner"), person(account.owner) if account.owner_id else ""),
        (_("Plan owner"), person(plan.owner)),
        (_("Plan period"), f"{plan.period_start:%Y-%m-%d} – {plan.period_end:%Y-%m-%d}"),
    ]
    return [(str(k), v) for k, v in rows if v]


def _stakeholder_summary(doc: PlanDocument, *, actor: User, account: Account) -> None:
    """The key people of the account and the accounts below it: current positions with a decision role, the
    decision makers first (two queries: counts per role, the first rows)."""
    if not can_see_judgements(actor):
        doc.stakeholders_hidden = True
        return
    positions = account_positions(actor=actor, account=account, include_descendants=True, include_ended=False).filter(
        role_in_decision__in=KEY_DECISION_ROLES, stakeholder__erased_at__isnull=True
    )
    counts = dict(positions.order_by().values_list("role_in_decision").annotate(n=Count("pk")))
    doc.stakeholder_roles = [(str(DecisionRole(r).label), counts[r]) for r in KEY_DECISION_ROLES if counts.get(r)]
    doc.stakeholder_total = sum(counts.values())
    rank = Case(*[When(role_in_decision=r, then=Value(i)) for i, r in enumerate(KEY_DECISION_ROLES)], default=99)
    rows = positions.order_by(rank, "inherited", "account__name", "title", "pk")[:STAKEHOLDER_ROWS]
    doc.stakeholders = [
        DocStakeholder(
            name=str(p.stakeholder),
            title=p.title,
            account=p.account.name,
            role=p.role_in_decision,
            role_label=str(DecisionRole(p.role_in_decision).label),
            committee=p.committee.name if p.committee is not None else "",
        )
        for p in rows
    ]


def customer_fields_allowed() -> dict[str, tuple[str, ...]]:
    """What the customer version may show, per row (documented, and checked by the no-leak test)."""
    return {
        "plan": ("account name", "period"),
        "objective": ("title", "metric", "baseline", "target", "current", "due date", "indicator"),
        "tactic": ("title",),
        "action": ("title", "due date", "status", "our contact (owner)"),
    }
