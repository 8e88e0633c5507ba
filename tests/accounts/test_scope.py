"""Who sees what: ``account_scope`` and the "this account and below" selectors against an independent
reference, in a world with nested accounts, territories, a lead, ended / future / last-day memberships,
owned accounts and users who see nothing or everything.

The reference walks ``parent`` pointers in Python (never the ``ancestors`` array the SQL uses), so these
tests pin the rule (ADR 0001 §3), not the query that implements it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openkam.accounts import selectors
from openkam.accounts.models import Account, AccountTeamMember
from openkam.activities.models import Interaction
from openkam.activities.selectors import account_interactions_latest, interaction_list
from openkam.core.access import visible_classifications
from openkam.core.errors import NotFound
from openkam.core.models import Role, TeamTerritory, User
from openkam.plans.models import AccountPlan
from openkam.plans.selectors import plan_list
from openkam.stakeholders.models import Committee, Position
from openkam.stakeholders.selectors import account_positions, committee_list, stakeholder_list
from tests import factories as f

pytestmark = pytest.mark.django_db


@dataclass
class Maze:
    users: dict[str, User]
    accounts: dict[str, Account]


def _account(name: str, parent: Account | None = None, **fields: Any) -> Account:
    ancestors = [*parent.ancestors, parent.pk] if parent else []
    return f.AccountFactory(name=name, parent=parent, ancestors=ancestors, depth=len(ancestors), **fields)


@pytest.fixture
def maze(db: Any) -> Maze:
    """Two teams and territories; a lead over two KAMs; accounts four levels deep; memberships that are
    current, ended yesterday, on their last day, not yet started; owned accounts; rows everywhere."""
    today = timezone.localdate()
    north, south = f.TerritoryFactory(name="North"), f.TerritoryFactory(name="South")
    team_a, team_b, team_c = f.TeamFactory(name="A"), f.TeamFactory(name="B"), f.TeamFactory(name="No territory")
    TeamTerritory.objects.create(team=team_a, territory=north)
    TeamTerritory.objects.create(team=team_b, territory=south)
    lead = f.UserFactory(username="z_lead", role=Role.LEAD, team=team_a)
    u = {
        "lead": lead,
        "kam_a": f.UserFactory(username="z_kam_a", role=Role.KAM, team=team_a, manager=lead),
        "kam_b": f.UserFactory(username="z_kam_b", role=Role.KAM, team=team_b, manager=lead),
        "kam_c": f.UserFactory(username="z_kam_c", role=Role.KAM, team=team_c),
        "loner": f.UserFactory(username="z_loner", role=Role.KAM),
        "msl": f.UserFactory(username="z_msl", role=Role.MEDICAL),
        "access": f.UserFactory(username="z_access", role=Role.MARKET_ACCESS),
        "gone": f.UserFactory(username="z_gone", role=Role.KAM, team=team_a, is_active=False),
        "compliance": f.UserFactory(username="z_compliance", role=Role.COMPLIANCE),
        "admin": f.UserFactory(username="z_admin", role=Role.ADMIN),
    }
    a: dict[str, Account] = {}
    a["idn"] = _account("IDN")
    a["h1"] = _account("H1", a["idn"])
    a["h2"] = _account("H2", a["idn"], territory=south)  # in a territory, under an account that is not
    a["d1"] = _account("D1", a["h1"])
    a["d2"] = _account("D2", a["h1"], owner=u["kam_c"])
    a["c1"] = _account("C1", a["d1"])  # four levels deep
    a["c2"] = _account("C2", a["d2"])
    a["n_root"] = _account("North system", territory=north)
    a["n_child"] = _account("North hospital", a["n_root"])
    a["lonely"] = _account("Lonely clinic", owner=u["loner"])
    a["ended"] = _account("Ended account")
    a["future"] = _account("Future account")
    a["last_day"] = _account("Last-day account")
    a["last_day_child"] = _account("Last-day child", a["last_day"])
    a["nobody"] = _account("Nobody's account")
    member = f.AccountTeamMemberFactory
    member(account=a["idn"], user=u["kam_a"], start_date=today - dt.timedelta(days=400))
    member(account=a["d1"], user=u["msl"], start_date=today - dt.timedelta(days=30))
    member(account=a["h2"], user=u["access"], start_date=today - dt.timedelta(days=30))
    yesterday = today - dt.timedelta(days=1)
    member(account=a["ended"], user=u["kam_c"], start_date=today - dt.timedelta(days=90), end_date=yesterday)
    member(account=a["future"], user=u["kam_c"], start_date=today + dt.timedelta(days=1))
    member(account=a["last_day"], user=u["kam_b"], start_date=today - dt.timedelta(days=9), end_date=today)
    member(account=a["ended"], user=u["gone"], start_date=today - dt.timedelta(days=9))
    # rows at every account: positions (one vacated), committees, plans, interactions of each classification
    writer = u["kam_a"]
    for acct in a.values():
        f.PositionFactory(account=acct, title=f"Head of {acct.name}")
        f.PositionFactory(account=acct, title=f"Former head of {acct.name}", valid_to=today - dt.timedelta(days=5))
        f.CommitteeFactory(account=acct, name=f"{acct.name} P&T")
        f.PlanFactory(account=acct, owner=writer, status="active")
        for n, cls in enumerate(["commercial", "medical", "market_access", "joint"]):
            f.InteractionFactory(
                account=acct,
                created_by=writer,
                classification=cls,
                subject=f"{acct.name} {cls}",
                occurred_at=timezone.now() - dt.timedelta(days=3 + n + acct.pk % 7, minutes=acct.pk),
            )
    return Maze(u, a)


# --- the reference --------------------------------------------------------------------------------
def reference_scope(user: User) -> set[int]:
    """ADR 0001 §3 in plain Python: direct assignments (current memberships, owned accounts, the team's
    territories; a lead's reports too) and everything below them, found by walking parent pointers."""
    if not user.is_active:
        return set()
    accounts = {a.pk: a for a in Account.objects.all()}
    if user.role in (Role.COMPLIANCE, Role.ADMIN):
        return set(accounts)
    today = timezone.localdate()
    people = {user.pk}
    if user.role == Role.LEAD:
        people |= set(User.objects.filter(manager=user).values_list("pk", flat=True))
    teams = set(User.objects.filter(pk__in=people, team__isnull=False).values_list("team_id", flat=True))
    territories = set(TeamTerritory.objects.filter(team_id__in=teams).values_list("territory_id", flat=True))
    direct = {
        m.account_id
        for m in AccountTeamMember.objects.filter(user_id__in=people)
        if m.start_date <= today and (m.end_date is None or m.end_date >= today)
    }
    direct |= {pk for pk, a in accounts.items() if a.owner_id in people or a.territory_id in territories}

    def visible(pk: int | None) -> bool:
        while pk is not None:
            if pk in direct:
                return True
            pk = accounts[pk].parent_id
        return False

    return {pk for pk in accounts if visible(pk)}


def reference_subtree(account: Account) -> set[int]:
    accounts = {a.pk: a.parent_id for a in Account.objects.all()}

    def below(pk: int | None) -> bool:
        while pk is not None:
            if pk == account.pk:
                return True
            pk = accounts[pk]
        return False

    return {pk for pk in accounts if below(pk)}


def ids(rows: Any) -> set[int]:
    return {r.pk for r in rows}


# --- tests ----------------------------------------------------------------------------------------
def test_scope_matches_the_reference_for_every_kind_of_user(maze):
    expected_names = {
        "kam_a": {"IDN", "H1", "H2", "D1", "D2", "C1", "C2", "North system", "North hospital"},
        "kam_b": {"H2", "Last-day account", "Last-day child"},  # territory South; last day still counts
        "kam_c": {"D2", "C2"},  # owner of D2; ended and future memberships give nothing
        "lead": {"IDN", "H1", "H2", "D1", "D2", "C1", "C2", "North system", "North hospital", "Last-day account",
                 "Last-day child"},  # own team's territory + both reports' books
        "loner": {"Lonely clinic"},
        "msl": {"D1", "C1"},
        "access": {"H2"},
        "gone": set(),  # inactive: nothing, even with a current membership
    }  # fmt: skip
    for key, user in maze.users.items():
        got = set(selectors.account_scope(actor=user).values_list("pk", flat=True))
        assert got == reference_scope(user), key
        if key in expected_names:
            assert set(Account.objects.filter(pk__in=got).values_list("name", flat=True)) == expected_names[key], key
    assert selectors.account_scope(actor=maze.users["admin"]).count() == len(maze.accounts)


def test_scope_is_one_lazy_query_usable_as_a_subquery(maze):
    kam = maze.users["kam_a"]
    with CaptureQueriesContext(connection) as ctx:
        scope = selectors.account_scope(actor=kam)
        n = Position.objects.filter(account__in=scope).count()
    assert len(ctx.captured_queries) == 1
    assert n == Position.objects.filter(account_id__in=reference_scope(kam)).count()


def test_subtree_is_the_account_and_everything_below_it(maze):
    for acct in maze.accounts.values():
        assert set(Account.objects.filter(pk__in=selectors.account_subtree(account=acct))) == set(
            Account.objects.filter(pk__in=reference_subtree(acct))
        )
        below = set(selectors.account_subtree(account=acct.pk, include_self=False).values_list("pk", flat=True))
        assert below == reference_subtree(acct) - {acct.pk}


def test_subtree_selectors_show_exactly_the_visible_rows_below_an_account(maze):
    """For each user and each account they may open: the rows "here and below" are exactly the rows at
    the account's subtree (all of it visible), of the classifications the user may see."""
    checked = 0
    for key, user in maze.users.items():
        scope = reference_scope(user)
        classes = visible_classifications(user)
        for pk in sorted(scope):
            account = selectors.account_get(actor=user, account_id=pk)
            subtree = reference_subtree(account)
            assert subtree <= scope, (key, account.name)  # the scope is closed downwards
            visible = Interaction.objects.filter(classification__in=classes)
            want_interactions = set(visible.filter(account_id__in=subtree).values_list("pk", flat=True))
            got = interaction_list(actor=user, account=account, include_descendants=True)
            assert ids(got) == want_interactions, (key, account.name)
            assert ids(interaction_list(actor=user, account=account.pk, include_descendants=True)) == want_interactions
            own = set(visible.filter(account_id=pk).values_list("pk", flat=True))
            assert ids(interaction_list(actor=user, account=account)) == own
            latest = list(account_interactions_latest(actor=user, account=account, limit=3))
            assert [i.pk for i in latest] == [i.pk for i in got[:3]], (key, account.name)
            assert all(i.account_id in subtree for i in latest)
            plans = plan_list(actor=user, account=account, include_descendants=True)
            assert ids(plans) == set(AccountPlan.objects.filter(account_id__in=subtree).values_list("pk", flat=True))
            assert ids(plan_list(actor=user, account=account)) == set(
                AccountPlan.objects.filter(account_id=pk).values_list("pk", flat=True)
            )
            positions = account_positions(actor=user, account=account, include_descendants=True)
            assert ids(positions) == set(Position.objects.filter(account_id__in=subtree).values_list("pk", flat=True))
            current = account_positions(actor=user, account=account, include_descendants=True, include_ended=False)
            assert ids(current) == set(
                Position.objects.filter(account_id__in=subtree, valid_to__isnull=True).values_list("pk", flat=True)
            )
            committees = committee_list(actor=user, account=account, include_descendants=True)
            assert ids(committees) == set(Committee.objects.filter(account_id__in=subtree).values_list("pk", flat=True))
            people = stakeholder_list(actor=user, account=account)
            assert ids(people) == set(
                Position.objects.filter(account_id__in=subtree).values_list("stakeholder_id", flat=True)
            )
            checked += 1
    assert checked > 40


def test_a_bare_account_id_is_still_checked_against_the_scope(maze):
    """``interaction_list(account=<id>)`` (API, list filters) re-applies the scope: below an account the
    user cannot see, only the visible part shows; an invisible account alone shows nothing."""
    msl = maze.users["msl"]  # sees D1 and C1, not H1 above them
    h1 = maze.accounts["h1"]
    got = ids(interaction_list(actor=msl, account=h1.pk, include_descendants=True))
    want = set(
        Interaction.objects.filter(
            account_id__in=[maze.accounts["d1"].pk, maze.accounts["c1"].pk], classification__in=["medical", "joint"]
        ).values_list("pk", flat=True)
    )
    assert got == want and got
    assert not ids(interaction_list(actor=msl, account=h1.pk))


def test_invisible_accounts_stay_out_of_every_entry_point(maze):
    kam_c = maze.users["kam_c"]
    names = {a.name for a in selectors.account_list(actor=kam_c)}
    assert names == {"D2", "C2"}
    for hidden in ("ended", "future", "idn", "nobody"):
        with pytest.raises(NotFound):
            selectors.account_get(actor=kam_c, account_id=maze.accounts[hidden].pk)
    d2 = selectors.account_get(actor=kam_c, account_id=maze.accounts["d2"].pk)
    assert [a.name for a in selectors.account_ancestors(actor=kam_c, account=d2)] == []  # IDN, H1 hidden
    assert {a.name for a in selectors.account_picker(actor=kam_c)} == {"D2", "C2"}


def test_account_choice_labels_match_djangos_generic_display():
    """Account's fast get_FOO_display() give what Django's generated ones give, in every language."""
    from django.utils import translation

    from openkam.accounts.models import AccountStatus, AccountType, KamLevel

    for lang in ("en", "de", "fr"):
        with translation.override(lang):
            for field, choices in (("type", AccountType), ("status", AccountStatus), ("kam_level", KamLevel)):
                for value in [*choices.values, "not-a-choice"]:
                    account = Account(**{field: value})
                    generic = account._get_FIELD_display(Account._meta.get_field(field))
                    assert getattr(account, f"get_{field}_display")() == generic, (lang, field, value)


def test_choice_label_filter_matches_get_display():
    """The accounts_ui ``choice_label`` filter shows what get_FOO_display() shows, in every language."""
    from django.utils import translation

    from openkam.accounts.templatetags.accounts_ui import choice_label
    from openkam.activities.models import Channel
    from openkam.core.models import Classification
    from openkam.plans.models import PlanStatus
    from openkam.stakeholders.models import CommitteeKind

    rows = [
        *(Interaction(channel=v) for v in [*Channel.values, "fax"]),
        *(Interaction(classification=v) for v in Classification.values),
        *(AccountPlan(status=v) for v in PlanStatus.values),
        *(Committee(kind=v) for v in CommitteeKind.values),
        *(Position(role_in_decision=v) for v, _ in Position._meta.get_field("role_in_decision").flatchoices),
    ]
    fields = {Interaction: ("channel", "classification"), AccountPlan: ("status",), Committee: ("kind",)}
    fields[Position] = ("role_in_decision",)
    for lang in ("en", "de"):
        with translation.override(lang):
            for row in rows:
                for field in fields[type(row)]:
                    assert choice_label(row, field) == getattr(row, f"get_{field}_display")(), (lang, row, field)
