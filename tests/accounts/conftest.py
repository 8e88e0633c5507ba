"""Account test kit: a world with stakeholders, plans and interactions below the IDN, built at any size."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from openkam.accounts import services
from openkam.accounts.models import AccountType
from tests import factories as f

# A valid organisation NPI (starts with 2, Luhn check digit with the 80840 prefix) and an invalid one.
GOOD_NPI = "2000000002"
BAD_NPI = "2000000003"


def populate(world: Any, n: int) -> dict[str, Any]:
    """``n`` hospitals under the IDN, each with a department, ``n`` positions (one vacated), a plan and an
    interaction; returns what was made. Everything sits below ``world.idn`` so it is on kam's book."""
    admin = world.users["admin"]
    made: dict[str, list[Any]] = {"hospitals": [], "positions": [], "plans": [], "interactions": []}
    for i in range(n):
        h = services.account_create(
            actor=admin, name=f"Member Hospital {i:02d}", type=AccountType.HOSPITAL, parent=world.idn
        )
        d = services.account_create(actor=admin, name=f"Oncology {i:02d}", type=AccountType.DEPARTMENT, parent=h)
        made["hospitals"].append(h)
        for j in range(n):
            made["positions"].append(f.PositionFactory(account=d if j % 2 else h, title=f"Pharmacist {i}-{j}"))
        made["positions"].append(
            f.PositionFactory(
                account=h, title=f"Former chief {i}", valid_to=timezone.localdate() - dt.timedelta(days=10)
            )
        )
        made["plans"].append(f.PlanFactory(account=h, owner=world.users["kam"], status="active"))
        made["interactions"].append(f.InteractionFactory(account=d, created_by=world.users["kam"]))
        made["interactions"].append(f.InteractionFactory(account=h, created_by=world.users["kam"]))
    return made


@pytest.fixture
def populate_world() -> Any:
    return populate


def build_showcase(world: Any) -> dict[str, Any]:
    """A realistic Beacon Health System for screenshots and browser tests: identifiers, a team, member
    hospitals with departments, named stakeholders (one vacated, some inherited), plans, interactions and
    a GPO affiliation."""
    u = world.users
    admin = u["admin"]
    services.account_update(
        actor=admin, account=world.idn, city="Boston", state="MA", postal_code="02114", kam_level="strategic",
        owner_id=u["kam"].pk, npi="2123456784", address_line="55 Fruit Street", website="https://beacon.example.org",
        description="Integrated delivery network: 2 acute hospitals, 14 clinics, 1,100 beds.",
    )  # fmt: skip
    services.account_update(
        actor=admin,
        account=world.hospital,
        city="Boston",
        state="MA",
        ccn="220071",
        kam_level="key",
        owner_id=u["kam"].pk,
    )
    services.account_update(
        actor=admin,
        account=world.hospital2,
        city="Salem",
        state="MA",
        ccn="220035",
        kam_level="basic",
        owner_id=u["kam"].pk,
    )
    services.account_update(actor=admin, account=world.department, city="Boston", state="MA", kam_level="key")
    onc = services.account_create(actor=admin, name="Oncology", type="department", parent=world.hospital, city="Boston")
    services.account_create(
        actor=admin, name="Beacon Pharmacy Services", type="pharmacy", parent=world.idn, city="Boston"
    )
    gpo = services.account_create(actor=admin, name="Vizient", type="gpo", city="Irving", state="TX", kam_level="key")
    f.AccountTeamMemberFactory(account=gpo, user=u["kam"], start_date=dt.date(2025, 1, 1))
    services.affiliation_create(
        actor=admin, from_account=world.idn, to_account_id=gpo.pk, type="gpo_member", start_date=dt.date(2024, 1, 1)
    )
    people = [
        (world.idn, "Dr.", "Helen", "Marsh", "MD", "Chief Medical Officer", "decision_maker"),
        (world.idn, "", "Raj", "Patel", "PharmD", "VP Pharmacy Services", "approver"),
        (world.hospital, "Dr.", "Owen", "Clarke", "MD", "Chair, P&T Committee", "decision_maker"),
        (world.department, "Dr.", "Lucia", "Romero", "MD", "Chief of Cardiology", "champion"),
        (world.department, "", "Tom", "Becker", "RN", "Cardiology Nurse Manager", "user"),
        (onc, "Dr.", "Amira", "Haddad", "MD", "Head of Oncology", "influencer"),
        (world.hospital2, "", "Grace", "Liu", "MBA", "Director of Procurement", "gatekeeper"),
    ]
    for account, prefix, first, last, cred, title, role in people:
        s = f.StakeholderFactory(prefix=prefix, first_name=first, last_name=last, credentials=cred)
        f.PositionFactory(stakeholder=s, account=account, title=title, role_in_decision=role)
    gone = f.StakeholderFactory(prefix="Dr.", first_name="Paul", last_name="Nyberg", credentials="MD")
    f.PositionFactory(
        stakeholder=gone, account=world.hospital, title="Director of Pharmacy",
        valid_to=timezone.localdate() - dt.timedelta(days=30),
    )  # fmt: skip
    f.CommitteeFactory(account=world.idn, name="System P&T Committee", meeting_cadence="Monthly")
    f.CommitteeFactory(
        account=world.idn, name="Value Analysis Committee", kind="value_analysis", meeting_cadence="Quarterly"
    )
    f.PlanFactory(account=world.idn, name="Beacon 2026 strategic account plan", owner=u["kam"], status="active")
    f.PlanFactory(account=world.hospital, name="Beacon General: cardiology access", owner=u["kam"], status="in_review")
    now = timezone.now()
    for days, acct, subject, channel in [
        (2, world.department, "Heart-failure pathway review with Dr. Romero", "meeting"),
        (6, world.idn, "Quarterly business review with the CMO", "visit"),
        (13, world.hospital, "P&T pre-read: formulary submission", "email"),
        (20, onc, "Oncology biosimilar webinar", "webinar"),
    ]:
        f.InteractionFactory(
            account=acct,
            subject=subject,
            channel=channel,
            created_by=u["kam"],
            occurred_at=now - dt.timedelta(days=days),
        )
    return {"gpo": gpo, "oncology": onc}
