"""Interactions API: what happened with an account and its people, scoped and classification-filtered."""

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import BeforeValidator

from openkam.activities import selectors, services
from openkam.activities.models import Channel, Interaction
from openkam.core.api import ErrorOut, Page
from openkam.core.errors import ValidationFailed
from openkam.core.models import Classification

router = Router(tags=["interactions"])


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    """Only ``YYYY-MM-DD`` (pydantic would also read ``0`` as 1970-01-01, a Unix time)."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("Give the day as YYYY-MM-DD.")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.get_full_name() or obj.username


class StakeholderRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.display_name)


class WorkRef(Schema):
    id: int
    title: str


class InteractionOut(Schema):
    id: int
    occurred_at: datetime
    channel: Channel
    is_digital: bool
    account: Ref
    subject: str
    notes: str
    classification: Classification
    duration_minutes: int | None
    tactic: WorkRef | None = Field(None, description="Shown only when the caller may see the tactic")
    action: WorkRef | None = Field(None, description="Shown only when the caller may see the action")
    stakeholders: list[StakeholderRef]
    participants: list[UserRef]
    created_by: UserRef
    created_at: datetime
    updated_at: datetime
    can_edit: bool = Field(False, description="The caller may change or delete it")

    @staticmethod
    def resolve_tactic(obj: Interaction) -> Any:
        return obj.tactic if getattr(obj, "linked_work_visible", False) else None

    @staticmethod
    def resolve_action(obj: Interaction) -> Any:
        return obj.action if getattr(obj, "linked_work_visible", False) else None

    @staticmethod
    def resolve_stakeholders(obj: Interaction) -> Any:
        return list(obj.stakeholders.all())

    @staticmethod
    def resolve_participants(obj: Interaction) -> Any:
        return list(obj.participants.all())

    @staticmethod
    def resolve_can_edit(obj: Interaction, context: Any) -> bool:
        request = (context or {}).get("request")
        user = getattr(request, "user", None)
        return bool(user is not None and services.interaction_can_change(actor=user, interaction=obj))


class InteractionIn(Schema):
    occurred_at: datetime = Field(description="When it happened (no later than now); naive times are local")
    channel: Channel
    account: int = Field(description="Account id")
    subject: str = Field(min_length=1, max_length=255)
    classification: Classification | None = Field(
        None, description="Default: medical for medical users, market_access for market access, else commercial"
    )
    notes: str = ""
    duration_minutes: int | None = Field(None, ge=1, le=services.MAX_DURATION_MINUTES)
    stakeholders: list[int] = Field(
        default_factory=list, description="Stakeholder ids; each holds or held a position at the account or below"
    )
    participants: list[int] | None = Field(None, description="Internal user ids (default: the caller)")
    tactic: int | None = None
    action: int | None = Field(None, description="An action implies its tactic")
    reason: str = Field("", max_length=500, description="Why (kept in the audit trail)")


class InteractionPatch(Schema):
    occurred_at: datetime | None = None
    channel: Channel | None = None
    account: int | None = None
    subject: str | None = Field(None, max_length=255)
    classification: Classification | None = None
    notes: str | None = None
    duration_minutes: int | None = Field(None, ge=1, le=services.MAX_DURATION_MINUTES)
    stakeholders: list[int] | None = None
    participants: list[int] | None = None
    tactic: int | None = None
    action: int | None = None
    reason: str = Field("", max_length=500)


class InteractionFilters(Schema):
    account: int | None = Field(
        None, description="Account id (its sub-accounts included unless include_descendants=false)"
    )
    include_descendants: bool = True
    channel: list[Channel] | None = Field(None, description="One or more channels (repeat the parameter)")
    kind: Literal["human", "digital"] | None = Field(None, description="human: visit, meeting, call, event")
    classification: Classification | None = None
    since: Day | None = Field(None, description="From this day (inclusive)")
    until: Day | None = Field(None, description="To this day (inclusive)")
    stakeholder: int | None = None
    participant: int | None = Field(None, description="Internal user id")
    tactic: int | None = None
    action: int | None = None
    mine: bool = Field(False, description="Only those the caller logged or took part in")
    q: str | None = Field(None, max_length=200, description="Subject or notes contain")


@router.get("", response=list[InteractionOut])
@paginate(Page)
def interaction_list(request: HttpRequest, filters: Query[InteractionFilters]) -> Any:
    """Visible interactions, newest first. Medical users never see commercial-only interactions and
    commercial users never see medical-only ones."""
    try:
        since, until = selectors.day_range(filters.since, filters.until)
    except OverflowError:  # until=9999-12-31: the day after is past the last date there is
        raise ValidationFailed(_("Give a date before 9999-12-31."), field="until", code="out_of_range") from None
    return selectors.interaction_list(
        actor=request.user,  # type: ignore[arg-type]
        account=filters.account,
        include_descendants=filters.include_descendants,
        since=since,
        until=until,
        channels=filters.channel,
        digital=None if filters.kind is None else filters.kind == "digital",
        classification=filters.classification,
        stakeholder=filters.stakeholder,
        participant=filters.participant,
        tactic=filters.tactic,
        action=filters.action,
        mine=filters.mine,
        q=filters.q,
    )


@router.get("/{interaction_id}", response={200: InteractionOut, 404: ErrorOut})
def interaction_get(request: HttpRequest, interaction_id: int) -> Any:
    return selectors.interaction_get(actor=request.user, interaction_id=interaction_id)  # type: ignore[arg-type]


@router.post("", response={201: InteractionOut, 403: ErrorOut, 422: ErrorOut})
def interaction_create(request: HttpRequest, payload: InteractionIn) -> Any:
    """Log an interaction. 403 when the caller's role may not write or may not use the classification;
    422 naming the field for bad input (e.g. a stakeholder who never worked at the account)."""
    interaction = services.interaction_create(actor=request.user, **payload.model_dump())  # type: ignore[arg-type]
    return Status(201, selectors.interaction_get(actor=request.user, interaction_id=interaction.pk))  # type: ignore[arg-type]


@router.patch("/{interaction_id}", response={200: InteractionOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def interaction_update(request: HttpRequest, interaction_id: int, payload: InteractionPatch) -> Any:
    """Correct an interaction (its author or an administrator). Lists replace the current ones."""
    interaction = selectors.interaction_get(actor=request.user, interaction_id=interaction_id)  # type: ignore[arg-type]
    return services.interaction_update(
        actor=request.user,  # type: ignore[arg-type]
        interaction=interaction,
        **payload.model_dump(exclude_unset=True),
    )


@router.delete("/{interaction_id}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def interaction_delete(request: HttpRequest, interaction_id: int, reason: str = "") -> Any:
    """Remove an interaction logged by mistake (its author or an administrator; the history stays)."""
    interaction = selectors.interaction_get(actor=request.user, interaction_id=interaction_id)  # type: ignore[arg-type]
    services.interaction_delete(actor=request.user, interaction=interaction, reason=reason)  # type: ignore[arg-type]
    return Status(204, None)
