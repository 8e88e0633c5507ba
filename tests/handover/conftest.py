"""A KAM's book to hand over: ownership and team place at Beacon Health System, plans, actions, relationships."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openkam.accounts import services as account_services
from openkam.plans.models import AccountPlan, Action
from openkam.stakeholders.models import Stakeholder
from tests import factories as f


@dataclass
class Book:
    world: Any
    plan: AccountPlan
    closed_plan: AccountPlan
    owned_action: Action
    assigned_action: Action
    done_action: Action
    medical_action: Action
    person: Stakeholder


@pytest.fixture
def book(world: Any) -> Book:
    users = world.users
    kam, admin = users["kam"], users["admin"]
    account_services.account_update(actor=admin, account=world.idn, owner_id=kam.pk)
    plan = f.PlanFactory(account=world.hospital, owner=kam, name="Beacon General 2026", status="active")
    objective = f.ObjectiveFactory(plan=plan, owner=kam, title="Formulary listing")
    tactic = f.TacticFactory(objective=objective, owner=kam, classification="commercial", title="P&T dossier")
    owned = f.ActionFactory(tactic=tactic, owner=kam, assignee=users["lead"], title="Book the P&T slot")
    assigned = f.ActionFactory(tactic=tactic, owner=users["lead"], assignee=kam, title="Send the dossier")
    done = f.ActionFactory(tactic=tactic, owner=kam, assignee=kam, status="done", title="Draft the dossier")
    med_tactic = f.TacticFactory(objective=objective, owner=users["msl"], classification="medical", title="MSL")
    medical = f.ActionFactory(tactic=med_tactic, owner=users["msl"], assignee=users["msl"], title="Medical follow-up")
    closed = f.PlanFactory(
        account=world.hospital2, owner=kam, name="Beacon North 2024", status="closed",
        period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 12, 31),
    )  # fmt: skip
    person = f.StakeholderFactory(first_name="Ada", last_name="Chen", credentials="MD")
    f.PositionFactory(stakeholder=person, account=world.hospital, title="Chief of Cardiology", is_primary=True)
    from openkam.relationships import services as rel

    rel.strength_set(
        actor=admin, account_id=world.hospital.pk, stakeholder_id=person.pk, user_id=kam.pk, current=3, desired=4
    )
    rel.assessment_owners_set(actor=admin, account_id=world.hospital.pk, stakeholder_id=person.pk, user_ids=[kam.pk])
    five_days_ago = timezone.now() - dt.timedelta(days=5)
    f.InteractionFactory(account=world.hospital, created_by=kam, subject="P&T pre-read", occurred_at=five_days_ago)
    return Book(world, plan, closed, owned, assigned, done, medical, person)
