"""``/api/v1/relationships``: relationship map and coverage of an account, assessments (versioned), owners,
relationship strengths, influence links, decision domains, country privacy rules, settings, role succession.

Handlers parse input, call one service or selector and return a schema. Out-of-scope ids are 404,
read-only roles 403, bad fields 422 (``{"code","message","errors":[{"field","code","message"}]}``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from openkam.core.api import ErrorOut
from openkam.relationships import selectors, services
from openkam.relationships.models import LinkKind
from openkam.stakeholders.models import DecisionRole

router = Router(tags=["relationships"])

READ = {404: ErrorOut, 422: ErrorOut}
WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------------
class CommitteeSeatOut(Schema):
    id: int
    name: str
    role: str
    role_label: str = ""


class NodeOut(Schema):
    id: int
    name: str
    title: str
    account_id: int
    account: str
    group_id: int = Field(
        description="The account directly below the mapped one this person sits under (or the "
        "mapped account itself): how large maps group people, e.g. by hospital of an IDN"
    )
    inherited: bool
    position_id: int
    committees: list[CommitteeSeatOut]
    privacy_restricted: bool
    stance_allowed: bool
    last_contact: dt.date | None
    interactions_12m: int
    assessed: bool
    role: str | None = Field(None, description="Decision role (assessment, else position); judgements only")
    role_label: str | None = None
    stance: int | None = Field(None, description="-2 opponent … 2 advocate; null when not assessed or not allowed")
    stance_label: str | None = None
    influence: int | None = Field(None, description="1 very low … 5 very high")
    influence_label: str | None = None
    domains: list[int] = []
    domain_names: list[str] = []
    assessed_at: int | None = Field(None, description="Account the shown assessment was made at")
    assessed_at_name: str | None = None
    owners: list[int] = []
    strengths: dict[str, list[int]] = Field({}, description="{user id: [current, desired]} (0 none … 4 strong)")
    best_strength: int | None = None


class LinkOut(Schema):
    id: int
    source: int
    target: int
    kind: LinkKind
    strength: int
    directional: bool


class VacancyOut(Schema):
    position_id: int
    title: str
    account_id: int
    account: str
    group_id: int
    committee: str | None
    committee_id: int | None = None
    role: str
    role_label: str
    since: dt.date
    former_id: int
    former: str


class NamedOut(Schema):
    id: int
    name: str


class RelationshipTeamOut(NamedOut):
    active: bool


class MapCommitteeOut(NamedOut):
    account: str
    kind: str
    member_count: int
    next_meeting: dt.date | None


class DomainRefOut(NamedOut):
    active: bool


class MapAccountOut(Schema):
    id: int
    name: str
    country: str


class MapOut(Schema):
    account: MapAccountOut
    judgements: bool = Field(description="False for readers who may not see commercial judgements (medical)")
    nodes: list[NodeOut]
    links: list[LinkOut]
    vacancies: list[VacancyOut]
    team: list[RelationshipTeamOut]
    committees: list[MapCommitteeOut]
    domains: list[DomainRefOut]
    departments: list[NamedOut]
    groups: list[NamedOut] = Field(description="The mapped account and the accounts directly below it")
    interactions_12m: int


class FindingOut(Schema):
    code: str
    severity: str
    text: str
    url: str
    action: str
    stakeholder_id: int | None = None
    committee_id: int | None = None
    domain_id: int | None = None
    user_id: int | None = None
    position_id: int | None = None
    share: int | None = None
    more: int | None = None


class CoverageOut(Schema):
    account: MapAccountOut
    judgements: bool
    summary: dict[str, Any]
    findings: list[FindingOut]
    thresholds: dict[str, int]
    central: list[dict[str, Any]] = []
    expanded: str | None = None


class StakeholderAssessmentOut(Schema):
    id: int
    account_id: int
    stakeholder_id: int
    decision_role: DecisionRole
    domain_ids: list[int]
    stance: int | None
    influence: int | None
    note: str
    effective_from: dt.datetime
    superseded_at: dt.datetime | None
    recorded_by: str | None

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str | None:
        return obj.recorded_by.get_username() if obj.recorded_by_id else None


class StakeholderAssessmentIn(Schema):
    decision_role: DecisionRole = DecisionRole.UNKNOWN
    domain_ids: list[int] = []
    stance: int | None = Field(None, description="-2 opponent, -1 sceptic, 0 neutral, 1 supporter, 2 advocate")
    influence: int | None = Field(None, description="1 very low … 5 very high")
    note: str = ""
    reason: str = ""


class OwnersIn(Schema):
    user_ids: list[int]
    reason: str = ""


class OwnerOut(Schema):
    user_id: int
    since: dt.date


class StrengthIn(Schema):
    current: int = Field(description="0 none, 1 weak, 2 moderate, 3 good, 4 strong")
    desired: int | None = None
    note: str = ""
    reason: str = ""


class StrengthOut(Schema):
    account_id: int
    stakeholder_id: int
    user_id: int
    current: int
    desired: int
    note: str


class LinkIn(Schema):
    from_stakeholder_id: int
    to_stakeholder_id: int
    kind: LinkKind
    strength: int = 2
    directional: bool | None = Field(None, description="Default: reports_to and influences directional")
    evidence: str = ""
    reason: str = ""


class LinkPatchIn(Schema):
    strength: int | None = None
    directional: bool | None = None
    evidence: str | None = None
    reason: str = ""


class LinkDetailOut(Schema):
    id: int
    from_stakeholder_id: int
    to_stakeholder_id: int
    kind: LinkKind
    strength: int
    directional: bool
    evidence: str


class DomainOut(Schema):
    id: int
    code: str
    name: str
    description: str
    is_standard: bool
    is_active: bool


class DomainIn(Schema):
    name: str = Field(max_length=100)
    description: str = ""
    reason: str = ""


class DomainPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = None
    is_active: bool | None = None
    reason: str = ""


class PrivacyRuleOut(Schema):
    country: str
    allow_stance: bool
    allow_directional_influence: bool
    assessment_retention_days: int | None
    note: str


class PrivacyRuleIn(Schema):
    allow_stance: bool = True
    allow_directional_influence: bool = True
    assessment_retention_days: int | None = None
    note: str = ""
    reason: str = ""


class SettingsOut(Schema):
    internal_share_limit: int
    stakeholder_share_limit: int
    key_person_days: int
    assessment_retention_days: int | None


class SettingsIn(Schema):
    internal_share_limit: int | None = None
    stakeholder_share_limit: int | None = None
    key_person_days: int | None = None
    assessment_retention_days: int | None = None
    reason: str = ""


class SucceedIn(Schema):
    stakeholder_id: int = Field(description="The new incumbent")
    valid_from: dt.date | None = None
    carry_seat_ids: list[int] | None = Field(None, description="Committee seats to carry over (default: all)")
    reason: str = ""


class SucceedOut(Schema):
    position_id: int
    stakeholder_id: int
    account_id: int
    title: str
    valid_from: dt.date


class SummaryOut(Schema):
    account: MapAccountOut
    key_relationships: list[dict[str, Any]]
    summary: dict[str, Any]
    findings: list[dict[str, Any]]
    vacancies: list[VacancyOut]


def _u(request: HttpRequest) -> Any:
    return request.user


# --- map and coverage -------------------------------------------------------------------------------
@router.get("/accounts/{account_id}/map", response={200: MapOut, **READ})
def relationship_map(
    request: HttpRequest,
    account_id: int,
    department: int | None = None,
    committee: int | None = None,
    domain: int | None = None,
) -> Any:
    """The relationship map of an account (people at it and below, links, vacancies, committees, team),
    optionally filtered by department (an account below), committee and decision domain."""
    f = selectors.MapFilters(department=department, committee=committee, domain=domain)
    return selectors.relationship_map(actor=_u(request), account_id=account_id, filters=f)


@router.get("/accounts/{account_id}/coverage", response={200: CoverageOut, **READ})
def relationship_coverage(
    request: HttpRequest,
    account_id: int,
    internal_share: int | None = None,
    stakeholder_share: int | None = None,
    key_person_days: int | None = None,
    finding: str | None = None,
) -> Any:
    """Coverage analysis with plain-language findings (each with the ``url`` to fix it). Thresholds default to
    the relationship settings. More than six findings of one kind come as six and one "… and N more" line;
    ``finding=<code>`` lists every finding of that kind."""
    return selectors.relationship_coverage(
        actor=_u(request),
        account_id=account_id,
        internal_share=internal_share,
        stakeholder_share=stakeholder_share,
        key_person_days=key_person_days,
        expand=finding,
    )


@router.get("/accounts/{account_id}/summary", response={200: SummaryOut, **READ})
def relationship_summary(request: HttpRequest, account_id: int) -> Any:
    """Key relationships and findings (as in a handover report)."""
    return selectors.account_relationship_summary(actor=_u(request), account_id=account_id)


# --- assessments, owners, strengths -----------------------------------------------------------------
@router.get(
    "/accounts/{account_id}/stakeholders/{stakeholder_id}/assessments",
    response={200: list[StakeholderAssessmentOut], **READ},
)
def assessment_history(request: HttpRequest, account_id: int, stakeholder_id: int) -> Any:
    """Every version of the stakeholder's assessment at the account (and above it), newest first."""
    return selectors.assessment_history(actor=_u(request), account_id=account_id, stakeholder_id=stakeholder_id)


@router.post(
    "/accounts/{account_id}/stakeholders/{stakeholder_id}/assessments",
    response={201: StakeholderAssessmentOut, **WRITE},
)
def assessment_record(
    request: HttpRequest, account_id: int, stakeholder_id: int, payload: StakeholderAssessmentIn
) -> Any:
    """Record a new version of the assessment (the current one is closed, never overwritten)."""
    data = payload.dict()
    reason = data.pop("reason", "") or ""
    row = services.assessment_record(
        actor=_u(request), account_id=account_id, stakeholder_id=stakeholder_id, reason=reason, **data
    )
    return Status(201, row)


@router.put("/accounts/{account_id}/stakeholders/{stakeholder_id}/owners", response={200: list[OwnerOut], **WRITE})
def owners_set(request: HttpRequest, account_id: int, stakeholder_id: int, payload: OwnersIn) -> Any:
    """Set the internal owner(s) of the relationship (active users)."""
    return services.assessment_owners_set(
        actor=_u(request),
        account_id=account_id,
        stakeholder_id=stakeholder_id,
        user_ids=payload.user_ids,
        reason=payload.reason,
    )


@router.put(
    "/accounts/{account_id}/stakeholders/{stakeholder_id}/strengths/{user_id}", response={200: StrengthOut, **WRITE}
)
def strength_set(request: HttpRequest, account_id: int, stakeholder_id: int, user_id: int, payload: StrengthIn) -> Any:
    """How well one of our people knows the stakeholder: current and desired (0 none … 4 strong)."""
    return services.strength_set(
        actor=_u(request),
        account_id=account_id,
        stakeholder_id=stakeholder_id,
        user_id=user_id,
        current=payload.current,
        desired=payload.desired,
        note=payload.note,
        reason=payload.reason,
    )


@router.delete(
    "/accounts/{account_id}/stakeholders/{stakeholder_id}/strengths/{user_id}", response={204: None, **WRITE}
)
def strength_remove(request: HttpRequest, account_id: int, stakeholder_id: int, user_id: int) -> Any:
    services.strength_remove(actor=_u(request), account_id=account_id, stakeholder_id=stakeholder_id, user_id=user_id)
    return Status(204, None)


# --- links ------------------------------------------------------------------------------------------
@router.post("/links", response={201: LinkDetailOut, **WRITE})
def link_create(request: HttpRequest, payload: LinkIn) -> Any:
    """Link two people (reports to, influences, peer, conflicts with). A self-link is a 422."""
    data = payload.dict()
    reason = data.pop("reason", "") or ""
    return Status(201, services.link_create(actor=_u(request), reason=reason, **data))


@router.get("/links/{link_id}", response={200: LinkDetailOut, **READ})
def link_get(request: HttpRequest, link_id: int) -> Any:
    return selectors.link_get(actor=_u(request), link_id=link_id)


@router.patch("/links/{link_id}", response={200: LinkDetailOut, **WRITE})
def link_update(request: HttpRequest, link_id: int, payload: LinkPatchIn) -> Any:
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    reason = data.pop("reason", "") or ""
    return services.link_update(actor=_u(request), link_id=link_id, reason=reason, **data)


@router.delete("/links/{link_id}", response={204: None, **WRITE})
def link_delete(request: HttpRequest, link_id: int) -> Any:
    services.link_delete(actor=_u(request), link_id=link_id)
    return Status(204, None)


# --- role changes -----------------------------------------------------------------------------------
@router.post("/positions/{position_id}/succeed", response={201: SucceedOut, **WRITE})
def role_succeed(request: HttpRequest, position_id: int, payload: SucceedIn) -> Any:
    """Name the new incumbent of a role: position, committee seats and decision domains carry over; the former
    holder's history stays."""
    p = services.role_succeed(
        actor=_u(request),
        position_id=position_id,
        stakeholder_id=payload.stakeholder_id,
        valid_from=payload.valid_from,
        carry_seat_ids=payload.carry_seat_ids,
        reason=payload.reason,
    )
    return Status(
        201,
        {"position_id": p.pk, "stakeholder_id": p.stakeholder_id, "account_id": p.account_id, "title": p.title,
         "valid_from": p.valid_from},
    )  # fmt: skip


# --- reference data and settings --------------------------------------------------------------------
@router.get("/domains", response={200: list[DomainOut]})
def domain_list(request: HttpRequest, include_inactive: bool = False) -> Any:
    return selectors.domain_list(actor=_u(request), include_inactive=include_inactive)


@router.post("/domains", response={201: DomainOut, **WRITE})
def domain_create(request: HttpRequest, payload: DomainIn) -> Any:
    """Add a decision domain (administrators)."""
    return Status(
        201,
        services.domain_create(
            actor=_u(request), name=payload.name, description=payload.description, reason=payload.reason
        ),
    )


@router.patch("/domains/{domain_id}", response={200: DomainOut, **WRITE})
def domain_update(request: HttpRequest, domain_id: int, payload: DomainPatchIn) -> Any:
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    reason = data.pop("reason", "") or ""
    return services.domain_update(actor=_u(request), domain_id=domain_id, reason=reason, **data)


@router.get("/privacy-rules", response={200: list[PrivacyRuleOut]})
def privacy_rule_list(request: HttpRequest) -> Any:
    return selectors.privacy_rule_list(actor=_u(request))


@router.put("/privacy-rules/{country}", response={200: PrivacyRuleOut, **WRITE})
def privacy_rule_set(request: HttpRequest, country: str, payload: PrivacyRuleIn) -> Any:
    """What local rules allow for people of a country (administrators)."""
    data = payload.dict()
    return services.privacy_rule_set(actor=_u(request), country=country, **data)


@router.delete("/privacy-rules/{country}", response={204: None, **WRITE})
def privacy_rule_delete(request: HttpRequest, country: str) -> Any:
    services.privacy_rule_delete(actor=_u(request), country=country)
    return Status(204, None)


@router.get("/settings", response={200: SettingsOut})
def settings_get(request: HttpRequest) -> Any:
    return selectors.settings_get()


@router.patch("/settings", response={200: SettingsOut, **WRITE})
def settings_update(request: HttpRequest, payload: SettingsIn) -> Any:
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "") or ""
    return services.settings_update(actor=_u(request), reason=reason, **data)
