"""Plan exports, the customer version and the Excel import over the API (mounted at ``/api/v1/plans``).

Exports and the import are jobs: the POST answers 202 with the job; poll ``/api/v1/me/jobs/{id}`` until it is
``done`` and fetch the file from its ``download_url``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from openkam.core import services as core_services
from openkam.core.api import ErrorOut
from openkam.core.api_admin import JobOut
from openkam.core.errors import ValidationFailed
from openkam.core.models import User
from openkam.plans import importers, selectors, services
from openkam.plans.document import plan_document
from openkam.plans.jobs import EXPORT_KINDS, IMPORT_KIND

router = Router(tags=["plans"])
_R = {404: ErrorOut}
_WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
ExportFormat = Literal["pdf", "pptx", "xlsx", "customer_pdf"]
_LABELS = {
    "pdf": "Plan as PDF",
    "pptx": "Plan as PowerPoint",
    "xlsx": "Objectives, tactics and actions as Excel",
    "customer_pdf": "Customer version as PDF",
}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@router.post(
    "/{int:plan_id}/exports/{fmt}",
    response={202: JobOut, **_WRITE},
    summary="Export a plan (PDF, PowerPoint, Excel, customer PDF) as a job",
)
def start_export(request: HttpRequest, plan_id: int, fmt: ExportFormat) -> Any:
    """Start the export; it holds only what the caller may see (a medical reader gets no commercial-only items).
    Poll ``/api/v1/me/jobs/{id}`` and download the file from its ``download_url``."""
    plan = selectors.plan_get(actor=_actor(request), plan_id=plan_id)
    job = core_services.job_start(
        actor=_actor(request), kind=EXPORT_KINDS[fmt], label=f"{_LABELS[fmt]}: {plan.name}", params={"plan_id": plan_id}
    )
    return Status(202, job)


class CustomerActionOut(Schema):
    title: str
    due_date: dt.date | None
    status: str
    status_label: str
    contact: str = Field(..., description="Our person responsible (the action's owner).")
    is_milestone: bool


class CustomerInitiativeOut(Schema):
    title: str = Field(..., description="The initiative's title when it is shared, else empty.")
    actions: list[CustomerActionOut]


class CustomerObjectiveOut(Schema):
    title: str
    metric: str
    baseline: Decimal | None
    target: Decimal | None
    current: Decimal | None
    due_date: dt.date | None
    progress: float | None = Field(None, description="How far the current value moved from baseline to target (%).")
    shared: bool = Field(..., description="False for the group of shared steps whose objective is not shared.")
    initiatives: list[CustomerInitiativeOut]


class CustomerVersionOut(Schema):
    title: str
    account_name: str
    period_start: dt.date
    period_end: dt.date
    priorities: list[str]
    agreement: str
    objectives: list[CustomerObjectiveOut]


@router.get(
    "/{int:plan_id}/customer-version",
    response={200: CustomerVersionOut, **_R},
    summary="The customer version of a plan (only what is shared with the customer)",
)
def customer_version(request: HttpRequest, plan_id: int) -> Any:
    """Objectives, actions and milestones marked shared with the customer and the agreed measures of success —
    never stances, internal notes, P&L, competitor notes or medical-only items."""
    doc = plan_document(actor=_actor(request), plan_id=plan_id, audience="customer")
    return {
        "title": doc.title,
        "account_name": doc.account_name,
        "period_start": doc.period_start,
        "period_end": doc.period_end,
        "priorities": [p.title for p in doc.priorities],
        "agreement": doc.agreement,
        "objectives": [
            {
                "title": o.title,
                "metric": o.metric,
                "baseline": o.baseline,
                "target": o.target,
                "current": o.current,
                "due_date": o.due_date,
                "progress": o.progress,
                "shared": bool(o.ref),
                "initiatives": [
                    {
                        "title": t.title,
                        "actions": [
                            {
                                "title": a.title,
                                "due_date": a.due_date,
                                "status": a.status,
                                "status_label": a.status_label,
                                "contact": a.owner,
                                "is_milestone": a.is_milestone,
                            }
                            for a in t.actions
                        ],
                    }
                    for t in o.tactics
                ],
            }
            for o in doc.objectives
        ],
    }


class ImportErrorOut(Schema):
    sheet: str
    row: int = Field(..., description="The row as Excel numbers it (1 = the header; 0 = the whole workbook).")
    column: str
    message: str


class ImportRowOut(Schema):
    sheet: str
    row: int
    ref: str
    title: str
    operation: str = Field(..., description="create | update | unchanged")
    changes: list[str] = Field(..., description="For an update: the fields that change.")


class ImportPreviewOut(Schema):
    ok: bool
    plan_version: int = Field(..., description="Send it back as `version` when importing.")
    created: int
    updated: int
    unchanged: int
    error_count: int
    errors: list[ImportErrorOut]
    rows: list[ImportRowOut]


def _file(upload: UploadedFile) -> bytes:
    if upload.size and upload.size > importers.MAX_BYTES:
        raise ValidationFailed(
            f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {importers.MAX_BYTES // 1048576} MB.",
            field="file",
            code="too_large",
        )
    return upload.read(importers.MAX_BYTES + 1)  # type: ignore[no-any-return]


def _row(r: importers.ImportRow) -> dict[str, Any]:
    return {
        "sheet": r.sheet,
        "row": r.row,
        "ref": r.ref,
        "title": r.fields.get("title", ""),
        "operation": r.operation,
        "changes": sorted(r.changes),
    }


@router.post(
    "/{int:plan_id}/import/preview",
    response={200: ImportPreviewOut, **_WRITE},
    summary="Dry run of an Excel import: what would change, row-level errors",
)
def import_preview(request: HttpRequest, plan_id: int, file: File[UploadedFile]) -> Any:
    """Checks every row of the workbook (the layout of the Excel export) and writes nothing. ``ok`` is false when
    any row has an error; each error names its sheet, row and column. A file that is too large or not an .xlsx
    workbook is refused with 422 on ``file``."""
    preview = importers.plan_import_preview(actor=_actor(request), plan_id=plan_id, data=_file(file))
    summary = preview.summary()
    return {
        "ok": preview.ok,
        "plan_version": preview.plan_version,
        "created": summary["created"],
        "updated": summary["updated"],
        "unchanged": summary["unchanged"],
        "error_count": preview.error_count,
        "errors": [vars(e) for e in preview.errors],
        "rows": [_row(r) for r in preview.rows()],
    }


@router.post(
    "/{int:plan_id}/import", response={202: JobOut, **_WRITE}, summary="Import objectives, tactics and actions (job)"
)
def import_start(
    request: HttpRequest,
    plan_id: int,
    file: File[UploadedFile],
    version: Form[int | None] = None,
) -> Any:
    """Checks the workbook now (422 with the first errors when any row is invalid), then imports it as a job:
    all rows or none. ``version`` (from the preview) refuses the import if the plan changed since (the job fails
    with the conflict)."""
    actor = _actor(request)
    data = _file(file)
    preview = importers.plan_import_preview(actor=actor, plan_id=plan_id, data=data)
    if not preview.ok:
        first = "; ".join(str(e) for e in preview.errors[:5])
        raise ValidationFailed(
            f"The workbook has {preview.error_count} error(s), nothing was imported: {first}",
            field="file",
            code="import_invalid",
        )
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    if not services.plan_can_contribute(actor=actor, plan=plan):  # checked by the preview too; kept explicit
        raise ValidationFailed(_("This plan cannot be changed."), field="file", code="import_forbidden")
    job = core_services.job_start(
        actor=actor,
        kind=IMPORT_KIND,
        label=f"Import from Excel: {plan.name}",
        params={"plan_id": plan_id, "upload": importers.upload_keep(data), "version": version},
    )
    return Status(202, job)
