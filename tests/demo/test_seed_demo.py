"""seed_demo: a deterministic demo world, loaded with COPY, that the rest of the product can rely on."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from pghistory.models import Context

from openkam.accounts.models import Account
from openkam.accounts.selectors import account_scope
from openkam.activities.models import Interaction
from openkam.activities.selectors import interaction_scope
from openkam.core.models import User
from openkam.core.validators import npi_is_valid
from openkam.demo.loader import account_ancestor_mismatches, world_counts
from openkam.demo.reference import cms_hospitals
from openkam.demo.scales import FLAGSHIP, SCALES
from openkam.demo.world import WorldGenerator
from openkam.plans.models import AccountPlan, Action, Tactic
from openkam.stakeholders.models import Position, Stakeholder

DEMO_USERS = ("kam", "kam2", "lead", "msl", "access", "compliance", "admin")


def seed(*, seed: int = 7, force: bool = False, anchor: dt.date | None = None) -> str:
    out = StringIO()
    call_command("seed_demo", seed=seed, scale="tiny", force=force, anchor=anchor, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    return {
        "counts": world_counts(),
        "users": list(User.objects.order_by("username").values_list("username", "first_name", "last_name", "role")),
        "accounts": list(Account.objects.order_by("id").values_list("name", "type", "depth", "ccn")),
        "stakeholders": list(Stakeholder.objects.order_by("id").values_list("first_name", "last_name", "npi")),
        "plans": list(AccountPlan.objects.order_by("id").values_list("name", "status")),
        "interactions": list(Interaction.objects.order_by("id").values_list("subject", "channel", "occurred_at")[:50]),
    }


@pytest.fixture
def demo_world(db: Any) -> dict[str, User]:
    seed()
    return {u.username: u for u in User.objects.all()}


def test_same_seed_gives_the_same_world_and_another_seed_another(db: Any) -> None:
    anchor = timezone.localdate()
    out = seed(seed=7, anchor=anchor)
    assert "Loading the tiny world" in out and "core.User" in out  # progress is printed
    first = snapshot()
    seed(seed=7, anchor=anchor, force=True)
    assert snapshot() == first
    assert first["counts"]["stakeholders.Stakeholder"] == SCALES["tiny"].stakeholders
    assert first["counts"]["activities.Interaction"] == SCALES["tiny"].interactions

    seed(seed=8, anchor=anchor, force=True)
    other = snapshot()
    assert other["stakeholders"] != first["stakeholders"]
    assert other["users"] == first["users"]  # the personas are fixed


def test_refuses_a_non_empty_database_without_force(demo_world: dict[str, User]) -> None:
    before = world_counts()
    with pytest.raises(CommandError, match="--force"):
        seed(seed=9)
    assert world_counts() == before


def test_every_demo_login_works_with_password_demo(demo_world: dict[str, User]) -> None:
    for username in DEMO_USERS:
        assert Client().login(username=username, password="demo"), username
    users = demo_world
    assert {users[u].role for u in DEMO_USERS} == {"kam", "lead", "medical", "market_access", "compliance", "admin"}
    assert users["kam"].manager == users["lead"] and users["kam2"].manager == users["lead"]
    assert users["admin"].is_staff
    assert all(users[u].get_full_name() and users[u].title for u in DEMO_USERS)


def test_every_accounts_ancestors_match_its_parent_chain(demo_world: dict[str, User]) -> None:
    accounts = {a.pk: a for a in Account.objects.all()}
    assert len(accounts) > 20
    for account in accounts.values():
        chain, parent = [], account.parent_id
        while parent is not None:
            chain.insert(0, parent)
            parent = accounts[parent].parent_id
        assert account.ancestors == chain, account
        assert account.depth == len(chain), account
    assert account_ancestor_mismatches() == 0


def test_each_demo_user_sees_a_sensible_book(demo_world: dict[str, User]) -> None:
    users = demo_world
    books = {u: set(account_scope(actor=users[u]).values_list("pk", flat=True)) for u in DEMO_USERS}
    assert all(books.values()), {u: len(b) for u, b in books.items()}
    idns = {a.name: a.pk for a in Account.objects.filter(type="idn", depth=0)}
    assert len(idns) == 6
    flagship = idns[FLAGSHIP]
    assert flagship in books["kam"] and flagship not in books["kam2"]
    assert idns["Commonwealth Bay Health"] in books["kam2"] and idns["Commonwealth Bay Health"] not in books["kam"]
    assert books["kam"] | books["kam2"] <= books["lead"]  # the lead sees the books of the people they manage
    assert sum(1 for pk in idns.values() if pk in books["msl"]) >= 3
    assert sum(1 for pk in idns.values() if pk in books["access"]) >= 3
    assert books["compliance"] == books["admin"] == set(Account.objects.values_list("pk", flat=True))


def test_classification_follows_the_creators_role(demo_world: dict[str, User]) -> None:
    users = demo_world
    msl_sees = Counter(interaction_scope(actor=users["msl"]).values_list("classification", flat=True))
    assert msl_sees["medical"] > 0 and msl_sees["joint"] > 0
    assert set(msl_sees) <= {"medical", "joint"}  # never commercial-only (nor market access)
    kam_sees = set(interaction_scope(actor=users["kam"]).values_list("classification", flat=True))
    assert "commercial" in kam_sees and "medical" not in kam_sees
    for i in Interaction.objects.select_related("created_by"):
        own = {"kam": "commercial", "lead": "commercial", "medical": "medical", "market_access": "market_access"}
        assert i.classification in (own[i.created_by.role], "joint")
        assert i.stakeholders.exists()
        assert i.participants.filter(pk=i.created_by_id).exists()


def test_world_has_what_the_demo_needs(demo_world: dict[str, User]) -> None:
    assert set(AccountPlan.objects.values_list("status", flat=True)) == {
        "draft", "in_review", "approved", "active", "closed"
    }  # fmt: skip
    assert set(Tactic.objects.values_list("classification", flat=True)) == {
        "commercial", "medical", "market_access", "joint"
    }  # fmt: skip
    assert set(Action.objects.values_list("status", flat=True)) == {
        "not_started", "in_progress", "blocked", "done", "cancelled"
    }  # fmt: skip
    assert Action.objects.filter(owner__isnull=False, assignee__isnull=False, due_date__isnull=False).exists()
    assert Position.objects.filter(valid_to__lt=timezone.localdate()).exists()  # vacated roles
    assert Position.objects.filter(committee__isnull=False).exists()
    assert set(Account.objects.values_list("type", flat=True)) >= {
        "idn", "hospital", "department", "gpo", "payer", "pbm", "wholesaler", "pharmacy_chain"
    }  # fmt: skip

    real = {h.ccn: h for h in cms_hospitals()}
    hospitals = Account.objects.filter(type="hospital")
    assert hospitals.exists()
    for h in hospitals:
        assert h.ccn in real and real[h.ccn].zip == h.postal_code and real[h.ccn].state == h.state

    npis = list(Stakeholder.objects.exclude(npi="").values_list("npi", flat=True))
    assert npis and all(npi_is_valid(n) and n.startswith("199") for n in npis)
    assert len(set(npis)) == len(npis)
    assert Stakeholder.objects.filter(specialty__isnull=False).exists()
    assert Stakeholder.objects.filter(consent_email=True).exists()
    assert Stakeholder.objects.filter(consent_contact=False).exists()

    # the load is audited: pghistory recorded every row, under the demo.seed context
    context = Context.objects.get(metadata__action="demo.seed")
    account_events = apps.get_model("accounts", "AccountEvent").objects
    assert account_events.filter(pgh_context=context).count() == Account.objects.count()


def test_demo_scale_shape() -> None:
    """The full demo scale, generated in memory (no database): sizes the brief asks for."""

    class Counting:
        def __init__(self) -> None:
            self.rows: Counter[str] = Counter()

        def write(self, model: Any, columns: Any, rows: Any) -> int:
            n = sum(1 for _ in rows)
            self.rows[model._meta.label] += n
            return n

    sink = Counting()
    summary = WorldGenerator(scale=SCALES["demo"], seed=42, sink=sink, anchor=dt.date(2026, 6, 1)).build()
    assert sink.rows["stakeholders.Stakeholder"] == 1000
    assert sink.rows["core.User"] == 7
    assert 3000 <= sink.rows["activities.Interaction"] <= 10_000
    assert sink.rows["portfolio.Product"] == 10
    assert summary.hospitals_in_flagship == 40


def test_interactions_respect_consent(demo_world: dict[str, User]) -> None:
    from django.db.models import Q

    from openkam.stakeholders.models import Stakeholder

    named = Interaction.stakeholders.through.objects
    refused = Stakeholder.objects.filter(Q(do_not_contact=True) | Q(consent_contact=False))
    assert refused.exists()  # the world has such people...
    assert not named.filter(stakeholder__in=refused).exists()  # ...and nobody logged an interaction with them
    no_email = named.filter(interaction__channel="email", stakeholder__consent_email=False)
    assert named.filter(interaction__channel="email").exists() and not no_email.exists()


def test_every_committee_has_a_chair_and_named_seats(demo_world: dict[str, User]) -> None:
    """Review item 13: the member whose title says "Chair, ..." chairs the committee; the other seats say
    what they are (vice chair, secretary, advisor, voting member) — their titles match the seat."""
    from openkam.stakeholders.models import Committee

    seats = Position.objects.filter(committee__isnull=False)
    assert seats.exists() and not seats.filter(committee_role="").exists()
    roles = Counter(seats.values_list("committee_role", flat=True))
    assert {"chair", "secretary", "member", "vice_chair"} <= set(roles)
    for committee in Committee.objects.filter(positions__isnull=False).distinct():
        chairs = committee.positions.filter(committee_role="chair", valid_to__isnull=True)
        assert chairs.count() == 1, committee.name
        assert chairs.get().title.startswith("Chair, ")
    titles = {"chair": "Chair, ", "vice_chair": "Vice Chair, ", "secretary": "Secretary, ", "advisor": "Advisor, ",
              "member": "Member, "}  # fmt: skip
    for role, title in seats.values_list("committee_role", "title"):
        assert title.startswith(titles[role]), (role, title)
