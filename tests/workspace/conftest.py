"""A small book of work for the start page: plans, actions and interactions on kam's and kam2's accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openkam.core.models import Classification
from tests import factories as f


@dataclass
class Book:
    plan: Any
    other_plan: Any
    overdue: Any
    soon: Any
    later: Any
    done: Any
    medical_action: Any
    other_action: Any


def add_work(world: Any, *, suffix: str = "") -> Book:
    """kam owns a plan on the IDN with open, overdue and done actions; kam2 has one on Harbor."""
    today = timezone.localdate()
    kam, kam2 = world.users["kam"], world.users["kam2"]
    plan = f.PlanFactory(account=world.idn, owner=kam, name=f"Beacon 2026 plan{suffix}", status="active")
    objective = f.ObjectiveFactory(plan=plan, title=f"Formulary listing{suffix}")
    tactic = f.TacticFactory(
        objective=objective, title=f"P&T dossier{suffix}", classification=Classification.COMMERCIAL
    )
    medical = f.TacticFactory(
        objective=objective, title=f"Advisory board{suffix}", classification=Classification.MEDICAL
    )

    def action(title: str, due: dt.date | None, status: str = "not_started", t: Any = tactic, who: Any = kam) -> Any:
        return f.ActionFactory(
            tactic=t, title=title + suffix, start_date=None, due_date=due, status=status, assignee=who
        )

    overdue = action("Send budget impact model", today - dt.timedelta(days=3))
    soon = action("Book P&T pre-meeting", today + dt.timedelta(days=2), status="in_progress")
    later = action("Draft value dossier", today + dt.timedelta(days=40))
    done = action("Map the committee", today - dt.timedelta(days=10), status="done")
    medical_action = action("Brief the MSL", today + dt.timedelta(days=1), t=medical)
    other_plan = f.PlanFactory(account=world.other_account, owner=kam2, name=f"Harbor plan{suffix}", status="draft")
    other_tactic = f.TacticFactory(objective=f.ObjectiveFactory(plan=other_plan))
    other_action = action("Harbor secret action", today - dt.timedelta(days=1), t=other_tactic, who=kam)

    now = timezone.now()
    f.InteractionFactory(
        account=world.hospital,
        created_by=kam,
        subject=f"Visit pharmacy director{suffix}",
        occurred_at=now - dt.timedelta(days=2),
    )
    f.InteractionFactory(
        account=world.idn,
        created_by=kam,
        subject=f"Old call{suffix}",
        channel="call",
        occurred_at=now - dt.timedelta(days=45),
    )
    f.InteractionFactory(
        account=world.idn,
        created_by=world.users["msl"],
        subject=f"Medical exchange on data{suffix}",
        classification=Classification.MEDICAL,
        occurred_at=now - dt.timedelta(days=1),
    )
    f.InteractionFactory(
        account=world.other_account,
        created_by=kam2,
        subject=f"Harbor lunch{suffix}",
        occurred_at=now - dt.timedelta(days=1),
    )
    return Book(plan, other_plan, overdue, soon, later, done, medical_action, other_action)


@pytest.fixture
def book(world: Any) -> Book:
    return add_work(world)
