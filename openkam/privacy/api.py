"""``/api/v1/privacy``: personal data of a stakeholder (export JSON / PDF job, erasure) and assessment retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from openkam.core.api import ErrorOut
from openkam.core.api_admin import JobOut
from openkam.privacy import selectors, services

router = Router(tags=["privacy"])
_ID = Path(..., ge=1, le=2**63 - 1)
READ = {403: ErrorOut, 404: ErrorOut}
WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class EraseIn(Schema):
    reason: str = Field(..., max_length=255, description="Why (e.g. the request's reference); kept in the audit trail.")
    confirm: bool = Field(..., description="Must be true: erasure cannot be undone.")


class ErasedOut(Schema):
    id: int
    display_name: str
    erased_at: dt.datetime


class RetentionOut(Schema):
    assessment_retention_days: int | None = Field(
        None, description="Superseded assessments older than this are deleted by the purge (null: kept)."
    )


class RetentionIn(RetentionOut):
    reason: str = Field("", max_length=255)


@router.get("/stakeholders/{stakeholder_id}/export", response={200: dict[str, Any], **READ})
def export_json(request: HttpRequest, stakeholder_id: int = _ID) -> Any:
    """Everything held about one person (compliance, admin): person, consent, positions, committee seats,
    interactions, assessments/strengths/links and the audit events about them."""
    return selectors.stakeholder_personal_data(actor=request.user, stakeholder_id=stakeholder_id)  # type: ignore[arg-type]


@router.post("/stakeholders/{stakeholder_id}/export-pdf", response={202: JobOut, **WRITE})
def export_pdf(request: HttpRequest, stakeholder_id: int = _ID) -> Any:
    """The same export as a PDF, made by a job (poll ``/api/v1/me/jobs/{id}``, then download)."""
    return Status(202, services.privacy_export_pdf_start(actor=request.user, stakeholder_id=stakeholder_id))  # type: ignore[arg-type]


@router.post("/stakeholders/{stakeholder_id}/erase", response={200: ErasedOut, **WRITE})
def erase(request: HttpRequest, data: EraseIn, stakeholder_id: int = _ID) -> Any:
    """Erase (pseudonymise) the person's personal data; the record and the audit trail remain. Irreversible."""
    s = services.stakeholder_erase(
        actor=request.user,  # type: ignore[arg-type]
        stakeholder_id=stakeholder_id,
        reason=data.reason,
        confirm=data.confirm,
    )
    return {"id": s.pk, "display_name": s.display_name, "erased_at": s.erased_at}


@router.get("/retention", response={200: RetentionOut, **READ})
def retention_get(request: HttpRequest) -> Any:
    from openkam.relationships.selectors import settings_get

    selectors.require_privacy(request.user)  # type: ignore[arg-type]
    return {"assessment_retention_days": settings_get().assessment_retention_days}


@router.put("/retention", response={200: RetentionOut, **WRITE})
def retention_put(request: HttpRequest, data: RetentionIn) -> Any:
    """Set the retention of superseded assessments (admin)."""
    days = services.retention_set(
        actor=request.user,  # type: ignore[arg-type]
        days=data.assessment_retention_days,
        reason=data.reason,
    )
    return {"assessment_retention_days": days}


@router.post("/retention/purge", response={202: JobOut, **WRITE})
def retention_purge(request: HttpRequest) -> Any:
    """Start the purge of superseded assessments past the retention (admin; a job with progress)."""
    return Status(202, services.retention_purge_start(actor=request.user))  # type: ignore[arg-type]
