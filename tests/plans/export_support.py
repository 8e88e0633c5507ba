"""A rich plan for the export, customer-version and import tests: every section filled, tactics of every
classification, shared and internal items, people with decision roles at the account and below it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openkam.core.models import Classification
from openkam.plans.models import (
    AccountPlan,
    Action,
    ActionStatus,
    CriticalSuccessFactor,
    CustomerAgreement,
    CustomerPriority,
    Goal,
    KeyAction,
    Objective,
    PlanStage,
    PlanStep,
    SwotItem,
    SwotObjective,
    Tactic,
)
from openkam.stakeholders.models import DecisionRole
from tests import factories as f

TODAY = dt.date.today()


@dataclass
class RichPlan:
    plan: AccountPlan
    shared_objective: Objective
    internal_objective: Objective
    commercial: Tactic
    joint: Tactic
    medical: Tactic
    shared_action: Action
    milestone: Action
    internal_action: Action
    medical_action: Action
    extra: dict[str, Any] = field(default_factory=dict)


def act(**kw: Any) -> Action:
    """An action dated from today (the factories' default dates are fixed in 2026)."""
    kw.setdefault("start_date", TODAY)
    kw.setdefault("due_date", TODAY + dt.timedelta(days=30))
    return f.ActionFactory(**kw)


def rich_plan(world: Any) -> RichPlan:
    users = world.users
    kam, msl = users["kam"], users["msl"]
    plan = f.PlanFactory(
        account=world.idn,
        owner=kam,
        name="Beacon Health System 2026",
        summary="Win the cardiology formulary and build a joint heart-failure pathway.",
        customer_priorities="Reduce heart-failure readmissions; value-based contracts.",
        positioning="The partner for outcomes in cardiology.",
        value_proposition="Fewer readmissions at a predictable cost.",
        value_proposition_reviewed=True,
        strategy="Lead with outcomes data, secure P&T listing, then scale the pathway across the network.",
    )
    shared = f.ObjectiveFactory(
        plan=plan, title="Cut 30-day HF readmissions", metric="30-day readmission rate %", baseline=Decimal("21.5"),
        target=Decimal("17"), current=Decimal("19.8"), due_date=TODAY + dt.timedelta(days=200), owner=kam,
        shared_with_customer=True, indicator="lagging", description="Customer-facing outcome goal.",
    )  # fmt: skip
    internal = f.ObjectiveFactory(
        plan=plan, title="Formulary listing for Cardiozen", metric="formulary listings", baseline=Decimal("0"),
        target=Decimal("3"), current=Decimal("1"), due_date=TODAY + dt.timedelta(days=120), owner=kam,
        indicator="leading",
    )  # fmt: skip
    commercial = f.TacticFactory(
        objective=internal, title="P&T dossier push", classification=Classification.COMMERCIAL, owner=kam
    )
    joint = f.TacticFactory(
        objective=shared, title="Joint HF pathway", classification=Classification.JOINT, shared_with_customer=True,
        owner=kam,
    )  # fmt: skip
    medical = f.TacticFactory(
        objective=shared, title="Advisory board", classification=Classification.MEDICAL, function="medical", owner=msl
    )
    shared_action = act(
        tactic=joint, title="Pathway kick-off workshop", owner=kam, assignee=kam, shared_with_customer=True,
        status=ActionStatus.IN_PROGRESS,
    )  # fmt: skip
    milestone = act(
        tactic=joint, title="Pathway go-live", owner=kam, shared_with_customer=True, is_milestone=True,
        due_date=TODAY + dt.timedelta(days=90),
    )  # fmt: skip
    internal_action = act(tactic=joint, title="Brief the rep team", owner=kam)
    act(tactic=commercial, title="Submit the P&T dossier", owner=kam, status=ActionStatus.DONE)
    act(
        tactic=commercial, title="Follow up with pharmacy director", owner=kam,
        start_date=TODAY - dt.timedelta(days=40), due_date=TODAY - dt.timedelta(days=5),
    )  # fmt: skip
    medical_action = act(
        tactic=medical, title="Run the cardiology advisory board", owner=msl, shared_with_customer=True
    )
    CustomerPriority.objects.create(plan=plan, title="Fewer readmissions", shared_with_customer=True, position=1)
    CustomerPriority.objects.create(plan=plan, title="Internal budget squeeze", shared_with_customer=False, position=2)
    strength = SwotItem.objects.create(plan=plan, kind="strength", title="Strong outcomes data", evidence="RCT")
    SwotObjective.objects.create(swot_item=strength, objective=shared)
    SwotItem.objects.create(plan=plan, kind="weakness", title="Small field team", classification="commercial")
    SwotItem.objects.create(plan=plan, kind="opportunity", title="New value-analysis committee")
    SwotItem.objects.create(
        plan=plan, kind="threat", title="Competitor rebate offer", classification="commercial",
        evidence="Heard at the P&T meeting",
    )  # fmt: skip
    SwotItem.objects.create(plan=plan, kind="threat", title="Off-label safety questions", classification="medical")
    goal = Goal.objects.create(plan=plan, title="Be the cardiology partner of choice")
    csf = CriticalSuccessFactor.objects.create(plan=plan, goal=goal, title="P&T champion on side")
    KeyAction.objects.create(csf=csf, title="Meet the P&T chair", owner=kam, due_date=TODAY + dt.timedelta(days=10))
    stage = PlanStage.objects.create(plan=plan, name="Understand the customer", position=1)
    PlanStep.objects.create(stage=stage, title="Map the decision makers", done=True, position=1)
    PlanStep.objects.create(stage=stage, title="Relationship X-ray", position=2)
    CustomerAgreement.objects.create(
        plan=plan, agreed_on=TODAY - dt.timedelta(days=3), signatory_name="Dr. Ada Chair",
        signatory_title="Chief Medical Officer", plan_version=plan.version, recorded_by=kam,
    )  # fmt: skip
    chair = f.StakeholderFactory(first_name="Paula", last_name="Pharmacy")
    f.PositionFactory(
        stakeholder=chair, account=world.hospital, title="Director of Pharmacy",
        role_in_decision=DecisionRole.DECISION_MAKER,
    )  # fmt: skip
    f.PositionFactory(account=world.idn, title="CFO", role_in_decision=DecisionRole.APPROVER)
    f.PositionFactory(account=world.idn, title="Nurse", role_in_decision=DecisionRole.USER)
    return RichPlan(
        plan=plan, shared_objective=shared, internal_objective=internal, commercial=commercial, joint=joint,
        medical=medical, shared_action=shared_action, milestone=milestone, internal_action=internal_action,
        medical_action=medical_action,
    )  # fmt: skip
