"""``/api/v1/evaluation``: scoring models, assessments, tiers and overrides, matrix, KAM analysis, re-score runs."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from openkam.accounts.models import AccountType, KamLevel
from openkam.core.api import ErrorOut, Page
from openkam.core.models import User
from openkam.evaluation import selectors, services, tasks
from openkam.evaluation.models import AssessmentStatus, ModelStatus, RunStatus

router = Router(tags=["evaluation"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
_READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
Text = Annotated[str, Field(max_length=4000)]


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- schemas --------------------------------------------------------------------------------------
class CriterionOut(Schema):
    id: int
    key: str
    position: int
    name: str
    guidance: str
    weight: Decimal
    levels: list[str]


class ScoringModelOut(Schema):
    id: int
    code: str
    version: int
    name: str
    description: str
    account_types: list[str]
    scale_min: int
    scale_max: int
    strategic_min: Decimal
    key_min: Decimal
    basic_min: Decimal
    status: ModelStatus
    criteria: list[CriterionOut]


class CriterionIn(Schema):
    key: str = Field("", max_length=60, description="Stable across versions; derived from the name when empty.")
    name: str = Field(max_length=200)
    guidance: Text = ""
    weight: Decimal = Field(description="Percent; the weights of a model add up to 100.")
    levels: list[Annotated[str, Field(max_length=200)]] = Field(default=[], description="One label per score.")


class ScoringModelIn(Schema):
    code: str = Field(max_length=60)
    name: str = Field(max_length=200)
    description: Text = ""
    account_types: list[AccountType]
    scale_min: int = Field(1, ge=0, le=100)
    scale_max: int = Field(5, ge=1, le=100)
    strategic_min: Decimal = Decimal("75")
    key_min: Decimal = Decimal("55")
    basic_min: Decimal = Decimal("30")
    criteria: list[CriterionIn]
    activate: bool = False
    reason: str = Field("", max_length=255)


class ScoringModelPatchIn(Schema):
    name: str | None = Field(None, max_length=200)
    description: Text | None = None
    account_types: list[AccountType] | None = None
    scale_min: int | None = Field(None, ge=0, le=100)
    scale_max: int | None = Field(None, ge=1, le=100)
    strategic_min: Decimal | None = None
    key_min: Decimal | None = None
    basic_min: Decimal | None = None
    criteria: list[CriterionIn] | None = None
    reason: str = Field("", max_length=255)


class EvaluationReasonIn(Schema):
    reason: str = Field("", max_length=255)


class ScoreIn(Schema):
    criterion_id: Id
    score: int = Field(description="A whole number on the model's scale.")
    evidence: Text = ""
    evidence_date: dt.date | None = None


class AssessmentIn(Schema):
    account_id: Id
    model_id: Id | None = Field(None, description="Default: the active model for the account's type.")
    assessed_on: dt.date | None = None
    scores: list[ScoreIn]
    rationale: Text = Field("", description="Required when the score means 'declined'.")


class ScoreOut(Schema):
    criterion_id: int
    criterion_key: str = Field(alias="criterion.key")
    criterion_name: str = Field(alias="criterion.name")
    score: int
    evidence: str
    evidence_date: dt.date | None


class AssessmentOut(Schema):
    id: int
    account_id: int
    account_name: str = Field(alias="account.name")
    model_id: int
    assessed_on: dt.date
    assessed_by_id: int
    total: Decimal
    tier: KamLevel
    rationale: str
    status: AssessmentStatus
    reviewed_by_id: int | None
    reviewed_at: dt.datetime | None
    review_note: str


class AssessmentDetailOut(AssessmentOut):
    scores: list[ScoreOut]


class AssessmentResultOut(Schema):
    assessment: AssessmentDetailOut
    level: KamLevel
    level_changed: bool
    warnings: list[str]


class ReviewIn(Schema):
    note: Text = ""


class AssessmentFilters(Schema):
    account_id: Id | None = None
    status: AssessmentStatus | None = None


class TierOut(Schema):
    computed_level: KamLevel
    override_level: str
    override_reason: str
    override_by_id: int | None
    total: Decimal | None
    assessment_id: int | None


class TrendPointOut(Schema):
    assessed_on: dt.date
    total: Decimal
    tier: KamLevel


class AccountEvaluationOut(Schema):
    account_id: int
    account_name: str
    account_type: AccountType
    kam_level: KamLevel
    typology: str
    kpis: list[str]
    model_id: int | None
    tier: TierOut | None
    trend: list[TrendPointOut]


class OverrideIn(Schema):
    level: Literal["strategic", "key", "basic", "declined", ""] = Field(description="Empty: clear the override.")
    reason: str = Field(max_length=2000)


class TierResultOut(Schema):
    level: KamLevel
    level_changed: bool
    warnings: list[str]


class MatrixFilters(Schema):
    team_id: Id | None = None
    type: AccountType | None = None
    country: str | None = Field(None, max_length=2)
    position: Literal["coverage", "objectives"] = "coverage"


class MatrixPointOut(Schema):
    id: int
    name: str
    type: str
    country: str
    level: str
    attractiveness: float
    position: float
    quadrant: Literal["strategic", "develop", "maintain", "opportunistic"]


class MatrixOut(Schema):
    position_measure: str
    position_help: str
    points: list[MatrixPointOut]
    quadrant_counts: dict[str, int]


class LevelRowOut(Schema):
    level: str
    accounts: int
    account_share: float
    interactions: int
    people: int
    open_actions: int
    effort_share: float
    intended_share: float
    gap: float


class FlagOut(Schema):
    account_id: int
    account_name: str
    level: str
    interactions_90d: int
    interactions_30d: int
    flag: str


class CapOut(Schema):
    team_id: int
    team: str
    strategic: int
    cap: int
    exceeded: bool


class AnalysisOut(Schema):
    days: int
    levels: list[LevelRowOut]
    flagged: list[FlagOut]
    caps: list[CapOut]


class CapIn(Schema):
    cap: int = Field(ge=0, le=100_000)
    reason: str = Field("", max_length=255)


class RunOut(Schema):
    id: int
    status: RunStatus
    total: int
    done: int
    changed: int
    percent: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str


# --- scoring models -------------------------------------------------------------------------------
@router.get("/models", response={200: list[ScoringModelOut], **_READ_ERRORS})
@paginate(Page)
def model_list(request: HttpRequest, status: ModelStatus | None = None) -> Any:
    """Scoring models, every version (filter ``status=active`` for the ones in use)."""
    return selectors.scoring_model_list(actor=_actor(request), status=status)


@router.get("/models/{int:model_id}", response={200: ScoringModelOut, **_READ_ERRORS})
def model_get(request: HttpRequest, model_id: int) -> Any:
    return selectors.scoring_model_get(actor=_actor(request), model_id=model_id)


@router.post("/models", response={201: ScoringModelOut, **_WRITE_ERRORS})
def model_create(request: HttpRequest, payload: ScoringModelIn) -> Any:
    """A new model (admin). 422 when it has no criteria or the weights do not add up to 100 %."""
    data = payload.dict()
    return Status(201, services.scoring_model_create(actor=_actor(request), **data))


@router.patch("/models/{int:model_id}", response={200: ScoringModelOut, **_WRITE_ERRORS})
def model_update(request: HttpRequest, model_id: int, payload: ScoringModelPatchIn) -> Any:
    """Change a draft version (admin); active and retired versions are history (400 ``model_not_draft``)."""
    data = payload.dict(exclude_unset=True)
    return services.scoring_model_update(actor=_actor(request), model_id=model_id, **data)


class ScoringModelEditIn(ScoringModelPatchIn):
    activate: bool = Field(False, description="Also activate a version saved in place (a draft).")


@router.post("/models/{int:model_id}/edits", response={200: ScoringModelOut, 201: ScoringModelOut, **_WRITE_ERRORS})
def model_edit(request: HttpRequest, model_id: int, payload: ScoringModelEditIn) -> Any:
    """Save edits as the model editor does (admin): a version no assessment uses is changed in place (200); a
    version with assessments stays as it is and the edits become the next version (201) — active at once when
    the edited version was the active one. 422 naming the field when the result is not a valid model."""
    data = payload.dict(exclude_unset=True)
    saved = services.scoring_model_edit(actor=_actor(request), model_id=model_id, **data)
    return Status(201, saved.model) if saved.new_version else saved.model


@router.post("/models/{int:model_id}/versions", response={201: ScoringModelOut, **_WRITE_ERRORS})
def model_new_version(request: HttpRequest, model_id: int, payload: EvaluationReasonIn) -> Any:
    """A draft copy as the next version of the model (admin)."""
    return Status(
        201, services.scoring_model_new_version(actor=_actor(request), model_id=model_id, reason=payload.reason)
    )


@router.post("/models/{int:model_id}/activate", response={200: ScoringModelOut, **_WRITE_ERRORS})
def model_activate(request: HttpRequest, model_id: int, payload: EvaluationReasonIn) -> Any:
    """Use this version for new assessments; the family's previous active version retires (admin)."""
    return services.scoring_model_activate(actor=_actor(request), model_id=model_id, reason=payload.reason)


# --- assessments ----------------------------------------------------------------------------------
@router.get("/assessments", response={200: list[AssessmentOut], **_READ_ERRORS})
@paginate(Page)
def assessment_list(request: HttpRequest, filters: Query[AssessmentFilters]) -> Any:
    """Assessments of visible accounts, newest first."""
    return selectors.assessment_list(actor=_actor(request), account_id=filters.account_id, status=filters.status)


@router.get("/assessments/{int:assessment_id}", response={200: AssessmentDetailOut, **_READ_ERRORS})
def assessment_get(request: HttpRequest, assessment_id: int) -> Any:
    return selectors.assessment_get(actor=_actor(request), assessment_id=assessment_id)


@router.post("/assessments", response={201: AssessmentResultOut, **_WRITE_ERRORS})
def assessment_create(request: HttpRequest, payload: AssessmentIn) -> Any:
    """Score an account; the weighted total and tier are computed and the KAM level follows (unless overridden)."""
    actor = _actor(request)
    assessment, result = services.assessment_create(
        actor=actor, account_id=payload.account_id, model_id=payload.model_id, assessed_on=payload.assessed_on,
        scores=[s.dict() for s in payload.scores], rationale=payload.rationale,
    )  # fmt: skip
    detail = selectors.assessment_get(actor=actor, assessment_id=assessment.pk)
    return Status(
        201, {"assessment": detail, "level": result.level, "level_changed": result.changed, "warnings": result.warnings}
    )


@router.post("/assessments/{int:assessment_id}/review", response={200: AssessmentOut, **_WRITE_ERRORS})
def assessment_review(request: HttpRequest, assessment_id: int, payload: ReviewIn) -> Any:
    """A lead confirms an assessment (not their own)."""
    return services.assessment_review(actor=_actor(request), assessment_id=assessment_id, note=payload.note)


# --- accounts: tier, trend, typology, override ----------------------------------------------------
@router.get("/accounts/{int:account_id}", response={200: AccountEvaluationOut, **_READ_ERRORS})
def account_evaluation(request: HttpRequest, account_id: int) -> Any:
    """An account's tier, its typology (model and KPIs) and the trend of its assessments."""
    ev = selectors.account_evaluation(actor=_actor(request), account_id=account_id)
    return {
        "account_id": ev.account.pk, "account_name": ev.account.name, "account_type": ev.account.type,
        "kam_level": ev.account.kam_level, "typology": ev.typology, "kpis": ev.kpis,
        "model_id": ev.model.pk if ev.model else None, "tier": ev.tier,
        "trend": [{"assessed_on": a.assessed_on, "total": a.total, "tier": a.tier} for a in reversed(ev.assessments)],
    }  # fmt: skip


@router.post("/accounts/{int:account_id}/override", response={200: TierResultOut, **_WRITE_ERRORS})
def tier_override(request: HttpRequest, account_id: int, payload: OverrideIn) -> Any:
    """Override the computed tier (lead/admin); a reason is required. ``level: ""`` clears the override."""
    result = services.tier_override(
        actor=_actor(request), account_id=account_id, level=payload.level, reason=payload.reason
    )
    return {"level": result.level, "level_changed": result.changed, "warnings": result.warnings}


# --- portfolio matrix and KAM analysis -------------------------------------------------------------
@router.get("/matrix", response={200: MatrixOut, **_READ_ERRORS})
def matrix(request: HttpRequest, filters: Query[MatrixFilters]) -> Any:
    """Assessed accounts: attractiveness (latest score, 0–100) against our position (pluggable measure)."""
    m = selectors.portfolio_matrix(
        actor=_actor(request), team_id=filters.team_id, type=filters.type, country=filters.country,
        position=filters.position,
    )  # fmt: skip
    return {
        "position_measure": m.measure.name, "position_help": str(m.measure.help),
        "points": [p.__dict__ for p in m.points], "quadrant_counts": m.quadrant_counts,
    }  # fmt: skip


@router.get("/analysis", response={200: AnalysisOut, **_READ_ERRORS})
def analysis(request: HttpRequest, team_id: Id | None = None) -> Any:
    """Accounts and effort per level against the intended share; mismatches flagged (leads, compliance, admin)."""
    a = selectors.kam_analysis(actor=_actor(request), team_id=team_id)
    return {
        "days": a.days,
        "levels": [{**r.__dict__, "gap": r.gap} for r in a.rows],
        "flagged": [
            {
                "account_id": e.id,
                "account_name": e.name,
                "level": e.level,
                "interactions_90d": e.interactions,
                "interactions_30d": e.last_30,
                "flag": e.flag,
            }
            for e in a.flagged
        ],
        "caps": [
            {"team_id": t.pk, "team": t.name, "strategic": n, "cap": cap, "exceeded": n > cap} for t, n, cap in a.caps
        ],
    }


@router.put("/caps/{int:team_id}", response={200: CapOut, **_WRITE_ERRORS})
def cap_set(request: HttpRequest, team_id: int, payload: CapIn) -> Any:
    """Set a team's cap on strategic accounts (admin); above it, tiering warns."""
    row = services.strategic_cap_set(actor=_actor(request), team_id=team_id, cap=payload.cap, reason=payload.reason)
    n, cap = selectors.strategic_cap_status(team=row.team)
    return {"team_id": row.team_id, "team": row.team.name, "strategic": n, "cap": cap, "exceeded": n > cap}


# --- re-score runs ----------------------------------------------------------------------------------
@router.post("/rescore", response={202: RunOut, **_WRITE_ERRORS})
def rescore_start(request: HttpRequest) -> Any:
    """Re-score and re-tier every assessed account in the background (admin); poll ``GET /rescore/{id}``."""
    run = services.rescore_run_start(actor=_actor(request))
    tasks.rescore_all.defer(run_id=run.pk)
    return Status(202, run)


@router.get("/rescore/{int:run_id}", response={200: RunOut, **_READ_ERRORS})
def rescore_get(request: HttpRequest, run_id: int) -> Any:
    return selectors.rescore_run_get(actor=_actor(request), run_id=run_id)
