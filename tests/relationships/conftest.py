"""A mapped account for the relationship tests: people at Beacon (IDN → hospital → cardiology), a P&T
committee, a few links, assessments and strengths."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from openkam.relationships import services
from openkam.relationships.models import DecisionDomain
from openkam.stakeholders.models import Committee, Position, Stakeholder
from tests import factories as f

TODAY = timezone.localdate()


@dataclass
class Mapped:
    w: Any
    committee: Committee
    chief: Stakeholder  # Chief of Cardiology, decision maker on the P&T
    pharm: Stakeholder  # Director of Pharmacy, champion
    cfo: Stakeholder  # CFO at the IDN, blocker
    fellow: Stakeholder  # attending, reports to the chief
    chief_pos: Position
    domains: dict[str, int]


def person(account: Any, title: str, role: str = "unknown", **kw: Any) -> tuple[Stakeholder, Position]:
    s = f.StakeholderFactory(**kw)
    p = f.PositionFactory(stakeholder=s, account=account, title=title, role_in_decision=role, is_primary=True)
    return s, p


@pytest.fixture
def domains(db: Any) -> dict[str, int]:
    services.domain_install_standard()  # a transactional test's flush empties the seeded table
    return {d.code: d.pk for d in DecisionDomain.objects.all()}


@pytest.fixture
def mapped(world: Any, domains: dict[str, int]) -> Mapped:
    kam = world.users["kam"]
    committee = f.CommitteeFactory(
        account=world.idn, name="Beacon System P&T", next_meeting=TODAY + dt.timedelta(days=20)
    )
    chief, chief_pos = person(world.department, "Chief of Cardiology", "decision_maker", last_name="Chiefson")
    pharm, _p = person(world.hospital, "Director of Pharmacy", "champion", last_name="Pharma")
    cfo, _p = person(world.idn, "Chief Financial Officer", "blocker", last_name="Money")
    fellow, _p = person(world.department, "Attending Physician", "influencer", last_name="Fellow")
    f.PositionFactory(stakeholder=chief, account=world.idn, title="Member, Beacon System P&T", committee=committee,
                      committee_role="member", role_in_decision="decision_maker")  # fmt: skip
    f.PositionFactory(stakeholder=pharm, account=world.idn, title="Chair, Beacon System P&T", committee=committee,
                      committee_role="chair", role_in_decision="approver")  # fmt: skip
    a = world.idn.pk
    services.assessment_record(
        actor=kam,
        account_id=a,
        stakeholder_id=chief.pk,
        decision_role="decision_maker",
        domain_ids=[domains["science_efficacy"]],
        stance=1,
        influence=4,
        note="Key opinion",
    )
    services.assessment_record(
        actor=kam,
        account_id=a,
        stakeholder_id=pharm.pk,
        decision_role="champion",
        domain_ids=[domains["registration_listing"]],
        stance=2,
        influence=4,
    )
    services.assessment_record(actor=kam, account_id=a, stakeholder_id=cfo.pk, decision_role="blocker",
                               domain_ids=[domains["financial"]], stance=-2, influence=5)  # fmt: skip
    services.strength_set(actor=kam, account_id=a, stakeholder_id=chief.pk, user_id=kam.pk, current=3, desired=4,
                          note="Met at ACC")  # fmt: skip
    services.strength_set(actor=kam, account_id=a, stakeholder_id=pharm.pk, user_id=kam.pk, current=4, desired=4)
    services.assessment_owners_set(actor=kam, account_id=a, stakeholder_id=chief.pk, user_ids=[kam.pk])
    services.link_create(actor=kam, from_stakeholder_id=fellow.pk, to_stakeholder_id=chief.pk, kind="reports_to",
                         evidence="Org chart 2025")  # fmt: skip
    services.link_create(actor=kam, from_stakeholder_id=cfo.pk, to_stakeholder_id=pharm.pk, kind="influences",
                         strength=3, evidence="Budget owner")  # fmt: skip
    return Mapped(world, committee, chief, pharm, cfo, fellow, chief_pos, domains)
