"""``/api/v1/handover``: preview and perform a handover (knowledge transfer), past handovers, reports (jobs).

Performing a handover and making its reports are jobs: the POST answers 202 with the job (the same ``JobOut`` as
every job-starting endpoint, plus its ``status_url``); poll ``/api/v1/me/jobs/{id}`` until ``status`` is
``done`` (or ``failed``, with ``error``). A finished handover job's ``summary`` holds ``handover_id`` and
``api_url`` (``/api/v1/handover/{id}``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from ninja.pagination import paginate

from openkam.core.api import ErrorOut, Page
from openkam.core.api_admin import JobOut
from openkam.handover import selectors, services

router = Router(tags=["handover"])

_ID = Path(..., ge=1, le=2**63 - 1)
WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
START = {**WRITE, 409: ErrorOut}
READ = {403: ErrorOut, 404: ErrorOut}


class HandoverIn(Schema):
    from_user_id: int = Field(..., ge=1, le=2**63 - 1, description="Whose work (a person you manage; admin: anyone).")
    to_user_id: int | None = Field(None, ge=1, le=2**63 - 1, description="The colleague taking over.")
    account_ids: list[int] | None = Field(
        None, description="Top accounts of the person's book to hand over (default: the whole book)."
    )


class PerformIn(HandoverIn):
    to_user_id: int = Field(..., ge=1, le=2**63 - 1)  # type: ignore[assignment]
    reason: str = Field(..., max_length=255, description="Why (kept with the handover and in the audit trail).")


class HandoverJobOut(JobOut):
    status_url: str = Field(..., description="Poll this until ``status`` is ``done`` or ``failed``.")

    @staticmethod
    def resolve_status_url(obj: Any) -> str:
        return f"/api/v1/me/jobs/{obj.pk}"


class HandoverUserRef(Schema):
    id: int
    username: str
    name: str
    is_active: bool

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class BookAccountOut(Schema):
    account_id: int
    account: str
    owner: bool
    roles: list[str]
    accounts_below: int = Field(
        ..., description="Accounts below this one that the person also holds (their ownership and team places move)."
    )
    subtree_accounts: int = Field(
        ..., description="Every account below this one, whoever holds it: relationships and plan work move there too."
    )
    owned: int
    memberships: int
    plans: int
    objectives: int
    tactics: int
    actions: int


class HandoverPreviewOut(Schema):
    from_user: HandoverUserRef
    to_user: HandoverUserRef | None
    whole_book: bool
    relationships: int | None = Field(None, description="Relationship rows that move (null without a colleague).")
    totals: dict[str, int]
    accounts: list[BookAccountOut]


class HandoverAccountOut(Schema):
    account_id: int
    account: str
    counts: dict[str, int]


class HandoverOut(Schema):
    id: int
    created_at: dt.datetime
    performed_by: HandoverUserRef
    from_user: HandoverUserRef
    to_user: HandoverUserRef
    reason: str
    whole_book: bool
    counts: dict[str, int]


class HandoverDetailOut(HandoverOut):
    accounts: list[HandoverAccountOut]


class ReportIn(Schema):
    account_id: int | None = Field(None, ge=1, le=2**63 - 1, description="One account (default: all of them).")


def _preview_out(p: services.HandoverPreview) -> dict[str, Any]:
    return {
        "from_user": p.from_user,
        "to_user": p.to_user,
        "whole_book": p.whole_book,
        "relationships": p.relationships,
        "totals": p.totals,
        "accounts": [
            {
                "account_id": b.account.pk,
                "account": b.account.name,
                "owner": b.owner,
                "roles": b.roles,
                "accounts_below": len(b.below),
                "subtree_accounts": b.subtree,
                **b.counts(),
            }
            for b in p.book
        ],
    }


@router.post("/preview", response={200: HandoverPreviewOut, **WRITE})
def handover_preview(request: HttpRequest, data: HandoverIn) -> Any:
    """What would move, per account; refused (422 on ``to_user_id``) when the colleague cannot take it over."""
    return _preview_out(
        services.handover_preview(
            actor=request.user,  # type: ignore[arg-type]
            from_user_id=data.from_user_id,
            to_user_id=data.to_user_id,
            account_ids=data.account_ids,
        )
    )


@router.post("/", response={202: HandoverJobOut, **START})
def handover_perform(request: HttpRequest, data: PerformIn) -> Any:
    """Hand over, all or nothing, in one audited transaction run as a job (``handover.perform``).

    Checked at once, nothing queued when refused: 403 for a role that may not hand over; 422 naming the field for
    an empty reason, a person outside your team, a colleague who cannot take the work (inactive, the same person,
    read-only, outside your team, may not see the work's classification or relationship judgements) or accounts
    not at the top of the book; 400 ``nothing_to_hand_over``; 409 ``handover_under_way`` while a handover of the
    same person is queued or running. Otherwise 202 with the job: poll ``status_url``; when ``done``, its
    ``summary.handover_id`` is the recorded handover (``GET /api/v1/handover/{id}``); when ``failed``, nothing
    was changed and ``error`` says why."""
    job = services.handover_start(
        actor=request.user,  # type: ignore[arg-type]
        from_user_id=data.from_user_id,
        to_user_id=data.to_user_id,
        account_ids=data.account_ids,
        reason=data.reason,
    )
    return Status(202, job)


def _detail(request: HttpRequest, h: Any) -> dict[str, Any]:
    accounts = selectors.handover_accounts(actor=request.user, handover=h)  # type: ignore[arg-type]
    return {
        **{k: getattr(h, k) for k in ("id", "created_at", "performed_by", "from_user", "to_user", "reason")},
        "whole_book": h.whole_book,
        "counts": h.counts,
        "accounts": [{"account_id": a.account_id, "account": a.account.name, "counts": a.counts} for a in accounts],
    }


@router.get("/", response={200: list[HandoverOut], **READ})
@paginate(Page)
def handover_list(request: HttpRequest) -> Any:
    """Handovers you may read (lead: yours and your team's; compliance and admin: all), newest first."""
    return selectors.handover_list(actor=request.user)  # type: ignore[arg-type]


@router.get("/{handover_id}", response={200: HandoverDetailOut, **READ})
def handover_get(request: HttpRequest, handover_id: int = _ID) -> Any:
    return _detail(request, selectors.handover_get(actor=request.user, handover_id=handover_id))  # type: ignore[arg-type]


@router.post("/{handover_id}/report", response={202: JobOut, **WRITE})
def handover_report(request: HttpRequest, data: ReportIn, handover_id: int = _ID) -> Any:
    """Start the handover report (PDF) as a job; poll ``/api/v1/me/jobs/{id}`` and download its file."""
    return Status(
        202,
        services.handover_report_start(
            actor=request.user,  # type: ignore[arg-type]
            handover_id=handover_id,
            account_id=data.account_id,
        ),
    )
