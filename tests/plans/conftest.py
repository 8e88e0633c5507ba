"""Plan fixtures: a plan on kam's book with commercial, joint and medical tactics, and a size-able builder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from openkam.core.models import Classification
from openkam.plans.models import AccountPlan, Action, ActionStatus, Objective, Tactic
from tests import factories as f


@dataclass
class PlanWorld:
    plan: AccountPlan
    objective: Objective
    commercial: Tactic
    joint: Tactic
    medical: Tactic
    commercial_actions: list[Action]
    joint_actions: list[Action]
    medical_actions: list[Action]


def _actions(tactic: Tactic, statuses: list[str], **kw: Any) -> list[Action]:
    return [
        f.ActionFactory(tactic=tactic, status=s, title=f"{tactic.title} step {i + 1}", **kw)
        for i, s in enumerate(statuses)
    ]


@pytest.fixture
def pw(world: Any) -> PlanWorld:
    """kam's plan on Beacon General Hospital (visible to kam, msl, access, lead; not to kam2).

    One objective with three tactics:
    - commercial "Formulary push": 1 done of 4 (one more cancelled) → 25 %
    - joint "Joint HEOR study": 1 done of 2 → 50 %
    - medical "Advisory board": 2 done of 2 → 100 %
    """
    users = world.users
    plan = f.PlanFactory(account=world.hospital, owner=users["kam"], name="Beacon General 2026")
    objective = f.ObjectiveFactory(plan=plan, title="List Cardiozen on the formulary", metric="formulary listings")
    commercial = f.TacticFactory(
        objective=objective, title="Formulary push", classification=Classification.COMMERCIAL, owner=users["kam"]
    )
    joint = f.TacticFactory(objective=objective, title="Joint HEOR study", classification=Classification.JOINT)
    medical = f.TacticFactory(
        objective=objective, title="Advisory board", classification=Classification.MEDICAL, function="medical"
    )
    d, n, c, p = ActionStatus.DONE, ActionStatus.NOT_STARTED, ActionStatus.CANCELLED, ActionStatus.IN_PROGRESS
    return PlanWorld(
        plan=plan,
        objective=objective,
        commercial=commercial,
        joint=joint,
        medical=medical,
        commercial_actions=_actions(commercial, [d, n, p, n, c], assignee=users["kam"]),
        joint_actions=_actions(joint, [d, n], assignee=users["msl"]),
        medical_actions=_actions(medical, [d, d], assignee=users["msl"]),
    )


def build_plan(
    *, account: Any, owner: Any, objectives: int, tactics_per_objective: int = 2, actions_per_tactic: int = 5
) -> AccountPlan:
    """A plan of a given size (alternating commercial/joint tactics, every third action done)."""
    plan = f.PlanFactory(account=account, owner=owner)
    classes = [Classification.COMMERCIAL, Classification.JOINT, Classification.MEDICAL]
    for _o in range(objectives):
        objective = f.ObjectiveFactory(plan=plan, owner=owner)
        for t in range(tactics_per_objective):
            tactic = f.TacticFactory(objective=objective, classification=classes[t % len(classes)], owner=owner)
            for a in range(actions_per_tactic):
                f.ActionFactory(
                    tactic=tactic,
                    owner=owner,
                    assignee=owner,
                    status=ActionStatus.DONE if a % 3 == 0 else ActionStatus.IN_PROGRESS,
                )
    return plan


@pytest.fixture(autouse=True)
def shipped_templates(request: Any) -> None:
    """The plan templates migration 0004 ships (a browser test's flush of the test database removes them)."""
    if "django_db" not in {m.name for m in request.node.iter_markers()}:
        return
    request.getfixturevalue("db")
    from openkam.plans.defaults import install_default_templates

    install_default_templates()
