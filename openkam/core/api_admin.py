"""Administration API (users, teams, territories; admin only) and the caller's own profile (``/me``).

Mounted by ``config/api.py``: ``router`` at ``/api/v1/admin``, ``me_router`` at ``/api/v1/me``.
Every admin endpoint answers 403 ``admin_only`` to anyone but an active administrator.
"""

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from openkam.core import selectors, services
from openkam.core.access import can_write, is_admin, require_admin, visible_classifications
from openkam.core.api import ErrorOut, Page
from openkam.core.errors import NotFound
from openkam.core.models import Job, JobStatus, Role, Team, Territory, User
from openkam.core.ui import file_response


def _admin_only(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        require_admin(request.user)  # type: ignore[arg-type]
        return func(request, *args, **kwargs)

    return wrapper


router = Router(tags=["admin"])
router.add_decorator(_admin_only)


# --- schemas ----------------------------------------------------------------------------------------
class RefOut(Schema):
    id: int
    name: str


class UserRefOut(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    title: str
    role: Role
    role_label: str
    team: RefOut | None
    manager: UserRefOut | None
    is_active: bool
    last_login: datetime | None
    date_joined: datetime

    @staticmethod
    def resolve_full_name(obj: User) -> str:
        return str(obj)

    @staticmethod
    def resolve_role_label(obj: User) -> str:
        return str(obj.get_role_display())


class UserCreateIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=128, description="Initial password; the user signs in with it.")
    first_name: str = Field(default="", max_length=150)
    last_name: str = Field(default="", max_length=150)
    email: str = Field(default="", max_length=254)
    title: str = Field(default="", max_length=200)
    role: Role = Role.KAM
    team_id: int | None = None
    manager_id: int | None = None
    reason: str = Field(default="", max_length=500)


class UserPatchIn(Schema):
    first_name: str | None = Field(default=None, max_length=150)
    last_name: str | None = Field(default=None, max_length=150)
    email: str | None = Field(default=None, max_length=254)
    title: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    team_id: int | None = None
    manager_id: int | None = None
    reason: str = Field(default="", max_length=500)


class PasswordIn(Schema):
    password: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=500)


class ReasonIn(Schema):
    reason: str = Field(default="", max_length=500)


class TerritoryRefOut(Schema):
    id: int
    code: str
    name: str


class TeamOut(Schema):
    id: int
    name: str
    territories: list[TerritoryRefOut]
    member_count: int

    @staticmethod
    def resolve_territories(obj: Team) -> list[Territory]:
        return list(obj.territories.all())

    @staticmethod
    def resolve_member_count(obj: Team) -> int:
        count = getattr(obj, "member_count", None)
        return count if count is not None else obj.members.filter(is_active=True).count()


class TeamIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    territory_ids: list[int] = []
    reason: str = Field(default="", max_length=500)


class TeamPatchIn(Schema):
    name: str | None = Field(default=None, max_length=200)
    territory_ids: list[int] | None = None
    reason: str = Field(default="", max_length=500)


class TerritoryOut(Schema):
    id: int
    code: str
    name: str
    country: str
    description: str
    teams: list[RefOut]

    @staticmethod
    def resolve_teams(obj: Territory) -> list[Team]:
        return list(obj.teams.all())


class TerritoryIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(default="US", min_length=2, max_length=2)
    description: str = ""
    reason: str = Field(default="", max_length=500)


class TerritoryPatchIn(Schema):
    code: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=2)
    description: str | None = None
    reason: str = Field(default="", max_length=500)


def _changes(payload: Schema) -> tuple[dict[str, Any], str]:
    """The fields the caller actually sent (PATCH semantics) and the audit reason."""
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "") or ""
    return data, reason


_LIST = {403: ErrorOut, 422: ErrorOut}
_R = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
_W = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- users --------------------------------------------------------------------------------------------
@router.get("/users", response={200: list[UserOut], **_LIST})
@paginate(Page)
def user_list(
    request: HttpRequest,
    q: str = "",
    role: Role | None = None,
    team_id: int | None = None,
    manager_id: int | None = None,
    active: bool | None = None,
) -> Any:
    """Every user (active and deactivated), filtered by text, role, team (``team_id=0``: none), manager, status."""
    return selectors.user_admin_list(
        actor=request.user,  # type: ignore[arg-type]
        q=q,
        role=role or "",
        team_id=team_id,
        manager_id=manager_id,
        active=active,
    )


@router.post("/users", response={201: UserOut, **_W})
def user_create(request: HttpRequest, payload: UserCreateIn) -> Any:
    """Create a user who can sign in at once with the initial password."""
    data, reason = _changes(payload)
    data.update(username=payload.username, password=payload.password)
    return Status(201, services.user_create(actor=request.user, reason=reason, **data))  # type: ignore[arg-type]


@router.get("/users/{user_id}", response={200: UserOut, **_R})
def user_get(request: HttpRequest, user_id: int) -> Any:
    return selectors.user_get(actor=request.user, user_id=user_id)  # type: ignore[arg-type]


@router.patch("/users/{user_id}", response={200: UserOut, **_W})
def user_update(request: HttpRequest, user_id: int, payload: UserPatchIn) -> Any:
    """Change name, email, title, role, team or manager. A management cycle is refused (400 ``manager_cycle``)."""
    data, reason = _changes(payload)
    return services.user_update(actor=request.user, user_id=user_id, reason=reason, **data)  # type: ignore[arg-type]


@router.post("/users/{user_id}/deactivate", response={200: UserOut, **_W})
def user_deactivate(request: HttpRequest, user_id: int, payload: ReasonIn) -> Any:
    """The user can no longer sign in or use the API; nothing they did is removed."""
    return services.user_deactivate(actor=request.user, user_id=user_id, reason=payload.reason)  # type: ignore[arg-type]


@router.post("/users/{user_id}/reactivate", response={200: UserOut, **_W})
def user_reactivate(request: HttpRequest, user_id: int, payload: ReasonIn) -> Any:
    return services.user_reactivate(actor=request.user, user_id=user_id, reason=payload.reason)  # type: ignore[arg-type]


@router.post("/users/{user_id}/password", response={200: UserOut, **_W})
def user_set_password(request: HttpRequest, user_id: int, payload: PasswordIn) -> Any:
    """Set a new password (e.g. the user forgot theirs); their open sessions end."""
    return services.user_set_password(
        actor=request.user,  # type: ignore[arg-type]
        user_id=user_id,
        password=payload.password,
        reason=payload.reason,
    )


# --- teams ----------------------------------------------------------------------------------------------
@router.get("/teams", response={200: list[TeamOut], **_LIST})
@paginate(Page)
def team_list(request: HttpRequest, q: str = "") -> Any:
    return selectors.team_list(actor=request.user, q=q)  # type: ignore[arg-type]


@router.post("/teams", response={201: TeamOut, **_W})
def team_create(request: HttpRequest, payload: TeamIn) -> Any:
    team = services.team_create(
        actor=request.user,  # type: ignore[arg-type]
        name=payload.name,
        territory_ids=payload.territory_ids,
        reason=payload.reason,
    )
    return Status(201, team)


@router.get("/teams/{team_id}", response={200: TeamOut, **_R})
def team_get(request: HttpRequest, team_id: int) -> Any:
    return selectors.team_get(actor=request.user, team_id=team_id)  # type: ignore[arg-type]


@router.patch("/teams/{team_id}", response={200: TeamOut, **_W})
def team_update(request: HttpRequest, team_id: int, payload: TeamPatchIn) -> Any:
    """Rename a team and/or replace its territories (``territory_ids`` is the complete new list)."""
    data, reason = _changes(payload)
    return services.team_update(actor=request.user, team_id=team_id, reason=reason, **data)  # type: ignore[arg-type]


# --- territories -------------------------------------------------------------------------------------
@router.get("/territories", response={200: list[TerritoryOut], **_LIST})
@paginate(Page)
def territory_list(request: HttpRequest, q: str = "") -> Any:
    return selectors.territory_list(actor=request.user, q=q)  # type: ignore[arg-type]


@router.post("/territories", response={201: TerritoryOut, **_W})
def territory_create(request: HttpRequest, payload: TerritoryIn) -> Any:
    data, reason = _changes(payload)
    data.update(code=payload.code, name=payload.name)
    return Status(201, services.territory_create(actor=request.user, reason=reason, **data))  # type: ignore[arg-type]


@router.get("/territories/{territory_id}", response={200: TerritoryOut, **_R})
def territory_get(request: HttpRequest, territory_id: int) -> Any:
    return selectors.territory_get(actor=request.user, territory_id=territory_id)  # type: ignore[arg-type]


@router.patch("/territories/{territory_id}", response={200: TerritoryOut, **_W})
def territory_update(request: HttpRequest, territory_id: int, payload: TerritoryPatchIn) -> Any:
    data, reason = _changes(payload)
    return services.territory_update(
        actor=request.user,  # type: ignore[arg-type]
        territory_id=territory_id,
        reason=reason,
        **data,
    )


# --- the caller ------------------------------------------------------------------------------------------
me_router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    full_name: str
    email: str
    title: str
    role: Role
    role_label: str
    function: str
    team: RefOut | None
    manager: UserRefOut | None
    is_admin: bool
    can_write: bool
    visible_classifications: list[str]

    @staticmethod
    def resolve_full_name(obj: User) -> str:
        return str(obj)

    @staticmethod
    def resolve_role_label(obj: User) -> str:
        return str(obj.get_role_display())

    @staticmethod
    def resolve_is_admin(obj: User) -> bool:
        return is_admin(obj)

    @staticmethod
    def resolve_can_write(obj: User) -> bool:
        return can_write(obj)

    @staticmethod
    def resolve_visible_classifications(obj: User) -> list[str]:
        return sorted(visible_classifications(obj))


@me_router.get("", response=MeOut)
def me(request: HttpRequest) -> Any:
    """Who the caller is: role, team, manager and what the role allows (write, classifications, admin)."""
    return request.user


# --- the caller's jobs (exports, imports, recalculations started from any app) ------------------------
class JobOut(Schema):
    id: int
    kind: str
    label: str
    status: JobStatus
    done: int
    total: int
    percent: int
    message: str
    error: str
    summary: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_name: str
    result_type: str
    result_size: int
    download_url: str | None

    @staticmethod
    def resolve_download_url(obj: Job) -> str | None:
        return f"/api/v1/me/jobs/{obj.pk}/download" if obj.has_file else None


@me_router.get("/jobs", response={200: list[JobOut], **_LIST})
def my_jobs(request: HttpRequest) -> Any:
    """The caller's 50 most recent jobs, newest first. Start jobs from the endpoint of what you export/import."""
    return list(selectors.job_list(actor=request.user))  # type: ignore[arg-type]


@me_router.get("/jobs/{job_id}", response={200: JobOut, **_R})
def my_job(request: HttpRequest, job_id: int = Path(..., ge=1, le=2**63 - 1)) -> Any:
    """Progress and result of one of the caller's jobs (poll until ``status`` is ``done`` or ``failed``)."""
    return selectors.job_get(actor=request.user, job_id=job_id)  # type: ignore[arg-type]


@me_router.post("/jobs/{job_id}/cancel", response={200: JobOut, 409: ErrorOut, **_R})
def my_job_cancel(request: HttpRequest, job_id: int = Path(..., ge=1, le=2**63 - 1)) -> Any:
    """Cancel one of the caller's jobs while it is ``queued`` (nothing of it has run). 409 once the worker has
    taken it (``running``, ``done``, ``failed``) or it was already cancelled; work that has started finishes or
    fails as a whole."""
    return services.job_cancel(actor=request.user, job_id=job_id)  # type: ignore[arg-type]


@me_router.get("/jobs/{job_id}/download", response={200: None, **_R})
def my_job_download(request: HttpRequest, job_id: int = Path(..., ge=1, le=2**63 - 1)) -> Any:
    """The file a finished job produced (404 while it is running, when it failed or made no file)."""
    job = selectors.job_get(actor=request.user, job_id=job_id, with_result=True)  # type: ignore[arg-type]
    if not job.has_file:
        raise NotFound(_("This job has no file to download."), code="no_file")
    return file_response(bytes(job.result or b""), filename=job.result_name, content_type=job.result_type)
