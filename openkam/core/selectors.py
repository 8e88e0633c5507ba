"""Core reads: tokens, users, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from pghistory.models import Events

from openkam.core.access import require_admin, sees_all_accounts
from openkam.core.errors import NotFound, PermissionDenied
from openkam.core.models import ApiToken, Job, Role, Team, TeamTerritory, Territory, User


def api_token_list(*, actor: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor).order_by("-created_at")


def user_list(*, actor: User, active_only: bool = True) -> QuerySet[User]:
    """Users are visible to every signed-in user by name (to pick owners and participants)."""
    qs = User.objects.select_related("team").order_by("last_name", "first_name", "username")
    return qs.filter(is_active=True) if active_only else qs


def user_search(*, actor: User, q: str = "", limit: int = 50, writers_only: bool = False) -> list[User]:
    """Up to ``limit`` active users whose name or username contains every word of ``q``, by name (people
    pickers). ``writers_only`` leaves out read-only roles (compliance), e.g. for owners and assignees."""
    qs = user_list(actor=actor)
    if writers_only:
        qs = qs.exclude(role=Role.COMPLIANCE)
    for word in (q or "").replace("\x00", "").split():
        qs = qs.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word))
    return list(qs[: max(0, limit)])


def user_admin_list(
    *,
    actor: User,
    q: str = "",
    role: str = "",
    team_id: int | None = None,
    manager_id: int | None = None,
    active: bool | None = None,
) -> QuerySet[User]:
    """Every user with the details an administrator manages, filtered (admin only).

    ``q`` matches username, first/last name, email and title; ``team_id=0`` means "no team".
    """
    require_admin(actor)
    qs = User.objects.select_related("team", "manager").order_by("last_name", "first_name", "username")
    q = (q or "").strip()
    if q:
        for word in q.split():
            qs = qs.filter(
                Q(username__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(title__icontains=word)
            )
    if role:
        qs = qs.filter(role=role)
    if team_id is not None:
        qs = qs.filter(team__isnull=True) if team_id == 0 else qs.filter(team_id=team_id)
    if manager_id is not None:
        qs = qs.filter(manager_id=manager_id)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def user_get(*, actor: User, user_id: int) -> User:
    """One user with everything an administrator may change (admin only)."""
    require_admin(actor)
    user = User.objects.select_related("team", "manager").filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such user."), code="user_not_found")
    return user


def user_role_counts(*, actor: User) -> dict[str, int]:
    """Active users per role, for the administration overview (admin only)."""
    require_admin(actor)
    rows = User.objects.filter(is_active=True).order_by().values_list("role").annotate(n=Count("pk"))
    counts = dict.fromkeys(Role.values, 0)
    counts.update(dict(rows))
    return counts


def team_list(*, actor: User, q: str = "") -> QuerySet[Team]:
    """Teams with their territories and active member count (names are visible to every signed-in user)."""
    qs = Team.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True), distinct=True)
    ).prefetch_related(Prefetch("territories", queryset=Territory.objects.order_by("name")))
    if q and q.strip():
        qs = qs.filter(name__icontains=q.strip())
    return qs.order_by("name")


def team_get(*, actor: User, team_id: int) -> Team:
    team = team_list(actor=actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("No such team."), code="team_not_found")
    return team


def territory_list(*, actor: User, q: str = "") -> QuerySet[Territory]:
    """Territories with the number of teams covering them (visible to every signed-in user)."""
    qs = Territory.objects.annotate(team_count=Count("teams", distinct=True)).prefetch_related(
        Prefetch("teams", queryset=Team.objects.order_by("name"))
    )
    if q and q.strip():
        word = q.strip()
        qs = qs.filter(Q(name__icontains=word) | Q(code__icontains=word))
    return qs.order_by("name")


def territory_get(*, actor: User, territory_id: int) -> Territory:
    territory = territory_list(actor=actor).filter(pk=territory_id).first()
    if territory is None:
        raise NotFound(_("No such territory."), code="territory_not_found")
    return territory


ADMIN_MODELS = (User, Team, Territory, TeamTerritory)


def admin_recent_changes(*, actor: User, limit: int = 20) -> list[Any]:
    """The latest changes to users, teams and territories, newest first (admin only)."""
    require_admin(actor)
    event_models = [getattr(m, "pgh_event_model") for m in ADMIN_MODELS]  # noqa: B009 (set by pghistory)
    return list(Events.objects.across(*event_models).order_by("-pgh_created_at", "-pgh_id")[:limit])


def object_history(*, obj: Model) -> QuerySet[Any]:
    """Every recorded change of one row, newest first, with before/after diff and context.

    The caller has already fetched ``obj`` through an access-checked selector, so whoever may see
    the row may see its history.
    """
    return Events.objects.tracks(obj).order_by("-pgh_created_at", "-pgh_id")


def object_history_many(*, objs: Iterable[Model]) -> QuerySet[Any]:
    return Events.objects.tracks(*list(objs)).order_by("-pgh_created_at", "-pgh_id")


def audit_trail(*, actor: User, since: datetime, until: datetime) -> QuerySet[Any]:
    """All audit events in a period (compliance and admin only)."""
    if not sees_all_accounts(actor):
        raise PermissionDenied(_("Only compliance can read the whole audit trail."), code="audit_forbidden")
    return Events.objects.filter(pgh_created_at__gte=since, pgh_created_at__lt=until).order_by(
        "pgh_created_at", "pgh_id"
    )


def job_list(*, actor: User, limit: int = 50) -> QuerySet[Job]:
    """The actor's own jobs, newest first (results are private to whoever asked for them)."""
    return Job.objects.filter(requested_by=actor).defer("result").order_by("-created_at", "-id")[:limit]


def job_get(*, actor: User, job_id: int, with_result: bool = False) -> Job:
    qs = Job.objects.filter(pk=job_id, requested_by=actor)
    if not with_result:
        qs = qs.defer("result")
    job = qs.first()
    if job is None:
        raise NotFound(_("No such job."), code="job_not_found")
    return job
