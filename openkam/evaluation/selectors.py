"""Evaluation reads, always restricted to what the actor may see (accounts through ``account_scope``).

**Position measures** (the x axis of the portfolio matrix) are pluggable: ``POSITION_MEASURES`` maps a name to a
function ``(actor, account ids) -> {account id: 0..100}``. Shipped:

- ``coverage`` (default) — relationship coverage: interactions the reader can see on the account and its
  departments/pharmacies in the last 90 days; 12 or more (about one a week) counts as 100 %. Read from the effort
  snapshot (``EffortSnapshot``, rebuilt every 10 minutes by a periodic task and after each re-score run), so the
  pages never scan millions of interactions.
- ``objectives`` — share of the objectives of the account's approved/active plans whose current value has reached
  its target.

Effort on an account (KAM analysis) counts the account itself plus its sub-accounts that are not evaluated on
their own (departments, clinics, pharmacies): the *unit* of an interaction is its account, or that account's
parent when it is such a sub-account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openkam.accounts.models import Account, AccountTeamMember, KamLevel
from openkam.accounts.selectors import account_get, account_scope, valid_id
from openkam.core.access import classification_q, is_admin, sees_all_accounts, visible_classifications
from openkam.core.errors import NotFound, PermissionDenied
from openkam.core.models import Role, Team, User
from openkam.evaluation import defaults
from openkam.evaluation.models import (
    AccountTier,
    Assessment,
    EffortSnapshot,
    ModelStatus,
    RescoreRun,
    ScoringModel,
    TeamStrategicCap,
)
from openkam.plans.models import Action
from openkam.plans.selectors import objective_scope

SUB_UNIT_TYPES = ("department", "clinic", "pharmacy")
# Effort is snapshotted per audience: each distinct set of classifications a role may see.
AUDIENCES: dict[str, frozenset[str]] = {
    ",".join(sorted(classes)): classes
    for classes in {visible_classifications(SimpleNamespace(role=r)) for r in Role.values}  # type: ignore[arg-type]
}


def audience_of(actor: User) -> str:
    return ",".join(sorted(visible_classifications(actor)))


def effort_for(*, actor: User, ids: list[int]) -> dict[int, EffortSnapshot]:
    """The snapshot rows of these units for the actor's audience (one indexed query)."""
    rows = EffortSnapshot.objects.filter(unit_id__in=ids, audience=audience_of(actor))
    return {r.unit_id: r for r in rows}


def effort_as_of() -> dt.datetime | None:
    """When the snapshot was computed (every row of one refresh carries the same time)."""
    found = list(EffortSnapshot.objects.values_list("computed_at", flat=True)[:1])
    return found[0] if found else None


LEVELS = ("strategic", "key", "basic", "declined")
COVERAGE_FULL = 12
EFFORT_DAYS = 90


# --- scoring models -----------------------------------------------------------------------------------
def scoring_model_list(*, actor: User, status: str | None = None, code: str | None = None) -> QuerySet[ScoringModel]:
    """Every signed-in user may read scoring models (they explain a score)."""
    qs = ScoringModel.objects.all()
    if status:
        qs = qs.filter(status=status)
    if code:
        qs = qs.filter(code=code)
    return qs.prefetch_related("criteria").order_by("name", "-version")


def scoring_model_get(*, actor: User, model_id: int) -> ScoringModel:
    if not valid_id(model_id):
        raise NotFound(_("No such scoring model."), code="model_not_found")
    model = ScoringModel.objects.prefetch_related("criteria").filter(pk=model_id).first()
    if model is None:
        raise NotFound(_("No such scoring model."), code="model_not_found")
    return model


def scoring_model_use_count(*, actor: User, model_id: int) -> int:
    """How many assessments were scored with a model version (a used version is history: editing it makes the
    next version)."""
    return Assessment.objects.filter(model_id=model_id).count() if valid_id(model_id) else 0


def model_for_account(*, account: Account) -> ScoringModel | None:
    """The active model for the account's type (typology first, then any active model listing the type)."""
    family, _label, _kpis = defaults.typology(account.type)
    qs = ScoringModel.objects.filter(status=ModelStatus.ACTIVE, account_types__contains=[account.type])
    if family:
        chosen = qs.filter(code=family).prefetch_related("criteria").first()
        if chosen is not None:
            return chosen
    return qs.prefetch_related("criteria").order_by("pk").first()


# --- assessments ------------------------------------------------------------------------------------
def assessment_scope(*, actor: User) -> QuerySet[Assessment]:
    return Assessment.objects.filter(account__in=account_scope(actor=actor))


def assessment_list(*, actor: User, account_id: int | None = None, status: str | None = None) -> QuerySet[Assessment]:
    qs = assessment_scope(actor=actor).select_related("account", "model", "assessed_by", "reviewed_by")
    if account_id is not None:
        qs = qs.filter(account_id=account_id) if valid_id(account_id) else qs.none()
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-assessed_on", "-id")


def assessment_get(*, actor: User, assessment_id: int) -> Assessment:
    if not valid_id(assessment_id):
        raise NotFound(_("No such assessment."), code="assessment_not_found")
    found = (
        assessment_scope(actor=actor)
        .select_related("account", "model", "assessed_by", "reviewed_by")
        .prefetch_related("scores__criterion")
        .filter(pk=assessment_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such assessment."), code="assessment_not_found")
    return found


@dataclass
class AccountEvaluation:
    account: Account
    tier: AccountTier | None
    model: ScoringModel | None
    typology: str
    kpis: list[str]
    assessments: list[Assessment]
    latest: Assessment | None

    @property
    def level(self) -> str:
        return self.account.kam_level

    @property
    def trend(self) -> list[tuple[dt.date, float]]:
        return [(a.assessed_on, float(a.total)) for a in reversed(self.assessments)]


def account_evaluation(*, actor: User, account_id: int) -> AccountEvaluation:
    account = account_get(actor=actor, account_id=account_id)
    _family, label, kpis = defaults.typology(account.type)
    assessments = list(
        Assessment.objects.filter(account=account)
        .select_related("model", "assessed_by", "reviewed_by")
        .prefetch_related("scores__criterion__model")
        .order_by("-assessed_on", "-id")
    )
    tier = AccountTier.objects.filter(account=account).select_related("override_by").first()
    return AccountEvaluation(
        account=account, tier=tier, model=model_for_account(account=account), typology=label, kpis=list(kpis),
        assessments=assessments, latest=assessments[0] if assessments else None,
    )  # fmt: skip


# --- teams and caps ---------------------------------------------------------------------------------
def team_accounts_q(team_id: int, prefix: str = "") -> Q:
    """Accounts of a team: owned by one of its members, with one of its members on the account team, or below such
    an account in the hierarchy."""
    members = User.objects.filter(team_id=team_id).values("pk")
    on_team = AccountTeamMember.objects.filter(user_id__in=members, end_date__isnull=True).values("account_id")
    if prefix:
        return (
            Q(account__owner_id__in=members)
            | Q(account_id__in=on_team)
            | Q(account__ancestors__overlap=ArraySubquery(on_team))
        )
    return Q(owner_id__in=members) | Q(pk__in=on_team) | Q(ancestors__overlap=ArraySubquery(on_team))


def strategic_cap_status(*, team: Team) -> tuple[int, int]:
    """(strategic accounts of the team, its cap)."""
    count = Account.objects.filter(team_accounts_q(team.pk), kam_level=KamLevel.STRATEGIC).count()
    row = TeamStrategicCap.objects.filter(team=team).first()
    return count, row.cap if row else defaults.DEFAULT_STRATEGIC_CAP


def team_choices(*, actor: User) -> list[Team]:
    if sees_all_accounts(actor):
        return list(Team.objects.order_by("name"))
    return list(Team.objects.filter(pk=actor.team_id)) if actor.team_id else []


def rescore_run_get(*, actor: User, run_id: int) -> RescoreRun:
    if not valid_id(run_id):
        raise NotFound(_("No such run."), code="run_not_found")
    run = RescoreRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(_("No such run."), code="run_not_found")
    return run


def rescore_run_latest(*, actor: User) -> RescoreRun | None:
    return RescoreRun.objects.order_by("-created_at", "-id").first()


# --- position measures (pluggable) ------------------------------------------------------------------
def position_coverage(actor: User, ids: list[int]) -> dict[int, float]:
    effort = effort_for(actor=actor, ids=ids)
    counts = {i: e.n90 for i, e in effort.items()}
    return {i: round(100 * min(counts.get(i, 0), COVERAGE_FULL) / COVERAGE_FULL, 1) for i in ids}


def position_objectives(actor: User, ids: list[int]) -> dict[int, float]:
    rows = (
        objective_scope(actor=actor)
        .filter(plan__account_id__in=ids, plan__status__in=["approved", "active"], target__isnull=False)
        .values("plan__account_id")
        .annotate(n=Count("id"), met=Count("id", filter=Q(current__gte=F("target"))))
        .values_list("plan__account_id", "n", "met")
    )
    found = {a: (100 * met / n if n else 0.0) for a, n, met in rows}
    return {i: round(found.get(i, 0.0), 1) for i in ids}


@dataclass(frozen=True)
class PositionMeasure:
    name: str
    label: Any
    help: Any
    compute: Callable[[User, list[int]], dict[int, float]]


POSITION_MEASURES: dict[str, PositionMeasure] = {
    "coverage": PositionMeasure(
        "coverage",
        gettext_lazy("Relationship coverage"),
        gettext_lazy(
            "Interactions in the last 90 days on the account and its departments; 12 or more = 100 % "
            "(recomputed every 10 minutes)."
        ),
        position_coverage,
    ),
    "objectives": PositionMeasure(
        "objectives",
        gettext_lazy("Plan objectives achieved"),
        gettext_lazy("Share of the objectives of approved and active plans that have reached their target."),
        position_objectives,
    ),
}
DEFAULT_POSITION = "coverage"

QUADRANTS = {
    "strategic": (gettext_lazy("Strategic partners"), gettext_lazy("Attractive and we are strong: invest, co-create.")),
    "develop": (gettext_lazy("Develop"), gettext_lazy("Attractive but we are weak: build the relationship.")),
    "maintain": (gettext_lazy("Maintain"), gettext_lazy("Less attractive, we are strong: serve efficiently.")),
    "opportunistic": (gettext_lazy("Opportunistic"), gettext_lazy("Less attractive, we are weak: minimal investment.")),
}
QUADRANT_SPLIT = 50.0


def quadrant_of(attractiveness: float, position: float) -> str:
    high_a, high_p = attractiveness >= QUADRANT_SPLIT, position >= QUADRANT_SPLIT
    if high_a:
        return "strategic" if high_p else "develop"
    return "maintain" if high_p else "opportunistic"


# --- portfolio matrix -------------------------------------------------------------------------------
@dataclass
class MatrixPoint:
    id: int
    name: str
    type: str
    type_label: str
    country: str
    level: str
    level_label: str
    attractiveness: float
    position: float
    quadrant: str


@dataclass
class Matrix:
    points: list[MatrixPoint]
    measure: PositionMeasure
    quadrant_counts: dict[str, int] = field(default_factory=dict)


def _filtered_tiers(
    actor: User, *, team_id: int | None, type: str | None, country: str | None
) -> QuerySet[AccountTier]:
    qs = AccountTier.objects.filter(account__in=account_scope(actor=actor), total__isnull=False)
    if team_id:
        qs = qs.filter(team_accounts_q(team_id, prefix="account__")) if valid_id(team_id) else qs.none()
    if type:
        qs = qs.filter(account__type=type)
    if country:
        qs = qs.filter(account__country=country.replace("\x00", "").upper()[:2])
    return qs


def portfolio_matrix(
    *,
    actor: User,
    team_id: int | None = None,
    type: str | None = None,
    country: str | None = None,
    position: str = DEFAULT_POSITION,
) -> Matrix:
    """Every assessed account the actor sees: attractiveness (latest score) against our position. Two queries."""
    measure = POSITION_MEASURES.get(position) or POSITION_MEASURES[DEFAULT_POSITION]
    rows = list(
        _filtered_tiers(actor, team_id=team_id, type=type, country=country)
        .values_list("account_id", "account__name", "account__type", "account__country", "account__kam_level", "total")
        .order_by("account__name", "account_id")
    )
    ids = [r[0] for r in rows]
    positions = measure.compute(actor, ids) if ids else {}
    types = dict(Account._meta.get_field("type").choices)  # type: ignore[arg-type]
    levels = dict(KamLevel.choices)
    points = []
    counts = dict.fromkeys(QUADRANTS, 0)
    for aid, name, typ, ctry, level, total in rows:
        pos = positions.get(aid, 0.0)
        score = float(total or 0)
        quad = quadrant_of(score, pos)
        counts[quad] += 1
        points.append(MatrixPoint(aid, name, typ, str(types.get(typ, typ)), ctry, level, str(levels.get(level, level)),
                                  score, pos, quad))  # fmt: skip
    return Matrix(points=points, measure=measure, quadrant_counts=counts)


def matrix_filter_options(*, actor: User) -> dict[str, list[Any]]:
    scope = AccountTier.objects.filter(account__in=account_scope(actor=actor))
    types = sorted(set(scope.values_list("account__type", flat=True).distinct()))
    countries = sorted(set(scope.values_list("account__country", flat=True).distinct()))
    labels = dict(Account._meta.get_field("type").choices)  # type: ignore[arg-type]
    return {"types": [(t, labels.get(t, t)) for t in types], "countries": countries, "teams": team_choices(actor=actor)}


# --- KAM analysis -------------------------------------------------------------------------------------
def can_see_analysis(actor: User) -> bool:
    return actor.is_active and (actor.role in (Role.LEAD, Role.COMPLIANCE) or is_admin(actor))


@dataclass
class AccountEffort:
    id: int
    name: str
    type: str
    level: str
    total: Decimal | None
    interactions: int = 0  # last 90 days
    last_30: int = 0
    last_60: int = 0
    people: int = 0  # distinct colleagues who logged interactions in the window
    open_actions: int = 0
    flag: str = ""


@dataclass
class LevelRow:
    level: str
    label: str
    accounts: int = 0
    interactions: int = 0
    people: int = 0
    open_actions: int = 0
    account_share: float = 0.0
    effort_share: float = 0.0
    intended_share: float = 0.0

    @property
    def gap(self) -> float:
        return round(self.effort_share - self.intended_share, 1)

    @property
    def per_account(self) -> float:
        return round(self.interactions / self.accounts, 1) if self.accounts else 0.0


@dataclass
class Analysis:
    rows: list[LevelRow]
    flagged: list[AccountEffort]
    accounts: list[AccountEffort]
    caps: list[tuple[Team, int, int]]
    days: int = EFFORT_DAYS
    as_of: dt.datetime | None = None

    @property
    def total_accounts(self) -> int:
        return sum(r.accounts for r in self.rows)

    @property
    def total_interactions(self) -> int:
        return sum(r.interactions for r in self.rows)


def _flag(e: AccountEffort) -> str:
    if e.level == "declined" and e.last_30 >= 4:
        return _("Declined account still getting %(n)d interactions a month.") % {"n": e.last_30}
    if e.level == "strategic" and e.last_60 == 0:
        return _("Strategic account with no activity in 60 days.")
    if e.level == "key" and e.interactions == 0:
        return _("Key account with no activity in 90 days.")
    if e.level == "basic" and e.last_30 >= 8:
        return _("Basic account getting %(n)d interactions a month — strategic-level effort.") % {"n": e.last_30}
    return ""


def kam_analysis(*, actor: User, team_id: int | None = None) -> Analysis:
    """Accounts per level, effort per level against its intended share, mismatches. A constant number of queries."""
    if not can_see_analysis(actor):
        raise PermissionDenied(_("The KAM analysis is for leads, compliance and administrators."), code="lead_only")
    accounts_qs = account_scope(actor=actor).filter(kam_level__in=LEVELS)
    if team_id:
        accounts_qs = accounts_qs.filter(team_accounts_q(team_id)) if valid_id(team_id) else accounts_qs.none()
    base = list(accounts_qs.values_list("id", "name", "type", "kam_level", "tier__total").order_by("name", "id"))
    ids = [r[0] for r in base]
    efforts = {r[0]: AccountEffort(r[0], r[1], r[2], r[3], r[4]) for r in base}
    if ids:
        for unit, snap in effort_for(actor=actor, ids=ids).items():
            e = efforts[unit]
            e.interactions, e.last_30, e.last_60, e.people = snap.n90, snap.n30, snap.n60, snap.people
        for aid, n in (
            # the ids are in the actor's scope already (so are their plans): no second scope subquery
            Action.objects.filter(classification_q(actor, "tactic__classification"))
            .filter(tactic__objective__plan__account_id__in=ids)
            .exclude(status__in=["done", "cancelled"])
            .values("tactic__objective__plan__account_id")
            .annotate(n=Count("id"))
            .values_list("tactic__objective__plan__account_id", "n")
        ):
            efforts[aid].open_actions = n
    labels = dict(KamLevel.choices)
    rows = {
        lvl: LevelRow(lvl, str(labels[lvl]), intended_share=float(defaults.INTENDED_EFFORT_SHARE[lvl]))
        for lvl in LEVELS
    }
    for e in efforts.values():
        r = rows[e.level]
        r.accounts += 1
        r.interactions += e.interactions
        r.people += e.people
        r.open_actions += e.open_actions
        e.flag = _flag(e)
    n_acc = sum(r.accounts for r in rows.values()) or 1
    n_int = sum(r.interactions for r in rows.values())
    for r in rows.values():
        r.account_share = round(100 * r.accounts / n_acc, 1)
        r.effort_share = round(100 * r.interactions / n_int, 1) if n_int else 0.0
    flagged = sorted((e for e in efforts.values() if e.flag), key=lambda e: (LEVELS.index(e.level), e.name))
    teams = [t for t in team_choices(actor=actor) if not team_id or t.pk == team_id]
    caps = []
    if teams:
        cap_rows = dict(TeamStrategicCap.objects.filter(team__in=teams).values_list("team_id", "cap"))
        strategic = {
            t.pk: Account.objects.filter(team_accounts_q(t.pk), kam_level=KamLevel.STRATEGIC).count()
            for t in teams[:20]
        }
        caps = [(t, strategic[t.pk], cap_rows.get(t.pk, defaults.DEFAULT_STRATEGIC_CAP)) for t in teams[:20]]
    return Analysis(
        rows=list(rows.values()), flagged=flagged, accounts=list(efforts.values()), caps=caps, as_of=effort_as_of()
    )


def analysis_accounts(accounts: Iterable[AccountEffort]) -> list[AccountEffort]:
    return sorted(accounts, key=lambda e: (LEVELS.index(e.level), e.name))
