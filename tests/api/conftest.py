"""A rich world for the API fuzzer, built ONCE per test module and rolled back when the module ends.

``fuzz_world`` holds the same personas as ``tests/conftest.py`` (kam, kam2, lead, msl, access, compliance, admin)
with a bearer token each, and at least one row of every kind the API addresses by id: accounts (a tree on kam's
book, an account on kam2's, a GPO with an affiliation), team memberships, people with positions and a committee,
a therapeutic area with products and indications, plans with tactics of each classification and their actions,
interactions of each classification, and evaluation data (scoring models, an assessment, a re-score run).
``ids`` maps API parameter names (path, query, header, body) to values that exist, so generated requests reach
past the 404s.

Isolation: the world lives in an outer transaction; pytest-django's per-test transaction (``db``) nests in it, so each
test's changes roll back to it, and the whole world rolls back when the module is done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from openkam.core.models import Classification, Role, User
from tests import factories as f


@dataclass
class FuzzWorld:
    users: dict[str, User]
    tokens: dict[str, str]  # username → bearer key
    ids: dict[str, list[Any]] = field(default_factory=dict)  # API parameter name → existing ids/values


def _personas() -> dict[str, User]:
    team = f.TeamFactory(name="Northeast KAM team")
    lead = f.UserFactory(username="lead", role=Role.LEAD, team=team, first_name="Lena", last_name="Lead")
    return {
        "lead": lead,
        "kam": f.UserFactory(username="kam", role=Role.KAM, team=team, manager=lead, first_name="Kim", last_name="Kam"),
        "kam2": f.UserFactory(username="kam2", role=Role.KAM, team=team, manager=lead),
        "msl": f.UserFactory(username="msl", role=Role.MEDICAL, first_name="Mia", last_name="Msl"),
        "access": f.UserFactory(username="access", role=Role.MARKET_ACCESS),
        "compliance": f.UserFactory(username="compliance", role=Role.COMPLIANCE),
        "admin": f.UserFactory(username="admin", role=Role.ADMIN, is_staff=True),
    }


def build_fuzz_world() -> FuzzWorld:
    from openkam.accounts import services as accounts
    from openkam.activities import services as activities
    from openkam.core import services as core
    from openkam.portfolio import services as portfolio
    from openkam.stakeholders import services as stakeholders
    from openkam.stakeholders.models import Specialty
    from openkam.stakeholders.services import specialty_taxonomy_load

    if Specialty.objects.count() < 883:
        specialty_taxonomy_load()
    users = _personas()
    admin, kam = users["admin"], users["kam"]
    tokens = {name: core.api_token_create(actor=user, name="fuzz")[1] for name, user in users.items()}

    # accounts: IDN → 2 hospitals → department on kam's, msl's and access's book; Harbor on kam2's; a GPO.
    idn = accounts.account_create(actor=admin, name="Beacon Health System", type="idn", state="MA")
    hospital = accounts.account_create(actor=admin, name="Beacon General Hospital", type="hospital", parent=idn)
    hospital2 = accounts.account_create(actor=admin, name="Beacon North Hospital", type="hospital", parent=idn)
    department = accounts.account_create(actor=admin, name="Cardiology", type="department", parent=hospital)
    harbor = accounts.account_create(actor=admin, name="Harbor Medical Center", type="hospital")
    gpo = accounts.account_create(actor=admin, name="Vizient", type="gpo")
    since = dt.date(2025, 1, 1)
    members = [
        f.AccountTeamMemberFactory(account=acct, user=users[name], start_date=since)
        for name, acct in [("kam", idn), ("msl", idn), ("access", idn), ("kam2", harbor), ("kam", gpo)]
    ]
    affiliation = accounts.affiliation_create(
        actor=admin, from_account=idn, to_account_id=gpo.pk, type="gpo_member", start_date=dt.date(2024, 1, 1)
    )

    # people
    committee = f.CommitteeFactory(account=hospital, name="Beacon General P&T")
    chen = stakeholders.stakeholder_create(
        actor=kam, first_name="Ada", last_name="Chen", account=department, title="Chief of Cardiology",
        specialty="207RC0000X", committee=None,
    )  # fmt: skip
    pharmacist = f.StakeholderFactory(first_name="Ravi", last_name="Patel", kind="pharmacist")
    positions = [
        f.PositionFactory(stakeholder=pharmacist, account=hospital, title="Director of Pharmacy", committee=committee),
        f.PositionFactory(
            stakeholder=pharmacist, account=hospital2, title="Former chief", valid_to=dt.date(2024, 12, 31)
        ),
    ]
    harbor_doc = f.StakeholderFactory(first_name="Hana", last_name="Harbor")
    positions.append(f.PositionFactory(stakeholder=harbor_doc, account=harbor, title="CMO", is_primary=True))
    positions.extend(chen.positions.all())

    # portfolio
    ta = portfolio.ta_create(actor=admin, code="cardio", name="Cardiovascular")
    product = portfolio.product_create(
        actor=admin, name="Cardiovex", generic_name="vexalimab", therapeutic_area=ta, launch_date=dt.date(2021, 3, 1)
    )
    pipeline = portfolio.product_create(
        actor=admin, name="Lipidra", generic_name="lipirocumab", therapeutic_area=ta, status="pipeline"
    )
    indication = portfolio.indication_create(actor=admin, product=product, name="Chronic heart failure", icd10="I50.22")

    # plans: one on the IDN (kam) with a tactic of every classification, one on Harbor (kam2), one draft
    plan = f.PlanFactory(account=idn, owner=kam, name="Beacon 2026", status="active")
    draft = f.PlanFactory(account=hospital, owner=kam, name="Beacon General draft")
    harbor_plan = f.PlanFactory(account=harbor, owner=users["kam2"], name="Harbor 2026")
    objective = f.ObjectiveFactory(plan=plan, title="Win formulary listing", owner=kam)
    draft_objective = f.ObjectiveFactory(plan=draft, title="Draft objective")
    harbor_objective = f.ObjectiveFactory(plan=harbor_plan, title="Harbor objective")
    tactics = {
        c: f.TacticFactory(
            objective=objective,
            title=f"{c} tactic",
            classification=c,
            function="medical" if c == Classification.MEDICAL else "commercial",
        )
        for c in Classification.values
    }
    tactics["draft"] = f.TacticFactory(objective=draft_objective, title="Draft tactic")
    tactics["harbor"] = f.TacticFactory(objective=harbor_objective, title="Harbor tactic")
    actions = [
        f.ActionFactory(tactic=t, title=f"{name} action", owner=kam, assignee=users["msl"] if "med" in name else kam)
        for name, t in tactics.items()
    ]

    # interactions of every classification
    ago = timezone.now() - dt.timedelta(days=2)
    interactions = [
        activities.interaction_create(
            actor=kam, account=hospital, occurred_at=ago, channel="visit", subject="Formulary discussion",
            classification="commercial", stakeholders=[chen], tactic=tactics[Classification.COMMERCIAL],
            duration_minutes=45,
        ),
        activities.interaction_create(
            actor=users["msl"], account=department, occurred_at=ago, channel="meeting", subject="Trial data",
            stakeholders=[chen], tactic=tactics[Classification.MEDICAL],
        ),
        activities.interaction_create(
            actor=users["access"], account=idn, occurred_at=ago, channel="call", subject="Payer dossier",
            classification="market_access",
        ),
        activities.interaction_create(
            actor=users["msl"], account=idn, occurred_at=ago, channel="webinar", subject="HF webinar",
            classification="joint", participants=[users["msl"], kam],
        ),
        f.InteractionFactory(account=harbor, created_by=users["kam2"], subject="Harbor visit"),
    ]  # fmt: skip

    territory = core.territory_create(actor=admin, code="ne", name="New England")

    # evaluation: the shipped scoring models (a migration installs them), an assessment, a re-score run
    from openkam.evaluation import services as evaluation
    from openkam.evaluation.models import RescoreRun, ScoringModel

    evaluation.scoring_model_install_defaults()
    models = list(ScoringModel.objects.prefetch_related("criteria"))
    model = next(m for m in models if "idn" in m.account_types)
    assessment, _tier = evaluation.assessment_create(
        actor=kam, account_id=idn.pk, model_id=model.pk,
        scores=[{"criterion_id": c.pk, "score": 3, "evidence": "QBR"} for c in model.criteria.all()],
    )  # fmt: skip
    run = RescoreRun.objects.create(requested_by=admin)
    accounts_all = [idn, hospital, hospital2, department, harbor, gpo]
    user_ids = [u.pk for u in users.values()]
    from openkam.core.models import ApiToken, Team

    token_ids = list(ApiToken.objects.values_list("pk", flat=True))
    plans = [plan, draft, harbor_plan]
    ids: dict[str, list[Any]] = {
        "account_id": [a.pk for a in accounts_all],
        "to_account_id": [a.pk for a in accounts_all],
        "parent_id": [a.pk for a in accounts_all],
        "member_id": [m.pk for m in members],
        "affiliation_id": [affiliation.pk],
        "user_id": user_ids,
        "owner_id": user_ids,
        "assignee_id": user_ids,
        "manager_id": user_ids,
        "participant": user_ids,
        "participants": [[users["kam"].pk], [users["msl"].pk, users["kam"].pk]],
        "team_id": list(Team.objects.values_list("pk", flat=True)),
        "territory_id": [territory.pk],
        "territory_ids": [[territory.pk]],
        "token_id": token_ids,
        "plan_id": [p.pk for p in plans],
        "version": sorted({p.version for p in plans}),
        "objective_id": [objective.pk, draft_objective.pk, harbor_objective.pk],
        "tactic_id": [t.pk for t in tactics.values()],
        "action_id": [a.pk for a in actions],
        "interaction_id": [i.pk for i in interactions],
        "stakeholder_id": [chen.pk, pharmacist.pk, harbor_doc.pk],
        "stakeholders": [[chen.pk], [chen.pk, pharmacist.pk]],
        "position_id": [p.pk for p in positions],
        "committee_id": [committee.pk],
        "product_id": [product.pk, pipeline.pk],
        "indication_id": [indication.pk],
        "ta_id": [ta.pk],
        "specialty": ["207RC0000X", "183500000X"],
        "model_id": [m.pk for m in models],
        "criterion_id": [c.pk for m in models for c in m.criteria.all()],
        "assessment_id": [assessment.pk],
        "run_id": [run.pk],
        "If-Match": [f'"{v}"' for v in sorted({p.version for p in plans})] + ["*"],
        "username": ["kam", "admin"],
        "password": ["demo"],
    }
    # the same ids under the names the bodies and filters use
    for alias, source in {
        "account": "account_id",
        "parent": "account_id",
        "owner": "owner_id",
        "assignee": "assignee_id",
        "plan": "plan_id",
        "tactic": "tactic_id",
        "action": "action_id",
        "stakeholder": "stakeholder_id",
        "committee": "committee_id",
        "product": "product_id",
        "therapeutic_area": "ta_id",
        "ta": "ta_id",
    }.items():
        ids[alias] = ids[source]
    return FuzzWorld(users=users, tokens=tokens, ids=ids)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[FuzzWorld]:
    """The world, committed to nothing: an outer atomic block that rolls back when the module ends."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_fuzz_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
