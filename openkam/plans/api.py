"""Account plans API: plans, their lifecycle, objectives → tactics → actions, and "my actions".

Optimistic locking — every plan has a ``version``. ``GET /plans/{id}`` answers ``ETag: "<version>"`` and
the body's ``version``. Send it back with every change, either as ``If-Match: "<version>"`` (takes
precedence) or as ``version`` in the JSON body (``?version=`` on DELETE). A change to the plan or
anything in it bumps the version; the new one comes back in ``ETag`` and in the body (``version`` /
``plan_version``). A stale version answers **409 Conflict** (``code: "stale_version"``) — also for
``If-Match``; nothing is written. ``PATCH /plans/{id}`` *requires* the version (422 ``version_required``);
for the lifecycle and for objectives, tactics and actions it is optional but recommended.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status
from ninja.pagination import paginate

from openkam.core.api import ErrorOut, Page
from openkam.core.errors import ValidationFailed
from openkam.core.models import User
from openkam.plans import selectors, services
from openkam.plans.models import AccountPlan, Action

router = Router(tags=["plans"])

_WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}

PlanStatusIn = Literal["draft", "in_review", "approved", "active", "closed"]
ActionStatusIn = Literal["not_started", "in_progress", "blocked", "done", "cancelled"]
ClassificationIn = Literal["commercial", "medical", "market_access", "joint"]
FunctionIn = Literal["commercial", "medical", "market_access"]
IndicatorIn = Literal["leading", "lagging"]


# --- schemas ---------------------------------------------------------------------------------------
class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)


class AccountRef(Schema):
    id: int
    name: str


def _pct(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


class PlanOut(Schema):
    id: int
    account: AccountRef
    name: str
    period_start: dt.date
    period_end: dt.date
    owner: UserRef
    status: PlanStatusIn
    summary: str
    version: int
    completion: float | None = Field(None, description="0–100 over the tactics the caller may see; null: none")
    approved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    allowed_transitions: list[PlanStatusIn] = Field(description="statuses the caller may move the plan to now")
    template_id: int | None
    customer_priorities: str
    positioning: str
    value_proposition: str
    value_proposition_reviewed: bool
    strategy: str
    cloned_from_id: int | None
    last_meaningful_update_at: dt.datetime
    is_stale: bool | None = Field(None, description="no meaningful update for the template's threshold (plan rot)")

    @staticmethod
    def resolve_is_stale(obj: AccountPlan) -> bool | None:
        return getattr(obj, "is_stale", None)

    @staticmethod
    def resolve_completion(obj: AccountPlan) -> float | None:
        return _pct(getattr(obj, "completion", None))

    @staticmethod
    def resolve_allowed_transitions(obj: AccountPlan, context: Any) -> list[str]:
        return services.plan_available_transitions(actor=context["request"].user, plan=obj)


class ActionOut(Schema):
    id: int
    tactic_id: int
    title: str
    description: str
    owner: UserRef | None
    assignee: UserRef | None
    start_date: dt.date | None
    due_date: dt.date | None
    status: ActionStatusIn
    completed_at: dt.datetime | None
    is_milestone: bool
    shared_with_customer: bool
    position: int


class TacticOut(Schema):
    id: int
    objective_id: int
    title: str
    description: str
    owner: UserRef | None
    function: FunctionIn
    classification: ClassificationIn
    shared_with_customer: bool
    position: int


class TacticTreeOut(TacticOut):
    completion: float | None
    actions: list[ActionOut]


class ObjectiveOut(Schema):
    id: int
    plan_id: int
    title: str
    description: str
    metric: str
    baseline: Decimal | None
    target: Decimal | None
    current: Decimal | None
    due_date: dt.date | None
    indicator: IndicatorIn
    owner: UserRef | None
    shared_with_customer: bool
    position: int


class ObjectiveTreeOut(ObjectiveOut):
    completion: float | None
    tactics: list[TacticTreeOut]


class PlanDetailOut(PlanOut):
    objectives: list[ObjectiveTreeOut] = Field(description="only the tactics and actions the caller may see")

    @staticmethod
    def resolve_objectives(obj: AccountPlan, context: Any) -> list[dict[str, Any]]:
        return _tree(context["request"].user, obj)


class ObjectiveChangeOut(ObjectiveOut):
    plan_version: int


class TacticChangeOut(TacticOut):
    plan_version: int


class ActionChangeOut(ActionOut):
    plan_version: int


class ActionListOut(ActionOut):
    plan_id: int
    plan_name: str
    account: AccountRef
    tactic_title: str
    classification: ClassificationIn

    @staticmethod
    def resolve_plan_id(obj: Action) -> int:
        return obj.tactic.objective.plan_id

    @staticmethod
    def resolve_plan_name(obj: Action) -> str:
        return obj.tactic.objective.plan.name

    @staticmethod
    def resolve_account(obj: Action) -> Any:
        return obj.tactic.objective.plan.account

    @staticmethod
    def resolve_tactic_title(obj: Action) -> str:
        return obj.tactic.title

    @staticmethod
    def resolve_classification(obj: Action) -> str:
        return obj.tactic.classification


class VersionIn(Schema):
    version: int | None = Field(None, description="the plan version you loaded (or send If-Match)")
    reason: str = Field("", max_length=500)


class PlanIn(Schema):
    account_id: int
    name: str = Field(min_length=1, max_length=255)
    period_start: dt.date
    period_end: dt.date
    owner_id: int | None = None
    summary: str = ""
    template_id: int | None = Field(None, description="default: the template for the account's type")
    reason: str = Field("", max_length=500)


class PlanPatch(VersionIn):
    name: str | None = Field(None, min_length=1, max_length=255)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    owner_id: int | None = None
    summary: str | None = None
    customer_priorities: str | None = Field(None, max_length=20000)
    positioning: str | None = Field(None, max_length=20000)
    value_proposition: str | None = Field(None, max_length=20000)
    value_proposition_reviewed: bool | None = None
    strategy: str | None = Field(None, max_length=20000)


class TransitionIn(VersionIn):
    to: PlanStatusIn
    comment: str = Field("", max_length=4000, description="required when returning a plan in review to draft")


class ObjectiveIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""
    metric: str = Field("", max_length=200)
    baseline: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    target: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    current: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    due_date: dt.date | None = None
    indicator: IndicatorIn = "lagging"
    owner_id: int | None = None
    shared_with_customer: bool = False


class ObjectivePatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    metric: str | None = Field(None, max_length=200)
    baseline: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    target: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    current: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    due_date: dt.date | None = None
    indicator: IndicatorIn | None = None
    owner_id: int | None = None
    shared_with_customer: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class TacticIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    classification: ClassificationIn
    function: FunctionIn | None = Field(None, description="defaults to the caller's function")
    description: str = ""
    owner_id: int | None = None
    shared_with_customer: bool = False


class TacticPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    classification: ClassificationIn | None = None
    function: FunctionIn | None = None
    description: str | None = None
    owner_id: int | None = None
    shared_with_customer: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class ActionIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""
    owner_id: int | None = Field(None, description="defaults to the caller")
    assignee_id: int | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    status: ActionStatusIn = "not_started"
    is_milestone: bool = False
    shared_with_customer: bool = False


class ActionPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    owner_id: int | None = None
    assignee_id: int | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    status: ActionStatusIn | None = None
    is_milestone: bool | None = None
    shared_with_customer: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class PlanFilters(Schema):
    account: int | None = Field(None, description="account id")
    status: PlanStatusIn | None = None
    owner: str | None = Field(None, description='"me" or a user id')


class ActionFilters(Schema):
    assignee: str | None = Field(None, description='"me" or a user id')
    status: list[ActionStatusIn] | None = Field(None, description="repeat for several")
    plan: int | None = Field(None, description="plan id")


# --- helpers ---------------------------------------------------------------------------------------
def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _version(if_match: str | None, body_version: int | None) -> int | None:
    """If-Match wins over the body's ``version``; ``*`` means "any version"."""
    if if_match is not None and if_match.strip():
        raw = if_match.strip()
        if raw == "*":
            return None
        raw = raw.removeprefix("W/").strip('"')
        if not raw.isdigit():
            raise ValidationFailed(
                'If-Match must be the plan\'s ETag, e.g. "3".', field="If-Match", code="invalid_if_match"
            )
        return int(raw)
    return body_version


def _etag(response: HttpResponse, version: int) -> None:
    response["ETag"] = f'"{version}"'


def _person(value: str | None, actor: User, field: str) -> User | None:
    if value in (None, ""):
        return None
    if value == "me":
        return actor
    if not str(value).isdigit():
        raise ValidationFailed(f'{field} must be "me" or a user id.', field=field, code="invalid")
    user = User.objects.filter(pk=int(str(value))).first()
    if user is None:
        raise ValidationFailed(_("No such user."), field=field, code="unknown_user")
    return user


def _user_fields(data: dict[str, Any]) -> dict[str, Any]:
    """``owner_id`` / ``assignee_id`` from the API → ``owner`` / ``assignee`` for the services."""
    for key in ("owner", "assignee"):
        if f"{key}_id" in data:
            data[key] = data.pop(f"{key}_id")
    return data


def _changes(payload: Schema) -> tuple[dict[str, Any], int | None, str]:
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version", None)
    reason = data.pop("reason", "") or ""
    return _user_fields(data), version, reason


def _tree(actor: User, plan: AccountPlan) -> list[dict[str, Any]]:
    tree = selectors.plan_tree(actor=actor, plan=plan)
    return [
        {
            **_row(o.objective, ObjectiveOut),
            "completion": _pct(o.completion),
            "tactics": [
                {**_row(t.tactic, TacticOut), "completion": _pct(t.completion), "actions": t.actions} for t in o.tactics
            ],
        }
        for o in tree.objectives
    ]


def _row(obj: Any, schema: type[Schema]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in schema.model_fields}


# --- plans -----------------------------------------------------------------------------------------
@router.get("/", response={200: list[PlanOut], 422: ErrorOut}, summary="List plans")
@paginate(Page)
def list_plans(request: HttpRequest, filters: Query[PlanFilters]) -> Any:
    """Plans on the caller's accounts, newest period first; filter by account, status, owner (`me`)."""
    actor = _actor(request)
    qs = selectors.plan_list(
        actor=actor,
        statuses=[filters.status] if filters.status else None,
        owner=_person(filters.owner, actor, "owner"),
    )
    if filters.account is not None:
        qs = qs.filter(account_id=filters.account)
    return qs


@router.post("/", response={201: PlanOut, **_WRITE_ERRORS}, summary="Create a plan")
def create_plan(request: HttpRequest, response: HttpResponse, payload: PlanIn) -> Any:
    """A new draft plan for one of the caller's accounts (owner defaults to the caller)."""
    plan = services.plan_create(
        actor=_actor(request),
        account_id=payload.account_id,
        name=payload.name,
        period_start=payload.period_start,
        period_end=payload.period_end,
        owner=payload.owner_id,
        summary=payload.summary,
        template_id=payload.template_id,
        reason=payload.reason,
    )
    plan = selectors.plan_get(actor=_actor(request), plan_id=plan.pk)
    _etag(response, plan.version)
    return Status(201, plan)


@router.get(
    "/actions",
    response={200: list[ActionListOut], 422: ErrorOut},
    summary="List actions across plans (e.g. mine)",
)
@paginate(Page)
def list_actions(request: HttpRequest, filters: Query[ActionFilters]) -> Any:
    """Actions the caller may see across plans, soonest due first: `?assignee=me&status=in_progress`."""
    actor = _actor(request)
    return selectors.action_list(
        actor=actor,
        assignee=_person(filters.assignee, actor, "assignee"),
        statuses=filters.status or None,
        plan_id=filters.plan,
    )


@router.get("/{int:plan_id}", response={200: PlanDetailOut, 404: ErrorOut}, summary="Get a plan with its tree")
def get_plan(request: HttpRequest, response: HttpResponse, plan_id: int) -> Any:
    """The plan with objectives → tactics → actions and completion at every level — only the tactics and
    actions the caller may see. Answers `ETag: "<version>"`."""
    plan = selectors.plan_get(actor=_actor(request), plan_id=plan_id)
    _etag(response, plan.version)
    return plan


@router.patch("/{int:plan_id}", response={200: PlanOut, **_WRITE_ERRORS}, summary="Edit a plan's header")
def update_plan(
    request: HttpRequest,
    response: HttpResponse,
    plan_id: int,
    payload: PlanPatch,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Change name, period, owner or summary (plan owner or a lead).

    The version is **required** here (422 `version_required` without it).

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    plan = services.plan_update(
        actor=_actor(request), plan_id=plan_id, expected_version=_version(if_match, version), reason=reason, **data
    )
    _etag(response, plan.version)
    return plan


@router.post(
    "/{int:plan_id}/transition", response={200: PlanOut, **_WRITE_ERRORS}, summary="Move a plan along its lifecycle"
)
def transition_plan(
    request: HttpRequest,
    response: HttpResponse,
    plan_id: int,
    payload: TransitionIn,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """draft → in_review → approved → active → closed (in_review/approved → draft returns it). Approval needs a
    lead or admin other than the owner; an invalid move answers 400 `invalid_transition`. Returning a plan in
    review needs a `comment` (422 `comment_required`); each approval freezes a snapshot (`/snapshots`).

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    plan = services.plan_transition(
        actor=_actor(request),
        plan_id=plan_id,
        to=payload.to,
        expected_version=_version(if_match, payload.version),
        comment=payload.comment,
        reason=payload.reason,
    )
    _etag(response, plan.version)
    return plan


@router.delete("/{int:plan_id}", response={204: None, **_WRITE_ERRORS}, summary="Delete a draft plan")
def delete_plan(
    request: HttpRequest,
    plan_id: int,
    version: int | None = None,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Only drafts can be deleted (400 `plan_not_draft` otherwise), by the owner or a lead.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    services.plan_delete(actor=_actor(request), plan_id=plan_id, expected_version=_version(if_match, version))
    return Status(204, None)


# --- objectives ------------------------------------------------------------------------------------
@router.get(
    "/{int:plan_id}/objectives",
    response={200: list[ObjectiveTreeOut], 404: ErrorOut},
    summary="List a plan's objectives with their tree",
)
def list_objectives(request: HttpRequest, response: HttpResponse, plan_id: int) -> Any:
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    _etag(response, plan.version)
    return _tree(actor, plan)


@router.post(
    "/{int:plan_id}/objectives", response={201: ObjectiveChangeOut, **_WRITE_ERRORS}, summary="Add an objective"
)
def create_objective(
    request: HttpRequest,
    response: HttpResponse,
    plan_id: int,
    payload: ObjectiveIn,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Add a measurable objective to the plan.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    data.update(payload.model_dump(include={"title"}))
    objective = services.objective_create(
        actor=_actor(request),
        plan_id=plan_id,
        expected_version=_version(if_match, version),
        reason=reason,
        **data,
    )
    _etag(response, objective.plan.version)
    return Status(201, {**_row(objective, ObjectiveOut), "plan_version": objective.plan.version})


@router.patch(
    "/objectives/{int:objective_id}", response={200: ObjectiveChangeOut, **_WRITE_ERRORS}, summary="Edit an objective"
)
def update_objective(
    request: HttpRequest,
    response: HttpResponse,
    objective_id: int,
    payload: ObjectivePatch,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Change an objective (partial update).

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    objective = services.objective_update(
        actor=_actor(request),
        objective_id=objective_id,
        expected_version=_version(if_match, version),
        reason=reason,
        **data,
    )
    _etag(response, objective.plan.version)
    return {**_row(objective, ObjectiveOut), "plan_version": objective.plan.version}


@router.delete(
    "/objectives/{int:objective_id}",
    response={204: None, **_WRITE_ERRORS},
    summary="Delete an objective with its tactics and actions",
)
def delete_objective(
    request: HttpRequest,
    response: HttpResponse,
    objective_id: int,
    version: int | None = None,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Refused (403 `objective_has_hidden_work`) when it holds tactics the caller may not see.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    plan = services.objective_delete(
        actor=_actor(request), objective_id=objective_id, expected_version=_version(if_match, version)
    )
    _etag(response, plan.version)
    return Status(204, None)


# --- tactics ---------------------------------------------------------------------------------------
@router.post(
    "/objectives/{int:objective_id}/tactics", response={201: TacticChangeOut, **_WRITE_ERRORS}, summary="Add a tactic"
)
def create_tactic(
    request: HttpRequest,
    response: HttpResponse,
    objective_id: int,
    payload: TacticIn,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """403 `classification_forbidden` when the caller may not work with that classification.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    if data.get("function") is None:
        data.pop("function", None)
    tactic = services.tactic_create(
        actor=_actor(request),
        objective_id=objective_id,
        expected_version=_version(if_match, version),
        reason=reason,
        **data,
    )
    plan_version = tactic.objective.plan.version
    _etag(response, plan_version)
    return Status(201, {**_row(tactic, TacticOut), "plan_version": plan_version})


@router.patch("/tactics/{int:tactic_id}", response={200: TacticChangeOut, **_WRITE_ERRORS}, summary="Edit a tactic")
def update_tactic(
    request: HttpRequest,
    response: HttpResponse,
    tactic_id: int,
    payload: TacticPatch,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Change a tactic; reclassifying needs the right to both classifications.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    tactic = services.tactic_update(
        actor=_actor(request), tactic_id=tactic_id, expected_version=_version(if_match, version), reason=reason, **data
    )
    plan_version = tactic.objective.plan.version
    _etag(response, plan_version)
    return {**_row(tactic, TacticOut), "plan_version": plan_version}


@router.delete(
    "/tactics/{int:tactic_id}", response={204: None, **_WRITE_ERRORS}, summary="Delete a tactic with its actions"
)
def delete_tactic(
    request: HttpRequest,
    response: HttpResponse,
    tactic_id: int,
    version: int | None = None,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Delete a tactic and its actions.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    plan = services.tactic_delete(
        actor=_actor(request), tactic_id=tactic_id, expected_version=_version(if_match, version)
    )
    _etag(response, plan.version)
    return Status(204, None)


# --- actions ---------------------------------------------------------------------------------------
@router.post(
    "/tactics/{int:tactic_id}/actions", response={201: ActionChangeOut, **_WRITE_ERRORS}, summary="Add an action"
)
def create_action(
    request: HttpRequest,
    response: HttpResponse,
    tactic_id: int,
    payload: ActionIn,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """The action inherits the tactic's classification. `due_date` before `start_date` answers 422.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    if data.get("owner") is None:
        data.pop("owner", None)
    action = services.action_create(
        actor=_actor(request), tactic_id=tactic_id, expected_version=_version(if_match, version), reason=reason, **data
    )
    plan_version = action.tactic.objective.plan.version
    _etag(response, plan_version)
    return Status(201, {**_row(action, ActionOut), "plan_version": plan_version})


@router.patch("/actions/{int:action_id}", response={200: ActionChangeOut, **_WRITE_ERRORS}, summary="Edit an action")
def update_action(
    request: HttpRequest,
    response: HttpResponse,
    action_id: int,
    payload: ActionPatch,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """E.g. `{"status": "done"}`: done counts as complete, cancelled is left out of completion.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    data, version, reason = _changes(payload)
    action = services.action_update(
        actor=_actor(request), action_id=action_id, expected_version=_version(if_match, version), reason=reason, **data
    )
    plan_version = action.tactic.objective.plan.version
    _etag(response, plan_version)
    return {**_row(action, ActionOut), "plan_version": plan_version}


@router.delete("/actions/{int:action_id}", response={204: None, **_WRITE_ERRORS}, summary="Delete an action")
def delete_action(
    request: HttpRequest,
    response: HttpResponse,
    action_id: int,
    version: int | None = None,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Delete an action.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    plan = services.action_delete(
        actor=_actor(request), action_id=action_id, expected_version=_version(if_match, version)
    )
    _etag(response, plan.version)
    return Status(204, None)


# --- plan sections ---------------------------------------------------------------------------------
SwotKindIn = Literal["strength", "weakness", "opportunity", "threat"]


class SectionChange(Schema):
    plan_version: int = Field(description="the plan's new version (also in ETag)")


class CustomerPriorityOut(Schema):
    id: int
    title: str
    description: str
    shared_with_customer: bool
    position: int


class CustomerPriorityIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""
    shared_with_customer: bool = True


class CustomerPriorityPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    shared_with_customer: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class SwotItemOut(Schema):
    id: int
    kind: SwotKindIn
    title: str
    evidence: str
    classification: ClassificationIn
    objective_ids: list[int] = Field(description="the objectives this item drives")
    position: int

    @staticmethod
    def resolve_objective_ids(obj: Any) -> list[int]:
        ids = obj.get("objective_ids") if isinstance(obj, dict) else getattr(obj, "objective_ids", None)
        if ids is None:
            ids = sorted(obj.objective_links.values_list("objective_id", flat=True))
        return list(ids)


class SwotItemIn(VersionIn):
    kind: SwotKindIn
    title: str = Field(min_length=1, max_length=255)
    evidence: str = ""
    classification: ClassificationIn = "joint"
    objective_ids: list[int] = Field(default_factory=list, max_length=500)


class SwotItemPatch(VersionIn):
    kind: SwotKindIn | None = None
    title: str | None = Field(None, min_length=1, max_length=255)
    evidence: str | None = None
    classification: ClassificationIn | None = None
    objective_ids: list[int] | None = Field(None, max_length=500, description="replaces the linked objectives")
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class GoalOut(Schema):
    id: int
    title: str
    description: str
    position: int


class GoalIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""


class GoalPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class KeyActionOut(Schema):
    id: int
    csf_id: int
    title: str
    owner: UserRef | None
    due_date: dt.date | None
    done: bool
    position: int


class KeyActionIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    owner_id: int | None = None
    due_date: dt.date | None = None
    done: bool = False


class KeyActionPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    owner_id: int | None = None
    due_date: dt.date | None = None
    done: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class CsfOut(Schema):
    id: int
    goal_id: int | None
    title: str
    description: str
    position: int


class CsfTreeOut(CsfOut):
    key_actions: list[KeyActionOut]


class CsfIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    description: str = ""
    goal_id: int | None = Field(None, description="the goal this CSF serves (Goal → CSF → key action)")


class CsfPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    goal_id: int | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class StepOut(Schema):
    id: int
    stage_id: int
    title: str
    done: bool
    done_at: dt.datetime | None
    done_by: UserRef | None
    position: int


class StepIn(VersionIn):
    title: str = Field(min_length=1, max_length=255)
    done: bool = False


class StepPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    done: bool | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class StageOut(Schema):
    id: int
    name: str
    description: str
    position: int


class StageTreeOut(StageOut):
    completion: float | None
    steps: list[StepOut]


class StageIn(VersionIn):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


class StagePatch(VersionIn):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    position: int | None = Field(None, ge=0, le=2_147_483_647)


class GoalTreeOut(GoalOut):
    csfs: list[CsfTreeOut]


class SwotOut(Schema):
    strength: list[SwotItemOut]
    weakness: list[SwotItemOut]
    opportunity: list[SwotItemOut]
    threat: list[SwotItemOut]


class TemplateRef(Schema):
    id: int
    name: str
    sections: list[str]
    required_fields: list[str]
    stale_after_days: int


class PlanSectionsOut(Schema):
    version: int
    template: TemplateRef | None
    customer_priorities_text: str
    customer_priorities: list[CustomerPriorityOut]
    positioning: str
    value_proposition: str
    value_proposition_reviewed: bool
    strategy: str
    swot: SwotOut = Field(description="only items of classifications the caller may see")
    critical_success_factors: list[CsfTreeOut]
    goals: list[GoalTreeOut]
    stages: list[StageTreeOut]


# path segment → (section kind for the services, create/patch/out schemas, parent path or None)
_SECTIONS: dict[str, tuple[str, type[Schema], type[Schema], type[Schema], str | None]] = {
    "customer-priorities": ("customer_priority", CustomerPriorityIn, CustomerPriorityPatch, CustomerPriorityOut, None),
    "swot-items": ("swot_item", SwotItemIn, SwotItemPatch, SwotItemOut, None),
    "goals": ("goal", GoalIn, GoalPatch, GoalOut, None),
    "csfs": ("csf", CsfIn, CsfPatch, CsfOut, None),
    "stages": ("stage", StageIn, StagePatch, StageOut, None),
    "key-actions": ("key_action", KeyActionIn, KeyActionPatch, KeyActionOut, "csfs"),
    "steps": ("step", StepIn, StepPatch, StepOut, "stages"),
}
_SECTION_NAMES = {
    "customer-priorities": "customer priority",
    "swot-items": "SWOT item",
    "goals": "goal",
    "csfs": "critical success factor",
    "stages": "stage",
    "key-actions": "key action",
    "steps": "process step",
}


def _section_data(data: dict[str, Any]) -> dict[str, Any]:
    data = _user_fields(data)
    if "goal_id" in data:
        data["goal"] = data.pop("goal_id")
    return data


def _created(payload: Schema) -> tuple[dict[str, Any], int | None, str]:
    """Every field of a create payload (defaults included), without the locking/audit ones."""
    data = payload.model_dump()
    version = data.pop("version", None)
    reason = data.pop("reason", "") or ""
    return data, version, reason


def _change_out(row: Any, out: type[Schema]) -> dict[str, Any]:
    if "objective_ids" in out.model_fields and not hasattr(row, "objective_ids"):
        row.objective_ids = sorted(row.objective_links.values_list("objective_id", flat=True))
    return {**_row(row, out), "plan_version": row.plan_version}


def _register_section(path: str) -> None:
    kind, in_schema, patch_schema, out_schema, parent = _SECTIONS[path]
    noun = _SECTION_NAMES[path]
    change_out = type(f"{out_schema.__name__}Change", (out_schema, SectionChange), {})
    slug = kind

    if parent is None:

        def create(
            request: HttpRequest,
            response: HttpResponse,
            plan_id: int,
            payload: in_schema,  # type: ignore[valid-type]
            if_match: str | None = Header(None, alias="If-Match"),
        ) -> Any:
            data, version, reason = _created(payload)
            row = services.section_item_create(
                actor=_actor(request),
                section=kind,
                plan_id=plan_id,
                expected_version=_version(if_match, version),
                reason=reason,
                **_section_data(data),
            )
            _etag(response, row.plan_version)
            return Status(201, _change_out(row, out_schema))

        router.add_api_operation(
            f"/{{int:plan_id}}/{path}",
            ["POST"],
            create,
            response={201: change_out, **_WRITE_ERRORS},
            summary=f"Add a {noun}",
            operation_id=f"plans_{slug}_create",
            description=f"Add a {noun} to the plan. Locking: `If-Match` or `version`; stale → 409 `stale_version`.",
        )
    else:

        def create_child(
            request: HttpRequest,
            response: HttpResponse,
            parent_id: int,
            payload: in_schema,  # type: ignore[valid-type]
            if_match: str | None = Header(None, alias="If-Match"),
        ) -> Any:
            data, version, reason = _created(payload)
            row = services.section_item_create(
                actor=_actor(request),
                section=kind,
                parent_id=parent_id,
                expected_version=_version(if_match, version),
                reason=reason,
                **_section_data(data),
            )
            _etag(response, row.plan_version)
            return Status(201, _change_out(row, out_schema))

        router.add_api_operation(
            f"/{parent}/{{int:parent_id}}/{path}",
            ["POST"],
            create_child,
            response={201: change_out, **_WRITE_ERRORS},
            summary=f"Add a {noun}",
            operation_id=f"plans_{slug}_create",
            description=f"Add a {noun}. Locking: `If-Match` or `version`; stale → 409 `stale_version`.",
        )

    def update(
        request: HttpRequest,
        response: HttpResponse,
        item_id: int,
        payload: patch_schema,  # type: ignore[valid-type]
        if_match: str | None = Header(None, alias="If-Match"),
    ) -> Any:
        data, version, reason = _changes(payload)
        row = services.section_item_update(
            actor=_actor(request),
            section=kind,
            item_id=item_id,
            expected_version=_version(if_match, version),
            reason=reason,
            **_section_data(data),
        )
        _etag(response, row.plan_version)
        return _change_out(row, out_schema)

    router.add_api_operation(
        f"/{path}/{{int:item_id}}",
        ["PATCH"],
        update,
        response={200: change_out, **_WRITE_ERRORS},
        summary=f"Edit a {noun}",
        operation_id=f"plans_{slug}_update",
        description="Partial update. Locking: `If-Match` or `version`; stale → 409 `stale_version`.",
    )

    def delete(
        request: HttpRequest,
        response: HttpResponse,
        item_id: int,
        version: int | None = None,
        if_match: str | None = Header(None, alias="If-Match"),
    ) -> Any:
        plan = services.section_item_delete(
            actor=_actor(request), section=kind, item_id=item_id, expected_version=_version(if_match, version)
        )
        _etag(response, plan.version)
        return Status(204, None)

    router.add_api_operation(
        f"/{path}/{{int:item_id}}",
        ["DELETE"],
        delete,
        response={204: None, **_WRITE_ERRORS},
        summary=f"Delete a {noun}",
        operation_id=f"plans_{slug}_delete",
        description="Locking: `If-Match` or `?version=`; stale → 409 `stale_version`.",
    )


@router.get(
    "/{int:plan_id}/sections",
    response={200: PlanSectionsOut, 404: ErrorOut},
    summary="Get a plan's sections (priorities, positioning, strategy, SWOT, CSFs, goals, stages)",
)
def get_sections(request: HttpRequest, response: HttpResponse, plan_id: int) -> Any:
    """Every section besides the objective tree (`GET /plans/{id}`); SWOT only within the caller's
    classifications. Answers `ETag: "<version>"`."""
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    s = selectors.plan_sections(actor=actor, plan=plan)
    _etag(response, plan.version)

    def csf(n: Any) -> dict[str, Any]:
        return {**CsfOut.from_orm(n.csf).model_dump(), "key_actions": n.key_actions}

    return {
        "version": plan.version,
        "template": s.template,
        "customer_priorities_text": plan.customer_priorities,
        "customer_priorities": s.priorities,
        "positioning": plan.positioning,
        "value_proposition": plan.value_proposition,
        "value_proposition_reviewed": plan.value_proposition_reviewed,
        "strategy": plan.strategy,
        "swot": s.swot,
        "critical_success_factors": [csf(n) for n in s.csfs],
        "goals": [{**GoalOut.from_orm(g.goal).model_dump(), "csfs": [csf(n) for n in g.csfs]} for g in s.goals],
        "stages": [
            {**StageOut.from_orm(st.stage).model_dump(), "completion": _pct(st.completion), "steps": st.steps}
            for st in s.stages
        ],
    }


for _path in _SECTIONS:
    _register_section(_path)


# --- health, completeness, rot ------------------------------------------------------------------------
class HealthOut(Schema):
    status: Literal["green", "amber", "red", "none"]
    reasons: list[str]


class ObjectiveHealthOut(HealthOut):
    objective_id: int
    progress: float | None = Field(description="% of the way from baseline to target; null: not quantitative")


class GapOut(Schema):
    code: str
    message: str
    section: str
    required: bool = Field(description="named by the plan's template")


class CompletenessOut(Schema):
    score: int = Field(description="0–100: share of the checks passed")
    checks: int
    gaps: list[GapOut]


class RotOut(Schema):
    days_since_update: int
    threshold_days: int
    stale: bool
    last_meaningful_update_at: dt.datetime


class PlanHealthOut(Schema):
    plan: HealthOut
    objectives: list[ObjectiveHealthOut]
    completeness: CompletenessOut
    rot: RotOut


@router.get(
    "/{int:plan_id}/health",
    response={200: PlanHealthOut, 404: ErrorOut},
    summary="A plan's health (red/amber/green with reasons), completeness and rot",
)
def get_health(request: HttpRequest, plan_id: int) -> Any:
    """Over what the caller may see. Completeness lists exactly what is missing."""
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    tree = selectors.plan_tree(actor=actor, plan=plan)
    sections = selectors.plan_sections(actor=actor, plan=plan)
    days, limit, stale = selectors.plan_rot(plan, sections.template)
    health, per = selectors.plan_health(tree, stale=stale)
    completeness = selectors.plan_completeness(
        actor=actor,
        plan=plan,
        tree=tree,
        sections=sections,
        has_decision_maker=selectors.account_has_decision_maker(actor=actor, account=plan.account),
    )
    return {
        "plan": health,
        "objectives": [
            {
                "objective_id": n.objective.pk,
                "status": per[n.objective.pk].status,
                "reasons": per[n.objective.pk].reasons,
                "progress": _pct(selectors.objective_progress(n.objective)),
            }
            for n in tree.objectives
        ],
        "completeness": completeness,
        "rot": {
            "days_since_update": days,
            "threshold_days": limit,
            "stale": stale,
            "last_meaningful_update_at": plan.last_meaningful_update_at,
        },
    }


# --- lifecycle records: reviews, snapshots, compare, clone, customer agreement --------------------------
class ReviewOut(Schema):
    id: int
    kind: Literal["submit", "return", "approve", "comment"]
    author: UserRef
    comment: str
    plan_version: int
    created_at: dt.datetime


@router.get("/{int:plan_id}/reviews", response={200: list[ReviewOut], 404: ErrorOut}, summary="A plan's reviews")
def list_reviews(request: HttpRequest, plan_id: int) -> Any:
    """Submissions, approvals and returns with their comments, newest first."""
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    return selectors.plan_sections(actor=actor, plan=plan).reviews


class SnapshotOut(Schema):
    number: int
    plan_version: int
    status: PlanStatusIn
    approved_by: UserRef
    created_at: dt.datetime


class SnapshotDetailOut(SnapshotOut):
    content: dict[str, Any] = Field(description="the plan as approved, only what the caller may see")


@router.get(
    "/{int:plan_id}/snapshots",
    response={200: list[SnapshotOut], 404: ErrorOut},
    summary="A plan's approved versions",
)
def list_snapshots(request: HttpRequest, plan_id: int) -> Any:
    """One immutable snapshot per approval, newest first."""
    actor = _actor(request)
    return list(selectors.plan_snapshots(actor=actor, plan=selectors.plan_get(actor=actor, plan_id=plan_id)))


@router.get(
    "/{int:plan_id}/snapshots/{int:number}",
    response={200: SnapshotDetailOut, 404: ErrorOut},
    summary="One approved version of a plan",
)
def get_snapshot(request: HttpRequest, plan_id: int, number: int) -> Any:
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    snap = selectors.plan_snapshots(actor=actor, plan=plan).filter(number=number).first()
    _label, content = selectors.plan_version_content(actor=actor, plan=plan, version=str(number))
    if snap is None:  # plan_version_content already refused an unknown number
        raise ValidationFailed(_("No such version."), field="number", code="invalid")
    return {**SnapshotOut.from_orm(snap).model_dump(), "content": content}


class ChangeOut(Schema):
    section: str
    kind: Literal["added", "removed", "changed"]
    item: str = Field(description="plan, priority, swot, goal, csf, key_action, objective, tactic, action, stage, step")
    title: str
    fields: list[tuple[str, Any, Any]] = Field(description="(field, left value, right value)")


class CompareOut(Schema):
    left: str
    right: str
    changes: list[ChangeOut]


class CompareFilters(Schema):
    left: str = Field(description='a snapshot number or "current"')
    right: str = Field("current", description='a snapshot number or "current"')


@router.get(
    "/{int:plan_id}/compare",
    response={200: CompareOut, 404: ErrorOut, 422: ErrorOut},
    summary="Compare two versions of a plan",
)
def compare_versions(request: HttpRequest, plan_id: int, filters: Query[CompareFilters]) -> Any:
    """What changed between two versions (`?left=1&right=current`), section by section — over what the caller
    may see."""
    actor = _actor(request)
    plan = selectors.plan_get(actor=actor, plan_id=plan_id)
    return selectors.plan_compare(actor=actor, plan=plan, left=filters.left, right=filters.right)


class CloneIn(Schema):
    period_start: dt.date
    period_end: dt.date
    name: str = Field("", max_length=255)
    reason: str = Field("", max_length=500)


@router.post("/{int:plan_id}/clone", response={201: PlanOut, **_WRITE_ERRORS}, summary="Clone into the next period")
def clone_plan(request: HttpRequest, response: HttpResponse, plan_id: int, payload: CloneIn) -> Any:
    """A new draft for the next period, same content, progress reset (actions not started, steps undone,
    baselines = where each objective ended). Only what the caller may see is copied."""
    actor = _actor(request)
    clone = services.plan_clone(
        actor=actor,
        plan_id=plan_id,
        period_start=payload.period_start,
        period_end=payload.period_end,
        name=payload.name,
        reason=payload.reason,
    )
    plan = selectors.plan_get(actor=actor, plan_id=clone.pk)
    _etag(response, plan.version)
    return Status(201, plan)


class AgreementOut(Schema):
    id: int
    agreed_on: dt.date
    signatory_name: str
    signatory_title: str
    stakeholder_id: int | None
    note: str
    plan_version: int
    recorded_by: UserRef
    created_at: dt.datetime


class AgreementIn(VersionIn):
    agreed_on: dt.date
    signatory_name: str = Field(min_length=1, max_length=200)
    signatory_title: str = Field("", max_length=200)
    stakeholder_id: int | None = None
    note: str = Field("", max_length=4000)


@router.get(
    "/{int:plan_id}/customer-agreements",
    response={200: list[AgreementOut], 404: ErrorOut},
    summary="The customer's agreements to the plan",
)
def list_agreements(request: HttpRequest, plan_id: int) -> Any:
    actor = _actor(request)
    return selectors.plan_sections(actor=actor, plan=selectors.plan_get(actor=actor, plan_id=plan_id)).agreements


@router.post(
    "/{int:plan_id}/customer-agreements",
    response={201: AgreementOut, **_WRITE_ERRORS},
    summary="Record the customer's agreement",
)
def record_agreement(
    request: HttpRequest,
    plan_id: int,
    payload: AgreementIn,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Any:
    """Date and signatory (plan owner or a lead). Refused (400 `nothing_shared`) while nothing in the plan is
    shared with the customer; a future date answers 422."""
    agreement = services.customer_agreement_record(
        actor=_actor(request),
        plan_id=plan_id,
        agreed_on=payload.agreed_on,
        signatory_name=payload.signatory_name,
        signatory_title=payload.signatory_title,
        stakeholder_id=payload.stakeholder_id,
        note=payload.note,
        expected_version=_version(if_match, payload.version),
        reason=payload.reason,
    )
    return Status(201, agreement)


# --- templates -------------------------------------------------------------------------------------------
SectionIn = Literal["customer_priorities", "positioning", "strategy", "swot", "csfs", "goals", "objectives", "stages"]
RequiredIn = Literal[
    "objective.metric",
    "objective.target",
    "objective.baseline",
    "objective.due_date",
    "objective.owner",
    "plan.customer_priorities",
    "plan.positioning",
    "plan.value_proposition",
    "plan.strategy",
    "swot.threats",
    "plan.csfs",
    "account.decision_maker",
]


class TemplateStageOut(Schema):
    id: int
    name: str
    description: str
    steps: list[str]

    @staticmethod
    def resolve_steps(obj: Any) -> list[str]:
        return [s.title for s in obj.steps.all()]


class TemplateOut(Schema):
    id: int
    name: str
    description: str
    account_types: list[str]
    is_default: bool
    is_active: bool
    sections: list[str]
    required_fields: list[str]
    stale_after_days: int
    stages: list[TemplateStageOut]

    @staticmethod
    def resolve_stages(obj: Any) -> list[Any]:
        return list(obj.stages.all())


class TemplateStageIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    steps: list[str] = Field(default_factory=list, max_length=100)


class TemplateIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    account_types: list[str] = Field(default_factory=list)
    is_default: bool = False
    is_active: bool = True
    sections: list[SectionIn] = Field(default_factory=list)
    required_fields: list[RequiredIn] = Field(default_factory=list)
    stale_after_days: int = Field(30, ge=1, le=3650)
    stages: list[TemplateStageIn] = Field(default_factory=list, max_length=50)
    reason: str = Field("", max_length=500)


class TemplatePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    account_types: list[str] | None = None
    is_default: bool | None = None
    is_active: bool | None = None
    sections: list[SectionIn] | None = None
    required_fields: list[RequiredIn] | None = None
    stale_after_days: int | None = Field(None, ge=1, le=3650)
    stages: list[TemplateStageIn] | None = Field(None, max_length=50, description="replaces stages and steps")
    reason: str = Field("", max_length=500)


@router.get("/templates", response={200: list[TemplateOut]}, summary="List plan templates")
def list_templates(request: HttpRequest) -> Any:
    """Which sections, stages and required fields a plan of an account type has."""
    return list(selectors.plan_templates(actor=_actor(request)))


@router.get("/templates/{int:template_id}", response={200: TemplateOut, 404: ErrorOut}, summary="Get a plan template")
def get_template(request: HttpRequest, template_id: int) -> Any:
    return selectors.plan_template_get(actor=_actor(request), template_id=template_id)


def _template_fields(payload: Schema) -> tuple[dict[str, Any], Any, str]:
    data = payload.model_dump(exclude_unset=True)
    reason = data.pop("reason", "") or ""
    stages = data.pop("stages", None)
    if stages is not None:
        stages = [(s["name"], s.get("steps", [])) for s in stages]
    return data, stages, reason


@router.post("/templates", response={201: TemplateOut, **_WRITE_ERRORS}, summary="Create a plan template (admin)")
def create_template(request: HttpRequest, payload: TemplateIn) -> Any:
    data, stages, reason = _template_fields(payload)
    data.setdefault("name", payload.name)
    actor = _actor(request)
    template = services.plan_template_save(actor=actor, stages=stages or [], reason=reason, **data)
    return Status(201, selectors.plan_template_get(actor=actor, template_id=template.pk))


@router.patch(
    "/templates/{int:template_id}", response={200: TemplateOut, **_WRITE_ERRORS}, summary="Edit a plan template (admin)"
)
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch) -> Any:
    """Existing plans keep the checklist they were created with."""
    data, stages, reason = _template_fields(payload)
    actor = _actor(request)
    services.plan_template_save(actor=actor, template_id=template_id, stages=stages, reason=reason, **data)
    return selectors.plan_template_get(actor=actor, template_id=template_id)
