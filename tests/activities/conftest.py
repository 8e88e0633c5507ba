"""Interaction fixtures on top of ``world``: people at Beacon and Harbor, plans with tactics and actions,
and three logged interactions (commercial by kam, medical and joint by msl)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openkam.activities import services
from openkam.core.models import Classification
from tests import factories as f


@dataclass
class Scene:
    world: Any
    users: dict[str, Any]
    cardiologist: Any  # at Cardiology (below Beacon General)
    pharmacist: Any  # at Beacon General, position ended
    harbor_doc: Any  # at Harbor only (kam2's account)
    beacon_plan: Any
    commercial_tactic: Any
    commercial_action: Any
    medical_tactic: Any
    harbor_tactic: Any
    commercial: Any  # interaction at Beacon General, kam
    medical: Any  # interaction at Cardiology, msl
    joint: Any  # interaction at Beacon Health System, msl


def ago(days: int = 0, hours: int = 0) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=hours)


@pytest.fixture
def scene(world: Any) -> Scene:
    u = world.users
    cardiologist = f.StakeholderFactory(prefix="Dr.", first_name="Ada", last_name="Heart", credentials="MD")
    f.PositionFactory(stakeholder=cardiologist, account=world.department, title="Chief of Cardiology")
    pharmacist = f.StakeholderFactory(first_name="Ben", last_name="Pill", credentials="PharmD")
    f.PositionFactory(
        stakeholder=pharmacist,
        account=world.hospital,
        title="Director of Pharmacy",
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2024, 12, 31),
    )
    harbor_doc = f.StakeholderFactory(first_name="Cora", last_name="Harbor")
    f.PositionFactory(stakeholder=harbor_doc, account=world.other_account, title="CMO")

    plan = f.PlanFactory(account=world.idn, owner=u["kam"], name="Beacon 2026")
    objective = f.ObjectiveFactory(plan=plan, title="Win formulary listing")
    commercial_tactic = f.TacticFactory(
        objective=objective, title="P&T dossier", classification=Classification.COMMERCIAL
    )
    commercial_action = f.ActionFactory(tactic=commercial_tactic, title="Present dossier to P&T")
    medical_tactic = f.TacticFactory(objective=objective, title="Advisory board", classification=Classification.MEDICAL)
    f.ActionFactory(tactic=medical_tactic, title="Invite KOLs")
    harbor_plan = f.PlanFactory(account=world.other_account, owner=u["kam2"], name="Harbor 2026")
    harbor_tactic = f.TacticFactory(objective=f.ObjectiveFactory(plan=harbor_plan), title="Harbor tactic")

    commercial = services.interaction_create(
        actor=u["kam"],
        account=world.hospital,
        occurred_at=ago(days=2),
        channel="visit",
        subject="Formulary discussion",
        classification="commercial",
        stakeholders=[cardiologist],
        tactic=commercial_tactic,
        duration_minutes=45,
    )
    medical = services.interaction_create(
        actor=u["msl"],
        account=world.department,
        occurred_at=ago(days=1),
        channel="meeting",
        subject="Trial data exchange",
        stakeholders=[cardiologist],
        tactic=medical_tactic,
    )
    joint = services.interaction_create(
        actor=u["msl"],
        account=world.idn,
        occurred_at=ago(hours=3),
        channel="webinar",
        subject="Heart failure webinar",
        classification="joint",
        participants=[u["msl"], u["kam"]],
    )
    return Scene(
        world=world,
        users=u,
        cardiologist=cardiologist,
        pharmacist=pharmacist,
        harbor_doc=harbor_doc,
        beacon_plan=plan,
        commercial_tactic=commercial_tactic,
        commercial_action=commercial_action,
        medical_tactic=medical_tactic,
        harbor_tactic=harbor_tactic,
        commercial=commercial,
        medical=medical,
        joint=joint,
    )
