"""``/api/v1/market-access``: formulary status (current, history, record), dashboard, protocols, plan targets,
FHIR formulary import. Medical users get no pricing fields (null)."""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from openkam.accounts.selectors import account_get
from openkam.core.api import ErrorOut, Page
from openkam.core.models import User
from openkam.market_access import selectors, services
from openkam.market_access.models import (
    FormularyScope,
    FormularySource,
    FormularyStatusCode,
    LineOfTherapy,
    ProtocolKind,
    ProtocolStatus,
    RestrictionKind,
    TargetStatus,
)
from openkam.plans.selectors import plan_get

router = Router(tags=["market_access"])

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Text = Annotated[str, Field(max_length=4000)]
_READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- schemas --------------------------------------------------------------------------------------
class CurrentStatusOut(Schema):
    id: int
    account_id: int
    product_id: int
    status: FormularyStatusCode
    status_label: str
    tier: str
    restriction_kinds: list[RestrictionKind]
    restrictions: str
    effective_from: dt.date
    effective_to: dt.date | None
    next_review: dt.date | None
    source: FormularySource
    source_ref: str
    committee_id: int | None
    committee_name: str
    held_at_account_id: int
    held_at_account_name: str
    inherited: bool
    imported_status: FormularyStatusCode | None
    net_price: Decimal | None = Field(description="Null for medical users.")
    currency: str


class StatusOut(Schema):
    id: int
    account_id: int
    account_name: str = Field(alias="account.name")
    product_id: int
    product_name: str = Field(alias="product.name")
    indication_id: int | None
    committee_id: int | None
    scope: FormularyScope
    status: FormularyStatusCode
    restriction_kinds: list[RestrictionKind]
    restrictions: str
    tier: str
    effective_from: dt.date
    effective_to: dt.date | None
    next_review: dt.date | None
    source: FormularySource
    source_ref: str
    net_price: Decimal | None = Field(description="Null for medical users.")
    currency: str
    notes: str
    recorded_by_id: int | None
    created_at: dt.datetime


class StatusIn(Schema):
    account_id: Id
    product_id: Id
    indication_id: Id | None = None
    status: FormularyStatusCode
    effective_from: dt.date
    effective_to: dt.date | None = None
    restriction_kinds: list[RestrictionKind] = []
    restrictions: Text = ""
    tier: str = Field("", max_length=40)
    next_review: dt.date | None = None
    committee_id: Id | None = None
    scope: FormularyScope = FormularyScope.ACCOUNT
    net_price: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    currency: str = Field("", max_length=3)
    notes: Text = ""
    reason: str = Field("", max_length=255)


class FormularyReviewIn(Schema):
    next_review: dt.date | None
    notes: Text | None = None
    reason: str = Field("", max_length=255)


class CurrentQuery(Schema):
    account_ids: list[Id] = Field(..., max_length=1000)
    product_ids: list[Id] | None = None
    on: dt.date | None = None


class StatusListQuery(Schema):
    account_id: Id | None = None
    include_members: bool = False
    product_id: Id | None = None
    source: FormularySource | None = None


class DashboardQuery(Schema):
    on: dt.date | None = None
    account_type: str | None = Field(None, max_length=20)
    kam_level: str | None = Field(None, max_length=12)
    therapeutic_area_id: Id | None = None
    product_id: Id | None = None
    status: str | None = Field(None, max_length=16, description="A status, or 'none' (with product_id).")
    page: int = Field(1, ge=1, le=100000)


class ProductCountsOut(Schema):
    product_id: int
    product_name: str
    counts: dict[str, int]


class MatrixRowOut(Schema):
    account_id: int
    account_name: str
    kam_level: str
    cells: list[CurrentStatusOut | None]


class FormularyChangeOut(Schema):
    id: int
    account_id: int
    account_name: str
    product_id: int
    product_name: str
    status: FormularyStatusCode
    previous_status: str | None
    kind: str
    effective_from: dt.date


class TargetGapOut(Schema):
    target_id: int
    plan_id: int
    account_id: int
    account_name: str
    product_id: int
    product_name: str
    target_status: TargetStatus
    current_status: str | None


class DashboardOut(Schema):
    on: dt.date
    account_count: int
    products: list[ProductCountsOut]
    rows: list[MatrixRowOut]
    page: int
    pages: int
    wins_30: int
    losses_30: int
    wins_90: int
    losses_90: int
    changes: list[FormularyChangeOut]
    review_count: int
    gap_count: int
    gaps: list[TargetGapOut]


class ProtocolProductOut(Schema):
    id: int
    product_id: int
    product_name: str = Field(alias="product.name")
    indication_id: int | None
    line_of_therapy: LineOfTherapy
    preferred: bool
    note: str


class ProtocolOut(Schema):
    id: int
    account_id: int
    account_name: str = Field(alias="account.name")
    name: str
    kind: ProtocolKind
    status: ProtocolStatus
    scope: FormularyScope
    therapeutic_area_id: int | None
    description: str
    effective_from: dt.date | None
    review_date: dt.date | None
    owner_id: int | None
    our_owner_id: int | None
    products: list[ProtocolProductOut]

    @staticmethod
    def resolve_products(obj: Any) -> list[Any]:
        return list(obj.products.all())


class ProtocolIn(Schema):
    name: str = Field(max_length=255)
    kind: ProtocolKind = ProtocolKind.PATHWAY
    status: ProtocolStatus = ProtocolStatus.ACTIVE
    scope: FormularyScope = FormularyScope.ACCOUNT
    therapeutic_area_id: Id | None = None
    description: Text = ""
    effective_from: dt.date | None = None
    review_date: dt.date | None = None
    owner_id: Id | None = Field(None, description="The clinical owner (a stakeholder).")
    our_owner_id: Id | None = Field(None, description="Who tracks it on our side (a user).")
    reason: str = Field("", max_length=255)


class ProtocolCreateIn(ProtocolIn):
    account_id: Id


class ProtocolProductIn(Schema):
    product_id: Id
    indication_id: Id | None = None
    line_of_therapy: LineOfTherapy = LineOfTherapy.ANY
    preferred: bool = False
    note: str = Field("", max_length=255)


class TargetOut(Schema):
    id: int
    plan_id: int
    product_id: int
    product_name: str
    objective_id: int | None
    target_status: TargetStatus
    note: str
    current_status: str | None
    met: bool


class TargetIn(Schema):
    product_id: Id
    target_status: TargetStatus = TargetStatus.ON_FORMULARY
    objective_id: Id | None = None
    note: Text = ""
    reason: str = Field("", max_length=255)


class FhirImportIn(Schema):
    account_id: Id = Field(description="The payer (or other) account whose formulary this is.")
    content: str | dict[str, Any] | list[Any] = Field(
        description="The FHIR JSON: a Bundle, a resource, a list of resources, or NDJSON text."
    )
    mapping: dict[str, int] = Field({}, description="RxNorm code → product id (else matched by drug name).")
    formulary_id: str | None = Field(None, max_length=200, description="Only items of this InsurancePlan id.")
    filename: str = Field("formulary.json", max_length=255)
    reason: str = Field("", max_length=255)


class ImportLineOut(Schema):
    item_ref: str
    drug: str
    rxnorm: str
    formulary: str
    product_id: int | None
    product_name: str
    status: str
    tier: str
    restriction_kinds: list[str]
    effective_from: dt.date | None
    effective_to: dt.date | None
    outcome: str
    message: str


class ImportJobOut(Schema):
    id: int
    status: str
    done: int
    total: int
    message: str
    error: str


class FhirImportOut(Schema):
    id: int
    account_id: int
    filename: str
    status: str = Field(description="uploaded (being checked) · checked (preview ready) · invalid · imported")
    created_count: int
    counts: dict[str, int]
    issues: list[str]
    error: str | None = None
    lines: list[ImportLineOut]
    line_count: int
    job: ImportJobOut | None


def _import_out(imp: Any) -> dict[str, Any]:
    preview = imp.preview or {}
    job = imp.job
    return {
        "id": imp.pk, "account_id": imp.account_id, "filename": imp.filename, "status": imp.status,
        "created_count": imp.created_count, "counts": preview.get("counts", {}), "issues": preview.get("issues", []),
        "error": preview.get("error"), "lines": preview.get("lines", []), "line_count": preview.get("line_count", 0),
        "job": {"id": job.pk, "status": job.status, "done": job.done, "total": job.total, "message": job.message,
                "error": job.error} if job else None,
    }  # fmt: skip


def _view_out(v: selectors.FormularyStatusView | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {**v.__dict__, "status_label": v.status_label, "restriction_kinds": list(v.restriction_kinds)}


def _target_out(g: selectors.TargetGap) -> dict[str, Any]:
    t = g.target
    return {"id": t.pk, "plan_id": t.plan_id, "product_id": t.product_id, "product_name": t.product.name,
            "objective_id": t.objective_id, "target_status": t.target_status, "note": t.note,
            "current_status": g.current.status if g.current else None, "met": selectors.target_met(g)}  # fmt: skip


# --- formulary status --------------------------------------------------------------------------------
@router.get("/formulary/current", response={200: list[CurrentStatusOut], **_READ_ERRORS})
def formulary_current(request: HttpRequest, query: Query[CurrentQuery]) -> Any:
    """The status in force per visible account × product (inherited from an account above included)."""
    views = selectors.formulary_current(
        actor=_actor(request), account_ids=query.account_ids, product_ids=query.product_ids, on=query.on
    )
    return [_view_out(v) for _k, v in sorted(views.items())]


@router.get("/formulary/statuses", response={200: list[StatusOut], **_READ_ERRORS})
@paginate(Page)
def formulary_status_list(request: HttpRequest, query: Query[StatusListQuery]) -> Any:
    """Formulary status records, history included (newest period first per account × product)."""
    actor = _actor(request)
    account = account_get(actor=actor, account_id=query.account_id) if query.account_id else None
    return selectors.formulary_status_list(
        actor=actor, account=account, include_members=query.include_members, product_id=query.product_id,
        source=query.source,
    )  # fmt: skip


@router.get("/formulary/statuses/{status_id}", response={200: StatusOut, **_READ_ERRORS})
def formulary_status_get(request: HttpRequest, status_id: Id) -> Any:
    return selectors.formulary_status_get(actor=_actor(request), status_id=status_id)


@router.post("/formulary/statuses", response={201: StatusOut, **_WRITE_ERRORS})
def formulary_status_record(request: HttpRequest, payload: StatusIn) -> Any:
    """Record a formulary position (market access): a new dated record; the open record it succeeds is closed
    the day before. Overlapping periods of the same account × product are refused (422, field effective_from)."""
    data = payload.dict()
    account_id, reason = data.pop("account_id"), data.pop("reason")
    record = services.formulary_status_record(
        actor=_actor(request), account_id=account_id, data=services.StatusInput(**data), reason=reason
    )
    return Status(201, selectors.formulary_status_get(actor=_actor(request), status_id=record.pk))


@router.patch("/formulary/statuses/{status_id}/review", response={200: StatusOut, **_WRITE_ERRORS})
def formulary_status_review(request: HttpRequest, status_id: Id, payload: FormularyReviewIn) -> Any:
    """Set the next review date (and notes) of a record; the position itself never changes in place."""
    services.formulary_status_update_review(
        actor=_actor(request), status_id=status_id, next_review=payload.next_review, notes=payload.notes,
        reason=payload.reason,
    )  # fmt: skip
    return selectors.formulary_status_get(actor=_actor(request), status_id=status_id)


@router.get("/formulary/dashboard", response={200: DashboardOut, **_READ_ERRORS})
def formulary_dashboard(request: HttpRequest, query: Query[DashboardQuery]) -> Any:
    """The formulary dashboard of the caller's scope: accounts per product and status, a page of the product ×
    account matrix, wins and losses (30/90 days), reviews due, plan targets not met."""
    d = selectors.formulary_dashboard(actor=_actor(request), **query.dict())
    return {
        "on": d.on, "account_count": d.account_count,
        "products": [{"product_id": p.pk, "product_name": p.name, "counts": d.distribution.get(p.pk, {})}
                     for p in d.products],
        "rows": [{"account_id": r.account.pk, "account_name": r.account.name, "kam_level": r.account.kam_level,
                  "cells": [_view_out(c) for c in r.cells]} for r in d.rows],
        "page": d.page, "pages": d.pages,
        "wins_30": d.change_counts[("win", 30)], "losses_30": d.change_counts[("loss", 30)],
        "wins_90": d.change_counts[("win", 90)], "losses_90": d.change_counts[("loss", 90)],
        "changes": [{"id": c.record.pk, "account_id": c.record.account_id, "account_name": c.record.account.name,
                     "product_id": c.record.product_id, "product_name": c.record.product.name,
                     "status": c.record.status, "previous_status": c.previous_status, "kind": c.kind,
                     "effective_from": c.record.effective_from} for c in d.changes],
        "review_count": d.review_count, "gap_count": d.gap_count,
        "gaps": [{"target_id": g.target.pk, "plan_id": g.target.plan_id, "account_id": g.target.plan.account_id,
                  "account_name": g.target.plan.account.name, "product_id": g.target.product_id,
                  "product_name": g.target.product.name, "target_status": g.target.target_status,
                  "current_status": g.current.status if g.current else None} for g in d.gaps],
    }  # fmt: skip


@router.post("/formulary/imports", response={202: FhirImportOut, **_WRITE_ERRORS})
def formulary_import_start(request: HttpRequest, payload: FhirImportIn) -> Any:
    """Upload a Da Vinci US Drug Formulary (FHIR R4) for an account: it is kept and checked by a background job
    (follow ``job`` or poll ``GET formulary/imports/{id}``); when its status is ``checked``, write it with
    ``POST formulary/imports/{id}/apply`` (all items or, on any problem, nothing)."""
    import json

    content = payload.content if isinstance(payload.content, str) else json.dumps(payload.content)
    imp = services.formulary_import_start(
        actor=_actor(request), account_id=payload.account_id, filename=payload.filename,
        content=content.encode(), mapping=payload.mapping, formulary_id=payload.formulary_id or "",
        reason=payload.reason,
    )  # fmt: skip
    return Status(202, _import_out(selectors.formulary_import_get(actor=_actor(request), import_id=imp.pk)))


@router.get("/formulary/imports/{import_id}", response={200: FhirImportOut, **_READ_ERRORS})
def formulary_import_get(request: HttpRequest, import_id: Id) -> Any:
    """An import: its status, the job's progress, the preview (every item and what happens to it)."""
    return _import_out(selectors.formulary_import_get(actor=_actor(request), import_id=import_id))


@router.post("/formulary/imports/{import_id}/apply", response={202: FhirImportOut, **_WRITE_ERRORS})
def formulary_import_apply(request: HttpRequest, import_id: Id) -> Any:
    """Write a checked import (a background job)."""
    services.formulary_import_apply(actor=_actor(request), import_id=import_id)
    return Status(202, _import_out(selectors.formulary_import_get(actor=_actor(request), import_id=import_id)))


@router.post("/protocols/{protocol_id}/retire", response={200: ProtocolOut, **_WRITE_ERRORS})
def protocol_retire(request: HttpRequest, protocol_id: Id, reason: str = "") -> Any:
    """Retire a protocol (kept on record; its review is no longer due)."""
    services.protocol_retire(actor=_actor(request), protocol_id=protocol_id, reason=reason[:255])
    return selectors.protocol_get(actor=_actor(request), protocol_id=protocol_id)


# --- protocols ----------------------------------------------------------------------------------------
@router.get("/protocols", response={200: list[ProtocolOut], **_READ_ERRORS})
@paginate(Page)
def protocol_list(request: HttpRequest, account_id: Id | None = None, status: ProtocolStatus | None = None) -> Any:
    actor = _actor(request)
    account = account_get(actor=actor, account_id=account_id) if account_id else None
    return selectors.protocol_list(actor=actor, account=account, status=status)


@router.post("/protocols", response={201: ProtocolOut, **_WRITE_ERRORS})
def protocol_create(request: HttpRequest, payload: ProtocolCreateIn) -> Any:
    data = payload.dict()
    account_id, reason = data.pop("account_id"), data.pop("reason")
    p = services.protocol_create(
        actor=_actor(request), account_id=account_id, data=services.ProtocolInput(**data), reason=reason
    )
    return Status(201, selectors.protocol_get(actor=_actor(request), protocol_id=p.pk))


@router.get("/protocols/{protocol_id}", response={200: ProtocolOut, **_READ_ERRORS})
def protocol_get(request: HttpRequest, protocol_id: Id) -> Any:
    return selectors.protocol_get(actor=_actor(request), protocol_id=protocol_id)


@router.put("/protocols/{protocol_id}", response={200: ProtocolOut, **_WRITE_ERRORS})
def protocol_update(request: HttpRequest, protocol_id: Id, payload: ProtocolIn) -> Any:
    data = payload.dict()
    reason = data.pop("reason")
    services.protocol_update(
        actor=_actor(request), protocol_id=protocol_id, data=services.ProtocolInput(**data), reason=reason
    )
    return selectors.protocol_get(actor=_actor(request), protocol_id=protocol_id)


@router.post("/protocols/{protocol_id}/products", response={201: ProtocolOut, **_WRITE_ERRORS})
def protocol_product_add(request: HttpRequest, protocol_id: Id, payload: ProtocolProductIn) -> Any:
    services.protocol_product_add(actor=_actor(request), protocol_id=protocol_id, **payload.dict())
    return Status(201, selectors.protocol_get(actor=_actor(request), protocol_id=protocol_id))


@router.delete("/protocols/{protocol_id}/products/{item_id}", response={204: None, **_WRITE_ERRORS})
def protocol_product_remove(request: HttpRequest, protocol_id: Id, item_id: Id) -> Any:
    services.protocol_product_remove(actor=_actor(request), protocol_id=protocol_id, item_id=item_id)
    return Status(204, None)


# --- plan targets ---------------------------------------------------------------------------------------
@router.get("/plans/{plan_id}/targets", response={200: list[TargetOut], **_READ_ERRORS})
def plan_targets(request: HttpRequest, plan_id: Id) -> Any:
    """What the plan wants per product at its account, and whether the status in force meets it."""
    actor = _actor(request)
    return [_target_out(g) for g in selectors.plan_targets(actor=actor, plan=plan_get(actor=actor, plan_id=plan_id))]


@router.put("/plans/{plan_id}/targets", response={200: TargetOut, **_WRITE_ERRORS})
def plan_target_set(request: HttpRequest, plan_id: Id, payload: TargetIn) -> Any:
    actor = _actor(request)
    t = services.formulary_target_set(actor=actor, plan_id=plan_id, **payload.dict())
    gaps = selectors.plan_targets(actor=actor, plan=plan_get(actor=actor, plan_id=plan_id))
    return next(_target_out(g) for g in gaps if g.target.pk == t.pk)


@router.delete("/targets/{target_id}", response={204: None, **_WRITE_ERRORS})
def plan_target_delete(request: HttpRequest, target_id: Id) -> Any:
    services.formulary_target_delete(actor=_actor(request), target_id=target_id)
    return Status(204, None)
