"""factory_boy factories for every domain model. Build worlds in tests from these, never from fixtures files."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from openkam.accounts.models import Account, AccountAffiliation, AccountTeamMember, AccountType
from openkam.activities.models import Channel, Interaction
from openkam.core.models import Classification, Role, Team, Territory, User
from openkam.plans.models import AccountPlan, Action, Objective, Tactic
from openkam.portfolio.models import Indication, Product, TherapeuticArea
from openkam.stakeholders.models import Committee, CommitteeKind, Position, Stakeholder

TODAY = dt.date(2026, 6, 1)


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    code = factory.Sequence(lambda n: f"terr-{n}")
    name = factory.Sequence(lambda n: f"Territory {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = Role.KAM
    password = factory.django.Password("demo")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    type = AccountType.HOSPITAL
    state = "MA"
    country = "US"


class AccountTeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountTeamMember

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    start_date = TODAY - dt.timedelta(days=365)


class AccountAffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountAffiliation

    from_account = factory.SubFactory(AccountFactory)
    to_account = factory.SubFactory(AccountFactory, type=AccountType.GPO)
    type = "gpo_member"


class StakeholderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stakeholder

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class CommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Committee

    account = factory.SubFactory(AccountFactory)
    name = "P&T Committee"
    kind = CommitteeKind.P_AND_T


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Position

    stakeholder = factory.SubFactory(StakeholderFactory)
    account = factory.SubFactory(AccountFactory)
    title = "Chief of Cardiology"
    valid_from = TODAY - dt.timedelta(days=700)


class TherapeuticAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TherapeuticArea
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ta-{n}")
    name = factory.Sequence(lambda n: f"Therapeutic area {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Brandix {n}")
    generic_name = factory.Sequence(lambda n: f"genericumab-{n}")
    therapeutic_area = factory.SubFactory(TherapeuticAreaFactory)


class IndicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indication

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Indication {n}")


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountPlan

    account = factory.SubFactory(AccountFactory)
    name = factory.LazyAttribute(lambda o: f"{o.account.name} plan 2026")
    period_start = dt.date(2026, 1, 1)
    period_end = dt.date(2026, 12, 31)
    owner = factory.SubFactory(UserFactory)


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    plan = factory.SubFactory(PlanFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")


class TacticFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tactic

    objective = factory.SubFactory(ObjectiveFactory)
    title = factory.Sequence(lambda n: f"Tactic {n}")
    classification = Classification.COMMERCIAL


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    tactic = factory.SubFactory(TacticFactory)
    title = factory.Sequence(lambda n: f"Action {n}")
    start_date = TODAY
    due_date = TODAY + dt.timedelta(days=30)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=3))
    channel = Channel.VISIT
    account = factory.SubFactory(AccountFactory)
    subject = factory.Sequence(lambda n: f"Visit {n}")
    created_by = factory.SubFactory(UserFactory)
