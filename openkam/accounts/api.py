"""Accounts API (``/api/v1/accounts``): handlers parse input, call one selector or service, return a schema.

Errors: 422 names the field, 400 a refused business rule (e.g. a cycle), 403 a read-only role,
404 an account the caller may not see (indistinguishable from a missing one).
"""

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from openkam.accounts import selectors, services
from openkam.accounts.models import AccountStatus, AccountType, AffiliationType, KamLevel, TeamRole
from openkam.core.api import ErrorOut, Page
from openkam.core.models import Function, User

router = Router(tags=["accounts"])

# An id as the database stores it (bigint): anything else is a 422 naming the field, never a database error.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]

_READ_ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- schemas --------------------------------------------------------------------------------------
class AccountOut(Schema):
    id: int
    name: str
    type: AccountType
    parent_id: int | None
    depth: int
    ccn: str
    npi: str
    national_id: str
    address_line: str
    city: str
    state: str
    postal_code: str
    country: str
    phone: str
    website: str
    status: AccountStatus
    kam_level: KamLevel
    owner_id: int | None
    territory_id: int | None
    description: str
    children_count: int | None = Field(None, description="Direct sub-accounts (on lists).")
    created_at: dt.datetime
    updated_at: dt.datetime


class _AccountFields(Schema):
    ccn: str | None = Field(None, max_length=10, description="CMS Certification Number (6 characters)")
    npi: str | None = Field(None, max_length=10, description="Organisation NPI: 10 digits starting with 2, Luhn")
    national_id: str | None = Field(None, max_length=50)
    address_line: str | None = Field(None, max_length=255)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2")
    phone: str | None = Field(None, max_length=40)
    website: str | None = Field(None, max_length=200)
    status: AccountStatus | None = None
    kam_level: KamLevel | None = None
    owner_id: Id | None = None
    territory_id: Id | None = None
    description: str | None = None


class AccountCreateIn(_AccountFields):
    name: str = Field(min_length=1, max_length=255)
    type: AccountType
    parent_id: Id | None = Field(None, description="A visible account to create this one under.")
    reason: str = Field("", max_length=255)


class AccountPatchIn(_AccountFields):
    name: str | None = Field(None, min_length=1, max_length=255)
    type: AccountType | None = None
    reason: str = Field("", max_length=255)


class MoveIn(Schema):
    parent_id: Id | None = Field(None, description="The new parent; null makes the account top-level.")
    reason: str = Field("", max_length=255)


class AccountFilters(Schema):
    q: str = Field("", description="Name or city contains; CCN or NPI starts with.")
    type: AccountType | None = None
    kam_level: KamLevel | None = None
    owner: Id | None = Field(None, description="Owner user id")
    country: str | None = Field(None, max_length=2)
    status: AccountStatus | None = None
    parent: Id | None = Field(None, description="Only direct children of this account")


class TeamMemberOut(Schema):
    id: int
    account_id: int
    user_id: int
    user_name: str
    role: TeamRole
    function: Function
    start_date: dt.date
    end_date: dt.date | None
    is_current: bool

    @staticmethod
    def resolve_user_name(obj: Any) -> str:
        return str(obj.user)


class TeamMemberIn(Schema):
    user_id: Id
    role: TeamRole = TeamRole.KAM
    function: Function | None = Field(None, description="Default: from the user's role")
    start_date: dt.date | None = Field(None, description="Default: today")
    end_date: dt.date | None = None
    reason: str = Field("", max_length=255)


class EndIn(Schema):
    end_date: dt.date | None = Field(None, description="Last day; default: it ends now (last day yesterday)")
    reason: str = Field("", max_length=255)


class AffiliationOut(Schema):
    id: int
    from_account_id: int
    from_account_name: str
    to_account_id: int
    to_account_name: str
    type: AffiliationType
    start_date: dt.date | None
    end_date: dt.date | None
    notes: str
    is_current: bool

    @staticmethod
    def resolve_from_account_name(obj: Any) -> str:
        return obj.from_account.name

    @staticmethod
    def resolve_to_account_name(obj: Any) -> str:
        return obj.to_account.name


class AffiliationIn(Schema):
    to_account_id: Id
    type: AffiliationType
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    notes: str = ""
    reason: str = Field("", max_length=255)


# --- accounts -------------------------------------------------------------------------------------
@router.get("/", response={200: list[AccountOut], **_READ_ERRORS})
@paginate(Page)
def account_list(request: HttpRequest, filters: Query[AccountFilters]) -> Any:
    """Visible accounts, filtered and searched, by name."""
    return selectors.account_list(
        actor=_actor(request),
        q=filters.q,
        type=filters.type,
        kam_level=filters.kam_level,
        owner_id=filters.owner,
        country=filters.country,
        status=filters.status,
        parent_id=filters.parent,
    )


@router.post("/", response={201: AccountOut, **_WRITE_ERRORS})
def account_create(request: HttpRequest, payload: AccountCreateIn) -> Any:
    """Create an account (KAM, lead, market access, admin). A top-level account goes on the creator's book."""
    data = payload.dict(exclude_unset=True)
    account = services.account_create(
        actor=_actor(request),
        name=data.pop("name"),
        type=data.pop("type"),
        parent_id=data.pop("parent_id", None),
        reason=data.pop("reason", ""),
        **data,
    )
    return Status(201, account)


@router.get("/{int:account_id}", response={200: AccountOut, **_READ_ERRORS})
def account_get(request: HttpRequest, account_id: int) -> Any:
    return selectors.account_get(actor=_actor(request), account_id=account_id)


@router.patch("/{int:account_id}", response={200: AccountOut, **_WRITE_ERRORS})
def account_update(request: HttpRequest, account_id: int, payload: AccountPatchIn) -> Any:
    """Change some fields (only those sent). Set ``status`` to ``inactive`` to retire an account."""
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    return services.account_update(actor=_actor(request), account=account_id, reason=reason, **data)


@router.post("/{int:account_id}/move", response={200: AccountOut, **_WRITE_ERRORS})
def account_move(request: HttpRequest, account_id: int, payload: MoveIn) -> Any:
    """Move an account with its subtree under another parent (400 ``hierarchy_cycle`` if it would loop)."""
    return services.account_move(
        actor=_actor(request), account=account_id, new_parent_id=payload.parent_id, reason=payload.reason
    )


@router.get("/{int:account_id}/children", response={200: list[AccountOut], **_READ_ERRORS})
@paginate(Page)
def account_children(request: HttpRequest, account_id: int) -> Any:
    """The direct sub-accounts of a visible account."""
    actor = _actor(request)
    return selectors.account_list(actor=actor, parent_id=selectors.account_get(actor=actor, account_id=account_id).pk)


# --- team -----------------------------------------------------------------------------------------
@router.get("/{int:account_id}/team", response={200: list[TeamMemberOut], **_READ_ERRORS})
def team_list(request: HttpRequest, account_id: int, include_ended: bool = True) -> Any:
    """The account team, current members first (ended memberships stay as history)."""
    actor = _actor(request)
    account = selectors.account_get(actor=actor, account_id=account_id)
    return selectors.account_team(actor=actor, account=account, include_ended=include_ended)


@router.post("/{int:account_id}/team", response={201: TeamMemberOut, **_WRITE_ERRORS})
def team_member_add(request: HttpRequest, account_id: int, payload: TeamMemberIn) -> Any:
    member = services.account_team_member_add(
        actor=_actor(request),
        account=account_id,
        user_id=payload.user_id,
        role=payload.role,
        function=payload.function or "",
        start_date=payload.start_date,
        end_date=payload.end_date,
        reason=payload.reason,
    )
    return Status(201, selectors.account_team_member_get(actor=_actor(request), member_id=member.pk))


@router.post("/{int:account_id}/team/{int:member_id}/end", response={200: TeamMemberOut, **_WRITE_ERRORS})
def team_member_end(request: HttpRequest, account_id: int, member_id: int, payload: EndIn | None = None) -> Any:
    payload = payload or EndIn(end_date=None, reason="")
    member = services.account_team_member_end(
        actor=_actor(request),
        member=member_id,
        account_id=account_id,
        end_date=payload.end_date,
        reason=payload.reason,
    )
    return selectors.account_team_member_get(actor=_actor(request), member_id=member.pk)


# --- affiliations ---------------------------------------------------------------------------------
@router.get("/{int:account_id}/affiliations", response={200: list[AffiliationOut], **_READ_ERRORS})
def affiliation_list(request: HttpRequest, account_id: int, include_ended: bool = True) -> Any:
    """Affiliations in both directions (this account as member and as the affiliating organisation)."""
    actor = _actor(request)
    account = selectors.account_get(actor=actor, account_id=account_id)
    return selectors.account_affiliations(actor=actor, account=account, include_ended=include_ended)


@router.post("/{int:account_id}/affiliations", response={201: AffiliationOut, **_WRITE_ERRORS})
def affiliation_create(request: HttpRequest, account_id: int, payload: AffiliationIn) -> Any:
    aff = services.affiliation_create(
        actor=_actor(request),
        from_account=account_id,
        to_account_id=payload.to_account_id,
        type=payload.type,
        start_date=payload.start_date,
        end_date=payload.end_date,
        notes=payload.notes,
        reason=payload.reason,
    )
    return Status(201, selectors.affiliation_get(actor=_actor(request), affiliation_id=aff.pk))


@router.post("/affiliations/{int:affiliation_id}/end", response={200: AffiliationOut, **_WRITE_ERRORS})
def affiliation_end(request: HttpRequest, affiliation_id: int, payload: EndIn | None = None) -> Any:
    payload = payload or EndIn(end_date=None, reason="")
    aff = services.affiliation_end(
        actor=_actor(request), affiliation=affiliation_id, end_date=payload.end_date, reason=payload.reason
    )
    return selectors.affiliation_get(actor=_actor(request), affiliation_id=aff.pk)
