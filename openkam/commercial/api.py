"""``/api/v1/commercial``: whitespace grid, opportunities and pipeline, tenders with bid/risk analysis, account P&L,
cost to serve and sales-file imports (dry run, import, undo). Medical users get no money: opportunity values are
``null`` for them and P&L / pipeline figures answer 403."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from openkam.commercial import selectors, services
from openkam.commercial.models import (
    CellStatus,
    CostCategory,
    ImportStatus,
    LossReason,
    Opportunity,
    Recommendation,
    Stage,
    Tender,
    TenderOutcome,
    TenderType,
)
from openkam.core.api import ErrorOut, Page
from openkam.core.models import User

router = Router(tags=["commercial"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, Field(max_length=4000)]
Money = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]
_READ: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITE: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _set(payload: Schema) -> dict[str, Any]:
    return payload.dict(exclude_unset=True)


# --- whitespace -------------------------------------------------------------------------------------------
class ColumnOut(Schema):
    id: int
    name: str
    type: str


class CellOut(Schema):
    column_id: int
    status: CellStatus
    recorded: bool
    potential_value: Decimal | None = Field(None, description="null for medical roles")
    currency: str
    our_share: Decimal | None
    competitor: str
    contract_end: dt.date | None
    units: int
    opportunity_id: int | None
    on_formulary: bool
    is_gap: bool


class GridRowOut(Schema):
    indication_id: int
    indication: str
    product_id: int
    product: str
    cells: list[CellOut]


class WhitespaceOut(Schema):
    account_id: int
    account: str
    columns: list[ColumnOut]
    rows: list[GridRowOut]
    counts: dict[str, int]
    gaps: int
    open_opportunities: int
    used_share: float | None
    gap_potential: dict[str, Decimal] | None = Field(None, description="Potential of the gaps per currency")


def _grid_out(grid: selectors.WhitespaceGrid, figures: bool) -> dict[str, Any]:
    return {
        "account_id": grid.account.pk,
        "account": grid.account.name,
        "columns": [{"id": c.pk, "name": c.name, "type": c.type} for c in grid.columns],
        "rows": [
            {
                "indication_id": r.indication.pk,
                "indication": r.indication.name,
                "product_id": r.indication.product_id,
                "product": r.indication.product.name,
                "cells": [
                    {
                        "column_id": c.column_id,
                        "status": c.status,
                        "recorded": c.recorded,
                        "potential_value": c.potential_value if figures else None,
                        "currency": c.currency,
                        "our_share": c.our_share,
                        "competitor": c.competitor,
                        "contract_end": c.contract_end,
                        "units": c.units,
                        "opportunity_id": c.opportunity_id,
                        "on_formulary": c.formulary,
                        "is_gap": c.is_gap,
                    }
                    for c in r.cells
                ],
            }
            for r in grid.rows
        ],
        "counts": grid.counts,
        "gaps": grid.gaps,
        "open_opportunities": grid.open_opportunities,
        "used_share": grid.used_share,
        "gap_potential": grid.potential_by_currency if figures else None,
    }


@router.get("/accounts/{account_id}/whitespace", response={200: WhitespaceOut, **_READ})
def whitespace_get(request: HttpRequest, account_id: Id) -> Any:
    """Approved indications × the account's units (or member hospitals): status, potential, share, competitor,
    contract end; gaps are expansion opportunities."""
    actor = _actor(request)
    return _grid_out(selectors.whitespace_grid(actor=actor, account_id=account_id), selectors.sees_figures(actor))


class CellIn(Schema):
    status: CellStatus | None = None
    potential_value: Money | None = None
    currency: str | None = Field(None, max_length=3)
    our_share: Decimal | None = Field(None, ge=0, le=100)
    competitor: str | None = Field(None, max_length=200)
    contract_end: dt.date | None = None
    notes: Text | None = None
    reason: str = Field("", max_length=255)


class CellRecordOut(Schema):
    id: int
    account_id: int
    indication_id: int
    product_id: int
    status: CellStatus
    potential_value: Decimal | None
    currency: str
    our_share: Decimal | None
    competitor: str
    contract_end: dt.date | None
    notes: str


@router.put("/accounts/{account_id}/whitespace/{indication_id}", response={200: CellRecordOut, **_WRITE})
def whitespace_cell_put(request: HttpRequest, account_id: Id, indication_id: Id, payload: CellIn) -> Any:
    """Record what we know about an approved indication at this unit (only the fields sent change)."""
    fields = _set(payload)
    reason = fields.pop("reason", "")
    fields = {k: v for k, v in fields.items() if not (k == "currency" and v is None)}
    return services.whitespace_cell_set(
        actor=_actor(request), account_id=account_id, indication_id=indication_id, reason=reason, **fields
    )


# --- opportunities ----------------------------------------------------------------------------------------------
class OpportunityOut(Schema):
    id: int
    account_id: int
    account: str
    name: str
    description: str
    value: Decimal | None = Field(None, description="null for medical roles")
    currency: str
    stage: Stage
    probability: int
    weighted_value: Decimal | None = None
    expected_close: dt.date
    product_ids: list[int]
    indication_id: int | None
    objective_id: int | None
    owner_id: int
    owner: str
    closed_on: dt.date | None
    loss_reason: str


def _opp_out(opp: Opportunity, figures: bool) -> dict[str, Any]:
    return {
        "id": opp.pk, "account_id": opp.account_id, "account": opp.account.name, "name": opp.name,
        "description": opp.description, "value": opp.value if figures else None, "currency": opp.currency,
        "stage": opp.stage, "probability": opp.probability,
        "weighted_value": (opp.value * opp.probability / 100).quantize(Decimal("0.01")) if figures else None,
        "expected_close": opp.expected_close, "product_ids": [p.pk for p in opp.products.all()],
        "indication_id": opp.indication_id, "objective_id": opp.objective_id, "owner_id": opp.owner_id,
        "owner": str(opp.owner), "closed_on": opp.closed_on, "loss_reason": opp.loss_reason,
    }  # fmt: skip


class OpportunityFilter(Schema):
    account_id: Id | None = None
    include_below: bool = True
    stage: Stage | None = None
    open_only: bool = False
    owner_id: Id | None = None
    team_id: Id | None = None
    q: str = Field("", max_length=200)


@router.get("/opportunities", response={200: list[OpportunityOut], **_READ})
@paginate(Page)
def opportunity_list(request: HttpRequest, filters: Query[OpportunityFilter]) -> Any:
    actor = _actor(request)
    figures = selectors.sees_figures(actor)
    qs = selectors.opportunity_list(actor=actor, **filters.dict())

    class _Lazy:
        def __init__(self, qs: Any) -> None:
            self.qs = qs

        def __len__(self) -> int:
            return int(self.qs.count())

        def count(self) -> int:
            return int(self.qs.count())

        def __getitem__(self, key: Any) -> Any:
            return [_opp_out(o, figures) for o in self.qs[key]]

    return _Lazy(qs)


class OpportunityIn(Schema):
    account_id: Id
    name: str = Field(max_length=255)
    description: Text = ""
    value: Money
    currency: str = Field("USD", max_length=3)
    stage: Stage = Stage.IDENTIFIED
    probability: int | None = Field(None, description="0–100; default: the stage's usual probability")
    expected_close: dt.date
    product_ids: list[Id] = []
    indication_id: Id | None = None
    objective_id: Id | None = None
    owner_id: Id | None = None
    loss_reason: str = Field("", max_length=255)
    reason: str = Field("", max_length=255)


class OpportunityPatchIn(Schema):
    name: str | None = Field(None, max_length=255)
    description: Text | None = None
    value: Money | None = None
    currency: str | None = Field(None, max_length=3)
    stage: Stage | None = None
    probability: int | None = None
    expected_close: dt.date | None = None
    product_ids: list[Id] | None = None
    indication_id: Id | None = None
    objective_id: Id | None = None
    owner_id: Id | None = None
    loss_reason: str | None = Field(None, max_length=255)
    reason: str = Field("", max_length=255)


@router.post("/opportunities", response={201: OpportunityOut, **_WRITE})
def opportunity_create(request: HttpRequest, payload: OpportunityIn) -> Any:
    actor = _actor(request)
    fields = payload.dict()
    account_id, reason = fields.pop("account_id"), fields.pop("reason")
    if fields.get("owner_id") is None:
        fields.pop("owner_id")
    opp = services.opportunity_create(actor=actor, account_id=account_id, reason=reason, **fields)
    return Status(201, _opp_out(opp, True))


@router.post("/accounts/{account_id}/whitespace/{indication_id}/opportunity", response={201: OpportunityOut, **_WRITE})
def whitespace_to_opportunity(request: HttpRequest, account_id: Id, indication_id: Id) -> Any:
    """Turn a whitespace gap into an opportunity in one step (valued at the cell's potential)."""
    opp = services.whitespace_cell_to_opportunity(
        actor=_actor(request), account_id=account_id, indication_id=indication_id
    )
    return Status(201, _opp_out(opp, True))


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityOut, **_READ})
def opportunity_get(request: HttpRequest, opportunity_id: Id) -> Any:
    actor = _actor(request)
    opp = selectors.opportunity_get(actor=actor, opportunity_id=opportunity_id)
    return _opp_out(opp, selectors.sees_figures(actor))


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityOut, **_WRITE})
def opportunity_patch(request: HttpRequest, opportunity_id: Id, payload: OpportunityPatchIn) -> Any:
    fields = _set(payload)
    reason = fields.pop("reason", "")
    opp = services.opportunity_update(actor=_actor(request), opportunity_id=opportunity_id, reason=reason, **fields)
    return _opp_out(opp, True)


@router.delete("/opportunities/{opportunity_id}", response={204: None, **_WRITE})
def opportunity_delete(request: HttpRequest, opportunity_id: Id) -> Any:
    services.opportunity_delete(actor=_actor(request), opportunity_id=opportunity_id)
    return Status(204, None)


class OpportunityStageOut(Schema):
    stage: Stage
    label: str
    count: int
    value: Decimal
    weighted: Decimal


class GroupOut(Schema):
    id: int | None
    name: str
    count: int
    value: Decimal
    weighted: Decimal


class MonthOut(Schema):
    month: dt.date
    open: Decimal
    weighted: Decimal
    won: Decimal


class PipelineOut(Schema):
    currency: str
    open_count: int
    open_value: Decimal
    weighted: Decimal
    won_value: Decimal
    lost_value: Decimal
    win_rate: float | None
    stages: list[OpportunityStageOut]
    by_team: list[GroupOut]
    by_account: list[GroupOut] = Field(description="Direct members of the account (and its own), when one is given")
    forecast: list[MonthOut]


class PipelineFilter(Schema):
    account_id: Id | None = Field(None, description="The account and everything below it (IDN = own + members)")
    team_id: Id | None = None
    months: int = Field(12, ge=0, le=36)


@router.get("/pipeline", response={200: list[PipelineOut], **_READ})
def pipeline(request: HttpRequest, filters: Query[PipelineFilter]) -> Any:
    """The pipeline roll-up per currency: per stage, per team, per member account, and the forecast by month."""
    out = []
    for p in selectors.pipeline_rollup(actor=_actor(request), **filters.dict()):
        out.append(
            {
                "currency": p.currency, "open_count": p.open_count, "open_value": p.open_value, "weighted": p.weighted,
                "won_value": p.won_value, "lost_value": p.lost_value, "win_rate": p.win_rate,
                "stages": [s.__dict__ for s in p.stages],
                "by_team": [{"id": t["team_id"], "name": t["team"], "count": t["count"], "value": t["value"],
                             "weighted": t["weighted"]} for t in p.by_team],
                "by_account": [{"id": c["account_id"], "name": c["account"], "count": c["count"], "value": c["value"],
                                "weighted": c["weighted"]} for c in p.by_child],
                "forecast": p.months,
            }
        )  # fmt: skip
    return out


# --- tenders --------------------------------------------------------------------------------------------------------
class CriterionIO(Schema):
    name: str = Field(max_length=200)
    weight: Decimal = Field(ge=0, le=100)


class DocumentIO(Schema):
    name: str = Field(max_length=200)
    done: bool = False


class LotIn(Schema):
    number: int = Field(ge=1, le=999)
    name: str = Field(max_length=255)
    product_ids: list[Id] = []
    volume: str = Field("", max_length=100)
    estimated_value: Money | None = None
    outcome: TenderOutcome = TenderOutcome.PENDING


class LotOut(Schema):
    number: int
    name: str
    product_ids: list[int]
    volume: str
    estimated_value: Decimal | None
    outcome: TenderOutcome


class BidAssessmentOut(Schema):
    scores: dict[str, int]
    notes: str
    win_likelihood: Decimal
    recommendation: Recommendation
    assessed_by: str
    assessed_at: dt.datetime
    decision: str = Field(description="'' until the lead confirms; then go / no_go")
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str


class TenderOut(Schema):
    id: int
    account_id: int
    account: str
    title: str
    reference: str
    tender_type: TenderType
    publication_date: dt.date
    submission_deadline: dt.date
    award_date: dt.date | None
    contract_start: dt.date | None
    contract_end: dt.date | None
    estimated_value: Decimal | None = Field(None, description="null for medical roles")
    currency: str
    award_criteria: list[CriterionIO]
    documents: list[DocumentIO]
    responsible_ids: list[int]
    lots: list[LotOut]
    outcome: TenderOutcome
    loss_reason: str
    outcome_notes: str
    notes: str
    assessment: BidAssessmentOut | None = Field(None, description="Bid/risk analysis; null for medical roles")


def _assessment_out(tender: Tender) -> dict[str, Any] | None:
    a = selectors.tender_assessment(tender)
    if a is None:
        return None
    return {
        "scores": a.scores, "notes": a.notes, "win_likelihood": a.win_likelihood, "recommendation": a.recommendation,
        "assessed_by": str(a.assessed_by), "assessed_at": a.assessed_at, "decision": a.decision,
        "decided_by": str(a.decided_by) if a.decided_by else None, "decided_at": a.decided_at,
        "decision_note": a.decision_note,
    }  # fmt: skip


def _tender_out(t: Tender, figures: bool, *, detail: bool = True) -> dict[str, Any]:
    return {
        "id": t.pk, "account_id": t.account_id, "account": t.account.name, "title": t.title,
        "reference": t.reference, "tender_type": t.tender_type, "publication_date": t.publication_date,
        "submission_deadline": t.submission_deadline, "award_date": t.award_date, "contract_start": t.contract_start,
        "contract_end": t.contract_end, "estimated_value": t.estimated_value if figures else None,
        "currency": t.currency, "award_criteria": t.award_criteria, "documents": t.documents,
        "responsible_ids": [u.pk for u in t.responsible.all()],
        "lots": [
            {"number": lot.number, "name": lot.name, "product_ids": [p.pk for p in lot.products.all()],
             "volume": lot.volume, "estimated_value": lot.estimated_value if figures else None,
             "outcome": lot.outcome}
            for lot in t.lots.all()
        ] if detail else [],
        "outcome": t.outcome, "loss_reason": t.loss_reason, "outcome_notes": t.outcome_notes, "notes": t.notes,
        "assessment": _assessment_out(t) if figures else None,
    }  # fmt: skip


class TenderFilter(Schema):
    account_id: Id | None = None
    when: str = Field("", pattern="^(|upcoming|past)$")
    outcome: TenderOutcome | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@router.get("/tenders", response={200: list[TenderOut], **_READ})
@paginate(Page)
def tender_list(request: HttpRequest, filters: Query[TenderFilter]) -> Any:
    """The tender calendar (lots are listed on the detail endpoint)."""
    actor = _actor(request)
    figures = selectors.sees_figures(actor)
    qs = selectors.tender_list(actor=actor, **filters.dict())

    class _Lazy:
        def count(self) -> int:
            return int(qs.count())

        def __len__(self) -> int:
            return self.count()

        def __getitem__(self, key: Any) -> Any:
            return [_tender_out(t, figures, detail=False) for t in qs[key]]

    return _Lazy()


class TenderIn(Schema):
    account_id: Id
    title: str = Field(max_length=255)
    reference: str = Field("", max_length=100)
    tender_type: TenderType = TenderType.OPEN
    publication_date: dt.date
    submission_deadline: dt.date
    award_date: dt.date | None = None
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    estimated_value: Money | None = None
    currency: str = Field("USD", max_length=3)
    award_criteria: list[CriterionIO] = []
    documents: list[DocumentIO] = []
    responsible_ids: list[Id] = []
    lots: list[LotIn] = []
    notes: Text = ""
    reason: str = Field("", max_length=255)


class TenderPatchIn(Schema):
    title: str | None = Field(None, max_length=255)
    reference: str | None = Field(None, max_length=100)
    tender_type: TenderType | None = None
    publication_date: dt.date | None = None
    submission_deadline: dt.date | None = None
    award_date: dt.date | None = None
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None
    estimated_value: Money | None = None
    currency: str | None = Field(None, max_length=3)
    award_criteria: list[CriterionIO] | None = None
    documents: list[DocumentIO] | None = None
    responsible_ids: list[Id] | None = None
    lots: list[LotIn] | None = None
    outcome: TenderOutcome | None = None
    loss_reason: LossReason | None = None
    outcome_notes: Text | None = None
    notes: Text | None = None
    reason: str = Field("", max_length=255)


@router.post("/tenders", response={201: TenderOut, **_WRITE})
def tender_create(request: HttpRequest, payload: TenderIn) -> Any:
    fields = payload.dict()
    account_id, reason = fields.pop("account_id"), fields.pop("reason")
    tender = services.tender_create(actor=_actor(request), account_id=account_id, reason=reason, **fields)
    return Status(201, _tender_out(tender, True))


@router.get("/tenders/{tender_id}", response={200: TenderOut, **_READ})
def tender_get(request: HttpRequest, tender_id: Id) -> Any:
    actor = _actor(request)
    return _tender_out(selectors.tender_get(actor=actor, tender_id=tender_id), selectors.sees_figures(actor))


@router.patch("/tenders/{tender_id}", response={200: TenderOut, **_WRITE})
def tender_patch(request: HttpRequest, tender_id: Id, payload: TenderPatchIn) -> Any:
    fields = _set(payload)
    reason = fields.pop("reason", "")
    if fields.get("loss_reason") is None and "loss_reason" in fields:
        fields["loss_reason"] = ""
    actor = _actor(request)
    tender = services.tender_update(actor=actor, tender_id=tender_id, reason=reason, **fields)
    return _tender_out(tender, selectors.sees_figures(actor))


@router.delete("/tenders/{tender_id}", response={204: None, **_WRITE})
def tender_delete(request: HttpRequest, tender_id: Id) -> Any:
    services.tender_delete(actor=_actor(request), tender_id=tender_id)
    return Status(204, None)


class BidAssessmentIn(Schema):
    scores: dict[str, int] = Field(description="Risk factor code → score 1 (weak) … 5 (strong), every active factor")
    notes: Text = ""


@router.put("/tenders/{tender_id}/assessment", response={200: BidAssessmentOut, **_WRITE})
def tender_assess(request: HttpRequest, tender_id: Id, payload: BidAssessmentIn) -> Any:
    """Score the bid risks → win likelihood and a go / no-go recommendation (withdraws an earlier decision)."""
    actor = _actor(request)
    services.bid_assessment_save(actor=actor, tender_id=tender_id, scores=payload.scores, notes=payload.notes)
    return _assessment_out(selectors.tender_get(actor=actor, tender_id=tender_id))


class DecisionIn(Schema):
    decision: Recommendation
    note: Text = Field("", description="Required when deciding against the recommendation")


@router.post("/tenders/{tender_id}/decision", response={200: BidAssessmentOut, **_WRITE})
def tender_decide(request: HttpRequest, tender_id: Id, payload: DecisionIn) -> Any:
    """The lead confirms go or no-go (audited)."""
    actor = _actor(request)
    services.bid_decision_confirm(actor=actor, tender_id=tender_id, decision=payload.decision, note=payload.note)
    return _assessment_out(selectors.tender_get(actor=actor, tender_id=tender_id))


class RiskFactorOut(Schema):
    id: int
    code: str
    name: str
    guidance: str
    weight: Decimal
    active: bool
    position: int


class RiskFactorIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    guidance: Text = ""
    weight: Decimal = Field(Decimal(20), gt=0, le=100)


class RiskFactorPatchIn(Schema):
    name: str | None = Field(None, max_length=200)
    guidance: Text | None = None
    weight: Decimal | None = Field(None, gt=0, le=100)
    active: bool | None = None
    position: int | None = Field(None, ge=0, le=1000)


@router.get("/risk-factors", response={200: list[RiskFactorOut], **_READ})
def risk_factor_list(request: HttpRequest, active_only: bool = False) -> Any:
    return list(selectors.risk_factor_list(actor=_actor(request), active_only=active_only))


@router.post("/risk-factors", response={201: RiskFactorOut, **_WRITE})
def risk_factor_create(request: HttpRequest, payload: RiskFactorIn) -> Any:
    return Status(201, services.risk_factor_create(actor=_actor(request), **payload.dict()))


@router.patch("/risk-factors/{factor_id}", response={200: RiskFactorOut, **_WRITE})
def risk_factor_patch(request: HttpRequest, factor_id: Id, payload: RiskFactorPatchIn) -> Any:
    return services.risk_factor_update(actor=_actor(request), factor_id=factor_id, **_set(payload))


# --- P&L ------------------------------------------------------------------------------------------------------------
class PnlLineOut(Schema):
    month: dt.date
    gross_sales: Decimal
    discounts: Decimal
    rebates: Decimal
    net_sales: Decimal
    cogs: Decimal
    team_time: Decimal
    events: Decimal
    samples: Decimal
    services: Decimal
    cost_to_serve: Decimal
    contribution: Decimal
    margin: float | None


class PnlChildOut(PnlLineOut):
    account_id: int
    account: str


class PnlOut(Schema):
    account_id: int
    currency: str
    start: dt.date
    end: dt.date
    total: PnlLineOut
    years: list[PnlLineOut]
    months: list[PnlLineOut]
    by_account: list[PnlChildOut]


def _line(p: selectors.PnlPeriod) -> dict[str, Any]:
    return {
        "month": p.month, "gross_sales": p.gross_sales, "discounts": p.discounts, "rebates": p.rebates,
        "net_sales": p.net_sales, "cogs": p.cogs, "team_time": p.team_time, "events": p.events,
        "samples": p.samples, "services": p.services, "cost_to_serve": p.cost_to_serve,
        "contribution": p.contribution, "margin": p.margin,
    }  # fmt: skip


class PnlFilter(Schema):
    start: dt.date | None = Field(None, description="Default: 24 months back")
    end: dt.date | None = None
    by_account: bool = Field(False, description="Add the P&L of each direct member")


@router.get("/accounts/{account_id}/pnl", response={200: list[PnlOut], **_READ})
def account_pnl(request: HttpRequest, account_id: Id, filters: Query[PnlFilter]) -> Any:
    """The account's P&L (rolled up over everything below it), by month, year and in total — one per currency."""
    pnls = selectors.account_pnl(
        actor=_actor(request), account_id=account_id, start=filters.start, end=filters.end, by_child=filters.by_account
    )
    return [
        {"account_id": p.account.pk, "currency": p.currency, "start": p.start, "end": p.end, "total": _line(p.total),
         "years": [_line(y) for _year, y in p.years], "months": [_line(m) for m in p.months],
         "by_account": [{"account_id": a, "account": n, **_line(line)} for a, n, line in p.by_child]}
        for p in pnls
    ]  # fmt: skip


class CostIn(Schema):
    period: dt.date
    category: CostCategory
    amount: Money
    currency: str = Field("USD", max_length=3)
    description: str = Field("", max_length=255)


class CostOut(Schema):
    id: int
    account_id: int
    period: dt.date
    category: CostCategory
    amount: Decimal
    currency: str
    description: str


@router.get("/accounts/{account_id}/costs", response={200: list[CostOut], **_READ})
def cost_list(request: HttpRequest, account_id: Id) -> Any:
    """The latest 50 cost-to-serve entries of the account itself."""
    return list(selectors.cost_to_serve_list(actor=_actor(request), account_id=account_id))


@router.post("/accounts/{account_id}/costs", response={201: CostOut, **_WRITE})
def cost_add(request: HttpRequest, account_id: Id, payload: CostIn) -> Any:
    return Status(201, services.cost_to_serve_add(actor=_actor(request), account_id=account_id, **payload.dict()))


@router.delete("/costs/{cost_id}", response={204: None, **_WRITE})
def cost_delete(request: HttpRequest, cost_id: Id) -> Any:
    services.cost_to_serve_delete(actor=_actor(request), cost_id=cost_id)
    return Status(204, None)


# --- sales imports ------------------------------------------------------------------------------------------------
class RowErrorOut(Schema):
    row: int
    field: str
    message: str


class SalesImportOut(Schema):
    id: int
    filename: str
    size: int
    status: ImportStatus
    rows: int
    errors: list[RowErrorOut]
    preview: dict[str, Any]
    job_id: int | None
    job_status: str | None
    job_done: int | None
    job_total: int | None
    job_error: str | None
    created_at: dt.datetime
    imported_at: dt.datetime | None


def _import_out(imp: Any) -> dict[str, Any]:
    job = imp.job
    return {
        "id": imp.pk, "filename": imp.filename, "size": imp.size, "status": imp.status, "rows": imp.rows,
        "errors": imp.errors, "preview": imp.preview, "job_id": job.pk if job else None,
        "job_status": job.status if job else None, "job_done": job.done if job else None,
        "job_total": job.total if job else None, "job_error": job.error if job else None,
        "created_at": imp.created_at, "imported_at": imp.imported_at,
    }  # fmt: skip


@router.post("/sales-imports", response={201: SalesImportOut, **_WRITE})
def sales_import_upload(request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = True) -> Any:
    """Upload a CSV / XLSX sales file (columns: account, product, period, quantity, gross_sales, discounts, rebates,
    cogs, currency) and start its dry run (default) or import as a job; poll ``GET /sales-imports/{id}``."""
    actor = _actor(request)
    imp = services.sales_import_upload(actor=actor, filename=file.name or "sales.csv", data=file.read())
    imp = services.sales_import_start(actor=actor, import_id=imp.pk, dry_run=dry_run)
    return Status(201, _import_out(selectors.sales_import_get(actor=actor, import_id=imp.pk)))


@router.get("/sales-imports/{import_id}", response={200: SalesImportOut, **_READ})
def sales_import_get(request: HttpRequest, import_id: Id) -> Any:
    return _import_out(selectors.sales_import_get(actor=_actor(request), import_id=import_id))


@router.post("/sales-imports/{import_id}/import", response={200: SalesImportOut, **_WRITE})
def sales_import_run(request: HttpRequest, import_id: Id) -> Any:
    """Import a checked file (a job: all lines or none)."""
    actor = _actor(request)
    services.sales_import_start(actor=actor, import_id=import_id, dry_run=False)
    return _import_out(selectors.sales_import_get(actor=actor, import_id=import_id))


@router.post("/sales-imports/{import_id}/undo", response={200: SalesImportOut, **_WRITE})
def sales_import_undo(request: HttpRequest, import_id: Id) -> Any:
    actor = _actor(request)
    services.sales_import_undo(actor=actor, import_id=import_id)
    return _import_out(selectors.sales_import_get(actor=actor, import_id=import_id))
