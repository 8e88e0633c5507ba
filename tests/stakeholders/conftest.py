"""Stakeholder fixtures: a few people at kam's Beacon accounts and one at kam2's Harbor Medical Center."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from openkam.core.validators import npi_check_digit
from openkam.stakeholders.models import Committee, Position, Specialty, Stakeholder
from tests import factories as f

CARDIOLOGY = "207RC0000X"  # Internal Medicine, Cardiovascular Disease
ONCOLOGY = "207RX0202X"  # Internal Medicine, Medical Oncology
PHARMACIST = "183500000X"


@pytest.fixture(autouse=True)
def nucc_taxonomy(db: Any) -> None:
    """The NUCC codes come from a data migration; a transactional (browser) test elsewhere in the session flushes
    every table, so make sure they are there."""
    if Specialty.objects.count() < 883:
        from openkam.stakeholders.services import specialty_taxonomy_load

        specialty_taxonomy_load()


def make_npi(n: int, first: str = "1") -> str:
    """A valid NPI (Luhn with the 80840 prefix) — ``n`` makes it unique."""
    nine = f"{first}{n:08d}"
    return nine + str(npi_check_digit(nine))


def bad_check_digit(npi: str) -> str:
    return npi[:9] + str((int(npi[9]) + 1) % 10)


@dataclass
class People:
    chen: Stakeholder  # cardiologist, chief at Beacon General (current, primary) + P&T member
    patel: Stakeholder  # pharmacist at Beacon North; used to head pharmacy at Beacon General (ended)
    harbor: Stakeholder  # only at Harbor Medical Center (kam2's)
    chen_chief: Position
    patel_past: Position
    patel_now: Position
    harbor_pos: Position
    pt_committee: Committee


@pytest.fixture
def people(world: Any) -> People:
    chen = f.StakeholderFactory(
        first_name="Ada",
        last_name="Chen",
        prefix="Dr.",
        credentials="MD",
        npi=make_npi(1),
        specialty=Specialty.objects.get(pk=CARDIOLOGY),
        consent_email=True,
        consent_date=dt.date(2025, 3, 1),
    )
    patel = f.StakeholderFactory(
        first_name="Ravi", last_name="Patel", credentials="PharmD", kind="pharmacist",
        specialty=Specialty.objects.get(pk=PHARMACIST), privacy_restricted=True,
    )  # fmt: skip
    harbor = f.StakeholderFactory(first_name="Hana", last_name="Harbor", npi=make_npi(3))
    pt = f.CommitteeFactory(account=world.hospital, name="Beacon General P&T")
    chen_chief = f.PositionFactory(
        stakeholder=chen, account=world.hospital, title="Chief of Cardiology", is_primary=True,
        role_in_decision="decision_maker", committee=pt, valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    patel_past = f.PositionFactory(
        stakeholder=patel, account=world.hospital, title="Director of Pharmacy", role_in_decision="approver",
        valid_from=dt.date(2018, 5, 1), valid_to=dt.date(2024, 6, 30),
    )  # fmt: skip
    patel_now = f.PositionFactory(
        stakeholder=patel, account=world.hospital2, title="Clinical Pharmacist", valid_from=dt.date(2024, 7, 1)
    )
    harbor_pos = f.PositionFactory(stakeholder=harbor, account=world.other_account, title="CMO", is_primary=True)
    return People(chen, patel, harbor, chen_chief, patel_past, patel_now, harbor_pos, pt)


SHOWCASE = [
    # first, last, prefix, credentials, kind, specialty, account attr, title, role, flags
    (
        "Maria",
        "Alvarez",
        "Dr.",
        "MD",
        "physician",
        "207RX0202X",
        "hospital",
        "Director, Cancer Center",
        "decision_maker",
        {},
    ),
    (
        "James",
        "Okafor",
        "Dr.",
        "MD, FACC",
        "physician",
        CARDIOLOGY,
        "department",
        "Interventional Cardiologist",
        "champion",
        {"consent_email": True},
    ),
    (
        "Linda",
        "Novak",
        "",
        "PharmD, BCOP",
        "pharmacist",
        "1835P0018X",
        "hospital",
        "Oncology Pharmacy Lead",
        "gatekeeper",
        {},
    ),
    (
        "Thomas",
        "Reed",
        "",
        "MBA",
        "administrator",
        None,
        "idn",
        "VP Supply Chain",
        "approver",
        {"consent_contact": False},
    ),
    (
        "Priya",
        "Shah",
        "Dr.",
        "MD",
        "physician",
        "207Q00000X",
        "hospital2",
        "Chief Medical Officer",
        "decision_maker",
        {"do_not_contact": True, "consent_contact": False},
    ),
    ("Elena", "Rossi", "", "RN, MSN", "nurse", None, "department", "Nurse Manager, Cath Lab", "user", {}),
    (
        "Daniel",
        "Kim",
        "",
        "",
        "procurement",
        None,
        "idn",
        "Contracting Manager",
        "influencer",
        {"privacy_restricted": True},
    ),
]


def build_showcase(world: Any) -> None:
    """A realistic handful of people across the Beacon tree, for screenshots and list tests."""
    from openkam.stakeholders import services

    kam = world.users["kam"]
    for n, (first, last, prefix, cred, kind, spec, acct, title, role, flags) in enumerate(SHOWCASE, start=100):
        services.stakeholder_create(
            actor=kam, first_name=first, last_name=last, prefix=prefix, credentials=cred, kind=kind,
            npi=make_npi(n) if kind in ("physician", "pharmacist", "nurse") else "", specialty=spec,
            account=getattr(world, acct), title=title, role_in_decision=role, valid_from=dt.date(2022, 3, 1),
            consent_date=dt.date(2025, 9, 1), **flags,
        )  # fmt: skip
