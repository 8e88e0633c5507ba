"""NPPES import API (``/api/v1/stakeholders/nppes``): preview an NPI Registry v2.1 answer, then import it (a job).

Send the registry's JSON answer as it came (``payload``: one answer object, or a list of answers).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from openkam.core.api import ErrorOut
from openkam.core.api_admin import JobOut
from openkam.stakeholders import importers

router = Router(tags=["stakeholders"])

WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class NppesImportIn(Schema):
    payload: dict[str, Any] | list[Any] = Field(
        ...,
        description="The NPI Registry API v2.1 answer ({result_count, results}) or a list of answers (several pages).",
    )
    account_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Account where new people get their primary position (else skipped)."
    )
    parent_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Account under which new organisations are created (else top level)."
    )


class NppesApplyIn(NppesImportIn):
    reason: str = Field("", max_length=255, description="Why (kept in the audit trail).")


class NppesChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str


class RowOut(Schema):
    number: int = Field(..., description="Position of the provider in the file (1-based).")
    npi: str
    entity: str = Field(..., description="person (NPI-1) or organisation (NPI-2)")
    name: str
    action: str = Field(..., description="create | update | skip")
    reason: str
    changes: list[NppesChangeOut]
    existing_id: int | None = Field(None, description="The stakeholder or account id when it exists.")
    specialty: str = Field(..., description="Person: NUCC specialty; organisation: account type.")
    skip: str = Field(
        "",
        description="Why a skipped row is skipped: deactivated | erased | not_visible | up_to_date | needs_account "
        "(a new person and no account_id for new people); empty for create and update.",
    )


class NppesPreviewOut(Schema):
    created: int
    updated: int
    skipped: int
    people: int
    organisations: int
    people_need_account: int = Field(
        ..., description="New people skipped only because no account_id was given: send one to create them."
    )
    account_id: int | None
    parent_id: int | None
    rows: list[RowOut]


@router.post("/preview", response={200: NppesPreviewOut, **WRITE})
def nppes_preview(request: HttpRequest, data: NppesImportIn) -> Any:
    """Dry run: what importing the answer would create, update (field by field) or skip, and why. Writes nothing.

    A payload that is not a usable registry answer (malformed, the registry's ``Errors`` answer, no results)
    is refused with 422 on ``file``, naming the place and the rule."""
    plan = importers.nppes_import_preview(
        actor=request.user,  # type: ignore[arg-type]
        payload=data.payload,
        account_id=data.account_id,
        parent_id=data.parent_id,
    )
    return plan.as_dict()


@router.post("/import", response={202: JobOut, **WRITE})
def nppes_import(request: HttpRequest, data: NppesApplyIn) -> Any:
    """Import the answer as a job, all or nothing (poll ``/api/v1/me/jobs/{id}``; its ``summary`` holds the
    counts and rows). Refused when the dry run finds nothing to do."""
    job = importers.nppes_import_start(
        actor=request.user,  # type: ignore[arg-type]
        payload=data.payload,
        account_id=data.account_id,
        parent_id=data.parent_id,
        reason=data.reason,
    )
    return Status(202, job)
