"""Stakeholders API (``/api/v1/stakeholders``): people, positions, committees, NUCC specialties.

Handlers parse input, call one service or selector (fetching a filter's account through the accounts
selector), and return a schema. Every list is paginated and restricted to what the caller may see.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from openkam.accounts.selectors import account_get
from openkam.core.api import ErrorOut, Page
from openkam.stakeholders import selectors, services
from openkam.stakeholders.models import CommitteeKind, CommitteeRole, CommitteeScope, DecisionRole, StakeholderKind

router = Router(tags=["stakeholders"])

_ROLE_IN = "A commercial judgement: readers who may not see judgements (medical) may only send `unknown` (else 403)"
_ROLE_DOC = "The decision role — a commercial judgement: null for readers who may not see judgements (medical)"


def _role_for_reader(obj: Any, context: Any) -> str | None:
    """The position's decision role, or None when the caller may not see commercial judgements."""
    request = (context or {}).get("request")
    user = getattr(request, "user", None)
    if user is None or not selectors.can_see_judgements(user):
        return None
    return str(obj.role_in_decision)


READ = {404: ErrorOut}
WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------------
class SpecialtyOut(Schema):
    code: str
    display_name: str
    grouping: str
    classification: str
    specialization: str
    section: str


class PrimaryPositionOut(Schema):
    id: int
    title: str
    account_id: int
    account_name: str


class StakeholderOut(Schema):
    id: int
    display_name: str
    prefix: str
    first_name: str
    last_name: str
    credentials: str
    kind: StakeholderKind
    is_hcp: bool
    npi: str
    specialty: SpecialtyOut | None
    email: str
    phone: str
    country: str
    consent_contact: bool
    consent_email: bool
    consent_date: dt.date | None
    do_not_contact: bool
    privacy_restricted: bool
    notes: str
    primary_position: PrimaryPositionOut | None = Field(
        None, description="The current primary position among those the caller may see."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_primary_position(obj: Any) -> dict[str, Any] | None:
        if getattr(obj, "primary_position_id", None) is None:
            return None
        return {
            "id": obj.primary_position_id,
            "title": obj.primary_title,
            "account_id": obj.primary_account_id,
            "account_name": obj.primary_account_name,
        }


class _StakeholderFields(Schema):
    prefix: str = Field("", max_length=20)
    credentials: str = Field("", max_length=60, description="e.g. MD, PharmD")
    kind: StakeholderKind = StakeholderKind.PHYSICIAN
    npi: str = Field("", description="10 digits, starts with 1, Luhn check digit with the 80840 prefix")
    specialty: str | None = Field(None, description="NUCC taxonomy code, e.g. 207RC0000X")
    email: str = ""
    phone: str = Field("", max_length=40)
    country: str = Field("US", min_length=2, max_length=2)
    consent_contact: bool = True
    consent_email: bool = False
    consent_date: dt.date | None = None
    do_not_contact: bool = False
    privacy_restricted: bool = False
    notes: str = ""


class StakeholderCreateIn(_StakeholderFields):
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    account: int = Field(description="Account of the first position (it must be visible to you)")
    title: str = Field(max_length=200, description="Title of the first position")
    role_in_decision: DecisionRole = Field(DecisionRole.UNKNOWN, description=_ROLE_IN)
    valid_from: dt.date | None = Field(None, description="Start of the first position (default: today)")
    committee: int | None = None
    reason: str = ""


class StakeholderPatchIn(Schema):
    prefix: str | None = Field(None, max_length=20)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    credentials: str | None = Field(None, max_length=60)
    kind: StakeholderKind | None = None
    npi: str | None = None
    specialty: str | None = None
    email: str | None = None
    phone: str | None = Field(None, max_length=40)
    country: str | None = Field(None, min_length=2, max_length=2)
    consent_contact: bool | None = None
    consent_email: bool | None = None
    consent_date: dt.date | None = None
    do_not_contact: bool | None = None
    privacy_restricted: bool | None = None
    notes: str | None = None
    reason: str = ""


class StakeholderFilters(Schema):
    q: str = Field("", description="Words matched against name, credentials, NPI or email")
    specialty: str | None = Field(None, description="NUCC taxonomy code")
    kind: StakeholderKind | None = None
    account: int | None = Field(None, description="People with a position at this account or below it")


class PositionOut(Schema):
    id: int
    stakeholder_id: int
    stakeholder_name: str
    account_id: int
    account_name: str
    committee_id: int | None
    committee_name: str | None
    title: str
    role_in_decision: DecisionRole | None = Field(None, description=_ROLE_DOC)
    is_primary: bool
    valid_from: dt.date
    valid_to: dt.date | None
    is_current: bool
    vacated_since: dt.date | None = Field(None, description="The end date once the role has been vacated")

    @staticmethod
    def resolve_stakeholder_name(obj: Any) -> str:
        return obj.stakeholder.display_name

    @staticmethod
    def resolve_account_name(obj: Any) -> str:
        return obj.account.name

    @staticmethod
    def resolve_committee_name(obj: Any) -> str | None:
        return obj.committee.name if obj.committee_id else None

    @staticmethod
    def resolve_vacated_since(obj: Any) -> dt.date | None:
        return None if obj.is_current else obj.valid_to

    @staticmethod
    def resolve_role_in_decision(obj: Any, context: Any) -> str | None:
        return _role_for_reader(obj, context)


class PositionIn(Schema):
    stakeholder: int
    account: int
    title: str = Field(max_length=200)
    role_in_decision: DecisionRole = Field(DecisionRole.UNKNOWN, description=_ROLE_IN)
    committee: int | None = None
    is_primary: bool = False
    valid_from: dt.date | None = Field(None, description="Default: today")
    valid_to: dt.date | None = None
    reason: str = ""


class PositionPatchIn(Schema):
    title: str | None = Field(None, max_length=200)
    role_in_decision: DecisionRole | None = Field(None, description=_ROLE_IN)
    committee: int | None = None
    is_primary: bool | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    reason: str = ""


class PositionEndIn(Schema):
    valid_to: dt.date | None = Field(None, description="Last day in the role (default: today)")
    reason: str = ""


class CommitteeOut(Schema):
    id: int
    account_id: int
    account_name: str
    name: str
    kind: CommitteeKind
    description: str
    meeting_cadence: str
    next_meeting: dt.date | None
    scope: CommitteeScope = Field(
        description="Which accounts it decides for: `subtree` (its account and every account below), `account` "
        "(its account only) or `selected` (its account and the `scope_accounts` below it, with their subtrees)"
    )
    scope_accounts: list[int] = Field(description="The selected accounts (scope `selected`), else empty")
    member_count: int | None = Field(None, description="Current positions on the committee (in lists)")

    @staticmethod
    def resolve_account_name(obj: Any) -> str:
        return obj.account.name

    @staticmethod
    def resolve_scope_accounts(obj: Any) -> list[int]:
        ids = getattr(obj, "_scope_ids", None)
        return list(ids) if ids is not None else [x.account_id for x in obj.scope_accounts.all()]

    @staticmethod
    def resolve_member_count(obj: Any) -> int | None:
        return getattr(obj, "member_count", None)


class CommitteeIn(Schema):
    account: int
    name: str = Field(max_length=200)
    kind: CommitteeKind
    description: str = ""
    meeting_cadence: str = Field("", max_length=100)
    next_meeting: dt.date | None = None
    scope: CommitteeScope = CommitteeScope.SUBTREE
    scope_accounts: list[int] = Field([], description="Accounts below the committee's account (scope `selected`)")
    reason: str = ""


class CommitteePatchIn(Schema):
    name: str | None = Field(None, max_length=200)
    kind: CommitteeKind | None = None
    description: str | None = None
    meeting_cadence: str | None = Field(None, max_length=100)
    next_meeting: dt.date | None = None
    scope: CommitteeScope | None = Field(None, description="Refused when a current member would fall outside it")
    scope_accounts: list[int] | None = None
    reason: str = ""


class SeatOut(Schema):
    """A seat on a committee: a position with the committee, the seat's role and dates."""

    id: int = Field(description="The position")
    stakeholder_id: int
    stakeholder_name: str
    account_id: int
    account_name: str
    title: str
    committee_role: CommitteeRole
    role_in_decision: DecisionRole | None = Field(None, description=_ROLE_DOC)
    valid_from: dt.date
    valid_to: dt.date | None
    is_current: bool

    @staticmethod
    def resolve_stakeholder_name(obj: Any) -> str:
        return obj.stakeholder.display_name

    @staticmethod
    def resolve_account_name(obj: Any) -> str:
        return obj.account.name

    @staticmethod
    def resolve_committee_role(obj: Any) -> str:
        return obj.committee_role or CommitteeRole.MEMBER

    @staticmethod
    def resolve_role_in_decision(obj: Any, context: Any) -> str | None:
        return _role_for_reader(obj, context)


class SeatIn(Schema):
    stakeholder: int
    account: int | None = Field(
        None,
        description="Where the person holds the seat (default: the committee's account); must be an "
        "account the committee decides for",
    )
    committee_role: CommitteeRole = CommitteeRole.MEMBER
    role_in_decision: DecisionRole = Field(DecisionRole.UNKNOWN, description=_ROLE_IN)
    title: str = Field("", max_length=200, description="Default: “<role>, <committee>”")
    valid_from: dt.date | None = Field(None, description="Default: today")
    valid_to: dt.date | None = None
    reason: str = ""


class SeatPatchIn(Schema):
    committee_role: CommitteeRole | None = None
    role_in_decision: DecisionRole | None = Field(None, description=_ROLE_IN)
    title: str | None = Field(None, max_length=200)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    reason: str = ""


class SeatEndIn(Schema):
    valid_to: dt.date | None = Field(None, description="Default: today")
    reason: str = ""


# Fields a PATCH may clear with null; for the others null means "leave unchanged".
_NULLABLE = frozenset({"specialty", "consent_date", "committee", "valid_to", "next_meeting"})


def _changes(payload: Schema) -> tuple[dict[str, Any], str]:
    """The fields a PATCH sent (null only where a field may be emptied), and the audit reason."""
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "") or ""
    return {k: v for k, v in data.items() if v is not None or k in _NULLABLE}, reason


# --- reference data (declared before /{id} so the literal paths win) --------------------------------
@router.get("/specialties", response={200: list[SpecialtyOut], 422: ErrorOut})
@paginate(Page)
def specialty_list(request: HttpRequest, q: str = "") -> Any:
    """Search the NUCC Health Care Provider Taxonomy (883 codes) by name, classification or code."""
    return selectors.specialty_list(actor=request.user, q=q)  # type: ignore[arg-type]


# --- committees -------------------------------------------------------------------------------------
@router.get("/committees", response={200: list[CommitteeOut], 404: ErrorOut, 422: ErrorOut})
@paginate(Page)
def committee_list(request: HttpRequest, account: int | None = None, include_descendants: bool = False) -> Any:
    """Visible committees, optionally of one account (404 when that account is not visible)."""
    acct = account_get(actor=request.user, account_id=account) if account else None  # type: ignore[arg-type]
    return selectors.committee_list(actor=request.user, account=acct, include_descendants=include_descendants)  # type: ignore[arg-type]


@router.post("/committees", response={201: CommitteeOut, **WRITE})
def committee_create(request: HttpRequest, payload: CommitteeIn) -> Any:
    data = payload.dict()
    reason = data.pop("reason", "") or ""
    return Status(201, services.committee_create(actor=request.user, reason=reason, **data))  # type: ignore[arg-type]


@router.get("/committees/{committee_id}", response={200: CommitteeOut, **READ})
def committee_get(request: HttpRequest, committee_id: int) -> Any:
    return selectors.committee_get(actor=request.user, committee_id=committee_id)  # type: ignore[arg-type]


@router.patch("/committees/{committee_id}", response={200: CommitteeOut, **WRITE})
def committee_update(request: HttpRequest, committee_id: int, payload: CommitteePatchIn) -> Any:
    """Change a committee, its scope included: a scope that would leave a current member outside is refused
    (422 ``members_out_of_scope``), nothing written."""
    data, reason = _changes(payload)
    return services.committee_update(actor=request.user, committee=committee_id, reason=reason, **data)  # type: ignore[arg-type]


@router.get("/committees/{committee_id}/seats", response={200: list[SeatOut], **READ})
def committee_seats(request: HttpRequest, committee_id: int, include_ended: bool = True) -> Any:
    """The seats of a committee: current first (chair first), then past ones."""
    c = selectors.committee_get(actor=request.user, committee_id=committee_id)  # type: ignore[arg-type]
    return selectors.committee_members(actor=request.user, committee=c, include_ended=include_ended)  # type: ignore[arg-type]


@router.post("/committees/{committee_id}/seats", response={201: SeatOut, **WRITE})
def committee_seat_add(request: HttpRequest, committee_id: int, payload: SeatIn) -> Any:
    """Seat a person: a position with the committee, the seat's role and dates. A position at an account the
    committee does not decide for is refused (422 ``committee_other_account``), as is a second current seat."""
    data = payload.dict()
    reason = data.pop("reason", "") or ""
    p = services.committee_member_add(actor=request.user, committee=committee_id, reason=reason, **data)  # type: ignore[arg-type]
    return Status(201, selectors.committee_seat_get(actor=request.user, committee_id=committee_id, position_id=p.pk))  # type: ignore[arg-type]


@router.patch("/committees/{committee_id}/seats/{position_id}", response={200: SeatOut, **WRITE})
def committee_seat_update(request: HttpRequest, committee_id: int, position_id: int, payload: SeatPatchIn) -> Any:
    """Change a seat's role on the committee, the person's decision role, its title or dates."""
    seat = selectors.committee_seat_get(actor=request.user, committee_id=committee_id, position_id=position_id)  # type: ignore[arg-type]
    data, reason = _changes(payload)
    services.position_update(actor=request.user, position=seat, reason=reason, **data)  # type: ignore[arg-type]
    return selectors.committee_seat_get(actor=request.user, committee_id=committee_id, position_id=position_id)  # type: ignore[arg-type]


@router.post("/committees/{committee_id}/seats/{position_id}/end", response={200: SeatOut, **WRITE})
def committee_seat_end(request: HttpRequest, committee_id: int, position_id: int, payload: SeatEndIn) -> Any:
    """Unseat: end the seat's position on ``valid_to`` (default today); it stays in the committee's history."""
    seat = selectors.committee_seat_get(actor=request.user, committee_id=committee_id, position_id=position_id)  # type: ignore[arg-type]
    services.position_end(actor=request.user, position=seat, valid_to=payload.valid_to, reason=payload.reason)  # type: ignore[arg-type]
    return selectors.committee_seat_get(actor=request.user, committee_id=committee_id, position_id=position_id)  # type: ignore[arg-type]


# --- positions --------------------------------------------------------------------------------------
@router.post("/positions", response={201: PositionOut, **WRITE})
def position_add(request: HttpRequest, payload: PositionIn) -> Any:
    """Give a visible person a role at a visible account (medical users may add positions too)."""
    data = payload.dict()
    reason = data.pop("reason", "") or ""
    return Status(201, services.position_add(actor=request.user, reason=reason, **data))  # type: ignore[arg-type]


@router.patch("/positions/{position_id}", response={200: PositionOut, **WRITE})
def position_update(request: HttpRequest, position_id: int, payload: PositionPatchIn) -> Any:
    data, reason = _changes(payload)
    return services.position_update(actor=request.user, position=position_id, reason=reason, **data)  # type: ignore[arg-type]


@router.post("/positions/{position_id}/end", response={200: PositionOut, **WRITE})
def position_end(request: HttpRequest, position_id: int, payload: PositionEndIn) -> Any:
    """End a position: it stays in the history and the account shows the role as vacated since that date."""
    return services.position_end(
        actor=request.user,  # type: ignore[arg-type]
        position=position_id,
        valid_to=payload.valid_to,
        reason=payload.reason,
    )


# --- stakeholders -----------------------------------------------------------------------------------
@router.get("/", response={200: list[StakeholderOut], 404: ErrorOut, 422: ErrorOut})
@paginate(Page)
def stakeholder_list(request: HttpRequest, filters: Query[StakeholderFilters]) -> Any:
    """Visible people, by name, with their current primary position. ``account`` must be visible (else 404)."""
    acct = account_get(actor=request.user, account_id=filters.account) if filters.account else None  # type: ignore[arg-type]
    return selectors.stakeholder_list(
        actor=request.user,  # type: ignore[arg-type]
        q=filters.q,
        specialty=filters.specialty,
        kind=filters.kind,
        account=acct,
    )


@router.post("/", response={201: StakeholderOut, **WRITE})
def stakeholder_create(request: HttpRequest, payload: StakeholderCreateIn) -> Any:
    """Create a person with their first position (account + title): a duplicate or invalid NPI is a 422 on
    ``npi``."""
    data = payload.dict()
    reason = data.pop("reason", "") or ""
    return Status(201, services.stakeholder_create(actor=request.user, reason=reason, **data))  # type: ignore[arg-type]


@router.get("/{stakeholder_id}", response={200: StakeholderOut, **READ})
def stakeholder_get(request: HttpRequest, stakeholder_id: int) -> Any:
    return selectors.stakeholder_get(actor=request.user, stakeholder_id=stakeholder_id)  # type: ignore[arg-type]


@router.patch("/{stakeholder_id}", response={200: StakeholderOut, **WRITE})
def stakeholder_update(request: HttpRequest, stakeholder_id: int, payload: StakeholderPatchIn) -> Any:
    data, reason = _changes(payload)
    return services.stakeholder_update(actor=request.user, stakeholder=stakeholder_id, reason=reason, **data)  # type: ignore[arg-type]


@router.get("/{stakeholder_id}/positions", response={200: list[PositionOut], **READ})
def stakeholder_positions(request: HttpRequest, stakeholder_id: int) -> Any:
    """The person's positions at accounts you may see: current first, then vacated ones."""
    s = selectors.stakeholder_get(actor=request.user, stakeholder_id=stakeholder_id)  # type: ignore[arg-type]
    return list(selectors.stakeholder_positions(actor=request.user, stakeholder=s))  # type: ignore[arg-type]
