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
    reason: str = Field("", max_length=500)


class PlanPatch(VersionIn):
    name: str | None = Field(None, min_length=1, max_length=255)
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    owner_id: int | None = None
    summary: str | None = None


class TransitionIn(VersionIn):
    to: PlanStatusIn


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


class ActionPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = None
    owner_id: int | None = None
    assignee_id: int | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    status: ActionStatusIn | None = None
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
        raise ValidationFailed("No such user.", field=field, code="unknown_user")
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
    lead or admin other than the owner; an invalid move answers 400 `invalid_transition`.

    Locking: send the plan version as `If-Match: "<version>"` or `version`; a stale one answers 409
    `stale_version`.
    """
    plan = services.plan_transition(
        actor=_actor(request),
        plan_id=plan_id,
        to=payload.to,
        expected_version=_version(if_match, payload.version),
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
